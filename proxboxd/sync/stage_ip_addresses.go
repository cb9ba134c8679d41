package sync

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/ipam"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// ipKey is the identity of an IP: VRF (0 = global) and host address.
func ipKey(o obj) string {
	p, err := netip.ParsePrefix(asStr(o["address"]))
	if err != nil {
		return ""
	}
	return strconv.Itoa(refID(o, "vrf")) + "|" + p.Addr().String()
}

func (r *run) stageIPs(ctx context.Context, cls []*cluster) (int, string, error) {
	if err := r.resolveVRFs(ctx, cls); err != nil {
		return 0, "", err
	}
	gs, vms, err := r.scopedGuests(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	for _, c := range cls {
		c.readAgents(ctx, r.p.FetchMaxConcurrency, r.p.IgnoreIPv6LinkLocal)
	}
	ifs, err := r.vmIfaceTable(ctx, gs)
	if err != nil {
		return 0, "", err
	}
	t := newTable(kIP, ipKey)
	// IPs of every VM of the clusters (also orphaned ones, whose addresses a
	// new guest may have taken over)
	var allVMs []int
	for _, o := range vms.all() {
		allVMs = append(allVMs, idOf(o))
	}
	if r.scoped() {
		allVMs = vmIDs(gs)
	}
	if err := r.loadChunked(ctx, t, "virtual_machine_id", allVMs, nil); err != nil {
		return 0, "", err
	}
	ifaceVM := map[int]int{}
	for _, o := range ifs.all() {
		ifaceVM[idOf(o)] = refID(o, "virtual_machine")
	}
	var wants []*want
	complete := map[int]bool{}
	firstIP := map[int][]*want{} // vm -> wants in preference order
	guestOf := map[*want]string{}
	for _, vg := range gs {
		g := vg.g
		if g.Config == nil {
			r.guestNotRead(vg.c, g, "config", "IP addresses", g.ConfigErr)
			continue
		}
		if g.HasAgent && !g.AgentOK {
			r.guestNotRead(vg.c, g, "guest-agent interfaces", "IP addresses", g.AgentErr)
			continue
		}
		complete[vg.vmID] = true
		var vmWants []*want
		var all []netip.Prefix
		owner := map[netip.Prefix]int{}
		for _, rn := range r.guestNICs(g) {
			iface := ifs.byKey[strconv.Itoa(vg.vmID)+"|"+rn.name]
			if iface == nil {
				continue
			}
			var ips []netip.Prefix
			if rn.agent != nil && len(rn.agent.IPs) > 0 {
				ips = rn.agent.IPs
			} else {
				for _, s := range rn.nic.IPs {
					if p, err := netip.ParsePrefix(s); err == nil {
						if r.p.IgnoreIPv6LinkLocal && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
							continue
						}
						ips = append(ips, p)
					}
				}
			}
			for _, p := range ips {
				if _, dup := owner[p]; !dup {
					owner[p] = idOf(iface)
					all = append(all, p)
				}
			}
		}
		vrf := r.vrfOf(vg.c)
		for _, p := range orderIPs(all, r.p.PrimaryIPPreference) {
			key := strconv.Itoa(vrf) + "|" + p.Addr().String()
			req := ipam.WritableIPAddressRequest{Address: p.String(), Status: ptr(ipam.IPAddressStatusEnum("active")),
				AssignedObjectType: val("virtualization.vminterface"), AssignedObjectId: val(int64(owner[p]))}
			if vrf != 0 {
				req.Vrf = val(vrf)
			}
			w := wantOf(key, g.Name+" "+p.String(), req, "vrf")
			guestOf[w] = vg.c.label() + "/" + g.key() + " " + g.Name
			vmWants = append(vmWants, w)
		}
		firstIP[vg.vmID] = vmWants
		wants = append(wants, vmWants...)
	}
	// one IP, one owner: of the guests reporting one address, the one whose
	// VM holds it in NetBox keeps it, else the first (by VMID); the others
	// are told (NetBox holds an address once per VRF)
	keeper := map[string]*want{}
	for _, w := range wants {
		k := keeper[w.Key]
		if k == nil {
			keeper[w.Key] = w
			continue
		}
		if ex := t.byKey[w.Key]; ex != nil && asStr(ex["assigned_object_type"]) == "virtualization.vminterface" {
			held := ifaceVM[asInt(ex["assigned_object_id"])]
			if held != 0 && held == ifaceVM[asInt(w.Body["assigned_object_id"])] && held != ifaceVM[asInt(k.Body["assigned_object_id"])] {
				keeper[w.Key] = w
			}
		}
	}
	uniq := wants[:0]
	for _, w := range wants {
		k := keeper[w.Key]
		if k == w {
			uniq = append(uniq, w)
			continue
		}
		if guestOf[k] != guestOf[w] {
			r.skip(kIP.Type, w.Name, fmt.Sprintf("address %s is also reported by %s, which keeps it (NetBox holds an address once per VRF)",
				asStr(w.Body["address"]), guestOf[k]))
		}
	}
	wants = uniq
	for vm, ws := range firstIP {
		firstIP[vm] = slices.DeleteFunc(ws, func(w *want) bool { return keeper[w.Key] != w })
	}
	r.discovery(len(wants), nil, nil)
	if err := r.adoptIPs(ctx, t, wants); err != nil {
		return 0, "", err
	}
	ops := r.plan(t, wants)
	// orphans: managed IPs on interfaces of fully known VMs
	wanted := map[int]bool{}
	for _, w := range wants {
		if w.id != 0 {
			wanted[w.id] = true
		}
	}
	var orphans []obj
	for _, o := range t.all() {
		if !wanted[idOf(o)] && hasTag(o, tagProxbox) && asStr(o["assigned_object_type"]) == "virtualization.vminterface" &&
			complete[ifaceVM[asInt(o["assigned_object_id"])]] {
			orphans = append(orphans, o)
		}
	}
	ops = append(ops, r.orphanOps(t, orphans, func(o obj) string { return asStr(o["address"]) })...)
	ops = append(ops, r.orphanVMIPs(t, vms, ifaceVM, wanted)...)
	// primary IPs: (A) clear primaries that will not stay on their VM, (B) IPs, (C) set primaries
	willBe := map[int]int{} // ip id -> vm after this run (0 = gone)
	for _, o := range t.all() {
		willBe[idOf(o)] = ifaceVM[asInt(o["assigned_object_id"])]
	}
	for _, o := range ops {
		switch o.action {
		case "delete":
			willBe[o.id] = 0
		case "update":
			if v, ok := o.body["assigned_object_id"]; ok {
				willBe[o.id] = ifaceVM[asInt(v)]
			}
		}
	}
	var clear []op
	for _, vm := range vms.all() {
		body := obj{}
		diffs := map[string]proxbox.Diff{}
		for _, f := range []string{"primary_ip4", "primary_ip6"} {
			pid := refID(vm, f)
			if pid == 0 {
				continue
			}
			if ip := t.byID[pid]; ip != nil && hasTag(ip, tagProxbox) && (willBe[pid] != idOf(vm) || isOrphanVM(vm)) {
				body[f] = nil
				diffs[f] = proxbox.Diff{Old: pid, New: nil}
			}
		}
		if len(body) > 0 {
			clear = append(clear, op{action: "update", id: idOf(vm), name: asStr(vm["name"]), body: body, diffs: diffs})
		}
	}
	r.apply(ctx, vms, clear)
	r.apply(ctx, t, ops)
	for _, o := range ifs.all() {
		ifaceVM[idOf(o)] = refID(o, "virtual_machine")
	}
	onVM := func(ipID int) int {
		ip := t.byID[ipID]
		if ip == nil || asStr(ip["assigned_object_type"]) != "virtualization.vminterface" {
			return 0
		}
		return ifaceVM[asInt(ip["assigned_object_id"])]
	}
	var set []op
	for _, vg := range gs {
		vm := vms.byID[vg.vmID]
		ws := firstIP[vg.vmID]
		// link-local addresses (169.254.0.0/16, fe80::/10) are recorded, never primary
		ws = slices.DeleteFunc(slices.Clone(ws), func(w *want) bool { return isLinkLocal(asStr(w.Body["address"])) })
		if vm == nil || len(ws) == 0 || ws[0].id == 0 || onVM(ws[0].id) != vg.vmID {
			continue
		}
		first := ws[0]
		f := "primary_ip4"
		if strings.Contains(asStr(first.Body["address"]), ":") {
			f = "primary_ip6"
		}
		cur := refID(vm, f)
		if cur == first.id {
			continue
		}
		if cur != 0 && (t.byID[cur] == nil || !hasTag(t.byID[cur], tagProxbox) || onVM(cur) == vg.vmID) {
			continue // keep a valid primary, and any primary proxbox does not manage
		}
		set = append(set, op{action: "update", id: vg.vmID, name: asStr(vm["name"]), body: primaryIP(f, first.id),
			diffs: map[string]proxbox.Diff{f: {Old: plain(vm[f]), New: first.id}}})
	}
	r.apply(ctx, vms, set)
	return len(wants), "", nil
}

