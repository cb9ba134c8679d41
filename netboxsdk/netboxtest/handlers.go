package netboxtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type reqCtx struct {
	n       *NetBox
	base    string // scheme://host
	r       *http.Request
	cfs     map[string][]map[string]any // objType -> custom field definitions (per request)
	reqID   string                      // X-Request-Id of the request
	changes []pendingChange             // change log entries of the request, stored if it succeeds
	allow   string                      // Allow header when not the default
	// goneTags are the names of the tags this request deleted, for the
	// change data of the objects that carried them.
	goneTags map[int]string
}

// errMap holds validation errors by field. A key "custom_fields.<name>" renders
// nested like NetBox does for an unknown custom field:
// {"custom_fields": {"<name>": "…"}}.
type errMap map[string][]string

const cfErrPrefix = "custom_fields."

func (e errMap) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(e))
	for k, msgs := range e {
		if name, ok := strings.CutPrefix(k, cfErrPrefix); ok && len(msgs) > 0 {
			nested, _ := out["custom_fields"].(map[string]any)
			if nested == nil {
				if _, list := out["custom_fields"]; list {
					out[k] = msgs
					continue
				}
				nested = map[string]any{}
				out["custom_fields"] = nested
			}
			nested[name] = msgs[0]
			continue
		}
		out[k] = msgs
	}
	return json.Marshal(out)
}

func detail(msg string) map[string]any { return map[string]any{"detail": msg} }

func (rc *reqCtx) route(method, path string, body any) (int, any) {
	switch path {
	case "/api/", "/api":
		out := map[string]any{}
		for app := range netboxApps {
			out[app] = rc.base + "/api/" + app + "/"
		}
		out["plugins"] = rc.base + "/api/plugins/"
		return http.StatusOK, out
	case pStatus:
		if method != http.MethodGet {
			return http.StatusMethodNotAllowed, detail(fmt.Sprintf("Method %q not allowed.", method))
		}
		return http.StatusOK, map[string]any{
			"django-version": "5.2.8", "installed-apps": map[string]any{}, "netbox-version": rc.n.version,
			"netbox-full-version": rc.n.version, "plugins": map[string]any{"netbox_proxbox": "0.0.24"},
			"python-version": "3.12.3", "rq-workers-running": 1, "hostname": "netboxtest",
		}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	// find the id segment
	idx := -1
	for i, s := range segs {
		if i >= 2 && idSeg.MatchString(s) {
			idx = i
			break
		}
	}
	collSegs := segs
	if idx >= 0 {
		collSegs = segs[:idx]
	}
	cpath := "/" + strings.Join(collSegs, "/") + "/"
	c := rc.n.coll(cpath)
	if c == nil {
		return http.StatusNotFound, detail("Not found.")
	}
	if cpath == pObjectChanges && method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions {
		return rc.readOnlyCollection(method)
	}
	if idx < 0 {
		switch method {
		case http.MethodGet, http.MethodHead:
			return rc.list(c)
		case http.MethodPost:
			return rc.create(c, body)
		case http.MethodPatch, http.MethodPut:
			return rc.bulkUpdate(c, body, method == http.MethodPatch)
		case http.MethodDelete:
			return rc.bulkDelete(c, body)
		case http.MethodOptions:
			return rc.options(c)
		}
		return http.StatusMethodNotAllowed, detail(fmt.Sprintf("Method %q not allowed.", method))
	}
	id, _ := strconv.Atoi(segs[idx])
	obj, ok := c.objs[id]
	if !ok {
		if cpath == pObjectChanges {
			return http.StatusNotFound, detail("No ObjectChange matches the given query.")
		}
		return http.StatusNotFound, detail("No " + c.m.objType + " matches the given query.")
	}
	if idx < len(segs)-1 {
		return rc.action(c, obj, strings.Join(segs[idx+1:], "/"), method, body)
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return http.StatusOK, rc.render(c, obj, rc.renderOpts())
	case http.MethodPatch, http.MethodPut:
		in, ok := body.(map[string]any)
		if !ok {
			return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Invalid data. Expected a dictionary, but got " + jsonType(body) + "."}}
		}
		if method == http.MethodPut {
			// PUT replaces: validate as a full object on top of nothing but the id.
			o, errs := rc.apply(c, map[string]any{"id": id, "created": obj["created"]}, in)
			if errs != nil {
				return http.StatusBadRequest, errs
			}
			rc.replace(c, id, obj, o)
		} else {
			o, errs := rc.apply(c, obj, in)
			if errs != nil {
				return http.StatusBadRequest, errs
			}
			rc.replace(c, id, obj, o)
		}
		return http.StatusOK, rc.render(c, c.objs[id], rc.renderOpts())
	case http.MethodDelete:
		if errs := rc.checkProtected(c, id); errs != nil {
			return http.StatusConflict, errs
		}
		rc.remove(c, id)
		return http.StatusNoContent, nil
	}
	return http.StatusMethodNotAllowed, detail(fmt.Sprintf("Method %q not allowed.", method))
}

func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case nil:
		return "NoneType"
	}
	return "dict"
}

