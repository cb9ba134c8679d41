package sync

import (
	"context"
	"strconv"
	"strings"

	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

func (r *run) stageTasks(ctx context.Context, cls []*cluster) (int, string, error) {
	gs, vmT, err := r.scopedGuests(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	byVMID := map[*cluster]map[int]vmGuest{}
	for _, vg := range gs {
		if byVMID[vg.c] == nil {
			byVMID[vg.c] = map[int]vmGuest{}
		}
		byVMID[vg.c][vg.g.VMID] = vg
	}
	// PVE's task archive keeps the tasks of a deleted guest under its VMID, so
	// when the VMID is reused the old tasks are listed again. A UPID names one
	// task: one that NetBox already records under an earlier guest of the same
	// VMID (another VM of the cluster with that proxmox_vm_id) stays there
	// instead of being recorded a second time for the new guest.
	byNBCluster := map[int]*cluster{}
	for _, c := range cls {
		byNBCluster[c.nbCluster] = c
	}
	loadFor := append([]vmGuest(nil), gs...)
	earlier := map[int]bool{} // NetBox VMs of earlier guests of a VMID in use
	for _, o := range vmT.all() {
		c := byNBCluster[refID(o, "cluster")]
		cf, _ := o["custom_fields"].(map[string]any)
		if vg, ok := byVMID[c][asInt(cf["proxmox_vm_id"])]; ok && vg.vmID != idOf(o) {
			loadFor = append(loadFor, vmGuest{c: c, g: vg.g, vmID: idOf(o)})
			earlier[idOf(o)] = true
		}
	}
	t, err := r.pluginChildren(ctx, kTask, loadFor, func(o obj) string {
		return strconv.Itoa(refID(o, "virtual_machine")) + "|" + asStr(o["upid"])
	})
	if err != nil {
		return 0, "", err
	}
	upidOwner := map[string]int{}
	for _, o := range t.all() {
		upidOwner[asStr(o["upid"])] = refID(o, "virtual_machine")
	}
	var wants []*want
	for _, c := range cls {
		if byVMID[c] == nil {
			continue
		}
		c.readTasks(ctx, r.p.FetchMaxConcurrency)
		for _, n := range c.nodes {
			if err := c.taskErrs[n.Name]; err != nil {
				r.notRead("proxmox.node", c.label()+"/"+n.Name, "task archive not read (completely; task history is never deleted)", err)
			}
		}
		for node, rows := range c.tasks {
			for _, row := range rows {
				vg, ok := byVMID[c][taskVMID(row)]
				upid := row.Upid.Get()
				if !ok || upid == "" {
					continue
				}
				if owner := upidOwner[upid]; earlier[owner] {
					continue // a task of an earlier guest with this VMID
				}
				typ := row.Type.Get()
				label := "QEMU"
				if vg.g.Type == "lxc" {
					label = "CT"
				}
				status := row.Status.Get()
				state := "running"
				if row.Endtime.Set {
					state = "stopped"
				}
				if status == "" {
					status = "unknown"
				}
				user := row.User.Get()
				if user == "" {
					user = "root@pam"
				}
				req := pbplugin.WritableVMTaskHistoryRequest{VirtualMachine: vg.vmID, VmType: ptr(vg.g.Type), Upid: upid, Node: node,
					Pid: val(row.Pid.Get()), Pstart: val(int64(row.Pstart.Get())), TaskId: val(row.Id.Get()), TaskType: typ,
					Username: user, StartTime: epoch(row.Starttime.Value), EndTime: unixTime(row.Endtime.Value),
					Description: label + " " + row.Id.Get() + " - " + taskAction(typ), Status: status,
					TaskState: val(state), Exitstatus: val(row.Status.Get())}
				wants = append(wants, wantOf(strconv.Itoa(vg.vmID)+"|"+upid, upid, req))
			}
		}
	}
	r.discovery(len(wants), nil, nil)
	ops, err := r.dropTaken(ctx, t, r.plan(t, wants), taskUPIDUnique, nil)
	if err != nil {
		return 0, "", err
	}
	r.apply(ctx, t, ops) // task history is never deleted
	return len(wants), "task-history sync completed.", nil
}

// taskVMID is the guest a task row is about: its id when that is a VMID
// (0 otherwise: node tasks have ids such as "" or a storage name).
func taskVMID(row pve.TaskItem) int {
	n, err := strconv.Atoi(strings.TrimSpace(row.Id.Get()))
	if err != nil {
		return 0
	}
	return n
}
