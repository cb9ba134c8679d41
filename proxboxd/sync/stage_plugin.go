package sync

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stages writing the netbox-proxbox plugin models. runStage skips them when
// the plugin API answers 404.

func (r *run) stageStorage(ctx context.Context, cls []*cluster) (int, string, error) {
	if err := r.ensureDeps(ctx, cls); err != nil {
		return 0, "", err
	}
	t := r.tables["storage"]
	var wants []*want
	for _, c := range cls {
		if err := c.readStorages(ctx); err != nil {
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		for _, s := range c.storages {
			name := asStr(s["storage"])
			raw := obj{}
			for k, v := range s {
				raw[k] = v
			}
			body := obj{"cluster": c.nbCluster, "name": name, "storage_type": asStr(s["type"]), "content": asStr(s["content"]),
				"path": asStr(s["path"]), "nodes": asStr(s["nodes"]), "shared": truthy(s["shared"]), "enabled": !truthy(s["disable"]),
				"raw_config": raw}
			for _, f := range []string{"server", "port", "username", "export", "share", "pool", "monhost", "namespace",
				"datastore", "subdir", "mountpoint", "is_mountpoint", "preallocation", "format"} {
				if v := asStr(s[f]); v != "" {
					body[f] = v
				}
			}
			if v := asStr(s["prune-backups"]); v != "" {
				body["prune_backups"] = v
			}
			if v := asStr(s["max-protected-backups"]); v != "" {
				body["max_protected_backups"] = v
			}
			wants = append(wants, &want{Key: strconv.Itoa(c.nbCluster) + "|" + name, Name: c.name + "/" + name, Body: body})
		}
	}
	r.discovery(len(wants), nil, map[string]any{"fetch_concurrency": r.p.FetchMaxConcurrency})
	ops := r.plan(t, wants)
	wanted := map[int]bool{}
	for _, w := range wants {
		wanted[w.id] = true
	}
	for _, c := range cls {
		if c.loaded["storages"] != nil || c.nbCluster <= 0 {
			continue
		}
		var orphans []obj
		for _, o := range t.all() {
			if refID(o, "cluster") == c.nbCluster && !wanted[idOf(o)] {
				orphans = append(orphans, o)
			}
		}
		ops = append(ops, r.orphanOps(t, orphans, func(o obj) string { return asStr(o["name"]) })...)
	}
	r.apply(ctx, t, ops)
	return len(wants), "storage sync completed.", nil
}

func isoUTC(v any) any {
	sec := asInt(v)
	if sec <= 0 {
		return nil
	}
	return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
}

func (r *run) pluginChildren(ctx context.Context, k *kind, gs []vmGuest, keyFn func(obj) string) (*table, error) {
	t := newTable(k, keyFn)
	// the plugin tables hold only proxbox records: on an unscoped run with
	// more than one chunk of VMs, one paged list of the whole table costs
	// fewer requests than one list per 100 VMs (records of VMs outside the run
	// are never planned against: every stage restricts itself to its VMs)
	if ids := uniqInts(vmIDs(gs)); !r.scoped() && len(ids) > chunkIDs {
		if err := r.loadInto(ctx, t, nil); err != nil {
			return nil, err
		}
		return t, nil
	}
	if err := r.loadChunked(ctx, t, "virtual_machine_id", vmIDs(gs), nil); err != nil {
		return nil, err
	}
	return t, nil
}

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
				vg, ok := byVMID[c][asInt(row["id"])]
				upid := asStr(row["upid"])
				if !ok || upid == "" {
					continue
				}
				if owner := upidOwner[upid]; earlier[owner] {
					continue // a task of an earlier guest with this VMID
				}
				typ := asStr(row["type"])
				label := "QEMU"
				if vg.g.Type == "lxc" {
					label = "CT"
				}
				status := asStr(row["status"])
				state := "running"
				if row["endtime"] != nil {
					state = "stopped"
				}
				if status == "" {
					status = "unknown"
				}
				user := asStr(row["user"])
				if user == "" {
					user = "root@pam"
				}
				body := obj{"virtual_machine": vg.vmID, "vm_type": vg.g.Type, "upid": upid, "node": node,
					"pid": asInt(row["pid"]), "pstart": asInt(row["pstart"]), "task_id": asStr(row["id"]), "task_type": typ,
					"username": user, "start_time": isoUTC(row["starttime"]), "end_time": isoUTC(row["endtime"]),
					"description": label + " " + asStr(row["id"]) + " - " + taskAction(typ), "status": status,
					"task_state": state, "exitstatus": asStr(row["status"])}
				wants = append(wants, &want{Key: strconv.Itoa(vg.vmID) + "|" + upid, Name: upid, Body: body})
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
			volid := asStr(b["volid"])
			sub := backupSubtype(asStr(b["subtype"]), volid)
			vmid := asInt(b["vmid"])
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
			body := obj{"storage": storage, "proxmox_storage": r.storageID(c, storage), "virtual_machine": vg.vmID,
				"subtype": sub, "format": backupFormat(asStr(b["format"]), volid), "creation_time": isoUTC(b["ctime"]),
				"size": asInt(b["size"]), "used": asInt(b["used"]), "encrypted": asStr(b["encrypted"]),
				"verification_state": asStr(mapGet(b["verification"], "state")),
				"verification_upid":  asStr(mapGet(b["verification"], "upid")), "volume_id": volid,
				"notes": asStr(b["notes"]), "vmid": vmid}
			wants = append(wants, &want{Key: strconv.Itoa(vg.vmID) + "|" + volid, Name: volid, Body: body})
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

func mapGet(v any, k string) any {
	if m, ok := v.(map[string]any); ok {
		return m[k]
	}
	return nil
}

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
			name := asStr(s["name"])
			body := obj{"virtual_machine": vg.vmID, "name": name, "description": asStr(s["description"]), "vmid": g.VMID,
				"node": g.Node, "snaptime": isoUTC(s["snaptime"]), "parent": asStr(s["parent"]), "subtype": g.Type, "status": "active"}
			wants = append(wants, &want{Key: strconv.Itoa(vg.vmID) + "|" + name, Name: g.Name + "@" + name, Body: body})
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

// endpointID resolves the plugin ProxmoxEndpoint of a cluster: the "(nb:<pk>)"
// suffix of its name, else a match by name or by domain or IP on the same
// port, not taken by another cluster of the run, else the only one (when the
// run has one cluster). Replications and backup routines are keyed by it.
func (r *run) endpointID(ctx context.Context, c *cluster) int {
	if c.endpoint != 0 {
		return c.endpoint
	}
	t := r.tables["pendpoints"]
	if t == nil {
		var err error
		if t, err = r.load(ctx, kPEndpoint, nil, func(o obj) string { return strconv.Itoa(idOf(o)) }); err != nil {
			return 0
		}
		r.tables["pendpoints"] = t
	}
	if m := nbPKRE.FindStringSubmatch(c.t.Endpoint.Name); m != nil {
		if pk, _ := strconv.Atoi(m[1]); t.byID[pk] != nil {
			c.endpoint = pk
			return pk
		}
	}
	all := t.all()
	claimed := map[int]bool{} // records other clusters of the run resolved to
	for _, oc := range r.clusters {
		if oc != c && oc.endpoint != 0 {
			claimed[oc.endpoint] = true
		}
	}
	for _, o := range all {
		ip := asStr(mapGet(o["ip_address"], "address"))
		ip, _, _ = strings.Cut(ip, "/")
		// an address names a host, not a cluster: clusters behind one address
		// (NAT, a reverse proxy) differ by port
		port := asInt(o["port"])
		samePort := port == 0 || c.t.Endpoint.Port == 0 || port == c.t.Endpoint.Port
		if !claimed[idOf(o)] && (asStr(o["name"]) == c.t.Endpoint.Name ||
			samePort && ((c.t.Endpoint.Domain != "" && asStr(o["domain"]) == c.t.Endpoint.Domain) ||
				(c.t.Endpoint.IPAddress != "" && ip == c.t.Endpoint.IPAddress))) {
			c.endpoint = idOf(o)
			return c.endpoint
		}
	}
	if len(all) == 1 && len(r.clusters) == 1 {
		c.endpoint = idOf(all[0])
	}
	return c.endpoint
}

// jobStage is the shared shape of replications and backup routines: one
// cluster-level PVE list, keyed by (endpoint, job id), stale-marked when gone.
func (r *run) jobStage(ctx context.Context, cls []*cluster, k *kind, pvePath, idField string,
	build func(c *cluster, ep int, job obj) obj) (int, string, error) {
	t, err := r.load(ctx, k, nil, func(o obj) string { return strconv.Itoa(refID(o, "endpoint")) + "|" + asStr(o[idField]) })
	if err != nil {
		return 0, "", err
	}
	var wants []*want
	complete := map[int]bool{}
	for _, c := range cls {
		ep := r.endpointID(ctx, c)
		if ep == 0 {
			r.fail(k.Type, c.label(), errNoEndpoint)
			continue
		}
		var jobs []obj
		if err := c.get(ctx, pvePath, nil, &jobs); err != nil {
			c.partial = true
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		complete[ep] = true
		for _, j := range jobs {
			id := asStr(j["id"])
			body := build(c, ep, j)
			if body == nil || id == "" {
				continue
			}
			body["endpoint"] = ep
			body[idField] = id
			body["status"] = "active"
			wants = append(wants, &want{Key: strconv.Itoa(ep) + "|" + id, Name: c.label() + "/" + id, Body: body})
		}
	}
	r.discovery(len(wants), nil, nil)
	ops := r.plan(t, wants)
	// stale only within the endpoints read in this run (QUIRK fixed: the
	// original marked every other endpoint's routines stale)
	ops = append(ops, r.childOrphans(t, wants, "endpoint", complete)...)
	r.apply(ctx, t, ops)
	return len(wants), "", nil
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errNoEndpoint = constErr("no netbox-proxbox ProxmoxEndpoint matches this Proxmox endpoint; skipped")

func (r *run) stageReplications(ctx context.Context, cls []*cluster) (int, string, error) {
	vms, err := r.vmTable(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	nodes := r.tables["pnodes"]
	if nodes == nil {
		if nodes, err = r.load(ctx, kPNode, nil, func(o obj) string { return strconv.Itoa(refID(o, "endpoint")) + "|" + asStr(o["name"]) }); err != nil {
			nodes = newTable(kPNode, func(obj) string { return "" })
		}
		r.tables["pnodes"] = nodes
	}
	return r.jobStage(ctx, cls, kReplication, "/cluster/replication", "replication_id", func(c *cluster, ep int, j obj) obj {
		gid := asInt(j["guest"])
		var vm any
		for _, typ := range []string{"qemu", "lxc"} {
			if id := r.vmOf(vms, c, &guest{VMID: gid, Type: typ}); id != 0 {
				vm = id
				break
			}
		}
		var node any
		if id := nodes.id(strconv.Itoa(ep) + "|" + asStr(j["target"])); id != 0 {
			node = id
		}
		return obj{"guest": gid, "target": asStr(j["target"]), "job_type": asStr(j["type"]), "schedule": asStr(j["schedule"]),
			"rate": j["rate"], "comment": asStr(j["comment"]), "disable": truthy(j["disable"]), "source": asStr(j["source"]),
			"jobnum": asInt(j["jobnum"]), "remove_job": asStr(j["remove_job"]), "virtual_machine": vm, "proxmox_node": node,
			"raw_config": j}
	})
}

func (r *run) stageRoutines(ctx context.Context, cls []*cluster) (int, string, error) {
	return r.jobStage(ctx, cls, kRoutine, "/cluster/backup", "job_id", func(c *cluster, ep int, j obj) obj {
		sel := []any{}
		for _, s := range strings.Split(asStr(j["vmid"]), ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				sel = append(sel, n)
			}
		}
		if len(sel) == 0 {
			// The plugin's selection is a JSONField that refuses both null
			// and [] ("This field cannot be blank."), so an "all" or "pool"
			// job records the guests it selects now; raw_config keeps the rule.
			sel = r.routineGuests(ctx, c, j)
		}
		if len(sel) == 0 {
			// a job that selects no guest cannot be stored: reported as
			// skipped, not attempted (a write NetBox must refuse would repeat
			// every sync)
			r.skip(kRoutine.Type, c.label()+"/"+asStr(j["id"]), emptySelection)
			return nil
		}
		body := obj{"enabled": j["enabled"] == nil || truthy(j["enabled"]), "schedule": asStr(j["schedule"]),
			"comment": asStr(j["comment"]), "notes_template": asStr(j["notes-template"]), "selection": sel,
			"bwlimit": j["bwlimit"], "zstd": j["zstd"], "io_workers": j["io-workers"], "repeat_missed": truthy(j["repeat-missed"]),
			"pbs_change_detection_mode": asStr(j["pbs-change-detection-mode"]), "raw_config": j}
		if f, ok := j["fleecing"].(map[string]any); ok {
			var parts []string
			for k, v := range f {
				parts = append(parts, k+"="+asStr(v))
			}
			slices.Sort(parts)
			body["fleecing"] = strings.Join(parts, ",")
		} else {
			body["fleecing"] = asStr(j["fleecing"])
		}
		prune := map[string]string{}
		switch p := j["prune-backups"].(type) {
		case string:
			_, prune = parseProps(p)
		case map[string]any:
			for k, v := range p {
				prune[k] = asStr(v)
			}
		}
		for _, k := range []string{"keep-last", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"} {
			if v, ok := prune[k]; ok {
				body[strings.ReplaceAll(k, "-", "_")] = asInt(v)
			} else {
				body[strings.ReplaceAll(k, "-", "_")] = nil
			}
		}
		_, all := prune["keep-all"]
		body["keep_all"] = all
		return body
	})
}

// routineGuests is the sorted VMIDs a vzdump job without a vmid list backs
// up: every guest (all=1), or the members of its pool; minus "exclude", and
// only those of "node" when the job is bound to one.
func (r *run) routineGuests(ctx context.Context, c *cluster, j obj) []any {
	in := map[int]bool{}
	if pool := asStr(j["pool"]); pool != "" && validPoolID(pool) {
		var p struct {
			Members []obj `json:"members"`
		}
		if err := c.get(ctx, "/pools/"+pool, nil, &p); err == nil {
			for _, m := range p.Members {
				if t := asStr(m["type"]); t == "qemu" || t == "lxc" {
					in[asInt(m["vmid"])] = true
				}
			}
		}
	} else if truthy(j["all"]) {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err == nil {
			for _, g := range c.guests {
				in[g.VMID] = true
			}
		}
	}
	if node := asStr(j["node"]); node != "" {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err == nil { // cached per run
			on := map[int]bool{}
			for _, g := range c.guests {
				if g.Node == node {
					on[g.VMID] = true
				}
			}
			for id := range in {
				if !on[id] {
					delete(in, id)
				}
			}
		}
	}
	for _, s := range strings.Split(asStr(j["exclude"]), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			delete(in, n)
		}
	}
	ids := make([]int, 0, len(in))
	for id := range in {
		if id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

const emptySelection = "the backup job selects no guest, and netbox-proxbox's BackupRoutine cannot store an empty selection"

var poolIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func validPoolID(s string) bool { return poolIDRe.MatchString(s) }
