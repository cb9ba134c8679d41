package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// errPathNotFound marks a NetBox path that answered 404 (a plugin that is not
// installed).
var errPathNotFound = errors.New("netbox path not found")

// kind describes one NetBox object type the engine manages.
type kind struct {
	Type   string   // counts key, e.g. "virtualization.virtualmachine"
	Path   string   // list path
	Fields []string // fields= for the list (id, tags, custom_fields are added)
	Plugin bool     // lives under /api/plugins/proxbox/
	Tagged bool     // proxbox tag on every written object
	Stamp  bool     // has the proxmox_last_updated custom field
	CFMark bool     // has proxbox_last_seen (orphan marking)
	Status string   // status value for a marked orphan ("offline", "stale"), "" = none
}

func (k *kind) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	f := append([]string{"id"}, k.Fields...)
	if k.Tagged {
		f = append(f, "tags")
	}
	if k.Stamp || k.CFMark {
		f = append(f, "custom_fields")
	}
	q.Set("fields", strings.Join(f, ","))
	return q
}

// table is the indexed NetBox state of one kind, kept current by apply.
type table struct {
	k     *kind
	keyFn func(obj) string
	byKey map[string]obj
	byID  map[int]obj
	order []int
	qs    []url.Values // queries loaded so far (re-read after write faults)
}

func newTable(k *kind, keyFn func(obj) string) *table {
	return &table{k: k, keyFn: keyFn, byKey: map[string]obj{}, byID: map[int]obj{}}
}

func (t *table) put(o obj) {
	id := idOf(o)
	if _, ok := t.byID[id]; !ok {
		t.order = append(t.order, id)
	}
	t.byID[id] = o
	if k := t.keyFn(o); k != "" {
		if prev, ok := t.byKey[k]; !ok || idOf(prev) == id || preferTagged(o, prev) {
			t.byKey[k] = o
		}
	}
}

func preferTagged(a, b obj) bool { return hasTag(a, tagProxbox) && !hasTag(b, tagProxbox) }

func (t *table) remove(id int) {
	o, ok := t.byID[id]
	if !ok {
		return
	}
	delete(t.byID, id)
	if k := t.keyFn(o); k != "" && idOf(t.byKey[k]) == id {
		delete(t.byKey, k)
	}
}

func (t *table) all() []obj {
	out := make([]obj, 0, len(t.byID))
	for _, id := range t.order {
		if o, ok := t.byID[id]; ok {
			out = append(out, o)
		}
	}
	return out
}

func (t *table) id(key string) int { return idOf(t.byKey[key]) }

// want is one desired object.
type want struct {
	Key  string
	Name string
	Body obj // managed fields; foreign keys as ints; custom_fields as a map
	// CreateOnly fields are sent on create and never patched (e.g. a device site).
	CreateOnly obj
	id         int // set once planned/applied
}

// op is one planned write.
type op struct {
	action string // create, update, delete, mark-orphan
	w      *want
	id     int
	name   string
	body   obj
	diffs  map[string]proxbox.Diff
	// adopted: an update of an object found after a lost create reply.
	adopted bool
}

// load lists a kind into a table (fully paginated, narrowed by q and fields=).
func (r *run) load(ctx context.Context, k *kind, q url.Values, keyFn func(obj) string) (*table, error) {
	t := newTable(k, keyFn)
	if err := r.loadInto(ctx, t, q); err != nil {
		return nil, err
	}
	return t, nil
}

func (r *run) loadInto(ctx context.Context, t *table, q url.Values) error {
	objs, err := r.nb.List(ctx, t.k.Path, t.k.query(q))
	if err != nil {
		return fmt.Errorf("list %s: %w", t.k.Path, err)
	}
	t.qs = append(t.qs, q)
	for _, o := range objs {
		t.put(o)
	}
	return nil
}

// chunkIDs is how many ids one filtered list carries (URL length: NetBox
// behind gunicorn rejects request lines over 4094 bytes).
const chunkIDs = 100

