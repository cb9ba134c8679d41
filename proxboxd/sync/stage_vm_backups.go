package sync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

func (r *run) stageBackups(ctx context.Context, cls []*cluster) (int, string, error) {
	gs, _, err := r.scopedGuests(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	byKey := map[string]vmGuest{}
	for _, vg := range gs {
		byKey[vg.c.label()+"|"+vg.g.key()] = vg
	}
	t, err := r.pluginChildren(ctx, kBackup, gs, func(o obj) string {
		return strconv.Itoa(refID(o, "virtual_machine")) + "|" + asStr(o["volume_id"])
	})
	if err != nil {
		return 0, "", err
	}
	var wants []*want
	complete := map[int]bool{}
	for _, c := range cls {
		if err := c.readBackups(ctx, r.p.FetchMaxConcurrency); err != nil {
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		if c.backupsOK {
			for _, vg := range gs {
				if vg.c == c {
					complete[vg.vmID] = true
				}
			}
		}
		for _, k := range sortedKeys(c.backupErrs) {
			r.notRead("proxmox.storage", c.label()+"/"+k, "backup list not read (no backup of the cluster deleted)", c.backupErrs[k])
		}
		for _, b := range c.backups {
			volid := b.Volid.Get()
			sub := backupSubtype(extraStr(b.Extra, "subtype"), volid)
			vmid := b.Vmid.Get()
			vg, ok := byKey[c.label()+"|"+sub+"/"+strconv.Itoa(vmid)]
			if !ok && sub == "undefined" {
				if vg, ok = byKey[c.label()+"|qemu/"+strconv.Itoa(vmid)]; !ok {
					vg, ok = byKey[c.label()+"|lxc/"+strconv.Itoa(vmid)]
				}
			}
			if !ok {
				if !r.scoped() && !c.hasVMID(vmid) {
					r.skip(kBackup.Type, volid, fmt.Sprintf("no guest of cluster %s has VMID %d (a backup of a deleted guest): NetBox records backups under their VM", c.label(), vmid))
				}
				continue // a guest out of scope, or one not in NetBox (reported by scopedGuests)
			}
			storage, _, _ := strings.Cut(volid, ":")
			req := pbplugin.WritableVMBackupRequest{Storage: val(storage), ProxmoxStorage: refOrNull(r.storageRef(c, storage)),
				VirtualMachine: vg.vmID, Subtype: ptr(pbplugin.VMBackupSubtypeEnum(sub)),
				Format:       ptr(pbplugin.VMBackupFormatEnum(backupFormat(b.Format.Get(), volid))),
				CreationTime: unixTime(b.Ctime.Value), Size: val(int64(b.Size.Get())), Used: val(int64(b.Used.Get())),
				Encrypted: ptr(b.Encrypted.Get()), VerificationState: val(verification(b).State.Get()),
				VerificationUpid: val(verification(b).Upid.Get()), VolumeId: val(volid), Notes: val(b.Notes.Get()), Vmid: val(vmid)}
			wants = append(wants, wantOf(strconv.Itoa(vg.vmID)+"|"+volid, volid, req))
		}
	}
	r.discovery(len(wants), nil, nil)
	ops := r.plan(t, wants)
	if r.p.DeleteNonexistentBackup {
		// only backups of VMs in scope whose storages were all read
		ops = append(ops, r.childOrphans(t, wants, "virtual_machine", complete)...)
	}
	r.apply(ctx, t, ops)
	msg := "backups sync completed."
	if len(wants) == 0 {
		msg = "No backups found in Proxmox; nothing to sync."
	}
	return len(wants), msg, nil
}

// verification is a backup's verification state (zero when PVE sent none).
func verification(b backupVol) pve.Verification {
	if b.Verification == nil {
		return pve.Verification{}
	}
	return *b.Verification
}
