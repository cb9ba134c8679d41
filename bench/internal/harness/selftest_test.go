package harness

import (
	"context"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// checkInventory fails unless NetBox holds the scenario: one cluster, a device
// per node, every guest with its NICs and disks, no duplicates, no orphans.
func checkInventory(t *testing.T, inv *Inventory, sc pvemock.Scenario) {
	t.Helper()
	guests := sc.QEMU + sc.LXC
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"clusters named " + sc.Name, inv.Clusters, 1},
		{"devices (nodes)", inv.Devices, sc.Nodes},
		{"virtual machines", inv.VMs, guests},
		{"qemu VMs", inv.VMsByType["qemu"], sc.QEMU},
		{"lxc VMs", inv.VMsByType["lxc"], sc.LXC},
		{"VM interfaces", inv.VMInterfaces, guests * sc.NICs},
		{"virtual disks", inv.Disks, guests * sc.Disks},
		{"orphaned", inv.Orphaned, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
	if len(inv.Duplicates) > 0 {
		t.Errorf("duplicates: %v", inv.Duplicates)
	}
}

// TestSelfAgainstNetboxtest runs the whole harness (proxboxd subprocess,
// HTTPS PVE mock, proxies, plugin replay) against the in-memory NetBox: the
// sync must succeed, NetBox must hold the scenario, and a re-sync must succeed
// without writing. It builds proxboxd; go test -short skips it.
func TestSelfAgainstNetboxtest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds proxboxd and runs a full sync")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var bins Binaries
	bin, err := bins.Get(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nbs := netboxtest.NewServer()
	defer nbs.Close()
	sc := pvemock.S100()
	env, err := Start(ctx, Options{Scenario: sc, Dir: dir, ProxboxdBin: bin, NetBoxURL: nbs.URL, NetBoxToken: nbs.Token(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	run := env.Sync(ctx, nil)
	t.Logf("first:\n%s", run.Summary())
	if !run.OK {
		t.Fatalf("%s\n%s", run.Error, env.Proxboxd.Tail(3000))
	}
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv, sc)
	run = env.Sync(ctx, nil)
	t.Logf("re-sync:\n%s", run.Summary())
	if !run.OK {
		t.Fatalf("re-sync: %s", run.Error)
	}
	if w := run.NetBox.Writes(); w != 0 {
		t.Errorf("re-sync of an unchanged cluster wrote %d times", w)
	}
	t.Logf("not served: %+v; rss %d KiB", env.Client.NotServed(), env.Proxboxd.PeakRSS())
}

// TestSelfFaultsAgainstNetboxtest: the 10 % fault run against netboxtest.
// Faults must actually be injected on both sides, and a fault-free re-sync
// must leave NetBox holding the scenario. go test -short skips it.
func TestSelfFaultsAgainstNetboxtest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds proxboxd and runs a full sync with faults")
	}
	t.Parallel() // mostly waits on retries and timeouts (about 2.5 minutes)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var bins Binaries
	bin, err := bins.Get(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nbs := netboxtest.NewServer()
	defer nbs.Close()
	sc := pvemock.S100()
	env, err := Start(ctx, Options{Scenario: sc, Dir: dir, ProxboxdBin: bin, NetBoxURL: nbs.URL, NetBoxToken: nbs.Token(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	rates := faultproxy.Rates{faultproxy.Kind5xx: 0.02, faultproxy.Kind429: 0.02, faultproxy.KindReset: 0.02,
		faultproxy.KindSlow: 0.02, faultproxy.KindTimeout: 0.01, faultproxy.KindLostReply: 0.01}
	if err := env.NBProxy.SetRates(rates); err != nil {
		t.Fatal(err)
	}
	if err := env.PVE.Proxy.SetRates(rates); err != nil {
		t.Fatal(err)
	}
	env.Client.RetryDelay = time.Second
	run := env.Sync(ctx, nil)
	t.Logf("10%% faults:\n%s\nnetbox faults %v retries %d; pve faults %v retries %d", run.Summary(), run.NetBox.Faults, run.NetBox.Retries, run.PVE.Faults, run.PVE.Retries)
	if run.NetBox.FaultTotal() == 0 || run.PVE.FaultTotal() == 0 {
		t.Errorf("no faults injected (netbox %v, pve %v): the run tested nothing", run.NetBox.Faults, run.PVE.Faults)
	}
	if err := env.NBProxy.SetRates(nil); err != nil {
		t.Fatal(err)
	}
	if err := env.PVE.Proxy.SetRates(nil); err != nil {
		t.Fatal(err)
	}
	run = env.Sync(ctx, nil)
	t.Logf("re-sync:\n%s", run.Summary())
	if !run.OK {
		t.Fatalf("fault-free re-sync: %s", run.Error)
	}
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv, sc)
}