// loadChunked lists with a repeated filter key over ids in chunks of chunkIDs.
func (r *run) loadChunked(ctx context.Context, t *table, key string, ids []int, extra url.Values) error {
	ids = uniqInts(ids)
	for len(ids) > 0 && ids[0] <= 0 {
		ids = ids[1:] // dry-run placeholders of objects not yet created
	}
	for i := 0; i < len(ids); i += chunkIDs {
		j := min(i+chunkIDs, len(ids))
		q := url.Values{}
		for k, v := range extra {
			q[k] = append([]string(nil), v...)
		}
		for _, id := range ids[i:j] {
			q.Add(key, strconv.Itoa(id))
		}
		if err := r.loadInto(ctx, t, q); err != nil {
			return err
		}
	}
	return nil
}

// plan compares wants with the table and returns the ops (creates, updates);
// unchanged objects are counted.
func (r *run) plan(t *table, wants []*want) []op {
	var ops []op
	for _, w := range wants {
		trimStrings(w.Body)
		trimStrings(w.CreateOnly)
		fitLimits(t.k, w.Body)
		ex, ok := t.byKey[w.Key]
		if !ok {
			body := obj{}
			for k, v := range w.Body {
				body[k] = v
			}
			for k, v := range w.CreateOnly {
				body[k] = v
			}
			ops = append(ops, op{action: "create", w: w, name: w.Name, body: body})
			continue
		}
		w.id = idOf(ex)
		patch, diffs := r.diff(t.k, ex, w.Body)
		if len(patch) == 0 {
			r.counts(t.k.Type).Unchanged++
			continue
		}
		ops = append(ops, op{action: "update", w: w, id: w.id, name: w.Name, body: patch, diffs: diffs})
	}
	return ops
}

// diff returns the fields of desired that differ from ex. Custom fields are
// compared key by key (NetBox merges custom_fields on PATCH), tags are merged
// (user tags kept), and an orphan mark is cleared.
func (r *run) diff(k *kind, ex obj, desired obj) (obj, map[string]proxbox.Diff) {
	patch := obj{}
	diffs := map[string]proxbox.Diff{}
	for f, dv := range desired {
		if f == "custom_fields" {
			dcf, _ := dv.(obj)
			ecf, _ := ex["custom_fields"].(map[string]any)
			pcf := obj{}
			for ck, cv := range dcf {
				if !same(ecf[ck], cv) {
					pcf[ck] = cv
					diffs["custom_fields."+ck] = proxbox.Diff{Old: plain(ecf[ck]), New: cv}
				}
			}
			if len(pcf) > 0 {
				patch["custom_fields"] = pcf
			}
			continue
		}
		if !same(ex[f], dv) {
			patch[f] = dv
			diffs[f] = proxbox.Diff{Old: plain(ex[f]), New: dv}
		}
	}
	if k.Tagged {
		if tags, changed := r.mergeTags(ex); changed {
			patch["tags"] = tags
			diffs["tags"] = proxbox.Diff{Old: tagSlugs(ex), New: "+proxbox -proxbox-orphan"}
		}
	}
	if k.CFMark {
		if ecf, _ := ex["custom_fields"].(map[string]any); ecf != nil && ecf[cfLastSeen] != nil {
			pcf, _ := patch["custom_fields"].(obj)
			if pcf == nil {
				pcf = obj{}
				patch["custom_fields"] = pcf
			}
			pcf[cfLastSeen] = nil
			diffs["custom_fields."+cfLastSeen] = proxbox.Diff{Old: ecf[cfLastSeen], New: nil}
		}
	}
	return patch, diffs
}

// mergeTags returns the tag list to write when ex lacks the proxbox tag or
// carries the orphan tag; user tags are kept.
func (r *run) mergeTags(ex obj) ([]obj, bool) {
	has := hasTag(ex, tagProxbox)
	orphan := hasTag(ex, tagOrphan)
	if has && !orphan {
		return nil, false
	}
	var out []obj
	list, _ := ex["tags"].([]any)
	for _, t := range list {
		m, _ := t.(map[string]any)
		if m == nil || asStr(m["slug"]) == tagOrphan {
			continue
		}
		if id := asInt(m["id"]); id > 0 {
			out = append(out, obj{"id": id})
		}
	}
	out = append(out, r.tagRef(tagProxbox))
	return out, true
}

