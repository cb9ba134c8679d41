package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// runStage dispatches one stage. It returns the stage's main object count.
func (r *run) runStage(ctx context.Context, s proxbox.Stage) (int, string, error) {
	if err := r.prepare(ctx); err != nil {
		return 0, "", err
	}
	live, err := r.live(ctx)
	if err != nil {
		return 0, "", err
	}
	if len(live) == 0 {
		return 0, "No Proxmox endpoints configured; nothing to sync.", nil
	}
	switch s {
	case proxbox.StageDevices:
		return r.stageDevices(ctx, live)
	case proxbox.StageVirtualMachines:
		n, msg, err := r.stageVMs(ctx, live)
		if err == nil && r.p.SyncVMNetwork {
			// the plugin runs the VM stage alone with sync_vm_network=true: bring
			// disks, interfaces and IPs along (once, not per VM as the original).
			if _, _, err = r.stageDisks(ctx, live); err == nil {
				if _, _, err = r.stageVMIfaces(ctx, live); err == nil {
					_, _, err = r.stageIPs(ctx, live)
				}
			}
		}
		return n, msg, err
	case proxbox.StageVMDisks:
		return r.stageDisks(ctx, live)
	case proxbox.StageVMInterfaces:
		return r.stageVMIfaces(ctx, live)
	case proxbox.StageIPAddresses:
		return r.stageIPs(ctx, live)
	case proxbox.StageNetworkInterfaces:
		return r.stageNodeIfaces(ctx, live)
	case proxbox.StageStorage, proxbox.StageTaskHistory, proxbox.StageVMBackups, proxbox.StageVMSnapshots,
		proxbox.StageReplications, proxbox.StageBackupRoutines:
		if !r.pluginInstalled(ctx) {
			return 0, "netbox-proxbox plugin not installed in NetBox (/api/plugins/proxbox/ answers 404): " + StepName(s) + " skipped.", nil
		}
		switch s {
		case proxbox.StageStorage:
			return r.stageStorage(ctx, live)
		case proxbox.StageTaskHistory:
			return r.stageTasks(ctx, live)
		case proxbox.StageVMBackups:
			return r.stageBackups(ctx, live)
		case proxbox.StageVMSnapshots:
			return r.stageSnapshots(ctx, live)
		case proxbox.StageReplications:
			return r.stageReplications(ctx, live)
		default:
			return r.stageRoutines(ctx, live)
		}
	}
	return 0, "", fmt.Errorf("unknown stage %q", s)
}

