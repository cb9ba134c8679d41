package harness

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/bench/plugin"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// NoNetBox is the skip message of every test that needs the real NetBox.
const NoNetBox = "no NetBox: run `make netbox-up` and source .netbox/env (or use make e2e)"

// PluginPK is the plugin-side primary key the replay uses for its endpoint
// records (the "(nb:<pk>)" suffix).
const PluginPK = 1

// Options configure an Env.
type Options struct {
	Scenario    pvemock.Scenario
	Dir         string // work directory (proxboxd db and log)
	ProxboxdBin string
	NetBoxURL   string
	NetBoxToken string
	Seed        int64
	// PVEMockBin, when set, runs the mock as `pvemock serve --scenario
	// PVEScenario` (a subprocess) instead of in this process; Scenario must
	// then be that named scenario (its cluster name is fixed).
	PVEMockBin  string
	PVEScenario string
	// ProxboxdEnv is added to proxboxd's environment (KEY=value).
	ProxboxdEnv []string
}

// Env is one running end-to-end setup: NetBox behind a counting/fault
// proxy, the PVE mock behind another, proxboxd, and the plugin replay
// client registered with both endpoints pushed.
type Env struct {
	Opts     Options
	NB       *NetBox
	NBProxy  *faultproxy.Server
	PVE      *PVE
	Proxboxd *Proxboxd
	Client   *plugin.Client
	Nodes    []string
	// PluginEndpointPK is the plugin's ProxmoxEndpoint record created for
	// the replay (0 when the plugin's API is absent or refused it).
	PluginEndpointPK  int
	PluginEndpointErr error
	// More are the PVE mocks added with AddPVE (more Proxmox endpoints).
	More []*PVE
}