func tagSlugs(o obj) []string {
	var s []string
	list, _ := o["tags"].([]any)
	for _, t := range list {
		if m, _ := t.(map[string]any); m != nil {
			s = append(s, asStr(m["slug"]))
		}
	}
	return s
}

func hasTag(o obj, slug string) bool {
	list, _ := o["tags"].([]any)
	for _, t := range list {
		switch m := t.(type) {
		case map[string]any:
			if asStr(m["slug"]) == slug {
				return true
			}
		case string:
			if m == slug {
				return true
			}
		}
	}
	if l2, ok := o["tags"].([]obj); ok {
		for _, m := range l2 {
			if asStr(m["slug"]) == slug {
				return true
			}
		}
	}
	return false
}

// orphanOps plans what happens to managed objects whose Proxmox object is gone.
func (r *run) orphanOps(t *table, objs []obj, nameOf func(obj) string) []op {
	pol := r.e.policy(t.k.Type)
	if p, ok := r.override[t.k.Type]; ok {
		pol = p
	}
	var ops []op
	for _, o := range objs {
		id := idOf(o)
		name := nameOf(o)
		switch pol.Mode {
		case OrphanKeep:
			continue
		case OrphanDelete:
			ops = append(ops, op{action: "delete", id: id, name: name})
		case OrphanMark:
			if pol.AfterDays > 0 {
				if seen := lastSeen(o); !seen.IsZero() && r.now.Sub(seen) >= time.Duration(pol.AfterDays)*24*time.Hour {
					ops = append(ops, op{action: "delete", id: id, name: name, diffs: map[string]proxbox.Diff{cfLastSeen: {Old: seen.Format(time.DateOnly), New: nil}}})
					continue
				}
			}
			patch := obj{}
			diffs := map[string]proxbox.Diff{}
			if t.k.Status != "" && !same(o["status"], t.k.Status) {
				patch["status"] = t.k.Status
				diffs["status"] = proxbox.Diff{Old: plain(o["status"]), New: t.k.Status}
			}
			if t.k.Tagged && !hasTag(o, tagOrphan) && r.tagIDs[tagOrphan] != 0 {
				var tags []obj
				list, _ := o["tags"].([]any)
				for _, tg := range list {
					if m, _ := tg.(map[string]any); m != nil && asInt(m["id"]) > 0 {
						tags = append(tags, obj{"id": asInt(m["id"])})
					}
				}
				patch["tags"] = append(tags, r.tagRef(tagOrphan))
				diffs["tags"] = proxbox.Diff{Old: tagSlugs(o), New: "+proxbox-orphan"}
			}
			if t.k.CFMark && r.cfOK[cfLastSeen] && lastSeen(o).IsZero() {
				patch["custom_fields"] = obj{cfLastSeen: r.now.UTC().Format(time.DateOnly)}
				diffs["custom_fields."+cfLastSeen] = proxbox.Diff{Old: nil, New: r.now.UTC().Format(time.DateOnly)}
			}
			if len(patch) == 0 {
				r.counts(t.k.Type).Unchanged++
				continue
			}
			ops = append(ops, op{action: "mark-orphan", id: id, name: name, body: patch, diffs: diffs})
		}
	}
	return ops
}

func lastSeen(o obj) time.Time {
	cf, _ := o["custom_fields"].(map[string]any)
	s := asStr(cf[cfLastSeen])
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s[:min(len(s), 10)])
	if err != nil {
		return time.Time{}
	}
	return t
}

