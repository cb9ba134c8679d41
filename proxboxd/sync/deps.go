package sync

import (
	"context"
	"net/url"
	"strconv"
	"strings"
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