// Start brings the setup up and does what the plugin does before a job:
// key bootstrap, then the NetBox and Proxmox endpoint pushes.
func Start(ctx context.Context, o Options) (*Env, error) {
	e := &Env{Opts: o, NB: NewNetBox(o.NetBoxURL, o.NetBoxToken)}
	sc := o.Scenario
	nodes := max(sc.Nodes, 1)
	for i := range nodes {
		e.Nodes = append(e.Nodes, fmt.Sprintf("pve%d", i+1))
	}
	fp, err := faultproxy.New(faultproxy.Config{Upstream: o.NetBoxURL, Seed: o.Seed, HoldMax: 10 * time.Second, SlowDelay: time.Second})
	if err != nil {
		return nil, err
	}
	if e.NBProxy, err = faultproxy.Listen(fp, "127.0.0.1:0", false); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		e.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	if o.PVEMockBin != "" {
		e.PVE, err = StartPVEProcess(ctx, o.PVEMockBin, o.PVEScenario, o.Dir, o.Seed)
	} else {
		e.PVE, err = StartPVE(sc, o.Seed)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	if e.Proxboxd, err = StartProxboxd(ctx, o.ProxboxdBin, o.Dir, 0, filepath.Join(o.Dir, "proxboxd.db"), o.ProxboxdEnv...); err != nil {
		e.Close()
		return nil, err
	}
	e.Client = plugin.NewClient(e.Proxboxd.URL, plugin.NewAPIKey())
	if err := e.Bootstrap(ctx); err != nil {
		tail := e.Proxboxd.Tail(3000)
		e.Close()
		return nil, fmt.Errorf("%w\nproxboxd log:\n%s", err, tail)
	}
	return e, nil
}

// Bootstrap runs A1/A2 and the N1–N3 and P1–P3 pushes (job preflight).
func (e *Env) Bootstrap(ctx context.Context) error {
	if err := e.Client.Root(ctx); err != nil {
		return err
	}
	if err := e.Client.EnsureKeyRegistered(ctx, fmt.Sprintf("netbox-fastapi-%d", PluginPK)); err != nil {
		return err
	}
	nbEP, err := plugin.NetBoxEndpointFor("NetBox", e.NBProxy.URL, e.Opts.NetBoxToken)
	if err != nil {
		return err
	}
	if err := e.Client.PushNetBox(ctx, nbEP); err != nil {
		return err
	}
	return e.pushPVE(ctx, e.Opts.Scenario.Name, e.PVE)
}

// pushPVE records a mock as the plugin's ProxmoxEndpoint and pushes it to
// proxboxd (P1–P3).
func (e *Env) pushPVE(ctx context.Context, cluster string, p *PVE) error {
	user, name, secret := p.Token()
	pk := e.pluginEndpoint(ctx, cluster, p.Proxy.Port(), user, name, secret)
	_, err := e.Client.PushProxmox(ctx, plugin.ProxmoxEndpoint{
		Name: plugin.BackendName(cluster, pk), IPAddress: "127.0.0.1",
		Port: p.Proxy.Port(), Username: user, VerifySSL: false, TokenName: &name, TokenValue: &secret,
	})
	return err
}

// AddPVE starts a second (third, …) in-process PVE mock of sc, with its
// counting proxy, and registers it as one more Proxmox endpoint, as a user
// with several clusters does. Env.Close stops it.
func (e *Env) AddPVE(ctx context.Context, sc pvemock.Scenario, seed int64) (*PVE, error) {
	p, err := StartPVE(sc, seed)
	if err != nil {
		return nil, err
	}
	e.More = append(e.More, p)
	if err := e.pushPVE(ctx, sc.Name, p); err != nil {
		return nil, err
	}
	return p, nil
}

// pluginEndpoint creates (or updates) the plugin's ProxmoxEndpoint record
// for the mock, as a user of the plugin would have, and returns its pk, which
// the replay pushes as "<name> (nb:<pk>)" (PluginPK when the plugin's API is
// absent or refuses the record; PluginPK+n for the n-th endpoint added with
// AddPVE, as proxboxd keys pushed endpoints by that pk).
func (e *Env) pluginEndpoint(ctx context.Context, cluster string, port int, user, tokenName, secret string) int {
	const path = "/api/plugins/proxbox/endpoints/proxmox/"
	fallback := PluginPK + len(e.More)
	primary := len(e.More) == 0
	if !e.NB.Exists(ctx, path) {
		return fallback
	}
	lo, err := e.NB.LoopbackIP(ctx)
	if err != nil {
		if primary {
			e.PluginEndpointErr = err
		}
		return fallback
	}
	// as TestPluginJob records it: an address is an ipam reference (the
	// plugin refuses one in "domain"), and mode "cluster" is the plugin's
	// record of a whole cluster
	body := map[string]any{"name": cluster, "ip_address": lo, "port": port, "username": user,
		"token_name": tokenName, "token_value": secret, "verify_ssl": false, "enabled": true, "mode": "cluster"}
	rows, err := e.NB.List(ctx, path, url.Values{"name": {cluster}})
	var out map[string]any
	if err == nil && len(rows) > 0 {
		id := asInt(rows[0]["id"])
		if _, err := e.NB.Do(ctx, "PATCH", fmt.Sprintf("%s%d/", path, id), nil, body, &out); err == nil {
			if primary {
				e.PluginEndpointPK = id
			}
			return id
		}
	}
	if _, err := e.NB.Do(ctx, "POST", path, nil, body, &out); err != nil {
		if primary {
			e.PluginEndpointErr = err
		}
		return fallback
	}
	id := asInt(out["id"])
	if primary {
		e.PluginEndpointPK = id
	}
	return id
}

// pveCounters sums the counters of every PVE proxy (AddPVE adds some).
func (e *Env) pveCounters() faultproxy.Counters {
	c := e.PVE.Proxy.Counters()
	for _, p := range e.More {
		c = c.Add(p.Proxy.Counters())
	}
	return c
}

// Close stops everything started.
func (e *Env) Close() {
	if e.Proxboxd != nil && e.Proxboxd.Proc != nil {
		_ = e.Proxboxd.Stop(10 * time.Second)
	}
	if e.PVE != nil {
		e.PVE.Close()
	}
	for _, p := range e.More {
		p.Close()
	}
	if e.NBProxy != nil {
		_ = e.NBProxy.Close()
	}
}

// StageStat is one stage of a sync as measured from outside.
type StageStat struct {
	Slug     string              `json:"stage"`
	OK       bool                `json:"ok"`
	Attempts int                 `json:"attempts"`
	Seconds  float64             `json:"seconds"`
	NetBox   map[string]int      `json:"netbox_requests"`
	PVE      int                 `json:"pve_requests"`
	Error    string              `json:"error,omitempty"`
	Result   any                 `json:"result,omitempty"`
	Partial  bool                `json:"partial"`
	Errors   []map[string]any    `json:"errors,omitempty"`
	Events   map[string]int      `json:"events"`
	Attempt  []*plugin.Attempt   `json:"-"`
	Counters faultproxy.Counters `json:"-"`
}

// SyncRun is one replay of the 12 stages.
type SyncRun struct {
	Stages   []*StageStat        `json:"stages"`
	Seconds  float64             `json:"seconds"`
	NetBox   faultproxy.Counters `json:"netbox"`
	PVE      faultproxy.Counters `json:"pve"`
	PeakRSS  int                 `json:"proxboxd_peak_rss_kib"`
	OK       bool                `json:"ok"`
	Error    string              `json:"error,omitempty"`
	Started  time.Time           `json:"started"`
	Finished time.Time           `json:"finished"`
}

// Sync replays the plugin's Full update job: the 12 stages in order with the
// default settings, each with the plugin's retries, stopping at the first
// failed stage.
func (e *Env) Sync(ctx context.Context, stages []plugin.Stage) *SyncRun {
	return e.SyncWith(ctx, stages, nil)
}

// SyncWith is Sync with extra query parameters on every stage stream (for
// example dry_run=true).
func (e *Env) SyncWith(ctx context.Context, stages []plugin.Stage, extra url.Values) *SyncRun {
	if stages == nil {
		stages = plugin.Stages
	}
	run := &SyncRun{OK: true, Started: time.Now()}
	nb0, px0 := e.NBProxy.Counters(), e.pveCounters()
	base := plugin.DefaultSettings().Query()
	for k, v := range extra {
		base[k] = v
	}
	for _, st := range stages {
		b0, p0 := e.NBProxy.Counters(), e.pveCounters()
		r := e.Client.RunStage(ctx, st, base)
		b1, p1 := e.NBProxy.Counters(), e.pveCounters()
		s := &StageStat{Slug: st.Slug(), OK: r.OK(), Attempts: len(r.Attempts), Seconds: r.Duration.Seconds(),
			NetBox: b1.Sub(b0).ByMethod, PVE: p1.Sub(p0).Requests, Attempt: r.Attempts, Counters: b1.Sub(b0), Events: r.Last().Events}
		if c := r.Last().Complete; c != nil {
			s.Result = c.Result
			s.Errors = c.Errors
			if m, ok := c.Result.(map[string]any); ok {
				if p, ok := m["partial"].(bool); ok && p {
					s.Partial = true
				}
			}
		}
		if !r.OK() {
			s.Error = r.Error()
			run.OK = false
			run.Error = s.Error
		}
		run.Stages = append(run.Stages, s)
		if !r.OK() {
			break
		}
	}
	run.Finished = time.Now()
	run.Seconds = run.Finished.Sub(run.Started).Seconds()
	run.NetBox = e.NBProxy.Counters().Sub(nb0)
	run.PVE = e.pveCounters().Sub(px0)
	run.PeakRSS = e.Proxboxd.PeakRSS()
	return run
}

// Summary is a one-line-per-stage text of a run.
func (r *SyncRun) Summary() string {
	var b strings.Builder
	for _, s := range r.Stages {
		fmt.Fprintf(&b, "  %-19s ok=%-5v attempts=%d %6.2fs netbox=%v pve=%d", s.Slug, s.OK, s.Attempts, s.Seconds, fmtCounts(s.NetBox), s.PVE)
		if s.Partial {
			b.WriteString(" partial")
		}
		if len(s.Errors) > 0 {
			d := fmt.Sprint(s.Errors[0]["detail"])
			if len(d) > 160 {
				d = d[:160] + "…"
			}
			fmt.Fprintf(&b, " errors=%d (%s)", len(s.Errors), d)
		}
		if s.Error != "" {
			fmt.Fprintf(&b, " error=%q", s.Error)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  total %.2fs netbox=%v pve=%v rss=%d KiB", r.Seconds, fmtCounts(r.NetBox.ByMethod), fmtCounts(r.PVE.ByMethod), r.PeakRSS)
	return b.String()
}

func fmtCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Binaries builds proxboxd (and pvemock) once per process into dir.
type Binaries struct {
	once     sync.Once
	Proxboxd string
	err      error

	pvOnce  sync.Once
	PVEMock string
	pvErr   error
}

// GetPVEMock builds (once) and returns the pvemock binary.
func (b *Binaries) GetPVEMock(ctx context.Context, root, dir string) (string, error) {
	b.pvOnce.Do(func() {
		b.PVEMock, b.pvErr = Build(ctx, root, "./proxmoxsdk/cmd/pvemock", dir)
	})
	return b.PVEMock, b.pvErr
}

// Get builds (once) and returns the proxboxd binary; PROXBOXD_BIN names a
// prebuilt one instead.
func (b *Binaries) Get(ctx context.Context, root, dir string) (string, error) {
	b.once.Do(func() {
		if p := os.Getenv("PROXBOXD_BIN"); p != "" {
			b.Proxboxd = p
			return
		}
		b.Proxboxd, b.err = Build(ctx, root, "./proxboxd/cmd/proxboxd", dir)
	})
	return b.Proxboxd, b.err
}

// NetBoxFromEnv returns NETBOX_URL and NETBOX_TOKEN, "" when unset.
func NetBoxFromEnv() (string, string) {
	return os.Getenv("NETBOX_URL"), os.Getenv("NETBOX_TOKEN")
}

// StageQuery is the query a stage of the Full update job carries.
func StageQuery(st plugin.Stage) url.Values { return st.AllQuery(plugin.DefaultSettings().Query()) }