// apply executes ops on the table's kind: deletes first (freeing names),
// then creates and updates in batches; failed batches are retried item by item.
// On dry runs it records the plan and simulates the writes in the table.
func (r *run) apply(ctx context.Context, t *table, ops []op) {
	if !r.dry {
		ops = r.dropRefused(t, ops)
	}
	if len(ops) == 0 {
		return
	}
	var creates, updates, deletes []op
	for _, o := range ops {
		switch o.action {
		case "create":
			creates = append(creates, o)
		case "delete":
			deletes = append(deletes, o)
		default:
			updates = append(updates, o)
		}
	}
	c := r.counts(t.k.Type)
	for _, o := range append(append(append([]op{}, deletes...), creates...), updates...) {
		if r.dry {
			ch := proxbox.Change{Action: o.action, ObjectType: t.k.Type, Name: o.name, ID: o.id, Fields: o.diffs}
			if o.action == "create" {
				ch.Fields = map[string]proxbox.Diff{}
				for k, v := range o.body {
					ch.Fields[k] = proxbox.Diff{Old: nil, New: v}
				}
			}
			r.res.Plan = append(r.res.Plan, ch)
		}
	}
	if r.dry {
		for _, o := range deletes {
			t.remove(o.id)
			c.Deleted++
		}
		for _, o := range creates {
			r.fake--
			b := obj{"id": r.fake}
			for k, v := range o.body {
				b[k] = v
			}
			b["tags"] = []any{map[string]any{"slug": tagProxbox}}
			t.put(b)
			o.w.id = r.fake
			c.Created++
		}
		for _, o := range updates {
			if ex := t.byID[o.id]; ex != nil {
				n := obj{}
				for k, v := range ex {
					n[k] = v
				}
				for k, v := range o.body {
					if k != "custom_fields" && k != "tags" {
						n[k] = v
					}
				}
				t.put(n)
			}
			c.Updated++
		}
		return
	}
	// deletes
	if len(deletes) > 0 {
		ids := make([]int, len(deletes))
		for i, o := range deletes {
			ids[i] = o.id
		}
		r.batches(len(deletes), func(i, j int) {
			if err := r.nb.Delete(ctx, t.k.Path, ids[i:j]); err == nil {
				r.locked(func() {
					for _, o := range deletes[i:j] {
						t.remove(o.id)
						c.Deleted++
					}
				})
				return
			}
			for _, o := range deletes[i:j] {
				err := r.deleteOne(ctx, t, o.id)
				r.locked(func() {
					if err != nil {
						r.fail(t.k.Type, o.name, err)
						if !transient(ctx, err) {
							r.e.refusals.remember(t.k, o, err, r.now)
						}
						return
					}
					t.remove(o.id)
					c.Deleted++
				})
			}
		})
	}
	pc, pu := creates, updates
	for round := 0; len(pc)+len(pu) > 0; round++ {
		fc, errC := r.writeCreates(ctx, t, pc)
		fu, errU := r.writeUpdates(ctx, t, pu)
		if len(fc)+len(fu) == 0 {
			return
		}
		err := errC
		if err == nil {
			err = errU
		}
		if round < convergeRounds && sleepCtx(ctx, convergeBackoff<<round) == nil {
			if err = r.reread(ctx, t, fc, fu); err == nil {
				pc, pu = r.replan(t, fc, fu)
				continue
			}
		}
		if err == nil {
			err = ctx.Err()
		}
		for _, o := range append(fc, fu...) {
			r.fail(t.k.Type, o.name, err)
		}
		return
	}
}

// stamp copies a write body and sets proxmox_last_updated on stamped kinds.
func (r *run) stamp(t *table, b obj) obj {
	n := obj{}
	for k, v := range b {
		n[k] = v
	}
	if t.k.Stamp && r.cfOK[cfLastUpdated] {
		cf := obj{}
		if old, ok := n["custom_fields"].(obj); ok {
			for k, v := range old {
				cf[k] = v
			}
		}
		cf[cfLastUpdated] = r.now.UTC().Format(time.RFC3339)
		n["custom_fields"] = cf
	}
	return n
}