// action serves the detail actions tests commonly need.
func (rc *reqCtx) action(c *coll, obj map[string]any, action, method string, body any) (int, any) {
	switch {
	case c.m.path == "/api/ipam/prefixes/" && action == "available-ips" && method == http.MethodGet:
		return http.StatusOK, []any{}
	case action == "trace" && method == http.MethodGet:
		return http.StatusOK, []any{}
	case action == "render-config" && method == http.MethodPost:
		return http.StatusOK, map[string]any{"configuration": "", "content": ""}
	}
	return http.StatusNotFound, detail("Not found.")
}

func (rc *reqCtx) options(c *coll) (int, any) {
	if c.m.path == pObjectChanges { // read-only: no actions
		return http.StatusOK, map[string]any{"name": "Object Change List", "description": "Retrieve a list of recent changes.",
			"renders": []string{"application/json"}, "parses": []string{"application/json"}}
	}
	post := map[string]any{}
	for name, f := range c.m.fields {
		if f.kind == kChoice && len(f.choices) > 0 {
			var ch []map[string]any
			for _, v := range f.choices {
				ch = append(ch, map[string]any{"value": v, "display_name": label(v)})
			}
			post[name] = map[string]any{"type": "choice", "required": slices.Contains(c.m.required, name), "read_only": false, "label": label(name), "choices": ch}
		}
	}
	return http.StatusOK, map[string]any{"name": c.m.objType, "description": "", "renders": []string{"application/json"},
		"parses": []string{"application/json"}, "actions": map[string]any{"POST": post}}
}

