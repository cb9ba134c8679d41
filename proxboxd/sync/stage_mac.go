package sync

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/dcim"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// kMAC is NetBox >= 4.2's MAC address object; interfaces point at one of
// theirs with primary_mac_address (their own mac_address is read-only there).
var kMAC = declare("dcim.macaddress", nbgen.dcim.MACAddresses, kind{Tagged: true}, "mac_address", "assigned_object_type", "assigned_object_id")

// macKey is the identity of a MAC object: its interface and the address
// (NetBox does not make MACs unique; the same MAC on two interfaces is two
// objects).
func macKey(o obj) string {
	return asStr(o["assigned_object_type"]) + "|" + strconv.Itoa(asInt(o["assigned_object_id"])) + "|" + strings.ToUpper(asStr(o["mac_address"]))
}

// macWant is the MAC of one wanted interface.
type macWant struct {
	iface *want
	mac   string
}

// syncMACs writes the MAC objects of the interfaces in mws (assigned type
// aType) and makes each the interface's primary_mac_address, with the usual
// plan/apply rules: existing MACs (also unmanaged ones with the same address
// on the same interface) are adopted, nothing is written when nothing
// changed, and managed MACs of the interfaces managed() accepts that
// Proxmox no longer reports are orphans (deleted by default, after the
// primaries moved). A NetBox without /api/dcim/mac-addresses/ (< 4.2) is
// skipped silently. The MAC list is narrowed to the managed interfaces of
// ifT (assigned_object_type + assigned_object_id in chunks: real NetBox also
// filters by virtual_machine_id/device_id, which would take fewer requests,
// but netboxtest does not implement those filters on MAC addresses).
//
// fresh holds the interfaces this run created: they have no MAC yet, so they
// are not looked up.
func (r *run) syncMACs(ctx context.Context, ifT *table, aType string, mws []macWant, fresh map[int]bool, managed func(ifaceID int) bool) {
	var ifIDs []int
	for _, o := range ifT.all() {
		if managed(idOf(o)) && !fresh[idOf(o)] {
			ifIDs = append(ifIDs, idOf(o))
		}
	}
	if r.noMAC || len(mws) == 0 && len(ifIDs) == 0 {
		return
	}
	mt, err := r.loadMACs(ctx, aType, ifIDs)
	if err != nil {
		if errors.Is(err, errPathNotFound) {
			r.noMAC = true
			return
		}
		r.fail(kMAC.Type, "list "+kMAC.Path, err)
		return
	}
	var wants []*want
	for _, m := range mws {
		if m.iface.id == 0 || m.mac == "" {
			continue // the interface could not be written
		}
		mac := strings.ToUpper(m.mac)
		wants = append(wants, wantOf(aType+"|"+strconv.Itoa(m.iface.id)+"|"+mac, m.iface.Name+" "+mac,
			dcim.MACAddressRequest{MacAddress: mac, AssignedObjectType: val(aType), AssignedObjectId: val(int64(m.iface.id))}))
	}
	r.apply(ctx, mt, r.plan(mt, wants))
	// primaries: set when unset or pointing at a MAC proxbox manages
	var prim []op
	wanted := map[int]bool{}
	for _, w := range wants {
		if w.id == 0 {
			continue
		}
		wanted[w.id] = true
		ifID := asInt(w.Body["assigned_object_id"])
		iface := ifT.byID[ifID]
		if iface == nil {
			continue
		}
		cur := refID(iface, "primary_mac_address")
		if cur == w.id || (cur != 0 && (mt.byID[cur] == nil || !hasTag(mt.byID[cur], tagProxbox))) {
			continue
		}
		if cur != 0 && wanted[cur] && cur != w.id {
			continue // the interface's primary is another MAC Proxmox reports for it
		}
		prim = append(prim, op{action: "update", id: ifID, name: asStr(iface["name"]), body: primaryMAC(aType, w.id),
			diffs: map[string]proxbox.Diff{"primary_mac_address": {Old: plain(iface["primary_mac_address"]), New: w.id}}})
	}
	r.apply(ctx, ifT, prim)
	var orphans []obj
	for _, o := range mt.all() {
		if !wanted[idOf(o)] && hasTag(o, tagProxbox) && asStr(o["assigned_object_type"]) == aType && managed(asInt(o["assigned_object_id"])) {
			orphans = append(orphans, o)
		}
	}
	r.apply(ctx, mt, r.orphanOps(mt, orphans, func(o obj) string { return asStr(o["mac_address"]) }))
}

// loadMACs lists the MACs of the interfaces ifIDs (of type aType): by
// assigned_object_id in chunks, or, when that takes more requests, one count
// and one paged list of every MAC of that interface type, kept in memory only
// for ifIDs.
func (r *run) loadMACs(ctx context.Context, aType string, ifIDs []int) (*table, error) {
	mt := newTable(kMAC, macKey)
	typeQ := url.Values{"assigned_object_type": {aType}}
	if !r.macOK && len(uniqInts(ifIDs)) == 0 {
		// nothing to read (first sync): one count probes the endpoint
		if _, err := r.nb.Count(ctx, kMAC, typeQ); err != nil {
			return nil, err
		}
	}
	r.macOK = true
	if chunks := ceilDiv(len(uniqInts(ifIDs)), chunkIDs); chunks > 2 {
		n, err := r.nb.Count(ctx, kMAC, typeQ)
		if err != nil {
			return nil, err
		}
		if 1+ceilDiv(n, PageSize) < chunks {
			objs, err := r.nb.List(ctx, kMAC, kMAC.query(typeQ))
			if err != nil {
				return nil, err
			}
			in := map[int]bool{}
			for _, id := range ifIDs {
				in[id] = true
			}
			for _, o := range objs {
				if in[asInt(o["assigned_object_id"])] {
					mt.put(o)
				}
			}
			return mt, nil
		}
	}
	if err := r.loadChunked(ctx, mt, "assigned_object_id", ifIDs, typeQ); err != nil {
		return nil, err
	}
	return mt, nil
}

// primaryMAC is the patch setting an interface's primary MAC address.
func primaryMAC(aType string, id int) obj {
	if aType == "dcim.interface" {
		return bodyOf(dcim.PatchedWritableInterfaceRequest{PrimaryMacAddress: val(id)})
	}
	return bodyOf(virtualization.PatchedWritableVMInterfaceRequest{PrimaryMacAddress: val(id)})
}
