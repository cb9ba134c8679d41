// Package e2e drives proxboxd end to end against the real NetBox of the
// harness (make netbox-up), the way the netbox-proxbox plugin does when its
// RQ job runs: key bootstrap, endpoint pushes, then the 12 stage streams in
// the plugin's order with its parameters, parsed with the plugin's SSE and
// success rules (bench/plugin). The PVE mock is served over HTTPS on
// loopback; counting/fault proxies sit in front of NetBox and the mock.
//
// The tests skip unless NETBOX_URL and NETBOX_TOKEN are set.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/bench/plugin"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

var (
	bins   harness.Binaries
	binDir string
	report = map[string]any{}
	repMu  sync.Mutex
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "proxbox-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = d
	code := m.Run()
	_ = os.RemoveAll(d)
	if p := os.Getenv("E2E_REPORT"); p != "" && len(report) > 0 {
		b, _ := json.MarshalIndent(report, "", "  ")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		_ = os.WriteFile(p, b, 0o644)
	}
	os.Exit(code)
}

func record(key string, v any) {
	repMu.Lock()
	report[key] = v
	repMu.Unlock()
}

// setup starts an Env for sc on a NetBox cleaned of every test cluster.
// pveScenario, when set, runs `pvemock serve --scenario pveScenario` as a
// subprocess (sc must be that scenario) instead of the in-process mock.
func setup(t *testing.T, sc pvemock.Scenario, seed int64, pveScenario string) (*harness.Env, context.Context) {
	t.Helper()
	return setupEnv(t, sc, seed, pveScenario, nil)
}

// setupEnv is setup with proxboxdEnv (KEY=value) added to proxboxd's environment.
func setupEnv(t *testing.T, sc pvemock.Scenario, seed int64, pveScenario string, proxboxdEnv []string) (*harness.Env, context.Context) {
	t.Helper()
	nbURL, nbToken := harness.NetBoxFromEnv()
	if (nbURL == "" || nbToken == "") && os.Getenv("E2E_NETBOXTEST") != "" {
		// Development aid: the in-memory NetBox (no changelog, so only the
		// request log proves zero writes).
		nbs := netboxtest.NewServer()
		t.Cleanup(nbs.Close)
		nbURL, nbToken = nbs.URL, nbs.Token()
	}
	if nbURL == "" || nbToken == "" {
		t.Skip(harness.NoNetBox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := bins.Get(ctx, root, binDir)
	if err != nil {
		t.Fatal(err)
	}
	nb := harness.NewNetBox(nbURL, nbToken)
	if err := nb.CleanAll(ctx); err != nil {
		t.Fatalf("cleaning NetBox: %v", err)
	}
	opts := harness.Options{Scenario: sc, Dir: t.TempDir(), ProxboxdBin: bin, NetBoxURL: nbURL, NetBoxToken: nbToken, Seed: seed,
		ProxboxdEnv: proxboxdEnv}
	if pveScenario != "" {
		if opts.PVEMockBin, err = bins.GetPVEMock(ctx, root, binDir); err != nil {
			t.Fatal(err)
		}
		opts.PVEScenario = pveScenario
	}
	env, err := harness.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("proxboxd log tail:\n%s", env.Proxboxd.Tail(4000))
		}
		env.Close()
	})
	return env, ctx
}

func mustSync(t *testing.T, ctx context.Context, env *harness.Env, label string) *harness.SyncRun {
	t.Helper()
	run := env.Sync(ctx, nil)
	t.Logf("%s:\n%s", label, run.Summary())
	if !run.OK {
		t.Fatalf("%s: %s", label, run.Error)
	}
	for _, s := range run.Stages {
		if s.Attempts > 1 {
			t.Logf("%s: stage %s needed %d attempts", label, s.Slug, s.Attempts)
		}
	}
	return run
}