func label(v string) string {
	if v == "" {
		return v
	}
	s := strings.ReplaceAll(strings.ReplaceAll(v, "_", " "), "-", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---- create / update / delete

func (rc *reqCtx) create(c *coll, body any) (int, any) {
	switch b := body.(type) {
	case map[string]any:
		o, errs := rc.apply(c, nil, b)
		if errs != nil {
			return http.StatusBadRequest, errs
		}
		id := rc.insert(c, o)
		return http.StatusCreated, rc.render(c, c.objs[id], rc.renderOpts())
	case []any:
		// Validate every item, then apply all or nothing.
		ins := make([]map[string]any, len(b))
		itemErrs := make([]errMap, len(b))
		bad := false
		for i, it := range b {
			m, ok := it.(map[string]any)
			if !ok {
				itemErrs[i] = errMap{"non_field_errors": {"Invalid data. Expected a dictionary, but got " + jsonType(it) + "."}}
				bad = true
				continue
			}
			ins[i] = m
			if _, errs := rc.apply(c, nil, m); errs != nil {
				itemErrs[i], bad = errs, true
			}
		}
		if bad {
			return http.StatusBadRequest, indexErrors(itemErrs, "created")
		}
		var created []int
		for i, m := range ins {
			o, errs := rc.apply(c, nil, m)
			if errs != nil { // conflict between items of the batch: roll back
				for _, id := range created {
					c.del(id)
				}
				itemErrs = make([]errMap, len(b))
				itemErrs[i] = errs
				return http.StatusBadRequest, indexErrors(itemErrs, "created")
			}
			created = append(created, rc.insert(c, o))
		}
		out := make([]any, len(created))
		for i, id := range created {
			out[i] = rc.render(c, c.objs[id], rc.renderOpts())
		}
		return http.StatusCreated, out
	}
	return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Invalid data. Expected a dictionary, but got " + jsonType(body) + "."}}
}

// indexErrors is NetBox 4.7's body for a bulk create that failed: the failing
// items by request index.
func indexErrors(errs []errMap, verb string) map[string]any {
	var list []any
	for i, e := range errs {
		if e != nil {
			list = append(list, map[string]any{"index": i, "errors": e})
		}
	}
	return map[string]any{"detail": fmt.Sprintf("%d of %d objects could not be %s.", len(list), len(errs), verb), "errors": list}
}

// idErrors is NetBox 4.7's body for a bulk update or delete that failed: the
// failing objects by id.
type idErrors struct {
	total int
	list  []any
}

func (ie *idErrors) add(id int, e errMap) {
	ie.list = append(ie.list, map[string]any{"id": id, "errors": e})
}

func (ie *idErrors) body(what string) map[string]any {
	return map[string]any{"detail": fmt.Sprintf("%d of %d objects %s.", len(ie.list), ie.total, what), "errors": ie.list}
}

func (rc *reqCtx) bulkUpdate(c *coll, body any, partial bool) (int, any) {
	items, ok := body.([]any)
	if !ok {
		return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Expected a list of items but got type \"" + jsonType(body) + "\"."}}
	}
	type upd struct {
		id int
		o  map[string]any
	}
	var ups []upd
	seen := map[int]int{}
	ids := make([]int, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Invalid data. Expected a dictionary."}}
		}
		id, ok := toInt(m["id"])
		if !ok {
			return http.StatusBadRequest, map[string]any{"id": []string{"This field is required."}}
		}
		ids[i] = id
		seen[id]++
	}
	// NetBox 4.7 checks, in this order, ids listed twice, then ids that do not exist.
	dup := &idErrors{total: len(items)}
	for _, id := range uniqueInts(ids) {
		if seen[id] > 1 {
			dup.add(id, errMap{"id": {fmt.Sprintf("Each object may be specified only once; ID %d is listed %d times", id, seen[id])}})
		}
	}
	if len(dup.list) > 0 {
		return http.StatusBadRequest, dup.body("are listed more than once")
	}
	if missing := rc.missingIDs(c, ids); len(missing.list) > 0 {
		return http.StatusBadRequest, missing.body("could not be found")
	}
	invalid := &idErrors{total: len(items)}
	for i, it := range items {
		m := it.(map[string]any)
		id := ids[i]
		old := c.objs[id]
		in := maps.Clone(m)
		delete(in, "id")
		base := old
		if !partial {
			base = map[string]any{"id": id, "created": old["created"]}
		}
		o, errs := rc.apply(c, base, in)
		if errs != nil {
			invalid.add(id, errs)
			continue
		}
		ups = append(ups, upd{id, o})
	}
	if len(invalid.list) > 0 {
		return http.StatusBadRequest, invalid.body("could not be updated")
	}
	// Apply all, checking uniqueness between updated objects; roll back on conflict.
	saved := map[int]map[string]any{}
	for _, u := range ups {
		saved[u.id] = c.objs[u.id]
	}
	for _, u := range ups {
		c.set(u.id, u.o)
		if errs := rc.checkUnique(c, u.o, u.id); errs != nil {
			for id, o := range saved {
				c.set(id, o)
			}
			return http.StatusBadRequest, errs
		}
	}
	for _, u := range ups {
		rc.replace(c, u.id, saved[u.id], u.o)
	}
	out := make([]any, len(ups))
	for i, u := range ups {
		out[i] = rc.render(c, c.objs[u.id], rc.renderOpts())
	}
	return http.StatusOK, out
}