// writeCreates creates in batches; a batch that fails permanently is retried
// item by item. It returns the ops that failed transiently (to be re-read,
// never re-sent blindly) and the last transient error.
func (r *run) writeCreates(ctx context.Context, t *table, creates []op) ([]op, error) {
	if len(creates) == 0 {
		return nil, nil
	}
	c := r.counts(t.k.Type)
	bodies := make([]obj, len(creates))
	for i, o := range creates {
		b := r.stamp(t, o.body)
		if t.k.Tagged {
			b["tags"] = []obj{r.tagRef(tagProxbox)}
		}
		bodies[i] = b
	}
	return r.writeBatches(ctx, t, creates, bodies, r.nb.Create, func(n int, g obj) {
		t.put(g)
		creates[n].w.id = idOf(g)
		c.Created++
		r.itemDone(t.k, creates[n].name, idOf(g), "created")
	})
}

// writeUpdates patches in batches, like writeCreates.
func (r *run) writeUpdates(ctx context.Context, t *table, updates []op) ([]op, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	c := r.counts(t.k.Type)
	bodies := make([]obj, len(updates))
	for i, o := range updates {
		b := o.body
		if o.action == "update" {
			b = r.stamp(t, b)
		} else {
			b = r.stamp(&table{k: &kind{}}, b) // copy only
		}
		b["id"] = o.id
		bodies[i] = b
	}
	return r.writeBatches(ctx, t, updates, bodies, r.nb.Patch, func(n int, g obj) {
		t.put(g)
		c.Updated++
		r.itemDone(t.k, updates[n].name, idOf(g), "updated")
	})
}

// writeBatches sends bodies (one per op) in batches with send, a bulk create
// or patch; a batch that fails permanently is retried item by item. written
// records the object NetBox returned for ops[n], under r.wmu. It returns the
// ops that failed transiently and the last transient error.
func (r *run) writeBatches(ctx context.Context, t *table, ops []op, bodies []obj,
	send func(ctx context.Context, path string, items []obj) ([]obj, error), written func(n int, g obj)) ([]op, error) {
	var failed []op
	var lastErr error
	r.batches(len(ops), func(i, j int) {
		got, err := send(ctx, t.k.Path, bodies[i:j])
		if err == nil && len(got) == j-i {
			r.locked(func() {
				for n, g := range got {
					written(i+n, g)
					r.e.refusals.forget(t.k, ops[i+n])
				}
			})
			return
		}
		if transient(ctx, err) {
			r.locked(func() { failed, lastErr = append(failed, ops[i:j]...), err })
			return
		}
		for n := i; n < j; n++ {
			g, err := send(ctx, t.k.Path, bodies[n:n+1])
			r.locked(func() {
				switch {
				case err == nil && len(g) == 1:
					written(n, g[0])
					r.e.refusals.forget(t.k, ops[n])
				case transient(ctx, err):
					failed, lastErr = append(failed, ops[n]), err
				default:
					r.fail(t.k.Type, ops[n].name, err)
					r.e.refusals.remember(t.k, ops[n], err, r.now)
				}
			})
		}
	})
	return failed, lastErr
}

// batches calls fn for each batch [i, j) of n items, up to the run's write
// concurrency at a time. fn sends its requests unlocked and records what they
// did (tables, counts, failures, events) under r.wmu, through r.locked.
func (r *run) batches(n int, fn func(i, j int)) {
	bs := r.batch
	if r.writeConc <= 1 || n <= bs {
		for i := 0; i < n; i += bs {
			fn(i, min(i+bs, n))
		}
		return
	}
	sem := make(chan struct{}, r.writeConc)
	var wg gosync.WaitGroup
	for i := 0; i < n; i += bs {
		sem <- struct{}{}
		wg.Add(1)
		go func(i, j int) {
			defer func() { <-sem; wg.Done() }()
			fn(i, j)
		}(i, min(i+bs, n))
	}
	wg.Wait()
}

