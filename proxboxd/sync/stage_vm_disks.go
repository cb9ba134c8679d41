package sync

import (
	"context"
	"strconv"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

// storageRef is the NetBox id of cluster c's plugin storage name (0: unknown).
func (r *run) storageRef(c *cluster, name string) int {
	t := r.tables["storage"]
	if t == nil || name == "" {
		return 0
	}
	if o := t.byKey[strconv.Itoa(c.nbCluster)+"|"+name]; o != nil {
		return idOf(o)
	}
	return 0
}

func (r *run) stageDisks(ctx context.Context, cls []*cluster) (int, string, error) {
	gs, _, err := r.scopedGuests(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	r.pluginInstalled(ctx)
	t := newTable(kVDisk, func(o obj) string { return strconv.Itoa(refID(o, "virtual_machine")) + "|" + asStr(o["name"]) })
	if err := r.loadChunked(ctx, t, "virtual_machine_id", vmIDs(gs), nil); err != nil {
		return 0, "", err
	}
	var wants []*want
	complete := map[int]bool{}
	for _, vg := range gs {
		if vg.g.Config == nil {
			r.guestNotRead(vg.c, vg.g, "config", "virtual disks", vg.g.ConfigErr)
			continue
		}
		complete[vg.vmID] = true
		for _, d := range parseDisks(vg.g.Config) {
			if d.NoSize {
				r.skip(kVDisk.Type, vg.g.Name+"/"+d.Name, "the Proxmox config gives the disk no size (NetBox needs one); it is written once the config has a size=")
				continue
			}
			desc := "Storage: " + d.Storage
			if d.Format != "" {
				desc += " | Format: " + d.Format
			}
			req := virtualization.VirtualDiskRequest{VirtualMachine: vg.vmID, Name: d.Name, Size: d.SizeMiB, Description: &desc}
			if r.cfOK["proxbox_storage_id"] {
				var sid any // null when the storage is not in NetBox
				if id := r.storageRef(vg.c, d.Storage); id != 0 {
					sid = id
				}
				req.CustomFields = &map[string]any{"proxbox_storage_id": sid}
			}
			wants = append(wants, wantOf(strconv.Itoa(vg.vmID)+"|"+d.Name, vg.g.Name+"/"+d.Name, req))
		}
	}
	r.discovery(len(wants), nil, nil)
	ops := r.plan(t, wants)
	ops = append(ops, r.childOrphans(t, wants, "virtual_machine", complete)...)
	r.apply(ctx, t, ops)
	return len(wants), "", nil
}
