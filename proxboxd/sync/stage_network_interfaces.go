package sync

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	nbcommon "github.com/proxbox-go/proxbox/netboxsdk/gen/common"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/dcim"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/ipam"
	"github.com/proxbox-go/proxbox/proxboxd/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// stageNodeIfaces writes node interfaces, bridges, bonds, VLAN interfaces
// and their IPs (QUIRK fixed: the original stage was a no-op).
func (r *run) stageNodeIfaces(ctx context.Context, cls []*cluster) (int, string, error) {
	if err := r.resolveVRFs(ctx, cls); err != nil {
		return 0, "", err
	}
	if err := r.ensureDeps(ctx, cls); err != nil {
		return 0, "", err
	}
	var devIDs []int
	for _, c := range cls {
		c.readNetworks(ctx, r.p.FetchMaxConcurrency)
		for _, id := range c.devices {
			devIDs = append(devIDs, id)
		}
	}
	t := newTable(kNodeIface, func(o obj) string { return strconv.Itoa(refID(o, "device")) + "|" + asStr(o["name"]) })
	if err := r.loadChunked(ctx, t, "device_id", devIDs, nil); err != nil {
		return 0, "", err
	}
	r.tables["nodeifaces"] = t
	type nif struct {
		dev  int
		name string
		raw  pve.NetworkItem
		vrf  int // the cluster's VRF for the interface's IPs (0: global)
	}
	var all []nif
	var vids []int
	complete := map[int]bool{}
	for _, c := range cls {
		for _, n := range c.nodes {
			rows, ok := c.networks[n.Name]
			dev := c.devices[n.Name]
			if err := c.networkErrs[n.Name]; err != nil {
				r.notRead("proxmox.node", c.label()+"/"+n.Name, "network not read (node interfaces left unchanged)", err)
			}
			if !ok || dev == 0 {
				continue
			}
			complete[dev] = true
			for _, it := range rows {
				name := it.Iface.Get()
				if name == "" || name == "lo" {
					continue
				}
				all = append(all, nif{dev, name, it, r.vrfOf(c)})
				if it.Type.Get() == "vlan" {
					if v, _ := vlanOfNodeIface(name, it); v > 0 {
						vids = append(vids, v)
					}
				}
			}
		}
	}
	vlans, err := r.vlanIDs(ctx, vids)
	if err != nil {
		return 0, "", err
	}
	// membership: bond slaves -> lag, bridge ports -> bridge
	lagOf := map[string]string{}
	bridgeOf := map[string]string{}
	for _, f := range all {
		for _, s := range strings.Fields(strings.ReplaceAll(f.raw.Slaves.Get()+" "+extraStr(f.raw.Extra, "bond_slaves"), ",", " ")) {
			lagOf[strconv.Itoa(f.dev)+"|"+s] = f.name
		}
		for _, s := range strings.Fields(strings.ReplaceAll(f.raw.BridgePorts.Get()+" "+f.raw.OvsPorts.Get(), ",", " ")) {
			if s != "none" {
				bridgeOf[strconv.Itoa(f.dev)+"|"+s] = f.name
			}
		}
	}
	level := func(f nif) int {
		switch nodeIfaceType(f.raw.Type.Get()) {
		case "bridge":
			return 0
		case "lag":
			return 1
		}
		if f.raw.Type.Get() == "vlan" {
			return 3
		}
		return 2
	}
	var wants []*want
	for lv := 0; lv < 4; lv++ {
		var ws []*want
		for _, f := range all {
			if level(f) != lv {
				continue
			}
			key := strconv.Itoa(f.dev) + "|" + f.name
			req := dcim.WritableInterfaceRequest{Device: f.dev, Name: f.name, Type: dcim.InterfaceTypeEnum(nodeIfaceType(f.raw.Type.Get())),
				Enabled: ptr(f.raw.Active.Get() || !f.raw.Active.Set), Description: ptr(f.raw.Comments.Get()),
				Mode: null[nbcommon.InterfaceModeEnum](), UntaggedVlan: null[int](), Lag: null[int](), Bridge: null[int](), Parent: null[int]()}
			if m := f.raw.Mtu.Get(); m > 0 {
				req.Mtu = val(m)
			}
			if l := lagOf[key]; l != "" && l != f.name {
				if id := t.id(strconv.Itoa(f.dev) + "|" + l); id != 0 {
					req.Lag = val(id)
				}
			}
			if b := bridgeOf[key]; b != "" && b != f.name {
				if id := t.id(strconv.Itoa(f.dev) + "|" + b); id != 0 {
					req.Bridge = val(id)
				}
			}
			if f.raw.Type.Get() == "vlan" {
				vid, parent := vlanOfNodeIface(f.name, f.raw)
				if vid > 0 && vlans[vid] != 0 {
					req.Mode = val(nbcommon.InterfaceModeEnum("access"))
					req.UntaggedVlan = val(vlans[vid])
				}
				if id := t.id(strconv.Itoa(f.dev) + "|" + parent); id != 0 {
					req.Parent = val(id)
				}
			}
			ws = append(ws, wantOf(key, f.name, req))
		}
		r.apply(ctx, t, r.plan(t, ws))
		wants = append(wants, ws...)
	}
	r.discovery(len(wants), nil, nil)
	// IPs of node interfaces
	ipT := newTable(kIP, ipKey)
	if err := r.loadChunked(ctx, ipT, "device_id", devIDs, nil); err != nil {
		return 0, "", err
	}
	var ipw []*want
	seen := map[string]bool{}
	for i, f := range all {
		iface := wants[indexOfWant(wants, strconv.Itoa(f.dev)+"|"+f.name, i)]
		for _, a := range nodeIfaceAddrs(f.raw) {
			if r.p.IgnoreIPv6LinkLocal && a.Addr().Is6() && a.Addr().IsLinkLocalUnicast() {
				continue
			}
			key := strconv.Itoa(f.vrf) + "|" + a.Addr().String()
			if seen[key] || iface.id == 0 {
				continue
			}
			seen[key] = true
			req := ipam.WritableIPAddressRequest{Address: a.String(), Status: ptr(ipam.IPAddressStatusEnum("active")),
				AssignedObjectType: val("dcim.interface"), AssignedObjectId: val(int64(iface.id))}
			if f.vrf != 0 {
				req.Vrf = val(f.vrf)
			}
			w := wantOf(key, f.name+" "+a.String(), req, "vrf")
			ipw = append(ipw, w)
		}
	}
	ops := r.plan(ipT, ipw)
	ifaceDev := map[int]int{}
	for _, o := range t.all() {
		ifaceDev[idOf(o)] = refID(o, "device")
	}
	wanted := map[int]bool{}
	for _, w := range ipw {
		wanted[w.id] = true
	}
	var orphans []obj
	for _, o := range ipT.all() {
		if !wanted[idOf(o)] && hasTag(o, tagProxbox) && asStr(o["assigned_object_type"]) == "dcim.interface" && complete[ifaceDev[asInt(o["assigned_object_id"])]] {
			orphans = append(orphans, o)
		}
	}
	ops = append(ops, r.orphanOps(ipT, orphans, func(o obj) string { return asStr(o["address"]) })...)
	r.apply(ctx, ipT, ops)
	// MAC objects: PVE's node network API (8.1, 9.1) reports no MAC, so this
	// writes only when a row carries one (hwaddr/mac)
	var mws []macWant
	for i, f := range all {
		if mac := strings.ToLower(extraStr(f.raw.Extra, "hwaddr") + extraStr(f.raw.Extra, "mac")); looksLikeMAC(mac) {
			mws = append(mws, macWant{iface: wants[indexOfWant(wants, strconv.Itoa(f.dev)+"|"+f.name, i)], mac: mac})
		}
	}
	if len(mws) > 0 {
		r.syncMACs(ctx, t, kNodeIface.Type, mws, nil, func(ifID int) bool {
			o := t.byID[ifID]
			return o != nil && complete[refID(o, "device")] && hasTag(o, tagProxbox)
		})
	}
	// interfaces gone from the node (after their IPs)
	r.apply(ctx, t, r.childOrphans(t, wants, "device", complete))
	return len(wants), "node-interfaces sync completed.", nil
}