// expect checks the inventory of an S100-shaped scenario.
func expect(t *testing.T, inv *harness.Inventory, sc pvemock.Scenario, pluginInstalled bool) {
	t.Helper()
	b, _ := json.Marshal(inv)
	t.Logf("inventory %s", b)
	check := func(what string, got, want int) {
		if got != want {
			t.Errorf("%s: got %d, want %d", what, got, want)
		}
	}
	check("clusters named "+sc.Name, inv.Clusters, 1)
	check("devices (nodes)", inv.Devices, sc.Nodes)
	check("virtual machines", inv.VMs, sc.QEMU+sc.LXC)
	check("qemu VMs", inv.VMsByType["qemu"], sc.QEMU)
	check("lxc VMs", inv.VMsByType["lxc"], sc.LXC)
	check("VM interfaces", inv.VMInterfaces, (sc.QEMU+sc.LXC)*max(sc.NICs, 2))
	check("virtual disks", inv.Disks, (sc.QEMU+sc.LXC)*max(sc.Disks, 2))
	if inv.VMIPs == 0 {
		t.Errorf("no IP addresses on VM interfaces")
	}
	if inv.NodeInterfaces == 0 {
		t.Errorf("no node interfaces")
	}
	if !inv.Tag {
		t.Errorf("tag proxbox missing")
	}
	for _, cf := range []string{"proxmox_node", "proxmox_vm_id", "proxmox_vm_type"} {
		if !slices.Contains(inv.CustomFields, cf) {
			t.Errorf("custom field %s missing", cf)
		}
	}
	if pluginInstalled && !slices.Contains(inv.CustomFields, "proxbox_storage_id") {
		t.Errorf("custom field proxbox_storage_id missing")
	}
	if len(inv.Duplicates) > 0 {
		t.Errorf("duplicates: %v", inv.Duplicates)
	}
	if inv.Orphaned != 0 {
		t.Errorf("%d objects marked orphan", inv.Orphaned)
	}
}

// resyncWritesNothing runs a no-change sync and checks NetBox's changelog
// and the request log (through the counting proxy).
func resyncWritesNothing(t *testing.T, ctx context.Context, env *harness.Env, label string) *harness.SyncRun {
	t.Helper()
	mark, err := env.NB.ChangeMark(ctx)
	if err != nil && os.Getenv("E2E_NETBOXTEST") == "" {
		t.Fatal(err)
	}
	run := mustSync(t, ctx, env, label)
	n, sum, err := env.NB.ChangesSince(ctx, mark)
	if err != nil && os.Getenv("E2E_NETBOXTEST") == "" {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%s: NetBox changelog has %d entries after the no-change re-sync: %v", label, n, sum)
	}
	if w := run.NetBox.Writes(); w != 0 {
		t.Errorf("%s: %d NetBox write requests (by method %v) in the no-change re-sync", label, w, run.NetBox.ByMethod)
	}
	return run
}

func notServed(t *testing.T, env *harness.Env) []string {
	t.Helper()
	var out []string
	for _, c := range env.Client.NotServed() {
		out = append(out, fmt.Sprintf("%d %s %s", c.Status, c.Method, c.Path))
	}
	for k, v := range env.NBProxy.Counters().NotServed {
		out = append(out, fmt.Sprintf("netbox: %s x%d", k, v))
	}
	slices.Sort(out)
	return out
}

// TestFullSyncS100 is issue 7 §1 without the plugin's RQ job: replay the
// Full update job, assert NetBox's contents, then a no-change re-sync.
func TestFullSyncS100(t *testing.T) {
	sc := pvemock.S100() // `pvemock serve --scenario s100`: cluster "lab"
	env, ctx := setup(t, sc, 1, "s100")
	nbVersion, plugins, _ := env.NB.Version(ctx)
	pluginInstalled := env.NB.PluginInstalled(ctx)
	t.Logf("NetBox %s, plugins %v, proxbox plugin API installed: %v", nbVersion, plugins, pluginInstalled)

	first := mustSync(t, ctx, env, "first sync")
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, inv, sc, pluginInstalled)
	second := resyncWritesNothing(t, ctx, env, "no-change re-sync")
	ns := notServed(t, env)
	t.Logf("calls answered 404/405: %v", ns)
	for _, c := range env.Client.NotServed() {
		if strings.HasSuffix(c.Path, "/stream") {
			t.Errorf("stage stream not served: %s %s -> %d", c.Method, c.Path, c.Status)
		}
	}
	record("full_sync_s100", map[string]any{"netbox": nbVersion, "plugin_installed": pluginInstalled, "first": first, "resync": second, "inventory": inv, "not_served": ns})
}

