package http_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

func concretePath(p string) string {
	r := strings.NewReplacer(":id", "1", ":node", "pve1", ":storage", "local", ":type", "qemu", ":vmid", "100", ":cluster_name", "lab", "*", "version")
	return r.Replace(p)
}

// TestRouteWalk: every registered route except the exempt ones answers 401
// without a key, and 429 (with Retry-After) after five bad keys.
func TestRouteWalk(t *testing.T) {
	e := newEnv(t, pbhttp.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, PublicLogs: true}, true)
	exempt := map[string]bool{"/": true, "/health": true, "/version": true, "/openapi.json": true, "/auth/bootstrap-status": true,
		"/auth/register-key": true, "/ws": true, "/admin/logs": true, "/admin/logs/stream": true, "/admin/assets/:file": true}
	routes := e.srv.Routes()
	require.GreaterOrEqual(t, len(routes), 70, "routes")
	n := 0
	for i, r := range routes {
		if r.Path != "/admin/logs" && r.Path != "/admin/logs/stream" {
			require.Equal(t, exempt[r.Path], r.Exempt, "%s %s exempt", r.Method, r.Path)
		}
		if exempt[r.Path] {
			continue
		}
		n++
		p := concretePath(r.Path)
		client := fmt.Sprintf("198.51.100.%d", i%250+1)
		if i >= 250 {
			client = fmt.Sprintf("203.0.113.%d", i%250+1)
		}
		code, b := e.do(r.Method, p, nil, map[string]string{pbhttp.HeaderAPIKey: "", "X-Forwarded-For": client})
		require.Equal(t, 401, code, "%s %s without key: %s", r.Method, p, b)
		require.Contains(t, string(b), "API key", "%s %s", r.Method, p)
		for k := 0; k < 4; k++ { // 1 missing + 4 wrong = 5 failures
			code, _ := e.do(r.Method, p, nil, map[string]string{pbhttp.HeaderAPIKey: "bad-key-" + strconv.Itoa(k), "X-Forwarded-For": client})
			require.Equal(t, 401, code, "%s %s bad key", r.Method, p)
		}
		req, _ := http.NewRequest(r.Method, e.ts.URL+p, nil)
		req.Header.Set(pbhttp.HeaderAPIKey, testKey) // even the right key: locked out
		req.Header.Set("X-Forwarded-For", client)
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.Equal(t, 429, resp.StatusCode, "%s %s after five bad keys", r.Method, p)
		require.True(t, ra >= 1 && ra <= 300, "%s %s Retry-After %q", r.Method, p, resp.Header.Get("Retry-After"))
	}
	require.GreaterOrEqual(t, n, 60, "walked routes")
	// X-Forwarded-For from an untrusted peer is ignored: the peer itself is
	// now locked out? No: each route used a distinct forwarded address, so the
	// peer (127.0.0.1) is still fine.
	code, _ := e.do("GET", "/auth/keys", nil, nil)
	require.Equal(t, 200, code, "peer was locked out by forwarded clients")
}

func TestXFFIgnoredFromUntrustedPeer(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true) // no trusted proxies
	for i := 0; i < 5; i++ {
		e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: "bad", "X-Forwarded-For": fmt.Sprintf("192.0.2.%d", i)})
	}
	// the spoofed addresses did not help: the real peer is locked out
	code, _ := e.do("GET", "/auth/keys", nil, nil)
	require.Equal(t, 429, code, "spoofed XFF evaded the lockout")
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:1234"
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 10.0.0.9")
	tp := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	assert.Equal(t, "1.2.3.4", pbhttp.ClientIP(r, tp))
	assert.Equal(t, "10.0.0.2", pbhttp.ClientIP(r, nil), "untrusted peer")
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, pbhttp.Config{RateLimit: 60, RateBurst: 5}, true)
	got429 := false
	for i := 0; i < 10; i++ {
		code, _ := e.do("GET", "/netbox/endpoint", nil, nil)
		if code == 429 {
			got429 = true
		}
	}
	require.True(t, got429, "rate limit never tripped")
	// /health is never throttled
	code, _ := e.do("GET", "/health", nil, nil)
	require.Equal(t, 200, code, "health throttled")
	// the default tolerates a chatty plugin: 300 quick calls
	d := newEnv(t, pbhttp.Config{}, true)
	for i := 0; i < 300; i++ {
		code, _ := d.do("GET", "/proxmox/endpoints", nil, nil)
		require.Equal(t, 200, code, "default limit tripped at %d", i)
	}
}

