package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// fakeSyncer records requests and emits a realistic event sequence.
type fakeSyncer struct {
	mu       sync.Mutex
	reqs     []proxbox.StageRequest
	indiv    []proxbox.IndividualRequest
	fail     map[proxbox.Stage]string // stage -> OK=false message
	errOn    map[proxbox.Stage]error  // stage -> returned error
	block    bool                     // wait for ctx
	gate     chan struct{}            // when set, wait for it after discovery
	started  chan struct{}
	panicOn  proxbox.Stage
	canceled chan struct{}
}

func newFake() *fakeSyncer {
	return &fakeSyncer{fail: map[proxbox.Stage]string{}, errOn: map[proxbox.Stage]error{}, started: make(chan struct{}, 16), canceled: make(chan struct{}, 16)}
}

func (f *fakeSyncer) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	failMsg, fails := f.fail[req.Stage]
	err := f.errOn[req.Stage]
	block, gate := f.block, f.gate
	f.mu.Unlock()
	select {
	case f.started <- struct{}{}:
	default:
	}
	if req.Stage == f.panicOn && f.panicOn != "" {
		panic("boom")
	}
	emit(proxbox.Event{Name: "step", Data: map[string]any{"step": string(req.Stage), "status": "started", "message": "Starting " + string(req.Stage) + "\nwith a newline"}})
	emit(proxbox.Event{Name: "discovery", Data: map[string]any{"event": "discovery", "phase": string(req.Stage), "status": "discovered", "count": 2, "message": "Discovered 2"}})
	emit(proxbox.Event{Name: "complete", Data: map[string]any{"ok": "not-a-bool"}}) // must be swallowed
	if block {
		<-ctx.Done()
		select {
		case f.canceled <- struct{}{}:
		default:
		}
		return nil, ctx.Err()
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	emit(proxbox.Event{Name: "item_progress", Data: map[string]any{"event": "item_progress", "phase": string(req.Stage), "status": "completed", "progress": map[string]any{"current": 1, "total": 2}}})
	emit(proxbox.Event{Name: "phase_summary", Data: map[string]any{"event": "phase_summary", "phase": string(req.Stage), "status": "completed", "result": map[string]any{"created": 1, "failed": 0}}})
	emit(proxbox.Event{Name: "step", Data: map[string]any{"step": string(req.Stage), "status": "completed", "message": "done", "result": map[string]any{"count": 2}}})
	res := &proxbox.StageResult{Stage: req.Stage, OK: !fails, Message: failMsg,
		Counts: map[string]*proxbox.Counts{"virtualization.virtualmachine": {Created: 1, Unchanged: 1}}}
	if fails {
		res.Failures = []proxbox.ItemFailure{{ObjectType: "virtualization.virtualmachine", Name: "vm1", Detail: "bad"}}
	}
	return res, nil
}

func (f *fakeSyncer) SyncIndividual(_ context.Context, req proxbox.IndividualRequest) (*proxbox.IndividualResult, error) {
	f.mu.Lock()
	f.indiv = append(f.indiv, req)
	f.mu.Unlock()
	return &proxbox.IndividualResult{ObjectType: req.Kind, Action: "created", ProxmoxResource: map[string]any{"vmid": 100},
		DryRun: req.Params.DryRun, DependenciesSynced: []string{"cluster"}}, nil
}

func (f *fakeSyncer) last() proxbox.StageRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

type env struct {
	t      *testing.T
	srv    *pbhttp.Server
	ts     *httptest.Server
	store  *sqlite.Store
	fake   *fakeSyncer
	logs   *bytes.Buffer
	logMu  *sync.Mutex
	ring   *pbhttp.LogBuffer // what /admin/logs serves
	log    *slog.Logger      // the server's logger (into ring and logs)
	key    string
	client *http.Client
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

const testKey = "test-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"

// newEnv starts proxboxd on an in-memory store with a fake syncer; register
// controls whether testKey is registered.
func newEnv(t *testing.T, cfg pbhttp.Config, register bool) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	e := newEnvFrom(t, st, cfg)
	if register {
		code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey, "label": "t"}, nil)
		require.Equal(t, 201, code, "register")
		e.key = testKey
	}
	return e
}

// newEnvFrom starts proxboxd over st with a fake syncer; opts may change the
// dependencies.
func newEnvFrom(t *testing.T, st *sqlite.Store, cfg pbhttp.Config, opts ...func(*pbhttp.Deps)) *env {
	t.Helper()
	buf := &bytes.Buffer{}
	mu := &sync.Mutex{}
	logs := pbhttp.NewLogBuffer(1000)
	log := slog.New(logs.Handler(slog.NewTextHandler(lockedWriter{mu, buf}, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: pbhttp.Redact})))
	fake := newFake()
	conn := connector.New(st, connector.Options{Logger: log})
	d := pbhttp.Deps{Store: st, Syncer: fake, Connector: conn, Logger: log, Logs: logs}
	for _, o := range opts {
		o(&d)
	}
	srv := pbhttp.New(cfg, d)
	ts := httptest.NewServer(srv.Handler())
	e := &env{t: t, srv: srv, ts: ts, store: st, fake: fake, logs: buf, logMu: mu, ring: logs, log: log, client: ts.Client()}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		ts.Close()
		_ = st.Close()
	})
	return e
}

func (e *env) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// do sends a request; body may be nil, a []byte (raw) or a value (JSON).
// headers: extra headers. It returns the status and the body.
func (e *env) do(method, path string, body any, hdr map[string]string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	h := map[string]string{}
	if body != nil {
		h["Content-Type"] = "application/json"
	}
	for k, v := range hdr {
		h[k] = v
	}
	code, _, b := e.send(method, path, rd, h)
	return code, []byte(b)
}

// send is do with a raw body that also returns the response headers. The
// API key is set; hdr values replace the defaults and an empty value removes
// the header.
func (e *env) send(method, path string, body io.Reader, hdr map[string]string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	require.NoError(e.t, err)
	if e.key != "" {
		req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func mustJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b, &v), "not JSON: %s", b)
	return v
}

// stagePath is the stream path of st.
func stagePath(st proxbox.Stage) string {
	d, _ := contract.Lookup(st)
	return d.Path
}
