package sync

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	nbcommon "github.com/proxbox-go/proxbox/netboxsdk/gen/common"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/dcim"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

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
		sites = append(sites, wantOf("proxmox-default-site-"+slugify(c.name), "Proxmox Default Site - "+c.name,
			dcim.WritableSiteRequest{Name: "Proxmox Default Site - " + c.name, Slug: "proxmox-default-site-" + slugify(c.name),
				Status: ptr(dcim.SiteStatusEnum("active"))}))
	}
	var cts []*want
	for _, m := range []string{"cluster", "standalone", "restricted"} {
		if modes[m] {
			name := strings.ToUpper(m[:1]) + m[1:]
			cts = append(cts, wantOf(m, name, virtualization.ClusterTypeRequest{Name: name, Slug: m, Description: ptr("Proxmox " + m + " mode")}))
		}
	}
	role := func(name, slug, color string, vm bool, desc *string) *want {
		return wantOf(slug, name, dcim.WritableDeviceRoleRequest{Name: name, Slug: slug, Color: &color, VmRole: &vm, Description: desc})
	}
	roles := []*want{
		role("Proxmox Node", "proxmox-node", "00bcd4", false, nil),
		role("Virtual Machine (QEMU)", "virtual-machine-qemu", "00ffff", true, ptr("Proxmox Virtual Machine")),
		role("Container (LXC)", "container-lxc", "7fffd4", true, ptr("Proxmox LXC Container")),
	}
	mfr := []*want{wantOf("proxmox", "Proxmox", dcim.ManufacturerRequest{Name: "Proxmox", Slug: "proxmox"})}
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
	dt := []*want{wantOf("proxmox-generic-device", "Proxmox Generic Device",
		dcim.WritableDeviceTypeRequest{Model: "Proxmox Generic Device", Slug: "proxmox-generic-device", Manufacturer: mfr[0].id})}
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
		cws = append(cws, wantOf(c.name, c.name, virtualization.WritableClusterRequest{Name: c.name, Type: ctID[c.mode],
			Status: ptr(virtualization.ClusterStatusEnum("active")), Description: ptr("Proxmox " + c.mode + " cluster."),
			ScopeType: val("dcim.site"), ScopeId: val(sites[i].id)}, "scope_type", "scope_id"))
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
			w := wantOf("new:"+c.name+"/"+n.Name, n.Name, dcim.WritableDeviceRequest{Name: val(n.Name),
				Status:      ptr(nbcommon.DeviceStatusEnum(map[bool]string{true: "active", false: "offline"}[n.Online])),
				Description: ptr("Proxmox Node " + n.Name), Cluster: val(c.nbCluster), DeviceType: dt[0].id,
				Role: r.roleIDs["proxmox-node"], Site: c.nbSite}, "site")
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
