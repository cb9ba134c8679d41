package sync

import (
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// childOrphans returns orphan ops for managed children (tag proxbox) of the
// parents in complete that no want covers.
func (r *run) childOrphans(t *table, wants []*want, parentField string, complete map[int]bool) []op {
	wanted := map[int]bool{}
	for _, w := range wants {
		if w.id != 0 {
			wanted[w.id] = true
		}
	}
	var orphans []obj
	for _, o := range t.all() {
		if wanted[idOf(o)] || !complete[refID(o, parentField)] || (t.k.Tagged && !hasTag(o, tagProxbox)) {
			continue
		}
		orphans = append(orphans, o)
	}
	return r.orphanOps(t, orphans, func(o obj) string { return asStr(o["name"]) })
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
				r.seen(t.k.Type, id, name, proxbox.ActionUnchanged)
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