func (rc *reqCtx) bulkDelete(c *coll, body any) (int, any) {
	items, ok := body.([]any)
	if !ok {
		return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Expected a list of items but got type \"" + jsonType(body) + "\"."}}
	}
	var ids []int
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Invalid data. Expected a dictionary."}}
		}
		id, ok := toInt(m["id"])
		if !ok {
			return http.StatusBadRequest, map[string]any{"id": []string{"This field is required."}}
		}
		ids = append(ids, id)
	}
	if missing := rc.missingIDs(c, ids); len(missing.list) > 0 {
		return http.StatusBadRequest, missing.body("could not be found")
	}
	for _, id := range ids {
		if errs := rc.checkProtected(c, id); errs != nil {
			return http.StatusConflict, errs
		}
	}
	for _, id := range ids {
		rc.remove(c, id)
	}
	return http.StatusNoContent, nil
}

func (rc *reqCtx) insert(c *coll, o map[string]any) int {
	id := c.nextID
	c.nextID++
	o["id"] = id
	now := rc.n.stamp()
	o["created"], o["last_updated"] = now, now
	c.set(id, o)
	rc.recordChange("create", c, id, nil, o)
	return id
}

// replace stores o as the new state of object id, whose state was old.
func (rc *reqCtx) replace(c *coll, id int, old, o map[string]any) {
	o["id"] = id
	o["last_updated"] = rc.n.stamp()
	c.set(id, o)
	rc.recordChange("update", c, id, old, o)
}

// remove deletes id and applies NetBox's on_delete rules to references:
// children (interfaces, disks, VM interfaces of a deleted parent) cascade,
// other references become null (an update of the referencing object, which
// NetBox records in the change log like the cascaded deletes).
func (rc *reqCtx) remove(c *coll, id int) {
	if old, ok := c.objs[id]; ok {
		rc.recordChange("delete", c, id, old, nil)
		if c.m.path == pTags {
			if rc.goneTags == nil {
				rc.goneTags = map[int]string{}
			}
			rc.goneTags[id] = str(old["name"])
		}
	}
	c.del(id)
	for _, path := range slices.Sorted(maps.Keys(rc.n.colls)) {
		other := rc.n.colls[path]
		if len(other.objs) == 0 {
			continue
		}
		refs := rc.refsTo(other, c.m.path)
		slices.Sort(refs)
		generic := other.m.path == pIPs || other.m.path == "/api/extras/journal-entries/"
		if len(refs) == 0 && !generic {
			continue
		}
		for _, oid := range rc.referencing(other, refs, generic, c.m.objType, id) {
			o, ok := other.objs[oid]
			if !ok { // gone with an earlier cascade
				continue
			}
			var before map[string]any // o before references to id became null
			for _, name := range refs {
				f, _ := rc.fieldOf(other, name)
				switch f.kind {
				case kFK:
					if v, ok := toInt(o[name]); ok && v == id && o[name] != nil {
						if cascades(other.m.path, name) {
							rc.remove(other, oid)
						} else {
							if before == nil {
								before = snapshot(o)
							}
							o[name] = nil
						}
					}
				case kM2M:
					if l, ok := o[name].([]int); ok && slices.Contains(l, id) {
						if before == nil {
							before = snapshot(o)
						}
						o[name] = slices.DeleteFunc(slices.Clone(l), func(x int) bool { return x == id })
					}
				}
				if _, ok := other.objs[oid]; !ok {
					break
				}
			}
			if before != nil {
				if _, ok := other.objs[oid]; ok {
					o["last_updated"] = rc.n.stamp()
					rc.recordChange("update", other, oid, before, o)
				}
			}
			if _, ok := other.objs[oid]; !ok {
				continue
			}
			if generic {
				if at, ok := o["assigned_object_type"].(string); ok && at == c.m.objType {
					if v, ok := toInt(o["assigned_object_id"]); ok && v == id {
						// GenericRelation: IPs and journal entries go with their object.
						rc.remove(other, oid)
					}
				}
			}
		}
	}
}