// TestSecretsAtRest registers endpoints carrying tokens and passwords, then
// reads every row of every table of the raw database file (what `sqlite3
// .dump` prints), the file bytes, and the logs: no secret may appear.
func TestSecretsAtRest(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	require.NoError(t, err)
	fi, err := os.Stat(db + ".key")
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file mode")
	_ = st.Close()
	e := newEnvWithStore(t, db)
	secrets := []string{"NBTOKEN-v1-0123456789abcdef", "NBV2SECRET-abcdef", "PVEPASSWORD-s3cr3t", "PVETOKEN-uuid-1234", testKey}
	e.do("POST", "/netbox/endpoint", map[string]any{"name": "nb", "ip_address": "192.0.2.10", "port": 443, "token_version": "v1", "token": secrets[0]}, nil)
	id := "1"
	e.do("PUT", "/netbox/endpoint/"+id, map[string]any{"token_version": "v2", "token_key": "KEYID", "token": secrets[1]}, nil)
	e.do("POST", "/proxmox/endpoints", map[string]any{"name": "a (nb:1)", "ip_address": "192.0.2.11", "port": 8006, "username": "root@pam", "password": secrets[2]}, nil)
	e.do("POST", "/proxmox/endpoints", map[string]any{"name": "b (nb:2)", "ip_address": "192.0.2.12", "port": 8006, "username": "root@pam", "token_name": "tok", "token_value": secrets[3]}, nil)
	// exercise paths that log: listings, a failing read, a stream
	for _, p := range []string{"/netbox/endpoint", "/proxmox/endpoints", "/proxmox/version?source=database", "/admin/logs?limit=5000", "/admin/runs"} {
		_, b := e.do("GET", p, nil, nil)
		for _, s := range secrets {
			require.NotContains(t, string(b), s, "%s returns a secret", p)
		}
	}
	sseStatus(t, e, stagePath(proxbox.StageDevices))
	// stored secrets decrypt correctly
	eps, err := e.store.ListProxmoxEndpoints(ctx)
	require.NoError(t, err)
	require.Len(t, eps, 2)
	assert.Equal(t, secrets[2], eps[0].Password)
	assert.Equal(t, secrets[3], eps[1].TokenValue)
	// dump every table
	rows, err := e.store.DB().QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type='table'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var dump strings.Builder
	for _, tb := range tables {
		r, err := e.store.DB().QueryContext(ctx, `SELECT * FROM "`+tb+`"`)
		require.NoError(t, err)
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = r.Scan(ptrs...)
			fmt.Fprintf(&dump, "%s %v\n", tb, vals)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			fmt.Fprintf(&dump, "%s %v\n", tb, vals)
		}
		r.Close()
	}
	_ = e.store.Close()
	raw, _ := os.ReadFile(db)
	wal, _ := os.ReadFile(db + "-wal")
	logs := e.logText()
	for _, s := range secrets {
		for what, hay := range map[string]string{"dump": dump.String(), "db file": string(raw), "wal": string(wal), "logs": logs} {
			require.NotContains(t, hay, s, "secret found in %s", what)
		}
	}
	require.Contains(t, dump.String(), "gcm1:", "no encrypted values in the dump")
	// the wrong key refuses to open the database
	_, err = sqlite.Open(ctx, db, sqlite.Options{EncryptionKey: "another"})
	require.Error(t, err, "wrong key accepted")
}

func sseStatus(t *testing.T, e *env, path string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
	}
	resp.Body.Close()
}

func newEnvWithStore(t *testing.T, db string) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	require.NoError(t, err)
	e2 := newEnvFrom(t, st, pbhttp.Config{})
	code, _ := e2.do("POST", "/auth/register-key", map[string]string{"api_key": testKey}, nil)
	require.Equal(t, 201, code, "register")
	e2.key = testKey
	return e2
}

// TestShutdownEndsStreams: a running stream gets error + complete on
// shutdown, and the stage sees its context cancelled.
func TestShutdownEndsStreams(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	e.fake.block = true
	req, _ := http.NewRequest("GET", e.ts.URL+stagePath(proxbox.StageDevices), nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	<-e.fake.started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = e.srv.Shutdown(ctx) }()
	body := readAll(t, resp)
	require.Equal(t, 1, strings.Count(body, "event: complete"), body)
	require.Contains(t, body, `"ok":false`)
	require.Contains(t, body, "Server shutdown")
	select {
	case <-e.fake.canceled:
	case <-ctx.Done():
		require.Fail(t, "stage not cancelled")
	}
}

// TestClientDisconnectCancels: closing the connection cancels the stage.
func TestClientDisconnectCancels(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	e.fake.block = true
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+stagePath(proxbox.StageStorage), nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	<-e.fake.started
	cancel()
	resp.Body.Close()
	select {
	case <-e.fake.canceled:
	case <-time.After(5 * time.Second):
		require.Fail(t, "stage kept running after the client left")
	}
}

func TestKeepAlive(t *testing.T) {
	e := newEnv(t, pbhttp.Config{KeepAlive: 150 * time.Millisecond}, true)
	e.fake.block = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+stagePath(proxbox.StageStorage), nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": keepalive" {
			return
		}
	}
	require.Fail(t, "no keepalive comment")
}

func TestPanickingStageCompletes(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	e.fake.panicOn = proxbox.StageVMDisks
	code, b := e.do("GET", stagePath(proxbox.StageVMDisks), nil, nil)
	require.Equal(t, 200, code)
	assert.Equal(t, 1, strings.Count(string(b), "event: complete"), string(b))
	assert.Contains(t, string(b), `"ok":false`)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