func indexOfWant(ws []*want, key string, hint int) int {
	if hint < len(ws) && ws[hint].Key == key {
		return hint
	}
	for i, w := range ws {
		if w.Key == key {
			return i
		}
	}
	return 0
}

// nodeIfaceAddrs returns the addresses of a PVE node interface.
func nodeIfaceAddrs(it pve.NetworkItem) []netip.Prefix {
	var out []netip.Prefix
	add := func(s string) {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out = append(out, p)
		}
	}
	if c := it.Cidr.Get(); c != "" {
		add(c)
	} else if a := it.Address.Get(); a != "" {
		if m := it.Netmask.Get(); m != "" {
			if ip, err := netip.ParseAddr(m); err == nil && ip.Is4() {
				b := ip.As4()
				bits := 0
				for _, x := range b {
					for x != 0 {
						bits += int(x & 1)
						x >>= 1
					}
				}
				add(a + "/" + strconv.Itoa(bits))
			} else {
				add(a + "/" + m)
			}
		}
	}
	if c := it.Cidr6.Get(); c != "" {
		add(c)
	} else if a := it.Address6.Get(); a != "" && it.Netmask6.Set {
		add(a + "/" + strconv.Itoa(it.Netmask6.Get()))
	}
	return out
}

// extraStr reads a key PVE sent that its model has no field for ("" when
// absent or not a scalar).
func extraStr(e pvetypes.Extra, key string) string {
	v, _ := e.String(key)
	return v
}