// referencing returns, in id order (so that the change log's order is
// stable), the objects of other that refer to object id of type objType
// through refs or, when generic, through assigned_object_type/_id.
func (rc *reqCtx) referencing(other *coll, refs []string, generic bool, objType string, id int) []int {
	var out []int
	for oid, o := range other.objs {
		hit := false
		for _, name := range refs {
			switch l := o[name].(type) {
			case []int:
				hit = slices.Contains(l, id)
			default:
				v, ok := toInt(l)
				hit = ok && v == id && l != nil
			}
			if hit {
				break
			}
		}
		if !hit && generic {
			if at, ok := o["assigned_object_type"].(string); ok && at == objType {
				v, ok := toInt(o["assigned_object_id"])
				hit = ok && v == id
			}
		}
		if hit {
			out = append(out, oid)
		}
	}
	slices.Sort(out)
	return out
}

// refsTo lists the relation fields of c that point at target: model fields and
// common FK names (unless the model redefines them).
func (rc *reqCtx) refsTo(c *coll, target string) []string {
	var out []string
	for name, f := range c.m.fields {
		if (f.kind == kFK || f.kind == kM2M) && f.target == target {
			out = append(out, name)
		}
	}
	for name, t := range commonFK {
		if _, own := c.m.fields[name]; !own && t == target {
			out = append(out, name)
		}
	}
	for name, t := range commonM2M {
		if _, own := c.m.fields[name]; !own && t == target {
			out = append(out, name)
		}
	}
	return out
}

func cascades(path, field string) bool {
	switch {
	case field == "device" && (path == pInterfaces || strings.HasPrefix(path, "/api/dcim/")):
		return true
	case field == "virtual_machine" && (path == pVMIfaces || path == pDisks || strings.HasPrefix(path, pPlugin)):
		return true
	case field == "cluster" && path == pPlugin+"storage/":
		return true
	}
	return false
}

// checkProtected refuses to delete objects NetBox protects (a site with devices,
// a cluster type with clusters, a device type with devices, a role in use, …).
func (rc *reqCtx) checkProtected(c *coll, id int) errMap {
	protect := map[string][][2]string{
		pSites:                               {{pDevices, "site"}},
		"/api/virtualization/cluster-types/": {{pClusters, "type"}},
		"/api/dcim/device-types/":            {{pDevices, "device_type"}},
		"/api/dcim/device-roles/":            {{pDevices, "role"}},
		"/api/dcim/manufacturers/":           {{"/api/dcim/device-types/", "manufacturer"}},
	}
	for _, p := range protect[c.m.path] {
		other := rc.n.colls[p[0]]
		for _, o := range other.objs {
			if v, ok := toInt(o[p[1]]); ok && v == id {
				return errMap{"detail": {fmt.Sprintf("Unable to delete object. %s objects depend on it.", other.m.objType)}}
			}
		}
	}
	return nil
}

// ---- listing

type renderOpts struct {
	brief        bool
	fields, omit []string
}

func (rc *reqCtx) renderOpts() renderOpts {
	var o renderOpts
	if rc.r == nil {
		return o
	}
	q := rc.r.URL.Query()
	if b := q.Get("brief"); b == "true" || b == "1" || b == "True" {
		o.brief = true
	}
	if f := q.Get("fields"); f != "" {
		o.fields = strings.Split(f, ",")
	}
	if f := q.Get("omit"); f != "" {
		o.omit = strings.Split(f, ",")
	}
	return o
}

