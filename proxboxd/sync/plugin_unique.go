package sync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// netbox-proxbox's models are unique on more than the parent proxboxd keys
// them by: VMSnapshot on (vmid, name, node) and VMTaskHistory on the UPID,
// across clusters. Two clusters that reuse VMIDs and node names (or a VMID
// reused on the same node while the old guest's records are kept) would have
// such a create refused by NetBox on every run. dropTaken reports it as a
// failed item before any write instead, so a re-sync stays write-free.

// ErrPluginUniqueTaken marks a plugin record whose unique key another
// record already holds.
var ErrPluginUniqueTaken = errors.New("netbox-proxbox unique key taken")

// pluginUnique describes one such constraint.
type pluginUnique struct {
	kind  *kind
	key   func(obj) string // the constrained key of a record or create body
	by    string           // VMID filter of the lookup ("vmid", "task_id")
	vmid  func(obj) int    // the VMID of a create body (the lookup's value)
	label func(obj) string // the key in words, for the report
	rule  string           // the constraint in words
}

var snapshotUnique = pluginUnique{
	kind: kSnapshot, by: "vmid",
	vmid: func(o obj) int { return asInt(o["vmid"]) },
	key: func(o obj) string {
		return strconv.Itoa(asInt(o["vmid"])) + "|" + asStr(o["name"]) + "|" + asStr(o["node"])
	},
	label: func(o obj) string {
		return fmt.Sprintf("VMID %d, name %q and node %q", asInt(o["vmid"]), asStr(o["name"]), asStr(o["node"]))
	},
	rule: "netbox-proxbox's VMSnapshot is unique on vmid, name and node",
}

var taskUPIDUnique = pluginUnique{
	kind: kTask, by: "task_id",
	vmid:  func(o obj) int { n, _ := strconv.Atoi(asStr(o["task_id"])); return n },
	key:   func(o obj) string { return asStr(o["upid"]) },
	label: func(o obj) string { return asStr(o["upid"]) },
	rule:  "netbox-proxbox's task history is unique on the UPID",
}

// dropTaken removes from ops the creates whose constrained key is already
// held: by a record in t, by one elsewhere in the plugin table (looked up by
// the creates' VMIDs, unless t holds the whole table), or by an earlier
// create of the same run. Each is reported as a failed item.
//
// takeOver, when not nil, may instead hand the held record to the create:
// when it returns true the create becomes an update of that record (a live
// guest taking over the record of an orphaned VM of its cluster).
func (r *run) dropTaken(ctx context.Context, t *table, ops []op, u pluginUnique, takeOver func(holder obj, create op) bool) ([]op, error) {
	var vmids []int
	for _, o := range ops {
		if o.action == "create" {
			vmids = append(vmids, u.vmid(o.body))
		}
	}
	if len(vmids) == 0 {
		return ops, nil
	}
	taken := newTable(u.kind, u.key)
	for _, o := range t.all() {
		taken.put(o)
	}
	if !t.whole() {
		if err := r.loadChunked(ctx, taken, u.by, vmids, nil); err != nil {
			return nil, err
		}
	}
	kept := ops[:0]
	for _, o := range ops {
		if o.action != "create" {
			kept = append(kept, o)
			continue
		}
		key := u.key(o.body)
		if ex := taken.byKey[key]; ex != nil && idOf(ex) > 0 && takeOver != nil && takeOver(ex, o) {
			t.put(ex)
			o.w.id = idOf(ex)
			patch, diffs := r.diff(t.k, ex, o.w.Body)
			if len(patch) > 0 {
				kept = append(kept, op{action: "update", w: o.w, id: idOf(ex), name: o.name, body: patch, diffs: diffs})
			}
			taken.byKey[key] = obj{"id": 0}
			continue
		}
		if ex := taken.byKey[key]; ex != nil {
			holder := "an earlier create of this run"
			if id := idOf(ex); id > 0 {
				holder = fmt.Sprintf("record %d of virtual machine %d", id, refID(ex, "virtual_machine"))
			}
			r.fail(u.kind.Type, o.name, fmt.Errorf("%w: %s taken by %s (%s)", ErrPluginUniqueTaken, u.label(o.body), holder, u.rule))
			continue
		}
		taken.byKey[key] = obj{"id": 0}
		kept = append(kept, o)
	}
	return kept, nil
}

// whole reports whether t was loaded with an unfiltered list of its kind.
func (t *table) whole() bool {
	for _, q := range t.qs {
		if len(q) == 0 {
			return true
		}
	}
	return false
}
