package sync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxboxd/contract"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// SyncIndividual syncs one object (/sync/individual/{kind}) by running the
// stage that owns it restricted to that object's guest or cluster. Errors in
// the object itself are reported in the result's Error (HTTP 200, contract
// §2.10); err is returned only when nothing could be attempted.
func (e *Engine) SyncIndividual(ctx context.Context, req proxbox.IndividualRequest) (*proxbox.IndividualResult, error) {
	q := req.Query
	p := normParams(req.Params)
	if v, ok := q["dry_run"]; ok {
		p.DryRun, _ = contract.ParseBool(v) // the query rule of every stream
	}
	res := &proxbox.IndividualResult{ObjectType: req.Kind, DryRun: p.DryRun, ProxmoxResource: map[string]any{},
		DependenciesSynced: []string{}}
	errf := func(format string, a ...any) (*proxbox.IndividualResult, error) {
		s := fmt.Sprintf(format, a...)
		res.Action = "error"
		res.Error = &s
		return res, nil
	}
	for k, v := range q {
		res.ProxmoxResource[k] = v
	}
	typ := q["type"]
	if typ == "" {
		typ = q["vm_type"]
	}
	if typ == "" {
		typ = "qemu"
	}
	vmid, _ := strconv.Atoi(q["vmid"])
	var stages []proxbox.Stage
	primary := ""
	switch req.Kind {
	case "cluster", "node":
		stages, primary = []proxbox.Stage{proxbox.StageDevices}, kDevice.Type
		if req.Kind == "cluster" {
			primary = kCluster.Type
		}
	case "vm":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines}, kVM.Type
		p.SyncVMNetwork = false
	case "interface":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMInterfaces}, kVMIface.Type
	case "ip":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMInterfaces, proxbox.StageIPAddresses}, kIP.Type
	case "disk":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMDisks}, kVDisk.Type
	case "backup":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMBackups}, kBackup.Type
	case "snapshot":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMSnapshots}, kSnapshot.Type
	case "task-history":
		stages, primary = []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageTaskHistory}, kTask.Type
	case "storage":
		stages, primary = []proxbox.Stage{proxbox.StageStorage}, kStorage.Type
	case "replication":
		stages, primary = []proxbox.Stage{proxbox.StageReplications}, kReplication.Type
	case "backup-routines":
		stages, primary = []proxbox.Stage{proxbox.StageBackupRoutines}, kRoutine.Type
	default:
		return errf("unknown individual sync kind %q", req.Kind)
	}
	needsVM := stages[0] == proxbox.StageVirtualMachines
	if needsVM && vmid <= 0 {
		return errf("vmid is required")
	}
	r, unlock, err := e.open(ctx, p, func(proxbox.Event) {}, "individual")
	if err != nil {
		return nil, err
	}
	defer unlock()
	// restrict to the named cluster
	name := q["cluster_name"]
	if name != "" || len(r.clusters) > 1 {
		var keep []*cluster
		for _, c := range r.clusters {
			if c.readStatus(ctx) == nil && (name == "" || strings.EqualFold(c.name, name)) {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return errf("No Proxmox session found for cluster: %s", name)
		}
		if name == "" && len(keep) > 1 && needsVM {
			return errf("cluster_name is required when several Proxmox endpoints are configured")
		}
		r.clusters = keep
	}
	if needsVM {
		r.only = map[string]bool{}
		for _, c := range r.clusters {
			r.only[c.label()+"|"+typ+"/"+strconv.Itoa(vmid)] = true
		}
	}
	var last *proxbox.StageResult
	for i, s := range stages {
		sp := p
		sp.DeleteNonexistentBackup = false
		sp.DeleteNonexistentSnapshot = false
		last = r.stage(ctx, s, sp, false)
		if !last.OK {
			return errf("%s", last.Message)
		}
		if i < len(stages)-1 {
			res.DependenciesSynced = append(res.DependenciesSynced, StepName(s))
		}
	}
	c := last.Counts[primary]
	switch {
	case p.DryRun:
		res.Action = "dry_run"
	case c == nil:
		res.Action = "skipped"
	case c.Failed > 0:
		res.Action = "error"
		if len(last.Failures) > 0 {
			d := last.Failures[0].Detail
			res.Error = &d
		}
	case c.Created > 0:
		res.Action = "created"
	case c.Updated > 0:
		res.Action = "updated"
	case c.Deleted > 0:
		res.Action = "deleted"
	default:
		res.Action = "unchanged"
	}
	// a Proxmox read of the object that failed (after retries) left it, or
	// part of it, untouched: say so
	for _, f := range last.Failures {
		if res.Error == nil && strings.HasPrefix(f.ObjectType, "proxmox.") {
			d := f.Detail
			res.Error = &d
			if res.Action == "unchanged" || res.Action == "skipped" {
				res.Action = "error"
			}
		}
	}
	if needsVM {
		if t := r.tables["vms"]; t != nil {
			for _, cl := range r.clusters {
				if o := t.byKey[strconv.Itoa(cl.nbCluster)+"|"+typ+"/"+strconv.Itoa(vmid)]; o != nil {
					res.NetBoxObject = map[string]any{"id": idOf(o), "name": o["name"]}
				}
			}
		}
	}
	return res, nil
}
