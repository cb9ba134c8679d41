package sync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

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
		set("proxmox_start_at_boot", g.Config.Onboot())
		set("proxmox_unprivileged_container", g.Config.Unprivileged())
		set("proxmox_qemu_agent", g.Config.AgentEnabled())
		if sd := g.Config.Searchdomain(); sd != "" {
			set("proxmox_search_domain", sd)
		}
	}
	role := r.roleIDs["virtual-machine-qemu"]
	if g.Type == "lxc" {
		role = r.roleIDs["container-lxc"]
	}
	req := virtualization.WritableVirtualMachineRequest{Name: name, Cluster: val(c.nbCluster), Site: val(c.nbSite),
		Role: val(role), Description: ptr("Synced from Proxmox node " + g.Node), CustomFields: (*map[string]any)(&cf)}
	// sizes missing from /cluster/resources are unknown, not zero
	if g.MaxCPU > 0 {
		req.Vcpus = val(g.MaxCPU)
	}
	if g.MaxMem > 0 {
		req.Memory = val(int(g.MaxMem / (1 << 20)))
	}
	if g.statusKnown() {
		// an unknown run state (the guest's node is unreachable) changes
		// nothing; a new VM then gets NetBox's default status
		req.Status = ptr(virtualization.VirtualMachineStatusEnum(vmStatus(g.Status)))
	}
	if id := c.devices[g.Node]; id != 0 {
		req.Device = val(id)
	}
	return wantOf(key, name, req)
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

// stageVMsWithNetwork is the virtual-machines stage. The plugin runs it alone
// with sync_vm_network=true: then disks, interfaces and IPs come along (once,
// not per VM as the original backend does).
func (r *run) stageVMsWithNetwork(ctx context.Context, live []*cluster) (int, string, error) {
	n, msg, err := r.stageVMs(ctx, live)
	if err == nil && r.p.SyncVMNetwork {
		if _, _, err = r.stageDisks(ctx, live); err == nil {
			if _, _, err = r.stageVMIfaces(ctx, live); err == nil {
				_, _, err = r.stageIPs(ctx, live)
			}
		}
	}
	return n, msg, err
}
