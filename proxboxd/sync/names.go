package sync

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// How NetBox names are chosen for Proxmox guests, and the rules that keep
// them unique per cluster (NetBox: Lower(name), cluster, tenant) and within
// NetBox's length limit (64 characters), so an untidy cluster converges:
//
//   - Identity beats names. A guest is its (cluster, type, VMID); a name is
//     only what NetBox shows. A VM keeps its NetBox name while its guest is
//     named so; among guests that share a name, the one whose VM already
//     holds it keeps it, the others get "name (vmid)" (ascending VMID).
//   - Too long: a name over 64 characters is cut and ends in "~<vmid>"
//     (stable, unique in the cluster); the full Proxmox name is kept in the
//     custom field proxmox_name, which is set only when the NetBox name
//     differs from the Proxmox name.
//   - Orphans release names. A proxbox VM of the cluster whose guest is gone
//     and that holds a name a live guest wants is renamed
//     "name (orphan <vmid>)" in the same run, before the live guest's write.
//     It is reversible: when the guest comes back, its VM gets its name again.
//   - Renames are planned as a set. A VM holding a name another VM of the run
//     wants (a swap, a chain, a cycle) is first renamed to a temporary
//     "name (renaming <vmid>)", in one bulk PATCH; then every VM gets its
//     final name. Nothing is PATCHed into a name that is still taken.

// maxName is NetBox's limit on VM, device, interface and virtual disk names.
const maxName = 64

// fitName returns name when it fits in limit characters (Unicode code
// points, as NetBox counts), else its first characters followed by "~tag".
func fitName(name string, limit int, tag string) string {
	rs := []rune(name)
	if len(rs) <= limit {
		return name
	}
	suffix := "~" + tag
	keep := max(limit-len([]rune(suffix)), 0)
	return strings.TrimRight(string(rs[:keep]), " ") + suffix
}

// fitText cuts a free-text value to limit characters, ending in "…".
func fitText(s string, limit int) string {
	rs := []rune(s)
	if len(rs) <= limit || limit < 1 {
		return s
	}
	return string(rs[:limit-1]) + "…"
}

func lowerName(s string) string { return strings.ToLower(s) }

// guestNames chooses the NetBox name of every guest of one cluster (see the
// rules above). current is the NetBox name of each guest's VM ("" when the
// guest has none yet), guests are in VMID order.
func guestNames(guests []*guest, current map[*guest]string) map[*guest]string {
	out := make(map[*guest]string, len(guests))
	taken := map[string]bool{}
	fit := func(g *guest, n string) string { return fitName(n, maxName, strconv.Itoa(g.VMID)) }
	// first: guests whose VM already carries their (fitted) name keep it
	for _, g := range guests {
		n := fit(g, g.Name)
		if cur, ok := current[g]; ok && cur != "" && lowerName(cur) == lowerName(n) && !taken[lowerName(n)] {
			out[g] = n
			taken[lowerName(n)] = true
		}
	}
	for _, g := range guests {
		if _, done := out[g]; done {
			continue
		}
		n := fit(g, g.Name)
		if taken[lowerName(n)] {
			n = fit(g, fmt.Sprintf("%s (%d)", g.Name, g.VMID)) // Proxmox allows duplicate names, NetBox does not
		}
		out[g] = n
		taken[lowerName(n)] = true
	}
	return out
}

// orphanName is the name an orphaned VM takes when it releases its name.
func orphanName(name string, vmid any) string {
	tag := fmt.Sprint(vmid)
	return fitName(fmt.Sprintf("%s (orphan %s)", name, tag), maxName, "orphan-"+tag)
}

// tempName is the temporary name of a VM that moves out of the way of
// another VM's rename.
func tempName(name string, id int) string {
	tag := strconv.Itoa(id)
	return fitName(fmt.Sprintf("%s (renaming %s)", name, tag), maxName, "renaming-"+tag)
}

// releaseNames plans what frees the names the wants of one cluster need:
// orphans holding one are renamed (merged into their mark-orphan op when
// there is one), and VMs of the run holding a name another VM wants are
// first renamed to a temporary name. It returns the ops that must land
// before the wants' creates and updates; renames of orphans that have a
// mark-orphan op in orphanOps are merged into it. With orphansKnown false (a
// cluster read in part) no orphan is renamed; a VM in live (its guest
// exists, outside the run's scope) is never renamed.
func releaseNames(t *table, nbCluster int, wants []*want, live map[int]bool, orphanOps []op, orphansKnown bool) []op {
	wantedBy := map[string]*want{} // lower name -> want
	owned := map[int]*want{}       // VM id -> its want
	for _, w := range wants {
		if asInt(w.Body["cluster"]) != nbCluster {
			continue
		}
		wantedBy[lowerName(asStr(w.Body["name"]))] = w
		if w.id != 0 {
			owned[w.id] = w
		}
	}
	markOp := map[int]int{} // VM id -> index in orphanOps
	deleted := map[int]bool{}
	for i, o := range orphanOps {
		switch o.action {
		case "mark-orphan":
			markOp[o.id] = i
		case "delete":
			deleted[o.id] = true // its name is freed by the delete
		}
	}
	var first []op
	for _, o := range t.all() {
		if refID(o, "cluster") != nbCluster {
			continue
		}
		id := idOf(o)
		name := asStr(o["name"])
		w := wantedBy[lowerName(name)]
		if w == nil || w.id == id || deleted[id] {
			continue // nobody else wants this name, or it is freed anyway
		}
		if mine := owned[id]; mine != nil {
			// a VM of the run that is renamed itself: out of the way first
			tmp := tempName(asStr(mine.Body["name"]), id)
			first = append(first, op{action: "update", id: id, name: name, body: bodyOf(virtualization.PatchedWritableVirtualMachineRequest{Name: &tmp}),
				diffs: map[string]proxbox.Diff{"name": {Old: name, New: tmp}}})
			continue
		}
		if live[id] || !orphansKnown || !hasTag(o, tagProxbox) || cfOf(o, "proxmox_vm_id") == nil {
			continue // not ours (or not known to be gone): the live guest's write is refused and reported
		}
		nn := orphanName(name, cfOf(o, "proxmox_vm_id"))
		if i, ok := markOp[id]; ok {
			orphanOps[i].body["name"] = nn
			orphanOps[i].diffs["name"] = proxbox.Diff{Old: name, New: nn}
			continue
		}
		first = append(first, op{action: "update", id: id, name: name, body: bodyOf(virtualization.PatchedWritableVirtualMachineRequest{Name: &nn}),
			diffs: map[string]proxbox.Diff{"name": {Old: name, New: nn}}})
	}
	return first
}
