// Package demo wires proxboxd to an in-process Proxmox VE (pvemock) and an
// in-process NetBox (netboxtest), registers both through the same HTTP routes
// the plugin uses, and runs full syncs through the stage streams.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/settings"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// Options configure Run.
type Options struct {
	Listen   string // where /admin is served (default 127.0.0.1:8800; falls back to a free port)
	Scenario string // pvemock scenario name (default s100)
	Once     bool   // two full syncs, write Report, exit
	Report   string // JSON report path (with Once)
	DB       string // SQLite file (default: temporary)
	Logger   *slog.Logger
	Logs     *pbhttp.LogBuffer
	// NewEngine builds the Syncer over the demo's connector.
	NewEngine func(proxbox.Connector) proxbox.Syncer
	Stdout    io.Writer
}

// Env is a running demo environment (also used by tests).
type Env struct {
	// Tally, when the demo has an engine, collects what each stage did to
	// each object (StageResult.Objects) so a full sync counts each object
	// once, whatever number of its 12 stage streams touched it.
	Tally    *RunCounter
	Mock     *pvemock.Mock
	PVE      *httptest.Server
	NetBox   *netboxtest.Server
	Store    *sqlite.Store
	Server   *pbhttp.Server
	HTTP     *http.Server
	BaseURL  string
	APIKey   string
	Scenario pvemock.Scenario
	dir      string
	ln       net.Listener
}

// Start brings up pvemock (HTTPS), netboxtest, the store and proxboxd, and
// registers the endpoints through proxboxd's own routes.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Scenario == "" {
		o.Scenario = "s100"
	}
	sc, ok := pvemock.ByName(o.Scenario)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (s100, s1000, s5000)", o.Scenario)
	}
	env := &Env{Scenario: sc}
	env.Mock = pvemock.New(sc)
	env.PVE = httptest.NewTLSServer(env.Mock.Handler())
	env.NetBox = netboxtest.NewServer()

	dbPath := o.DB
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "proxboxd-demo-")
		if err != nil {
			env.Close()
			return nil, err
		}
		env.dir = dir
		dbPath = filepath.Join(dir, "proxboxd.db")
	}
	keyRaw := make([]byte, 32)
	_, _ = rand.Read(keyRaw)
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{EncryptionKey: base64.StdEncoding.EncodeToString(keyRaw), KeyFile: dbPath + ".key"})
	if err != nil {
		env.Close()
		return nil, err
	}
	env.Store = st
	metrics := pbhttp.NewMetrics()
	var conn *connector.Connector
	fetch := func(ctx context.Context) (map[string]any, error) {
		nb, err := conn.NetBox(ctx)
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if _, err := nb.Do(ctx, http.MethodGet, "/api/plugins/proxbox/settings/", nil, nil, &raw); err != nil {
			return nil, err
		}
		return settings.DecodeSettingsBody(raw)
	}
	prov := settings.NewProvider(fetch, 300*time.Second, nil, nil, o.Logger)
	conn = connector.New(st, connector.Options{Logger: o.Logger, Policy: func(context.Context) connector.Policy { return connector.DefaultPolicy() },
		CountNetBox: metrics.CountNetBox, CountProxmox: metrics.CountProxmox})
	var syncer proxbox.Syncer
	if o.NewEngine != nil {
		env.Tally = &RunCounter{}
		syncer = env.Tally.Wrap(o.NewEngine(conn))
	}
	env.Server = pbhttp.New(pbhttp.Config{PublicAdmin: true, PublicLogs: true, RateLimit: -1},
		pbhttp.Deps{Store: st, Syncer: syncer, Connector: conn, Settings: prov, Logger: o.Logger, Logs: o.Logs, Metrics: metrics})
	listen := o.Listen
	if listen == "" || o.Once {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		o.Logger.Warn("demo listen address busy; using a free port", "addr", listen, "error", err.Error())
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			env.Close()
			return nil, err
		}
	}
	env.ln = ln
	env.BaseURL = "http://" + ln.Addr().String()
	env.HTTP = &http.Server{Handler: env.Server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.HTTP.Serve(ln) }()
	if err := env.register(ctx); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