func (rc *reqCtx) list(c *coll) (int, any) {
	q := rc.r.URL.Query()
	limit := rc.n.defPage
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 0 {
			return http.StatusBadRequest, detail("Invalid limit.")
		}
		limit = l
	}
	if limit == 0 || rc.n.maxPage > 0 && limit > rc.n.maxPage {
		limit = rc.n.maxPage
	}
	offset := 0
	if v := q.Get("offset"); v != "" {
		o, err := strconv.Atoi(v)
		if err != nil || o < 0 {
			return http.StatusBadRequest, detail("Invalid offset.")
		}
		offset = o
	}
	mj, mi := versionMajorMinor(rc.n.version)
	cursor := q.Has("start") && (mj > 4 || mj == 4 && mi >= 6)
	start := 0
	if cursor {
		s, err := strconv.Atoi(q.Get("start"))
		if err != nil || s < 0 {
			return http.StatusBadRequest, detail("Invalid start value.")
		}
		if q.Has("offset") {
			return http.StatusBadRequest, detail("Cannot specify both start and offset parameters.")
		}
		if q.Has("ordering") {
			return http.StatusBadRequest, detail("Ordering cannot be specified with cursor-based pagination.")
		}
		start = s
	}
	matched, errs := rc.filter(c, q)
	if errs != nil {
		return http.StatusBadRequest, errs
	}
	if c.m.path == pObjectChanges && !cursor {
		orderBy(matched, changeOrdering(strings.Split(q.Get("ordering"), ",")), rc)
	} else if o := q.Get("ordering"); o != "" && !cursor {
		orderBy(matched, strings.Split(o, ","), rc)
	}
	ro := rc.renderOpts()
	page := func(objs []map[string]any) []any {
		out := make([]any, len(objs))
		for i, o := range objs {
			out[i] = rc.render(c, o, ro)
		}
		return out
	}
	if cursor {
		i := 0
		for i < len(matched) {
			if id, _ := toInt(matched[i]["id"]); id >= start {
				break
			}
			i++
		}
		rest := matched[i:]
		n := min(limit, len(rest))
		var next any
		if n < len(rest) && n > 0 {
			last, _ := toInt(rest[n-1]["id"])
			next = rc.pageURL(q, map[string]string{"start": strconv.Itoa(last + 1), "limit": strconv.Itoa(limit)})
		}
		return http.StatusOK, map[string]any{"count": nil, "next": next, "previous": nil, "results": page(rest[:n])}
	}
	total := len(matched)
	lo := min(offset, total)
	hi := min(lo+limit, total)
	var next, prev any
	if hi < total {
		next = rc.pageURL(q, map[string]string{"limit": strconv.Itoa(limit), "offset": strconv.Itoa(hi)})
	}
	if lo > 0 {
		p := max(lo-limit, 0)
		set := map[string]string{"limit": strconv.Itoa(limit)}
		if p > 0 {
			set["offset"] = strconv.Itoa(p)
		} else {
			set["offset"] = ""
		}
		prev = rc.pageURL(q, set)
	}
	return http.StatusOK, map[string]any{"count": total, "next": next, "previous": prev, "results": page(matched[lo:hi])}
}

func (rc *reqCtx) pageURL(q url.Values, set map[string]string) string {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = slices.Clone(v)
	}
	for k, v := range set {
		if v == "" {
			nq.Del(k)
		} else {
			nq.Set(k, v)
		}
	}
	return rc.base + rc.r.URL.Path + "?" + nq.Encode()
}

func orderBy(objs []map[string]any, keys []string, rc *reqCtx) {
	slices.SortStableFunc(objs, func(a, b map[string]any) int {
		for _, k := range keys {
			desc := strings.HasPrefix(k, "-")
			k = strings.TrimPrefix(k, "-")
			c := compareVals(a[k], b[k])
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		ai, _ := toInt(a["id"])
		bi, _ := toInt(b["id"])
		return ai - bi
	})
}

func compareVals(a, b any) int {
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	if aok && bok {
		switch {
		case af < bf:
			return -1
		case af > bf:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(str(a)), strings.ToLower(str(b)))
}

// ---- helpers

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case bool:
		return strconv.FormatBool(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func strOr(v any, def string) string {
	if s := str(v); s != "" {
		return s
	}
	return def
}

func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case float64:
		if t == float64(int(t)) {
			return int(t), true
		}
	case json.Number:
		if i, err := strconv.Atoi(t.String()); err == nil {
			return i, true
		}
	case string:
		if i, err := strconv.Atoi(t); err == nil {
			return i, true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int:
		return float64(t), true
	case float64:
		return t, true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}

// missingIDs lists the ids of a bulk request that name no object.
func (rc *reqCtx) missingIDs(c *coll, ids []int) *idErrors {
	ie := &idErrors{total: len(ids)}
	for _, id := range uniqueInts(ids) {
		if _, ok := c.objs[id]; !ok {
			ie.add(id, errMap{"id": {fmt.Sprintf("Object with ID %d does not exist", id)}})
		}
	}
	return ie
}

// uniqueInts is ids without repeats, in first-seen order.
func uniqueInts(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
