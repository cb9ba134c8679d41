package sync

import proxbox "github.com/proxbox-go/proxbox/proxboxd"

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
			r.seen(t.k.Type, w.id, w.Name, proxbox.ActionUnchanged)
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