// TestFaults10Percent: a 10% fault rate in front of NetBox and the PVE mock.
func TestFaults10Percent(t *testing.T) {
	sc := pvemock.S100()
	sc.Name = "e2e-faults"
	env, ctx := setup(t, sc, 42, "")
	rates := faultproxy.Rates{
		faultproxy.Kind5xx: 0.02, faultproxy.Kind429: 0.02, faultproxy.KindReset: 0.02,
		faultproxy.KindSlow: 0.02, faultproxy.KindTimeout: 0.01, faultproxy.KindLostReply: 0.01,
	}
	for _, p := range []*faultproxy.Server{env.NBProxy, env.PVE.Proxy} {
		if err := p.SetRates(rates); err != nil {
			t.Fatal(err)
		}
	}
	run := env.Sync(ctx, nil)
	t.Logf("sync at 10%% faults:\n%s", run.Summary())
	for _, p := range []*faultproxy.Server{env.NBProxy, env.PVE.Proxy} {
		_ = p.SetRates(nil)
	}
	nbc, pvc := run.NetBox, run.PVE
	attempts := 0
	for _, s := range run.Stages {
		attempts += s.Attempts
	}
	t.Logf("NetBox faults %v (retries seen %d, upstream 404/405 %v); PVE faults %v (retries seen %d); stage attempts %d for %d stages",
		nbc.Faults, nbc.Retries, nbc.NotServed, pvc.Faults, pvc.Retries, attempts, len(run.Stages))
	if !run.OK {
		t.Fatalf("sync at 10%% faults failed: %s", run.Error)
	}
	if nbc.FaultTotal() == 0 || pvc.FaultTotal() == 0 {
		t.Errorf("no faults injected (netbox %v, pve %v)", nbc.Faults, pvc.Faults)
	}
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, inv, sc, env.NB.PluginInstalled(ctx))
	resync := resyncWritesNothing(t, ctx, env, "re-sync after faults")
	record("faults_10pct", map[string]any{
		"netbox_faults": nbc.Faults, "netbox_retries": nbc.Retries, "pve_faults": pvc.Faults, "pve_retries": pvc.Retries,
		"stage_attempts": attempts, "stages": len(run.Stages), "duplicates": inv.Duplicates, "run": run,
		"resync_writes": resync.NetBox.Writes(),
	})
}

// s40 is the S100 shape (3 nodes, 2 NICs and 2 disks per guest, VLANs,
// agent IPs, backups, snapshots) with 32 QEMU and 8 LXC guests: the tests
// whose point is a failure mode, not scale, use it so that make e2e stays
// within CI's time (against the real NetBox an S100 first sync takes ~4 min
// on 2 cores). The S100 runs are TestFullSyncS100,
// TestFaults10Percent and TestPluginJob.
func s40() pvemock.Scenario {
	sc := pvemock.S100()
	sc.QEMU, sc.LXC = 32, 8
	return sc
}

// TestNodeDown: one node unreachable after a good sync.
func TestNodeDown(t *testing.T) {
	sc := s40()
	sc.Name = "e2e-nodedown"
	env, ctx := setup(t, sc, 7, "")
	if err := env.PVE.SetNodeDown("pve2", false); err != nil {
		t.Skip(err)
	}
	mustSync(t, ctx, env, "first sync")
	before, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.PVE.SetNodeDown("pve2", true); err != nil {
		t.Fatal(err)
	}
	mark, err := env.NB.ChangeMark(ctx)
	if err != nil && os.Getenv("E2E_NETBOXTEST") == "" {
		t.Fatal(err)
	}
	run := env.Sync(ctx, nil)
	t.Logf("sync with pve2 down:\n%s", run.Summary())
	partial := []string{}
	for _, s := range run.Stages {
		if s.Partial || len(s.Errors) > 0 {
			partial = append(partial, s.Slug)
		}
	}
	if !run.OK {
		t.Errorf("a stage failed outright with one node down (want ok with a partial failure): %s", run.Error)
	}
	if len(partial) == 0 {
		t.Errorf("no stage reported a partial failure with pve2 down")
	}
	after, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	_, changes, _ := env.NB.ChangesSince(ctx, mark)
	deletes := 0
	for k, v := range changes {
		if strings.HasPrefix(k, "delete ") {
			deletes += v
		}
	}
	t.Logf("changes with pve2 down: %v", changes)
	if after.VMs != before.VMs || after.VMInterfaces != before.VMInterfaces || after.Disks != before.Disks || after.Devices != before.Devices {
		t.Errorf("objects lost with pve2 down: before %+v after %+v", before, after)
	}
	if deletes != 0 {
		t.Errorf("%d deletions with pve2 down: %v", deletes, changes)
	}
	if after.Orphaned != 0 || after.Offline > before.Offline {
		t.Errorf("objects marked orphan/offline with pve2 down: orphaned %d, offline %d -> %d", after.Orphaned, before.Offline, after.Offline)
	}
	record("node_down", map[string]any{"partial_stages": partial, "changes": changes, "run": run})
	_ = env.PVE.SetNodeDown("pve2", false)
}