// adoptIPs looks up, by address, the IPs a run wants to create and adopts
// those that are unassigned or proxbox-managed (in the same VRF) into t, so
// an address is moved instead of duplicated. An address assigned by someone
// else is left alone (the create then fails and is reported).
//
// Per VRF, the look-up is either address lists in chunks of chunkIDs or, when
// that would take more requests (first syncs), one count and one paged list
// of the VRF's addresses, whichever is fewer requests.
func (r *run) adoptIPs(ctx context.Context, t *table, wants []*want) error {
	missing := map[string][]string{} // vrf id ("0" = global) -> host addresses
	var vrfs []string
	for _, w := range wants {
		if t.byKey[w.Key] == nil {
			vrf, host, _ := strings.Cut(w.Key, "|")
			if _, ok := missing[vrf]; !ok {
				vrfs = append(vrfs, vrf)
			}
			missing[vrf] = append(missing[vrf], host)
		}
	}
	adopt := func(objs []obj, want map[string]bool) {
		for _, o := range objs {
			k := ipKey(o)
			if t.byKey[k] != nil || (want != nil && !want[k]) {
				continue
			}
			if asStr(o["assigned_object_type"]) == "" || hasTag(o, tagProxbox) {
				t.put(o)
			}
		}
	}
	for _, vrf := range vrfs {
		hosts := missing[vrf]
		chunks := ceilDiv(len(hosts), chunkIDs)
		if chunks > 2 {
			vq := url.Values{"vrf_id": {vrf}}
			if vrf == "0" {
				vq.Set("vrf_id", "null")
			}
			n, err := r.nb.Count(ctx, kIP, vq)
			if err != nil {
				return fmt.Errorf("count %s: %w", kIP.Path, err)
			}
			if 1+ceilDiv(n, PageSize) < chunks {
				want := map[string]bool{}
				for _, h := range hosts {
					want[vrf+"|"+h] = true
				}
				var objs []obj
				if n > 0 {
					if objs, err = r.nb.List(ctx, kIP, kIP.query(vq)); err != nil {
						return fmt.Errorf("list %s: %w", kIP.Path, err)
					}
				}
				adopt(objs, want)
				continue
			}
		}
		for i := 0; i < len(hosts); i += chunkIDs {
			q := url.Values{}
			for _, a := range hosts[i:min(i+chunkIDs, len(hosts))] {
				q.Add("address", a)
			}
			objs, err := r.nb.List(ctx, kIP, kIP.query(q))
			if err != nil {
				return fmt.Errorf("list %s: %w", kIP.Path, err)
			}
			adopt(objs, nil)
		}
	}
	return nil
}

