// Command scenario benchmarks proxboxd against the real NetBox of the
// harness: for each scenario it runs a first full sync (the plugin's 12
// stage streams) and a no-change re-sync, measures wall time per stage,
// NetBox requests by method (through a counting proxy), Proxmox requests,
// proxboxd's peak RSS, and compares the NetBox requests with the minimum
// possible (one paged read per object type plus one write per batch of 50
// changes). It appends one table row per run to bench/RESULTS.md.
//
//	go run ./bench/cmd/scenario -scenarios s100,s1000 -results bench/RESULTS.md
//
// NETBOX_URL and NETBOX_TOKEN come from the environment (source .netbox/env).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scenario:", err)
		os.Exit(1)
	}
}

// BatchSize is the write batch of the minimum request count.
const BatchSize = 50

type result struct {
	Scenario   string             `json:"scenario"`
	Shape      map[string]int     `json:"shape"`
	Run        string             `json:"run"` // first | resync
	Sync       *harness.SyncRun   `json:"sync"`
	Changes    int                `json:"netbox_changes"`  // changelog entries of the run
	Counted    int                `json:"counted_changes"` // created+updated+deleted from the stages' complete counts
	ChangeKind map[string]int     `json:"netbox_change_kinds"`
	ReadTypes  int                `json:"read_types"`
	Minimum    int                `json:"minimum_requests"`
	Ratio      float64            `json:"ratio"`
	Inventory  *harness.Inventory `json:"inventory,omitempty"`
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	scenarios := fs.String("scenarios", "s100,s1000", "comma-separated scenarios (s100, s1000, s5000)")
	results := fs.String("results", "bench/RESULTS.md", "markdown file the table rows are appended to")
	jsonOut := fs.String("json", "", "also write the full measurements as JSON here")
	proxboxdBin := fs.String("proxboxd", "", "proxboxd binary (default: go build ./proxboxd/cmd/proxboxd)")
	timeout := fs.Duration("timeout", 2*time.Hour, "overall time limit")
	inMemory := fs.Bool("netboxtest", false, "development aid: run against the in-memory NetBox (use another -results file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nbURL, nbToken := harness.NetBoxFromEnv()
	nbLabel := ""
	if *inMemory {
		// Development aid only: numbers against the in-memory NetBox are not
		// the benchmark; never append them to bench/RESULTS.md.
		nbs := netboxtest.NewServer()
		defer nbs.Close()
		nbURL, nbToken, nbLabel = nbs.URL, nbs.Token(), "netboxtest (in-memory)"
	}
	if nbURL == "" || nbToken == "" {
		return errors.New(harness.NoNetBox)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "proxbox-bench-")
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	defer os.RemoveAll(work)
	bin := *proxboxdBin
	if bin == "" {
		fmt.Println("building proxboxd …")
		if bin, err = harness.Build(ctx, root, "./proxboxd/cmd/proxboxd", work); err != nil {
			return err
		}
	}
	nb := harness.NewNetBox(nbURL, nbToken)
	nbVersion, plugins, err := nb.Version(ctx)
	if err != nil {
		return err
	}
	pluginVersion := "none"
	if v, ok := plugins["netbox_proxbox"]; ok {
		pluginVersion = "netbox-proxbox " + v + " (installed, not driven)"
	}
	if nbLabel != "" {
		nbVersion, pluginVersion = nbLabel, "none (in-memory)"
	}
	meta := machine(root, nbVersion, pluginVersion)
	var all []result
	for _, name := range strings.Split(*scenarios, ",") {
		name = strings.TrimSpace(name)
		sc, ok := pvemock.ByName(name)
		if !ok {
			return fmt.Errorf("unknown scenario %q", name)
		}
		rs, err := bench(ctx, nb, sc, strings.ToUpper(name), bin, filepath.Join(work, name))
		all = append(all, rs...)
		if err != nil {
			_ = appendRows(*results, meta, all)
			return err
		}
	}
	if err := appendRows(*results, meta, all); err != nil {
		return err
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{"meta": meta, "results": all}, "", "  ")
		if err := os.MkdirAll(filepath.Dir(*jsonOut), 0o755); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
	}
	fmt.Printf("appended %d rows to %s\n", len(all), *results)
	return nil
}