// Close stops everything.
func (e *Env) Close() {
	if e.Server != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.Server.Shutdown(sctx)
		cancel()
	}
	if e.HTTP != nil {
		_ = e.HTTP.Close()
	}
	if e.Store != nil {
		_ = e.Store.Close()
	}
	if e.NetBox != nil {
		e.NetBox.Close()
	}
	if e.PVE != nil {
		e.PVE.Close()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

func (e *Env) call(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.BaseURL+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.APIKey != "" {
		req.Header.Set(pbhttp.HeaderAPIKey, e.APIKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		_ = json.Unmarshal(b, out)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return resp.StatusCode, nil
}

// register does what the plugin does: bootstrap a key, push the NetBox
// endpoint and the Proxmox endpoint.
func (e *Env) register(ctx context.Context) error {
	raw := make([]byte, 48)
	_, _ = rand.Read(raw)
	key := base64.RawURLEncoding.EncodeToString(raw)
	if _, err := e.call(ctx, http.MethodPost, "/auth/register-key", map[string]string{"api_key": key, "label": "proxboxd-demo"}, nil); err != nil {
		return err
	}
	e.APIKey = key
	nbu, _ := url.Parse(e.NetBox.URL)
	nbPort, _ := strconv.Atoi(nbu.Port())
	if _, err := e.call(ctx, http.MethodPost, "/netbox/endpoint", map[string]any{"name": "demo NetBox", "ip_address": nbu.Hostname(),
		"domain": "", "port": nbPort, "verify_ssl": false, "token_version": "v1", "token": e.NetBox.Token()}, nil); err != nil {
		return err
	}
	pu, _ := url.Parse(e.PVE.URL)
	pvePort, _ := strconv.Atoi(pu.Port())
	// The plugin keeps its own ProxmoxEndpoint record in NetBox and pushes it to
	// the backend as "<name> (nb:<pk>)"; plugin models (replications, backup
	// routines, …) point at that record, so the demo creates it the same way.
	pk, err := e.pluginEndpoint(ctx, pu.Hostname(), pvePort)
	if err != nil {
		return err
	}
	id, secret := e.Mock.Token()
	if _, err := e.call(ctx, http.MethodPost, "/proxmox/endpoints", map[string]any{"name": fmt.Sprintf("%s (nb:%d)", e.Scenario.Name, pk), "ip_address": pu.Hostname(),
		"domain": nil, "port": pvePort, "username": "root@pam", "password": nil, "verify_ssl": false, "token_name": id, "token_value": secret}, nil); err != nil {
		return err
	}
	return nil
}

// pluginEndpoint creates the plugin's ProxmoxEndpoint record in the in-memory
// NetBox and returns its id.
func (e *Env) pluginEndpoint(ctx context.Context, host string, port int) (int, error) {
	body, _ := json.Marshal(map[string]any{"name": e.Scenario.Name, "domain": host, "port": port, "username": "root@pam", "verify_ssl": false})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(e.NetBox.URL, "/")+"/api/plugins/proxbox/endpoints/proxmox/", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+e.NetBox.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("create the plugin's Proxmox endpoint: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		ID int `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.ID == 0 {
		return 0, fmt.Errorf("create the plugin's Proxmox endpoint: HTTP %d (%v)", resp.StatusCode, err)
	}
	return out.ID, nil
}

// StageRun is the outcome of one stage stream.
type StageRun struct {
	Stage     string  `json:"stage"`
	OK        bool    `json:"ok"`
	Status    int     `json:"status"`
	Detail    string  `json:"detail,omitempty"`
	DurationS float64 `json:"duration_s"`
	Frames    int     `json:"frames"`
}

// SyncRun is one full sync in the report.
type SyncRun struct {
	DurationS      float64        `json:"duration_s"`
	OK             bool           `json:"ok"`
	NetBoxRequests map[string]int `json:"netbox_requests"`
	ProxmoxCalls   int64          `json:"proxmox_requests"`
	Created        map[string]int `json:"created"`
	Updated        map[string]int `json:"updated"`
	Deleted        map[string]int `json:"deleted"`
	Failed         map[string]int `json:"failed"`
	Unchanged      map[string]int `json:"unchanged"`
	Stages         []StageRun     `json:"stages"`
}

func newRun() *SyncRun {
	return &SyncRun{NetBoxRequests: map[string]int{"GET": 0, "POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0},
		Created: map[string]int{}, Updated: map[string]int{}, Deleted: map[string]int{}, Failed: map[string]int{}, Unchanged: map[string]int{},
		Stages: []StageRun{}}
}

// FullSync runs the 12 stages through their SSE routes, in the plugin's
// order, reading each stream with the plugin's rules.
func (e *Env) FullSync(ctx context.Context) *SyncRun {
	e.NetBox.Reset()
	e.Mock.ResetRequests()
	r := newRun()
	start := time.Now()
	r.OK = true
	e.Tally.Reset()
	hc := &http.Client{}
	base := contract.DefaultSettings().Query()
	for _, st := range contract.Stages {
		t0 := time.Now()
		u := e.BaseURL + st.Path + "?" + st.AllQuery(base).Encode()
		out := contract.Run(ctx, hc, u, e.APIKey, nil)
		sr := StageRun{Stage: st.Slug(), Status: out.Status, OK: out.OK(), DurationS: time.Since(t0).Seconds(), Frames: out.Frames}
		if !sr.OK {
			sr.Detail = out.Detail
			r.OK = false
		}
		r.Stages = append(r.Stages, sr)
	}
	for ot, c := range e.Tally.Counts() {
		r.Created[ot], r.Updated[ot], r.Deleted[ot], r.Failed[ot], r.Unchanged[ot] = c.Created, c.Updated, c.Deleted, c.Failed, c.Unchanged
	}
	r.DurationS = time.Since(start).Seconds()
	for _, q := range e.NetBox.Requests() {
		r.NetBoxRequests[q.Method]++
	}
	for _, n := range e.Mock.Requests() {
		r.ProxmoxCalls += n
	}
	return r
}

// Report is the --report JSON.
type Report struct {
	Scenario map[string]any `json:"scenario"`
	Runs     []*SyncRun     `json:"runs"`
}

func (e *Env) scenarioInfo() map[string]any {
	sc := e.Mock.Scenario()
	return map[string]any{"name": sc.Name, "nodes": sc.Nodes, "qemu": sc.QEMU, "lxc": sc.LXC, "nics": sc.NICs, "disks": sc.Disks,
		"backups": sc.Backups, "snapshots": sc.Snapshots, "tasks": sc.Tasks, "seed": sc.Seed}
}

func printSummary(w io.Writer, label string, r *SyncRun) {
	fmt.Fprintf(w, "%s: %s in %.1fs\n", label, map[bool]string{true: "OK", false: "FAILED"}[r.OK], r.DurationS)
	types := map[string]bool{}
	for _, m := range []map[string]int{r.Created, r.Updated, r.Unchanged, r.Deleted, r.Failed} {
		for k := range m {
			types[k] = true
		}
	}
	names := make([]string, 0, len(types))
	for k := range types {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "  %-44s %8s %8s %9s %8s %7s\n", "object type (each object once)", "created", "updated", "unchanged", "deleted", "failed")
	for _, k := range names {
		fmt.Fprintf(w, "  %-44s %8d %8d %9d %8d %7d\n", k, r.Created[k], r.Updated[k], r.Unchanged[k], r.Deleted[k], r.Failed[k])
	}
	fmt.Fprintf(w, "  NetBox requests: GET %d, POST %d, PATCH %d, PUT %d, DELETE %d; Proxmox requests: %d\n",
		r.NetBoxRequests["GET"], r.NetBoxRequests["POST"], r.NetBoxRequests["PATCH"], r.NetBoxRequests["PUT"], r.NetBoxRequests["DELETE"], r.ProxmoxCalls)
	for _, s := range r.Stages {
		if !s.OK {
			fmt.Fprintf(w, "  stage %s failed (HTTP %d): %s\n", s.Stage, s.Status, s.Detail)
		}
	}
}

// Run is `proxboxd demo`.
func Run(ctx context.Context, o Options) error {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	env, err := Start(ctx, o)
	if err != nil {
		return err
	}
	defer env.Close()
	sc := env.Mock.Scenario()
	fmt.Fprintf(o.Stdout, "proxboxd demo: pvemock %q (%d nodes, %d QEMU, %d LXC) at %s, netboxtest at %s, proxboxd at %s\n",
		sc.Name, sc.Nodes, sc.QEMU, sc.LXC, env.PVE.URL, env.NetBox.URL, env.BaseURL)
	rep := Report{Scenario: env.scenarioInfo()}
	first := env.FullSync(ctx)
	rep.Runs = append(rep.Runs, first)
	printSummary(o.Stdout, "full sync", first)
	if o.Once {
		second := env.FullSync(ctx)
		rep.Runs = append(rep.Runs, second)
		printSummary(o.Stdout, "second full sync (nothing changed)", second)
		if o.Report != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if err := os.WriteFile(o.Report, append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(o.Stdout, "report written to %s\n", o.Report)
		}
		if !first.OK || !second.OK {
			return errors.New("demo sync failed")
		}
		return nil
	}
	// Something for /admin to plan: the mock drifts, and a dry run (which
	// writes nothing) plans what the next sync would change.
	if did, err := env.Drift(); err != nil {
		fmt.Fprintf(o.Stdout, "drift: %v\n", err)
	} else if out, err := env.DryRun(ctx); err != nil || out.Complete == nil || !out.Complete.OK {
		fmt.Fprintf(o.Stdout, "dry run failed: %v %s\n", err, out.Detail)
	} else {
		fmt.Fprintf(o.Stdout, "then the mock drifted (%s) and a dry run planned the next sync without writing (see the plan in /admin)\n", strings.Join(did, "; "))
	}
	fmt.Fprintf(o.Stdout, "\nopen %s/admin (API key for other routes: %s…); Ctrl-C to stop\n", env.BaseURL, env.APIKey[:6])
	<-ctx.Done()
	return nil
}

// RunStagesDirect runs stages on a Syncer without HTTP (proxboxd sync).
func RunStagesDirect(ctx context.Context, s proxbox.Syncer, stages []proxbox.Stage, params proxbox.StageParams, log *slog.Logger) (map[string]any, bool) {
	ok := true
	var out []map[string]any
	start := time.Now()
	for _, st := range stages {
		d, _ := contract.Lookup(st)
		p := d.AllParams(params)
		t0 := time.Now()
		res, err := s.RunStage(ctx, proxbox.StageRequest{Stage: st, Params: p}, func(proxbox.Event) {})
		cp := pbhttp.CompleteFromResult(st, res)
		if err != nil {
			cp.OK, cp.Message = false, err.Error()
		}
		log.Info("stage finished", "stage", string(st), "ok", cp.OK, "message", cp.Message, "duration_s", time.Since(t0).Seconds())
		out = append(out, map[string]any{"stage": string(st), "ok": cp.OK, "message": cp.Message, "result": cp.Result, "duration_s": time.Since(t0).Seconds()})
		if !cp.OK {
			ok = false
			break
		}
	}
	return map[string]any{"ok": ok, "dry_run": params.DryRun, "duration_s": time.Since(start).Seconds(), "stages": out}, ok
}
