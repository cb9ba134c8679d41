package sync

import (
	"context"
	"strconv"

	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"
)

func (r *run) stageSnapshots(ctx context.Context, cls []*cluster) (int, string, error) {
	gs, vmT, err := r.scopedGuests(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	// the snapshots of orphaned VMs (their guest is gone) become stale, and a
	// live guest of the same cluster takes over a record whose plugin key
	// (vmid, name, node) it needs (a reused VMID)
	orphanVMs := map[int]bool{}
	loadFor := gs
	if !r.scoped() {
		fully := map[int]bool{}
		for _, c := range cls {
			if !c.partial && c.loaded["guests"] == nil {
				fully[c.nbCluster] = true
			}
		}
		for _, o := range vmT.all() {
			if isOrphanVM(o) && fully[refID(o, "cluster")] {
				orphanVMs[idOf(o)] = true
				loadFor = append(loadFor, vmGuest{vmID: idOf(o)})
			}
		}
	}
	only := map[*cluster]map[string]bool{}
	for _, vg := range gs {
		if only[vg.c] == nil {
			only[vg.c] = map[string]bool{}
		}
		only[vg.c][vg.g.key()] = true
	}
	t, err := r.pluginChildren(ctx, kSnapshot, loadFor, func(o obj) string {
		return strconv.Itoa(refID(o, "virtual_machine")) + "|" + asStr(o["name"])
	})
	if err != nil {
		return 0, "", err
	}
	for _, c := range cls {
		if only[c] != nil {
			c.readSnapshots(ctx, r.p.FetchMaxConcurrency, only[c])
		}
	}
	var wants []*want
	complete := map[int]bool{}
	for _, vg := range gs {
		g := vg.g
		if g.SnapErr != nil {
			r.guestNotRead(vg.c, g, "snapshot list", "snapshots", g.SnapErr)
			continue
		}
		complete[vg.vmID] = true
		for _, s := range g.Snaps {
			name := s.Name
			req := pbplugin.WritableVMSnapshotRequest{VirtualMachine: vg.vmID, Name: name, Description: val(s.Description),
				Vmid: g.VMID, Node: g.Node, Snaptime: unixTime(s.Snaptime), Parent: val(s.Parent),
				Subtype: ptr(pbplugin.VMSnapshotSubtypeEnum(g.Type)), Status: ptr(pbplugin.VMSnapshotStatusEnum("active"))}
			wants = append(wants, wantOf(strconv.Itoa(vg.vmID)+"|"+name, g.Name+"@"+name, req))
		}
	}
	r.discovery(len(wants), nil, nil)
	takeOver := func(holder obj, create op) bool {
		from := vmT.byID[refID(holder, "virtual_machine")]
		to := vmT.byID[asInt(create.body["virtual_machine"])]
		return from != nil && to != nil && isOrphanVM(from) && refID(from, "cluster") == refID(to, "cluster")
	}
	ops, err := r.dropTaken(ctx, t, r.plan(t, wants), snapshotUnique, takeOver)
	if err != nil {
		return 0, "", err
	}
	if !r.p.DeleteNonexistentSnapshot {
		// gone snapshots are marked stale unless delete_nonexistent_snapshot
		r.override = map[string]OrphanPolicy{kSnapshot.Type: {Mode: OrphanMark}}
	}
	ops = append(ops, r.childOrphans(t, wants, "virtual_machine", complete)...)
	// an orphaned VM's snapshots are stale, whatever delete_nonexistent_snapshot says
	r.override = map[string]OrphanPolicy{kSnapshot.Type: {Mode: OrphanMark}}
	ops = append(ops, r.childOrphans(t, wants, "virtual_machine", orphanVMs)...)
	r.override = nil
	r.apply(ctx, t, ops)
	return len(wants), "snapshots sync completed.", nil
}
