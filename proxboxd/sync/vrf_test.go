package sync

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

func TestClusterVRFNamesPlaceIPs(t *testing.T) {
	e := newEnv(t, nil, small("east"), small("west"))
	v, err := e.conn.nb.Objects(kVRF.Path).Create(context.Background(), netboxsdk.Object{"name": "vrf-east"})
	if err != nil {
		t.Fatal(err)
	}
	westVRF, err := e.conn.nb.Objects(kVRF.Path).Create(context.Background(), netboxsdk.Object{"name": "vrf-west"})
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{"east": "vrf-east", "west": asStr(westVRF["id"])}
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }),
		WithClusterVRFNames(func(context.Context) (map[string]string, error) { return conf, nil }))
	// twin clusters: the second one's snapshots and tasks are refused
	e.allow = func(f proxbox.ItemFailure) bool { return strings.Contains(f.Detail, ErrPluginUniqueTaken.Error()) }
	e.full(proxbox.DefaultStageParams())
	for name, id := range map[string]int{"east": idOf(v), "west": idOf(westVRF)} {
		ips := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vrf_id", id))
		var node, vm int
		for _, ip := range ips {
			switch asStr(ip["assigned_object_type"]) {
			case "dcim.interface":
				node++
			case "virtualization.vminterface":
				vm++
			}
		}
		if node == 0 || vm == 0 {
			t.Errorf("VRF of %s: %d node and %d VM addresses, want both", name, node, vm)
		}
	}
	if g := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vrf_id", "null")); len(g) != 0 {
		t.Errorf("%d addresses in the global table, want 0", len(g))
	}
}

func TestClusterVRFMissingFailsIPStagesWithoutWriting(t *testing.T) {
	e := newEnv(t, nil, small("east"))
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }),
		WithClusterVRFNames(func(context.Context) (map[string]string, error) { return map[string]string{"east": "nowhere"}, nil }))
	for _, s := range []proxbox.Stage{proxbox.StageDevices, proxbox.StageVirtualMachines, proxbox.StageNetworkInterfaces, proxbox.StageIPAddresses} {
		e.nb.Reset()
		res, err := e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: s, Params: proxbox.DefaultStageParams()}, nil)
		// the VM stage writes interfaces and IPs too (sync_vm_network)
		ipStage := s != proxbox.StageDevices
		// the VRF error comes back as the error or as the failed result
		vrfFailed := errors.Is(err, ErrVRFNotFound) || (res != nil && !res.OK && strings.Contains(res.Message, `VRF "nowhere"`))
		switch {
		case ipStage && !vrfFailed:
			t.Errorf("%s: err %v, result %+v: want a VRF error", s, err, res)
		case !ipStage && (err != nil || !res.OK):
			t.Errorf("%s: err %v, result %+v", s, err, res)
		}
		if ipStage {
			if w := e.writes(); len(w) != 0 {
				t.Errorf("%s wrote %v", s, w)
			}
		}
	}
}

func TestClusterMovedIntoVRFConverges(t *testing.T) {
	// a user adds cluster_vrfs after syncing into the global table
	e := newEnv(t, nil, small("lab"))
	e.full(proxbox.DefaultStageParams())
	before := len(e.list(kIP.Path, nil))
	hadPrimary := map[string]bool{}
	for _, vm := range e.list(kVM.Path, nil) {
		p, _ := vm["primary_ip4"].(map[string]any)
		hadPrimary[asStr(vm["name"])] = p != nil
	}
	if _, err := e.conn.nb.Objects(kVRF.Path).Create(context.Background(), netboxsdk.Object{"name": "blue"}); err != nil {
		t.Fatal(err)
	}
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }),
		WithClusterVRFNames(func(context.Context) (map[string]string, error) { return map[string]string{"lab": "blue"}, nil }))
	e.full(proxbox.DefaultStageParams())
	if g := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vrf_id", "null")); len(g) != 0 {
		t.Errorf("%d addresses left in the global table", len(g))
	}
	if n := len(e.list(kIP.Path, nil)); n != before {
		t.Errorf("%d addresses after the move, want %d", n, before)
	}
	for _, vm := range e.list(kVM.Path, nil) {
		p, _ := vm["primary_ip4"].(map[string]any)
		if hadPrimary[asStr(vm["name"])] && p == nil {
			t.Errorf("VM %v lost its primary IPv4", vm["name"])
		}
		if p != nil {
			ip, err := e.conn.nb.Objects(kIP.Path).Get(context.Background(), idOf(obj(p)))
			if err != nil || refID(obj(ip), "vrf") == 0 {
				t.Errorf("VM %v: primary IPv4 %v is not in the VRF (%v)", vm["name"], p["address"], err)
			}
		}
	}
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync wrote %v", w)
	}
}

func TestClusterVRFByNameAndByIDIsOneVRF(t *testing.T) {
	// east names the VRF, west gives its id: one VRF, not an ambiguous name
	e := newEnv(t, nil, small("east"), small("west"))
	v, err := e.conn.nb.Objects(kVRF.Path).Create(context.Background(), netboxsdk.Object{"name": "shared"})
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{"east": "shared", "west": asStr(v["id"])}
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }),
		WithClusterVRFNames(func(context.Context) (map[string]string, error) { return conf, nil }))
	res, err := e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: proxbox.StageNetworkInterfaces, Params: proxbox.DefaultStageParams()}, nil)
	if err != nil || !res.OK {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if ips := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vrf_id", idOf(v))); len(ips) == 0 {
		t.Errorf("no node addresses in the shared VRF")
	}
}