func bench(ctx context.Context, nb *harness.NetBox, sc pvemock.Scenario, label, bin, dir string) ([]result, error) {
	fmt.Printf("== %s: %d nodes, %d QEMU, %d LXC: cleaning NetBox …\n", label, sc.Nodes, sc.QEMU, sc.LXC)
	if err := nb.CleanAll(ctx); err != nil {
		return nil, err
	}
	env, err := harness.Start(ctx, harness.Options{Scenario: sc, Dir: dir, ProxboxdBin: bin, NetBoxURL: nb.URL, NetBoxToken: nb.Token, Seed: 1})
	if err != nil {
		return nil, err
	}
	defer env.Close()
	shape := map[string]int{"nodes": sc.Nodes, "qemu": sc.QEMU, "lxc": sc.LXC}
	var out []result
	for _, runName := range []string{"first", "resync"} {
		mark, markErr := nb.ChangeMark(ctx)
		s := env.Sync(ctx, nil)
		fmt.Printf("%s %s:\n%s\n", label, runName, s.Summary())
		n, kinds := countedChanges(s), map[string]int{"from stage counts (no changelog)": countedChanges(s)}
		if markErr == nil {
			if n, kinds, err = nb.ChangesSince(ctx, mark); err != nil {
				return out, err
			}
		}
		r := result{Scenario: label, Shape: shape, Run: runName, Sync: s, Changes: n, ChangeKind: kinds, Counted: countedChanges(s)}
		r.ReadTypes = readTypes(s)
		r.Minimum = r.ReadTypes + (n+BatchSize-1)/BatchSize
		if r.Minimum > 0 {
			r.Ratio = float64(s.NetBox.Requests) / float64(r.Minimum)
		}
		out = append(out, r)
		if !s.OK {
			return out, fmt.Errorf("%s %s sync failed: %s\n%s", label, runName, s.Error, env.Proxboxd.Tail(3000))
		}
	}
	inv, err := nb.Take(ctx, sc.Name, env.Nodes)
	if err == nil {
		out[len(out)-1].Inventory = inv
	}
	return out, nil
}

// countedChanges sums created, updated and deleted over the stages'
// `complete` result counts (used when NetBox has no changelog).
func countedChanges(s *harness.SyncRun) int {
	n := 0
	for _, st := range s.Stages {
		m, _ := st.Result.(map[string]any)
		counts, _ := m["counts"].(map[string]any)
		for _, c := range counts {
			if cm, ok := c.(map[string]any); ok {
				for _, k := range []string{"created", "updated", "deleted"} {
					if f, ok := cm[k].(float64); ok {
						n += int(f)
					}
				}
			}
		}
	}
	return n
}

// readTypes counts the object types read: distinct GET list routes (no {id}).
func readTypes(s *harness.SyncRun) int {
	n := 0
	for route := range s.NetBox.ByRoute {
		if strings.HasPrefix(route, "GET ") && !strings.Contains(route, "{id}") && route != "GET /api/status/" && route != "GET /api/" {
			n++
		}
	}
	return n
}

type meta struct {
	Date    string `json:"date"`
	Machine string `json:"machine"`
	NetBox  string `json:"netbox"`
	Plugin  string `json:"plugin"`
	Project string `json:"project"`
	Go      string `json:"go"`
}

func machine(root, nbVersion, plugin string) meta {
	memKiB := 0
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var k string
			var v int
			if _, err := fmt.Sscanf(sc.Text(), "%s %d", &k, &v); err == nil && k == "MemTotal:" {
				memKiB = v
			}
		}
		f.Close()
	}
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	m := fmt.Sprintf("%d CPU, %.1f GiB", runtime.NumCPU(), float64(memKiB)/1024/1024)
	if cpu != "" {
		m += ", " + cpu
	}
	project := "dev"
	cmd := exec.Command("git", "describe", "--always", "--dirty", "--tags")
	cmd.Dir = root
	if b, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		project = strings.TrimSpace(string(b))
	}
	return meta{Date: time.Now().UTC().Format("2006-01-02 15:04Z"), Machine: m, NetBox: nbVersion, Plugin: plugin, Project: project, Go: runtime.Version()}
}

const header = `# Benchmark results

Appended by ` + "`make bench`" + ` (bench/cmd/scenario). One row per sync run: the plugin's 12 stage
streams replayed against proxboxd, the real NetBox of the harness, the PVE mock over HTTPS.
NetBox requests are counted by a proxy in front of NetBox; *min* is one paged read per object type
read plus one write per batch of 50 changes (changes = NetBox changelog entries of the run);
*ratio* = NetBox requests / min. RSS is proxboxd's peak (VmHWM). Stage times in seconds, in the
plugin's order: devices, storage, virtual-machines, task-history, vm-disks, vm-backups,
vm-snapshots, network-interfaces, vm-interfaces, ip-addresses, replications, backup-routines.

| date | machine | NetBox | plugin | proxbox | scenario | run | ok | wall s | NetBox GET | POST | PATCH | PUT | DELETE | NetBox total | changes | min | ratio | PVE requests | RSS MiB | stage times s |
|---|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
`

func appendRows(path string, m meta, rs []result) error {
	if len(rs) == 0 {
		return nil
	}
	var b strings.Builder
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		b.WriteString(header)
	}
	for _, r := range rs {
		s := r.Sync
		var times []string
		for _, st := range s.Stages {
			times = append(times, fmt.Sprintf("%.1f", st.Seconds))
		}
		nbm := s.NetBox.ByMethod
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s (%d nodes, %d+%d guests) | %s | %v | %.1f | %d | %d | %d | %d | %d | %d | %d | %d | %.2f | %d | %.0f | %s |\n",
			m.Date, m.Machine, m.NetBox, m.Plugin, m.Project, r.Scenario, r.Shape["nodes"], r.Shape["qemu"], r.Shape["lxc"], r.Run, s.OK, s.Seconds,
			nbm["GET"], nbm["POST"], nbm["PATCH"], nbm["PUT"], nbm["DELETE"], s.NetBox.Requests, r.Changes, r.Minimum, r.Ratio,
			s.PVE.Requests, float64(s.PeakRSS)/1024, strings.Join(times, " · "))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}
