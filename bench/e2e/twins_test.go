package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestTwinClustersStaySeparate is issue 6's "two clusters with identical VM
// names and VMIDs stay separate objects" against the real NetBox: two
// Proxmox endpoints serve the same generated cluster (same node names, VM
// names, VMIDs, MACs and addresses) under two cluster names. proxboxd runs
// with PROXBOX_CLUSTER_VRFS so each cluster's addresses live in its own VRF
// (NetBox refuses duplicates in the global table). Every VM, interface, disk
// and address exists once per cluster; the second cluster's snapshots are
// refused before any write (netbox-proxbox's VMSnapshot is unique on vmid,
// name and node) and reported; a re-sync writes nothing.
func TestTwinClustersStaySeparate(t *testing.T) {
	a := pvemock.Scenario{Name: "e2e-twin-a", Nodes: 2, QEMU: 12, LXC: 4, NICs: 2, Disks: 2, Seed: 77}
	b := a
	b.Name = "e2e-twin-b"
	vrfEnv := fmt.Sprintf("PROXBOX_CLUSTER_VRFS=%s=%s,%s=%s", a.Name, a.Name, b.Name, b.Name)
	env, ctx := setupEnv(t, a, 21, "", []string{vrfEnv})
	vrfs := map[string]int{}
	for _, name := range []string{a.Name, b.Name} {
		vrfs[name] = ensureVRF(ctx, t, env.NB, name)
	}
	if _, err := env.AddPVE(ctx, b, 22); err != nil {
		t.Fatal(err)
	}
	run := mustSync(t, ctx, env, "first sync of both clusters")
	refused := snapshotRefusals(run)

	guests := a.QEMU + a.LXC
	clusterIDs := map[string]string{}
	for _, name := range []string{a.Name, b.Name} {
		cl, err := env.NB.List(ctx, "/api/virtualization/clusters/", url.Values{"name": {name}})
		if err != nil || len(cl) != 1 {
			t.Fatalf("cluster %s: %d rows (%v)", name, len(cl), err)
		}
		clusterIDs[name] = fmt.Sprint(cl[0]["id"])
	}
	byName := map[string]map[string]int{} // VM name -> cluster -> count
	for name, cid := range clusterIDs {
		vms, err := env.NB.List(ctx, "/api/virtualization/virtual-machines/", url.Values{"cluster_id": {cid}, "fields": {"id,name"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(vms) != guests {
			t.Errorf("cluster %s: %d VMs, want %d", name, len(vms), guests)
		}
		for _, vm := range vms {
			n := fmt.Sprint(vm["name"])
			if byName[n] == nil {
				byName[n] = map[string]int{}
			}
			byName[n][name]++
		}
		ids := make([]string, 0, len(vms))
		for _, vm := range vms {
			ids = append(ids, fmt.Sprint(vm["id"]))
		}
		for path, want := range map[string]int{"/api/virtualization/interfaces/": guests * a.NICs, "/api/virtualization/virtual-disks/": guests * a.Disks} {
			n, err := env.NB.Count(ctx, path, url.Values{"virtual_machine_id": ids})
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("cluster %s: %d %s, want %d", name, n, path, want)
			}
		}
		vmIPs, err := env.NB.Count(ctx, "/api/ipam/ip-addresses/", url.Values{"vrf_id": {fmt.Sprint(vrfs[name])}, "assigned_object_type": {"virtualization.vminterface"}})
		if err != nil {
			t.Fatal(err)
		}
		nodeIPs, err := env.NB.Count(ctx, "/api/ipam/ip-addresses/", url.Values{"vrf_id": {fmt.Sprint(vrfs[name])}, "assigned_object_type": {"dcim.interface"}})
		if err != nil {
			t.Fatal(err)
		}
		if vmIPs == 0 || nodeIPs == 0 {
			t.Errorf("VRF %s: %d VM and %d node addresses, want both", name, vmIPs, nodeIPs)
		}
		t.Logf("cluster %s: %d VMs, VRF %d holds %d VM and %d node addresses", name, len(vms), vrfs[name], vmIPs, nodeIPs)
	}
	if len(byName) != guests {
		t.Errorf("%d distinct VM names, want %d", len(byName), guests)
	}
	for n, per := range byName {
		if per[a.Name] != 1 || per[b.Name] != 1 {
			t.Errorf("VM %s: %v, want one per cluster", n, per)
		}
	}
	for _, vmid := range []int{100, 100 + a.QEMU} {
		vms, err := env.NB.List(ctx, "/api/virtualization/virtual-machines/", url.Values{"cf_proxmox_vm_id": {fmt.Sprint(vmid)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(vms) != 2 || fmt.Sprint(vms[0]["name"]) != fmt.Sprint(vms[1]["name"]) || refID(vms[0], "cluster") == refID(vms[1], "cluster") {
			t.Errorf("VMID %d: %d VMs %v, want two of the same name in different clusters", vmid, len(vms), vms)
		}
	}
	if env.NB.PluginInstalled(ctx) {
		snaps, err := env.NB.Count(ctx, "/api/plugins/proxbox/snapshots/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if snaps == 0 || refused != snaps {
			t.Errorf("%d snapshots stored, %d refused: want one cluster's stored and the twin's refused", snaps, refused)
		}
		t.Logf("snapshots: %d stored, %d refused as the twin's (the plugin's uniqueness)", snaps, refused)
	}
	re := resyncWritesNothing(t, ctx, env, "no-change re-sync of both clusters")
	if got := snapshotRefusals(re); got != refused {
		t.Errorf("re-sync refused %d snapshots, want %d again", got, refused)
	}
	record("twin_clusters", map[string]any{"first": run, "resync": re, "snapshots_refused": refused})
}

// snapshotRefusals counts the snapshot item failures of the plugin's
// (vmid, name, node) uniqueness in a run; any other error fails the test.
func snapshotRefusals(run *harness.SyncRun) int {
	n := 0
	for _, s := range run.Stages {
		for _, e := range s.Errors {
			if strings.Contains(fmt.Sprint(e), "unique on vmid, name and node") {
				n++
			}
		}
	}
	return n
}

func ensureVRF(ctx context.Context, t *testing.T, nb *harness.NetBox, name string) int {
	t.Helper()
	rows, err := nb.List(ctx, "/api/ipam/vrfs/", url.Values{"name": {name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 0 {
		return refIDv(rows[0]["id"])
	}
	var out map[string]any
	if _, err := nb.Do(ctx, http.MethodPost, "/api/ipam/vrfs/", nil, map[string]any{"name": name, "description": "proxbox e2e twin cluster"}, &out); err != nil {
		t.Fatal(err)
	}
	return refIDv(out["id"])
}

func refIDv(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func refID(o map[string]any, field string) int {
	if m, ok := o[field].(map[string]any); ok {
		return refIDv(m["id"])
	}
	return refIDv(o[field])
}