// live reads every cluster's status; unreachable ones are reported and
// skipped (the stage goes on with the others, and is partial).
func (r *run) live(ctx context.Context) ([]*cluster, error) {
	var live []*cluster
	var errs []error
	for _, c := range r.clusters {
		if err := c.readStatus(ctx); err != nil {
			r.res.Partial = true
			r.fail("proxmox.endpoint", c.t.Endpoint.Name, err)
			errs = append(errs, err)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("no Proxmox endpoint could be read: %w", errors.Join(errs...))
	}
	return live, nil
}

// guestInScope applies netbox_vm_ids and individual-sync filters.
func (r *run) guestInScope(c *cluster, g *guest, vmID int) bool {
	if r.only != nil && !r.only[c.label()+"|"+g.key()] {
		return false
	}
	if len(r.p.NetBoxVMIDs) == 0 {
		return true
	}
	for _, id := range r.p.NetBoxVMIDs {
		if id == vmID && vmID != 0 {
			return true
		}
	}
	return false
}

func (r *run) scoped() bool { return r.only != nil || len(r.p.NetBoxVMIDs) > 0 }

// ensureDeps makes the cluster types, manufacturer, device type, roles, sites,
// clusters and node devices exist (stage 1; also the VM stage's preflight).
func (r *run) ensureDeps(ctx context.Context, cls []*cluster) error {
	if r.depsDone {
		return nil
	}
	bySlug := func(o obj) string { return asStr(o["slug"]) }
	// level 1
	modes := map[string]bool{}
	var sites []*want
	for _, c := range cls {
		modes[c.mode] = true
		sites = append(sites, &want{Key: "proxmox-default-site-" + slugify(c.name), Name: "Proxmox Default Site - " + c.name,
			Body: obj{"name": "Proxmox Default Site - " + c.name, "slug": "proxmox-default-site-" + slugify(c.name), "status": "active"}})
	}
	var cts []*want
	for _, m := range []string{"cluster", "standalone", "restricted"} {
		if modes[m] {
			cts = append(cts, &want{Key: m, Name: strings.ToUpper(m[:1]) + m[1:],
				Body: obj{"name": strings.ToUpper(m[:1]) + m[1:], "slug": m, "description": "Proxmox " + m + " mode"}})
		}
	}
	roles := []*want{
		{Key: "proxmox-node", Name: "Proxmox Node", Body: obj{"name": "Proxmox Node", "slug": "proxmox-node", "color": "00bcd4", "vm_role": false}},
		{Key: "virtual-machine-qemu", Name: "Virtual Machine (QEMU)", Body: obj{"name": "Virtual Machine (QEMU)", "slug": "virtual-machine-qemu", "color": "00ffff", "vm_role": true, "description": "Proxmox Virtual Machine"}},
		{Key: "container-lxc", Name: "Container (LXC)", Body: obj{"name": "Container (LXC)", "slug": "container-lxc", "color": "7fffd4", "vm_role": true, "description": "Proxmox LXC Container"}},
	}
	mfr := []*want{{Key: "proxmox", Name: "Proxmox", Body: obj{"name": "Proxmox", "slug": "proxmox"}}}
	slugQ := func(ws []*want) url.Values {
		q := url.Values{}
		for _, w := range ws {
			q.Add("slug", w.Key)
		}
		return q
	}
	type lv struct {
		k  *kind
		ws []*want
	}
	tabs := map[*kind]*table{}
	for _, l := range []lv{{kClusterType, cts}, {kManufacturer, mfr}, {kRole, roles}, {kSite, sites}} {
		t, err := r.load(ctx, l.k, slugQ(l.ws), bySlug)
		if err != nil {
			return err
		}
		tabs[l.k] = t
		r.apply(ctx, t, r.plan(t, l.ws))
	}
	r.roleIDs = map[string]int{}
	for _, w := range roles {
		r.roleIDs[w.Key] = w.id
	}
	// level 2
	dt := []*want{{Key: "proxmox-generic-device", Name: "Proxmox Generic Device",
		Body: obj{"model": "Proxmox Generic Device", "slug": "proxmox-generic-device", "manufacturer": mfr[0].id}}}
	t, err := r.load(ctx, kDeviceType, slugQ(dt), bySlug)
	if err != nil {
		return err
	}
	r.apply(ctx, t, r.plan(t, dt))
	ctID := map[string]int{}
	for _, w := range cts {
		ctID[w.Key] = w.id
	}
	q := url.Values{}
	var cws []*want
	for i, c := range cls {
		q.Add("name", c.name)
		cws = append(cws, &want{Key: c.name, Name: c.name,
			Body:       obj{"name": c.name, "type": ctID[c.mode], "status": "active", "description": "Proxmox " + c.mode + " cluster."},
			CreateOnly: obj{"scope_type": "dcim.site", "scope_id": sites[i].id}})
	}
	ct, err := r.load(ctx, kCluster, q, func(o obj) string { return asStr(o["name"]) })
	if err != nil {
		return err
	}
	r.apply(ctx, ct, r.plan(ct, cws))
	for i, c := range cls {
		c.nbCluster = cws[i].id
		c.nbSite = sites[i].id
		if ex := ct.byID[c.nbCluster]; ex != nil && asStr(ex["scope_type"]) == "dcim.site" && asInt(ex["scope_id"]) != 0 {
			c.nbSite = asInt(ex["scope_id"]) // the cluster's real site (a user may have scoped it elsewhere)
		}
	}
	// level 3: node devices
	dq := url.Values{}
	var cids []int
	for _, c := range cls {
		for _, n := range c.nodes {
			dq.Add("name", n.Name)
		}
		cids = append(cids, c.nbCluster)
	}
	dev := newTable(kDevice, func(o obj) string { return "id:" + strconv.Itoa(idOf(o)) })
	if err := r.loadInto(ctx, dev, dq); err != nil {
		return err
	}
	if err := r.loadChunked(ctx, dev, "cluster_id", cids, url.Values{"tag": {tagProxbox}}); err != nil {
		return err
	}
	var dws []*want
	owner := map[*want]*cluster{}
	for _, c := range cls {
		c.devices = map[string]int{}
		for _, n := range c.nodes {
			w := &want{Key: "new:" + c.name + "/" + n.Name, Name: n.Name,
				Body: obj{"name": n.Name, "status": map[bool]string{true: "active", false: "offline"}[n.Online],
					"description": "Proxmox Node " + n.Name, "cluster": c.nbCluster, "device_type": dt[0].id, "role": r.roleIDs["proxmox-node"]},
				CreateOnly: obj{"site": c.nbSite}}
			if ex := pickDevice(dev, n.Name, c); ex != nil {
				w.Key = "id:" + strconv.Itoa(idOf(ex))
			}
			dws = append(dws, w)
			owner[w] = c
		}
	}
	ops := r.plan(dev, dws)
	wanted := map[int]bool{}
	for _, w := range dws {
		wanted[w.id] = true
	}
	for _, c := range cls {
		var orphans []obj
		for _, o := range dev.all() {
			if refID(o, "cluster") == c.nbCluster && c.nbCluster > 0 && hasTag(o, tagProxbox) && !wanted[idOf(o)] {
				orphans = append(orphans, o)
			}
		}
		ops = append(ops, r.orphanOps(dev, orphans, func(o obj) string { return asStr(o["name"]) })...)
	}
	r.apply(ctx, dev, ops)
	for _, w := range dws {
		owner[w].devices[w.Name] = w.id
	}
	r.tables["devices"] = dev
	r.depsDone = true
	return nil
}

// pickDevice chooses the NetBox device of node name for cluster c: the one in
// the cluster, else a proxbox-tagged or untagged one in the cluster's site.
func pickDevice(t *table, name string, c *cluster) obj {
	var inSite, tagged obj
	for _, o := range t.all() {
		if asStr(o["name"]) != name {
			continue
		}
		if c.nbCluster > 0 && refID(o, "cluster") == c.nbCluster {
			return o
		}
		if refID(o, "cluster") == 0 && refID(o, "site") == c.nbSite {
			if hasTag(o, tagProxbox) {
				tagged = o
			} else if inSite == nil {
				inSite = o
			}
		}
	}
	if tagged != nil {
		return tagged
	}
	return inSite
}

func (r *run) stageDevices(ctx context.Context, cls []*cluster) (int, string, error) {
	n := 0
	var items []any
	for _, c := range cls {
		for _, nd := range c.nodes {
			items = append(items, map[string]any{"name": nd.Name, "item_type": "node"})
			n++
		}
	}
	r.discovery(n, items, map[string]any{"total_devices": n})
	if err := r.ensureDeps(ctx, cls); err != nil {
		return 0, "", err
	}
	return n, "devices sync completed.", nil
}

// vmTable loads (once per run) the NetBox VMs of the clusters, keyed
// "<cluster id>|<type>/<vmid>" from the identity custom fields.
func (r *run) vmTable(ctx context.Context, cls []*cluster) (*table, error) {
	if t := r.tables["vms"]; t != nil {
		return t, nil
	}
	if err := r.ensureDeps(ctx, cls); err != nil {
		return nil, err
	}
	t := newTable(kVM, vmKeyOf)
	var ids []int
	for _, c := range cls {
		ids = append(ids, c.nbCluster)
	}
	if err := r.loadChunked(ctx, t, "cluster_id", ids, nil); err != nil {
		return nil, err
	}
	r.tables["vms"] = t
	return t, nil
}

func vmKeyOf(o obj) string {
	id := asInt(cfOf(o, "proxmox_vm_id"))
	if id <= 0 {
		return ""
	}
	typ := asStr(cfOf(o, "proxmox_vm_type"))
	if typ != "qemu" && typ != "lxc" {
		typ = "?"
	}
	return strconv.Itoa(refID(o, "cluster")) + "|" + typ + "/" + strconv.Itoa(id)
}

func vmKey(c *cluster, g *guest) string { return strconv.Itoa(c.nbCluster) + "|" + g.key() }

// vmOf returns the NetBox VM id of a guest (0 when not in NetBox).
func (r *run) vmOf(t *table, c *cluster, g *guest) int {
	if o := t.byKey[vmKey(c, g)]; o != nil {
		return idOf(o)
	}
	if o := t.byKey[strconv.Itoa(c.nbCluster)+"|?/"+strconv.Itoa(g.VMID)]; o != nil {
		return idOf(o)
	}
	return 0
}

func (r *run) stageVMs(ctx context.Context, cls []*cluster) (int, string, error) {
	if r.p.SyncVMNetwork {
		// the network part writes IPs: a VRF error stops the stage before any write
		if err := r.resolveVRFs(ctx, cls); err != nil {
			return 0, "", err
		}
	}
	t, err := r.vmTable(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	total := 0
	var items []any
	for _, c := range cls {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err != nil {
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		for _, g := range c.guests {
			total++
			items = append(items, map[string]any{"name": g.Name, "item_type": g.Type})
		}
	}
	r.discovery(total, items, map[string]any{"sync_vm_network": r.p.SyncVMNetwork})
	var wants []*want
	count := 0
	liveVMs := map[int]bool{} // NetBox VMs of guests Proxmox has (in scope or not)
	for _, c := range cls {
		if c.loaded["guests"] != nil {
			continue
		}
		// legacy rows without a type match when unambiguous; unmanaged VMs of
		// the same cluster are adopted by exact name (never across clusters).
		byName := map[string]obj{}
		for _, o := range t.all() {
			if refID(o, "cluster") == c.nbCluster && cfOf(o, "proxmox_vm_id") == nil {
				byName[strings.ToLower(asStr(o["name"]))] = o
			}
		}
		current := map[*guest]string{}
		for _, g := range c.guests {
			key := vmKey(c, g)
			if t.byKey[key] == nil {
				if o := t.byKey[strconv.Itoa(c.nbCluster)+"|?/"+strconv.Itoa(g.VMID)]; o != nil {
					t.byKey[key] = o
				} else if o := byName[strings.ToLower(g.Name)]; o != nil {
					t.byKey[key] = o
					delete(byName, strings.ToLower(g.Name))
				}
			}
			if o := t.byKey[key]; o != nil {
				current[g] = asStr(o["name"])
				liveVMs[idOf(o)] = true
			}
		}
		names := guestNames(c.guests, current)
		for _, g := range c.guests {
			key := vmKey(c, g)
			if !r.guestInScope(c, g, idOf(t.byKey[key])) {
				continue
			}
			if g.ConfigErr != nil {
				r.guestNotRead(c, g, "config", "VM fields from the config", g.ConfigErr)
			}
			wants = append(wants, r.vmWant(c, g, key, names[g]))
			count++
		}
	}
	ops := r.plan(t, wants)
	// orphans: managed VMs of fully read clusters that Proxmox no longer has
	wanted := map[int]bool{}
	for _, w := range wants {
		if w.id != 0 {
			wanted[w.id] = true
		}
	}
	var first []op
	for _, c := range cls {
		if c.loaded["guests"] != nil {
			continue
		}
		if c.partial {
			// who is gone is unknown: only swaps and chains of the run step aside
			first = append(first, releaseNames(t, c.nbCluster, wants, liveVMs, nil, false)...)
			continue
		}
		var orphans []obj
		for _, o := range t.all() {
			if refID(o, "cluster") != c.nbCluster || wanted[idOf(o)] || !hasTag(o, tagProxbox) || cfOf(o, "proxmox_vm_id") == nil {
				continue
			}
			if r.scoped() && !r.vmIDScoped(idOf(o)) {
				continue
			}
			orphans = append(orphans, o)
		}
		oops := r.orphanOps(t, orphans, func(o obj) string { return asStr(o["name"]) })
		// free the names live guests need: orphans release them, VMs of the
		// run that swap or chain names step aside first (names.go)
		first = append(first, releaseNames(t, c.nbCluster, wants, liveVMs, oops, true)...)
		first = append(first, oops...)
	}
	// releases, marks and deletes must land before creates and renames
	var rest []op
	for _, o := range ops {
		if o.action == "mark-orphan" || o.action == "delete" {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
	}
	r.apply(ctx, t, first)
	r.apply(ctx, t, rest)
	return count, "Virtual machines sync completed.", nil
}

func (r *run) vmIDScoped(id int) bool {
	for _, v := range r.p.NetBoxVMIDs {
		if v == id {
			return true
		}
	}
	return false
}

func (r *run) vmWant(c *cluster, g *guest, key, name string) *want {
	cf := obj{}
	set := func(k string, v any) {
		if r.cfOK[k] {
			cf[k] = v
		}
	}
	set("proxmox_vm_id", g.VMID)
	set("proxmox_vm_type", g.Type)
	if name != g.Name {
		set("proxmox_name", g.Name) // shortened or made unique (names.go)
	} else {
		set("proxmox_name", nil)
	}
	set("proxmox_node", g.Node)
	if g.statusKnown() {
		set("proxmox_status", g.Status)
	}
	set("proxmox_cluster", c.name)
	if link := c.link(g); link != "" {
		set("proxmox_link", link)
	}
	if g.Config != nil {
		set("proxmox_start_at_boot", truthy(g.Config["onboot"]))
		set("proxmox_unprivileged_container", truthy(g.Config["unprivileged"]))
		set("proxmox_qemu_agent", truthy(g.Config["agent"]))
		if sd := asStr(g.Config["searchdomain"]); sd != "" {
			set("proxmox_search_domain", sd)
		}
	}
	role := r.roleIDs["virtual-machine-qemu"]
	if g.Type == "lxc" {
		role = r.roleIDs["container-lxc"]
	}
	body := obj{"name": name, "cluster": c.nbCluster, "site": c.nbSite, "role": role,
		"description": "Synced from Proxmox node " + g.Node, "custom_fields": cf}
	// sizes missing from /cluster/resources are unknown, not zero
	if g.MaxCPU > 0 {
		body["vcpus"] = g.MaxCPU
	}
	if g.MaxMem > 0 {
		body["memory"] = int(g.MaxMem / (1 << 20))
	}
	if g.statusKnown() {
		// an unknown run state (the guest's node is unreachable) changes
		// nothing; a new VM then gets NetBox's default status
		body["status"] = vmStatus(g.Status)
	}
	if id := c.devices[g.Node]; id != 0 {
		body["device"] = id
	}
	return &want{Key: key, Name: name, Body: body}
}

func (c *cluster) link(g *guest) string {
	host := c.t.Endpoint.Domain
	if host == "" {
		host = c.t.Endpoint.IPAddress
	}
	if host == "" {
		return ""
	}
	port := c.t.Endpoint.Port
	if port == 0 {
		port = 8006
	}
	return fmt.Sprintf("https://%s:%d/#v1:0:=%s/%d", host, port, g.Type, g.VMID)
}