// locked runs fn under r.wmu (see batches).
func (r *run) locked(fn func()) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	fn()
}

// same reports whether a NetBox value equals a desired value, normalising
// nested objects ({id}), choices ({value}), numbers, empty strings and
// timestamps.
func same(ex, want any) bool {
	if _, isMap := want.(map[string]any); isMap {
		return canonJSON(ex) == canonJSON(want) // JSON documents (raw_config) compare whole
	}
	ex = plain(ex)
	switch w := want.(type) {
	case nil:
		switch e := ex.(type) {
		case nil:
			return true
		case string:
			return e == ""
		case []any:
			return len(e) == 0
		case map[string]any:
			return len(e) == 0
		}
		return false
	case string:
		if e, ok := ex.(string); ok {
			if e == w {
				return true
			}
			if len(e) >= 19 && len(w) >= 19 && e[4] == '-' && w[4] == '-' {
				te, err1 := time.Parse(time.RFC3339, e)
				tw, err2 := time.Parse(time.RFC3339, w)
				return err1 == nil && err2 == nil && te.Equal(tw)
			}
			return false
		}
		if ex == nil {
			return w == ""
		}
		if _, ok := ex.(float64); ok {
			f, err := strconv.ParseFloat(w, 64)
			return err == nil && f == ex.(float64)
		}
		return false
	case bool:
		e, ok := ex.(bool)
		return ok && e == w
	case int, int64, float64:
		wf := asFloat(w)
		switch e := ex.(type) {
		case float64:
			return math.Abs(e-wf) < 1e-9
		case string:
			f, err := strconv.ParseFloat(e, 64)
			return err == nil && math.Abs(f-wf) < 1e-9
		}
		return false
	case []any:
		e, ok := ex.([]any)
		if !ok {
			return len(w) == 0 && ex == nil
		}
		if len(e) != len(w) {
			return false
		}
		a := make([]string, len(e))
		b := make([]string, len(w))
		for i := range e {
			a[i] = canonJSON(plain(e[i]))
			b[i] = canonJSON(plain(w[i]))
		}
		sort.Strings(a)
		sort.Strings(b)
		return strings.Join(a, "\x00") == strings.Join(b, "\x00")
	case []int:
		e, ok := ex.([]any)
		if !ok || len(e) != len(w) {
			return len(w) == 0 && ex == nil
		}
		a := make([]int, len(e))
		for i, v := range e {
			a[i] = asInt(plain(v))
		}
		b := append([]int(nil), w...)
		sort.Ints(a)
		sort.Ints(b)
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return canonJSON(ex) == canonJSON(want)
}

// plain reduces a nested NetBox object to its id, a choice to its value.
func plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["id"]; ok {
			return asFloat(id)
		}
		if val, ok := t["value"]; ok {
			if _, hasLabel := t["label"]; hasLabel {
				return val
			}
		}
		return t
	case int:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	}
	return v
}

func canonJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return string(b)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

func idOf(o obj) int {
	if o == nil {
		return 0
	}
	return asInt(o["id"])
}

// refID returns the id of a foreign key field (nested object or int).
func refID(o obj, field string) int { return asInt(plain(o[field])) }

func cfOf(o obj, name string) any {
	cf, _ := o["custom_fields"].(map[string]any)
	if cf == nil {
		if c2, ok := o["custom_fields"].(obj); ok {
			cf = c2
		}
	}
	return cf[name]
}

func uniqInts(in []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, v := range in {
		if v != 0 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// trimStrings trims the string values of a body (and of its custom_fields) the
// way NetBox stores them: DRF's CharField strips leading and trailing
// whitespace, so PVE's "VM traffic\n" comment is saved as "VM traffic" and,
// compared untrimmed, would be PATCHed again on every sync.
func trimStrings(body obj) {
	for k, v := range body {
		switch t := v.(type) {
		case string:
			body[k] = strings.TrimSpace(t)
		case obj:
			if k == "custom_fields" {
				trimStrings(t)
			}
		}
	}
}