// TestKillMidSync: SIGKILL proxboxd while it writes, restart, converge.
func TestKillMidSync(t *testing.T) {
	sc := s40()
	sc.Name = "e2e-kill"
	env, ctx := setup(t, sc, 9, "")
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan *harness.SyncRun, 1)
	go func() { done <- env.Sync(sctx, nil) }()
	const minWrites = 12
	deadline := time.Now().Add(5 * time.Minute)
	for env.NBProxy.Counters().Writes() < minWrites && time.Now().Before(deadline) {
		select {
		case run := <-done:
			t.Fatalf("the sync ended (ok=%v, %s) after %d NetBox writes, before the kill: nothing to kill mid-run",
				run.OK, run.Error, env.NBProxy.Counters().Writes())
		case <-time.After(20 * time.Millisecond):
		}
	}
	writes := env.NBProxy.Counters().Writes()
	if writes < minWrites {
		t.Fatalf("only %d NetBox writes after 5 minutes: the sync never got going", writes)
	}
	if env.Proxboxd.Exited() {
		t.Fatal("proxboxd exited on its own before the kill")
	}
	env.Proxboxd.Kill()
	cancel()
	if run := <-done; run.OK {
		t.Fatalf("the sync completed although proxboxd was killed after %d writes: the kill did not land mid-run", writes)
	}
	t.Logf("killed proxboxd after %d NetBox writes", writes)
	writesAtKill := env.NBProxy.Counters().Writes() // in-flight writes may still have landed
	if err := env.Proxboxd.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := env.Bootstrap(ctx); err != nil { // the next job's preflight
		t.Fatal(err)
	}
	mustSync(t, ctx, env, "sync after restart")
	if after := env.NBProxy.Counters().Writes(); after == writesAtKill {
		t.Errorf("the sync after the restart wrote nothing: the killed run had already finished its work")
	}
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, inv, sc, env.NB.PluginInstalled(ctx))
	resyncWritesNothing(t, ctx, env, "re-sync after restart")
	record("kill_mid_sync", map[string]any{"writes_before_kill": writes, "duplicates": inv.Duplicates})
}

// TestConcurrentSyncs: two identical stage streams at once on one cluster:
// the second must be refused or queued, never interleaved.
func TestConcurrentSyncs(t *testing.T) {
	sc := s40()
	sc.Name = "e2e-concurrent"
	env, ctx := setup(t, sc, 11, "")
	pre := []plugin.Stage{plugin.Stages[0], plugin.Stages[1]} // devices, storage
	if run := env.Sync(ctx, pre); !run.OK {
		t.Fatalf("preparing stages: %s", run.Error)
	}
	st, _ := plugin.StageBySlug("virtual-machines")
	type window struct {
		first, last time.Time
		work        int
		attempt     *plugin.Attempt
	}
	var mu sync.Mutex
	wins := [2]*window{{}, {}}
	var wg sync.WaitGroup
	for i := range 2 {
		c := plugin.NewClient(env.Proxboxd.URL, env.Client.APIKey)
		c.Attempts = 1
		c.OnFrame = func(_ string, f plugin.Frame) {
			if !isWork(f) {
				return
			}
			mu.Lock()
			w := wins[i]
			if w.first.IsZero() {
				w.first = f.At
			}
			w.last = f.At
			w.work++
			mu.Unlock()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := c.Stream(ctx, st.Slug(), st.Path, harness.StageQuery(st))
			mu.Lock()
			wins[i].attempt = a
			mu.Unlock()
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	a, b := wins[0], wins[1]
	t.Logf("stream 1: status %d, %d work frames %s..%s; stream 2: status %d, %d work frames %s..%s",
		a.attempt.Status, a.work, a.first.Format(time.StampMilli), a.last.Format(time.StampMilli),
		b.attempt.Status, b.work, b.first.Format(time.StampMilli), b.last.Format(time.StampMilli))
	outcome := ""
	switch {
	case a.attempt.Status == 200 && b.attempt.Status == 200:
		if a.work > 0 && b.work > 0 && a.first.Before(b.last) && b.first.Before(a.last) {
			t.Errorf("the two syncs interleaved: [%s, %s] and [%s, %s]", a.first.Format(time.StampMilli), a.last.Format(time.StampMilli), b.first.Format(time.StampMilli), b.last.Format(time.StampMilli))
		}
		outcome = "queued"
	case a.attempt.Status == 200 || b.attempt.Status == 200:
		outcome = fmt.Sprintf("refused (%d/%d)", a.attempt.Status, b.attempt.Status)
	default:
		t.Errorf("both syncs failed: %d %q, %d %q", a.attempt.Status, a.attempt.Detail, b.attempt.Status, b.attempt.Detail)
	}
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Duplicates) > 0 {
		t.Errorf("duplicates after concurrent syncs: %v", inv.Duplicates)
	}
	if inv.VMs != sc.QEMU+sc.LXC {
		t.Errorf("VMs %d, want %d", inv.VMs, sc.QEMU+sc.LXC)
	}
	record("concurrent", map[string]any{"outcome": outcome, "duplicates": inv.Duplicates})
}

// isWork reports frames that show a stage doing its work (not a
// started/waiting/keepalive notice).
func isWork(f plugin.Frame) bool {
	switch f.Event {
	case "discovery", "item_progress", "substep", "phase_summary", "complete":
		return true
	case "step":
		s, _ := f.Data["status"].(string)
		return s == "completed"
	}
	return false
}