// createdIDs returns the ids the create ops of a plan got when applied.
func createdIDs(ops []op) map[int]bool {
	out := map[int]bool{}
	for _, o := range ops {
		if o.action == "create" && o.w != nil && o.w.id != 0 {
			out[o.w.id] = true
		}
	}
	return out
}

// isLinkLocal reports whether an address with prefix is link-local: IPv4 169.254.0.0/16 (APIPA) or IPv6 fe80::/10. Such an address
// is recorded but never chosen as a VM's primary IP.
func isLinkLocal(s string) bool {
	p, err := netip.ParsePrefix(s) // wants carry address/prefix
	return err == nil && p.Addr().IsLinkLocalUnicast()
}

// isOrphanVM reports whether a NetBox VM is one proxbox marked orphan (its
// guest is gone).
func isOrphanVM(vm obj) bool {
	return hasTag(vm, tagOrphan) && cfOf(vm, "proxmox_vm_id") != nil
}

// orphanVMIPs marks the proxbox addresses still on an orphaned VM's
// interfaces deprecated (and the VM's primary IPs are cleared with the other
// primaries): the addresses are kept as history, but no longer look in use.
// A live guest that reports one of them takes it over (it is then wanted,
// and moved to the guest's interface as active).
func (r *run) orphanVMIPs(t *table, vms *table, ifaceVM map[int]int, wanted map[int]bool) []op {
	var ops []op
	for _, o := range t.all() {
		id := idOf(o)
		if wanted[id] || !hasTag(o, tagProxbox) || asStr(o["assigned_object_type"]) != "virtualization.vminterface" {
			continue
		}
		vm := vms.byID[ifaceVM[asInt(o["assigned_object_id"])]]
		if vm == nil || !isOrphanVM(vm) || same(o["status"], "deprecated") {
			continue
		}
		ops = append(ops, op{action: "update", id: id, name: asStr(o["address"]), body: bodyOf(ipam.PatchedWritableIPAddressRequest{Status: ptr(ipam.IPAddressStatusEnum("deprecated"))}),
			diffs: map[string]proxbox.Diff{"status": {Old: plain(o["status"]), New: "deprecated"}}})
	}
	return ops
}

// primaryIP is the patch setting a VM's primary_ip4 or primary_ip6 to id.
func primaryIP(field string, id int) obj {
	p := virtualization.PatchedWritableVirtualMachineRequest{PrimaryIp4: val(id)}
	if field == "primary_ip6" {
		p = virtualization.PatchedWritableVirtualMachineRequest{PrimaryIp6: val(id)}
	}
	return bodyOf(p)
}
