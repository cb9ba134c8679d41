package harness

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestSelfAgainstNetboxtest runs the whole harness (proxboxd subprocess,
// HTTPS PVE mock, proxies, plugin replay) against the in-memory NetBox. It
// builds proxboxd, so it only runs with HARNESS_SELFTEST=1.
func TestSelfAgainstNetboxtest(t *testing.T) {
	if os.Getenv("HARNESS_SELFTEST") == "" {
		t.Skip("set HARNESS_SELFTEST=1 to build proxboxd and run the harness against netboxtest")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var bins Binaries
	bin, err := bins.Get(ctx, root, dir)
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
	t.Logf("inventory %+v", inv)
	run = env.Sync(ctx, nil)
	t.Logf("re-sync:\n%s", run.Summary())
	t.Logf("not served: %+v; rss %d KiB", env.Client.NotServed(), env.Proxboxd.PeakRSS())
}

// TestSelfFaultsAgainstNetboxtest: the 10 % fault run against netboxtest
// (HARNESS_SELFTEST=1).
func TestSelfFaultsAgainstNetboxtest(t *testing.T) {
	if os.Getenv("HARNESS_SELFTEST") == "" {
		t.Skip("set HARNESS_SELFTEST=1 to build proxboxd and run the harness against netboxtest")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var bins Binaries
	bin, err := bins.Get(ctx, root, dir)
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
	_ = env.NBProxy.SetRates(rates)
	_ = env.PVE.Proxy.SetRates(rates)
	env.Client.RetryDelay = time.Second
	run := env.Sync(ctx, nil)
	t.Logf("10%% faults:\n%s\nnetbox faults %v retries %d; pve faults %v retries %d", run.Summary(), run.NetBox.Faults, run.NetBox.Retries, run.PVE.Faults, run.PVE.Retries)
	_ = env.NBProxy.SetRates(nil)
	_ = env.PVE.Proxy.SetRates(nil)
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inventory %+v", inv)
	run = env.Sync(ctx, nil)
	t.Logf("re-sync:\n%s", run.Summary())
}
