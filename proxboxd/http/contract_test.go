package http_test

// Contract suite: replays the requests the netbox-proxbox plugin makes
// (plugin-contract.md §2-§5, §12) with its paths, parameters (including
// Python's "True"), headers and bodies, and asserts the status codes and
// every JSON field the plugin reads.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
	"github.com/proxbox-go/proxbox/proxboxd/demo"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// pluginKey mimics secrets.token_urlsafe(48): 64 URL-safe characters.
const pluginKey = "Zm9vYmFyYmF6cXV4LXByb3hib3gtcGx1Z2luLWtleS0wMTIzNDU2Nzg5YWJjZGVm"

func TestContractBootstrap(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, false)
	noKey := map[string]string{pbhttp.HeaderAPIKey: ""}

	// K1: GET / without auth, any 2xx.
	code, _ := e.do("GET", "/", nil, noKey)
	require.Equal(t, 2, code/100, "K1 GET / = %d", code)
	// A1: needs_bootstrap (bool), has_db_keys (bool).
	code, b := e.do("GET", "/auth/bootstrap-status", nil, noKey)
	require.Equal(t, 200, code, "A1: %s", b)
	st := mustJSON[map[string]any](t, b)
	assert.Equal(t, true, st["needs_bootstrap"], "A1")
	assert.Equal(t, false, st["has_db_keys"], "A1")
	// Before any key: 401 whose detail names "API key" (plugin §1.5 retry).
	code, b = e.do("GET", "/netbox/endpoint", nil, noKey)
	require.Equal(t, 401, code, "pre-bootstrap: %s", b)
	assert.Contains(t, mustJSON[map[string]any](t, b)["detail"], "API key", "pre-bootstrap")
	// A2: short key 400, first 201, then 409.
	code, _ = e.do("POST", "/auth/register-key", map[string]string{"api_key": "short", "label": "x"}, noKey)
	require.Equal(t, 400, code, "A2 short")
	code, b = e.do("POST", "/auth/register-key", map[string]string{"api_key": pluginKey, "label": "netbox-fastapi-1"}, noKey)
	require.Equal(t, 201, code, "A2: %s", b)
	code, _ = e.do("POST", "/auth/register-key", map[string]string{"api_key": pluginKey + "x", "label": "ProxBox Endpoint"}, noKey)
	require.Equal(t, 409, code, "A2 again")
	code, b = e.do("GET", "/auth/bootstrap-status", nil, noKey)
	require.Equal(t, 200, code, "A1 after: %s", b)
	st = mustJSON[map[string]any](t, b)
	assert.Equal(t, false, st["needs_bootstrap"], "A1 after")
	assert.Equal(t, true, st["has_db_keys"], "A1 after")
	// A3: GET /auth/keys with H -> 200; a wrong key -> 401 "API key".
	e.key = pluginKey
	code, b = e.do("GET", "/auth/keys", nil, nil)
	require.Equal(t, 200, code, "A3: %s", b)
	keys := mustJSON[map[string][]map[string]any](t, b)["keys"]
	require.Len(t, keys, 1, "A3: %s", b)
	assert.Equal(t, "netbox-fastapi-1", keys[0]["label"])
	assert.Equal(t, true, keys[0]["is_active"])
	assert.NotContains(t, string(b), "hash", "key listing leaks")
	assert.NotContains(t, string(b), pluginKey, "key listing leaks")
	code, b = e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: "wrong-key-wrong-key-wrong-key-wrong-key"})
	require.Equal(t, 401, code, "A3 wrong: %s", b)
	assert.Contains(t, string(b), "API key", "A3 wrong")
	// /health and /version with H (exempt anyway); version >= 0.0.15.
	code, b = e.do("GET", "/health", nil, nil)
	require.Equal(t, 200, code, "health: %s", b)
	h := mustJSON[map[string]any](t, b)
	assert.Equal(t, "ready", h["status"])
	assert.Equal(t, true, h["init_ok"])
	code, b = e.do("GET", "/version", nil, nil)
	require.Equal(t, 200, code, "version: %s", b)
	v := mustJSON[map[string]any](t, b)["version"].(string)
	assert.True(t, versionAtLeast(v, 0, 0, 15), "version %s", v)
	// O2: /openapi.json fields the plugin summarises.
	code, b = e.do("GET", "/openapi.json", nil, nil)
	require.Equal(t, 200, code, "openapi")
	doc := mustJSON[map[string]any](t, b)
	info := doc["info"].(map[string]any)
	comps := doc["components"].(map[string]any)
	sec := comps["securitySchemes"].(map[string]any)["APIKeyHeader"].(map[string]any)
	paths := doc["paths"].(map[string]any)
	assert.True(t, strings.HasPrefix(doc["openapi"].(string), "3."), "openapi %v", doc["openapi"])
	assert.NotEmpty(t, info["title"])
	assert.Equal(t, pbhttp.Version, info["version"])
	assert.Equal(t, "apiKey", sec["type"])
	assert.Equal(t, "header", sec["in"])
	assert.Equal(t, pbhttp.HeaderAPIKey, sec["name"])
	assert.GreaterOrEqual(t, len(paths), 60, "paths")
	get := paths["/dcim/devices/create/stream"].(map[string]any)["get"].(map[string]any)
	assert.NotEmpty(t, get["operationId"], "openapi op")
	assert.NotEmpty(t, get["tags"], "openapi op")
	assert.NotNil(t, get["responses"], "openapi op")
	assert.NotNil(t, get["parameters"], "openapi op")
	// revoking the key: 401 afterwards; re-activating works.
	id := strconv.Itoa(int(keys[0]["id"].(float64)))
	code, _ = e.do("POST", "/auth/keys", map[string]string{"label": "second"}, nil)
	require.Equal(t, 201, code, "create key")
	code, _ = e.do("POST", "/auth/keys/"+id+"/deactivate", nil, nil)
	require.Equal(t, 200, code, "deactivate")
	code, _ = e.do("GET", "/auth/keys", nil, nil)
	require.Equal(t, 401, code, "revoked key still works")
}

func versionAtLeast(v string, a, b, c int) bool {
	var p [3]int
	for i, f := range strings.SplitN(v, ".", 3) {
		p[i], _ = strconv.Atoi(strings.TrimFunc(f, func(r rune) bool { return r < '0' || r > '9' }))
	}
	if p[0] != a {
		return p[0] > a
	}
	if p[1] != b {
		return p[1] > b
	}
	return p[2] >= c
}

func TestContractEndpointPush(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	// N1: list (empty) must be a JSON list.
	code, b := e.do("GET", "/netbox/endpoint", nil, nil)
	require.Equal(t, 200, code, "N1")
	require.Equal(t, "[]", string(bytes.TrimSpace(b)), "N1")
	nbBody := map[string]any{"name": "NetBox Endpoint", "ip_address": "127.0.0.1", "domain": "", "port": 443, "verify_ssl": true,
		"token_version": "v2", "token": "secret-v2-0123456789", "token_key": "abcdef12345"}
	// N3: POST -> 200/201.
	code, b = e.do("POST", "/netbox/endpoint", nbBody, nil)
	require.Contains(t, []int{200, 201}, code, "N3: %s", b)
	code, b = e.do("GET", "/netbox/endpoint", nil, nil)
	require.Equal(t, 200, code, "N1")
	list := mustJSON[[]map[string]any](t, b)
	require.Len(t, list, 1, "N1: %s", b)
	for _, f := range []string{"id", "name", "ip_address", "domain", "port", "token_version", "verify_ssl"} {
		assert.Contains(t, list[0], f, "N1 item")
	}
	assert.NotContains(t, string(b), "secret-v2", "secret returned")
	assert.NotContains(t, string(b), "abcdef12345", "secret returned")
	// N2: PUT existing[0].id with the same body, then a changed body.
	id := strconv.Itoa(int(list[0]["id"].(float64)))
	nbBody["name"] = "NetBox Renamed"
	code, b = e.do("PUT", "/netbox/endpoint/"+id, nbBody, nil)
	require.Contains(t, []int{200, 201}, code, "N2: %s", b)
	// A second POST (plugin race) updates the single row.
	code, _ = e.do("POST", "/netbox/endpoint", nbBody, nil)
	require.Equal(t, 200, code, "N3 again")
	_, b = e.do("GET", "/netbox/endpoint", nil, nil)
	require.Len(t, mustJSON[[]map[string]any](t, b), 1, "more than one NetBox endpoint: %s", b)

	// P1-P3 for ProxmoxEndpoint pk 7.
	pxBody := map[string]any{"name": "pve-lab (nb:7)", "ip_address": "10.0.0.5", "domain": nil, "port": 8006, "username": "root@pam",
		"password": nil, "verify_ssl": false, "token_name": "proxbox", "token_value": "token-secret-uuid"}
	upsert := func(body map[string]any) int {
		code, b := e.do("GET", "/proxmox/endpoints", nil, nil)
		require.Equal(t, 200, code, "P1")
		var id int
		for _, it := range mustJSON[[]map[string]any](t, b) {
			if it["name"] == body["name"] {
				id = int(it["id"].(float64))
			}
		}
		if id != 0 {
			code, b = e.do("PUT", "/proxmox/endpoints/"+strconv.Itoa(id), body, nil)
		} else {
			code, b = e.do("POST", "/proxmox/endpoints", body, nil)
		}
		require.Equal(t, 2, code/100, "P2/P3 = %d %s", code, b)
		assert.NotContains(t, string(b), "token-secret", "secret returned")
		return int(mustJSON[map[string]any](t, b)["id"].(float64))
	}
	id1 := upsert(pxBody)
	assert.Equal(t, id1, upsert(pxBody), "upsert created a second row")
	// A rename in NetBox (same pk) updates the row instead of leaving a stale one.
	pxBody["name"] = "pve-renamed (nb:7)"
	assert.Equal(t, id1, upsert(pxBody), "rename created a new row")
	_, b = e.do("GET", "/proxmox/endpoints", nil, nil)
	assert.Len(t, mustJSON[[]map[string]any](t, b), 1, "rows after rename")
	// neither password nor token pair -> 400
	bad := map[string]any{"name": "x (nb:9)", "ip_address": "10.0.0.9", "port": 8006, "username": "root@pam", "password": nil, "token_name": "t", "token_value": nil}
	code, _ = e.do("POST", "/proxmox/endpoints", bad, nil)
	assert.Equal(t, 400, code, "no credentials")
}

// TestContractStageStreams replays every stage path of §4 (and the per-VM
// variants) with the plugin's query and applies the plugin's SSE rules.
func TestContractStageStreams(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	base := url.Values{"use_guest_agent_interface_name": {"true"}, "fetch_max_concurrency": {"8"},
		"ignore_ipv6_link_local_addresses": {"false"}, "primary_ip_preference": {"ipv6"},
		"proxmox_endpoint_ids": {"3,4"}, "netbox_endpoint_ids": {"1"}, "some_future_param": {"x"}}
	for _, d := range contract.Stages {
		st := d.ID
		q := d.AllQuery(base)
		// the plugin's path has no leading slash joined as f"{url}/{path}"
		out := runStream(t, e, e.ts.URL+"/"+strings.TrimPrefix(d.Path, "/")+"?"+q.Encode())
		require.Equal(t, 200, out.Status, "%s: %s", st, out.Detail)
		assertStream(t, st, out)
		req := e.fake.last()
		p := req.Params
		assert.Equal(t, st, req.Stage)
		assert.True(t, p.UseGuestAgentInterfaceName, "%s: use_guest_agent_interface_name", st)
		assert.False(t, p.IgnoreIPv6LinkLocal, "%s: ignore_ipv6_link_local_addresses", st)
		assert.Equal(t, "ipv6", p.PrimaryIPPreference, "%s", st)
		assert.Equal(t, 8, p.FetchMaxConcurrency, "%s", st)
		assert.Equal(t, []int{3, 4}, p.ProxmoxEndpointIDs, "%s", st)
		assert.Equal(t, []int{1}, p.NetBoxEndpointIDs, "%s", st)
		switch st {
		case proxbox.StageVirtualMachines:
			assert.False(t, p.SyncVMNetwork, "sync_vm_network=false not honoured")
		case proxbox.StageVMBackups:
			assert.True(t, p.DeleteNonexistentBackup, "delete_nonexistent_backup=True not parsed")
		case proxbox.StageVMSnapshots:
			assert.True(t, p.DeleteNonexistentSnapshot, "delete_nonexistent_snapshot=True not parsed")
		}
	}
	for _, d := range contract.Stages {
		if d.VMPath == "" {
			continue
		}
		st := d.ID
		u := e.ts.URL + d.PathForVM(42) + "?netbox_vm_ids=42&delete_nonexistent_backup=True&dry_run=TRUE"
		out := runStream(t, e, u)
		require.Equal(t, 200, out.Status, "%s per-VM: %s", st, out.Detail)
		assertStream(t, st, out)
		req := e.fake.last()
		assert.Equal(t, 42, req.VMID, "per-VM request")
		assert.Equal(t, []int{42}, req.Params.NetBoxVMIDs, "per-VM request")
		assert.True(t, req.Params.DryRun, "per-VM request")
	}
	// ok:false -> the plugin's 503 with errors[0].detail.
	e.fake.mu.Lock()
	e.fake.fail[proxbox.StageStorage] = "storage exploded"
	e.fake.errOn[proxbox.StageDevices] = context.DeadlineExceeded
	e.fake.mu.Unlock()
	out := runStream(t, e, e.ts.URL+stagePath(proxbox.StageStorage))
	assert.Equal(t, 503, out.Status, "failing stage")
	assert.Equal(t, "storage exploded", out.Detail, "failing stage")
	require.NotNil(t, out.Complete, "failing stage")
	assert.Len(t, out.Complete.Errors, 2, "failing stage")
	out = runStream(t, e, e.ts.URL+stagePath(proxbox.StageDevices))
	assert.Equal(t, 503, out.Status, "erroring stage")
	assert.Equal(t, 1, countEvents(out, "error"), "erroring stage")
	assert.Equal(t, 1, countEvents(out, "complete"), "erroring stage")
	// malformed known param -> 422 before streaming (not retried by the plugin)
	code, _ := e.do("GET", stagePath(proxbox.StageDevices)+"?fetch_max_concurrency=abc", nil, nil)
	assert.Equal(t, 422, code, "bad param")
	// no Accept header is required (the plugin sends none) and the headers keep proxies from buffering.
	req, err := http.NewRequest("GET", e.ts.URL+stagePath(proxbox.StageReplications), nil)
	require.NoError(t, err)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"), "stream headers: %v", resp.Header)
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"), "stream headers")
	assert.Contains(t, resp.Header.Get("Cache-Control"), "no-cache", "stream headers")
	// run history is stored
	runs, err := e.store.ListRuns(context.Background(), 100)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(runs), 16, "runs")
}

// streamRun is a stage stream as the plugin read it, with its frames.
type streamRun struct {
	contract.Outcome
	Frames []contract.Frame
}

// runStream reads a stage stream with the plugin's rules.
func runStream(t *testing.T, e *env, u string) streamRun {
	t.Helper()
	var r streamRun
	r.Outcome = contract.Run(context.Background(), e.client, u, e.key, func(f contract.Frame) { r.Frames = append(r.Frames, f) })
	require.NoError(t, r.Invalid, "invalid complete")
	require.NoError(t, r.ReadErr, "stream broke off")
	return r
}

func countEvents(o streamRun, name string) int { return o.Events[name] }

func assertStream(t *testing.T, st proxbox.Stage, out streamRun) {
	t.Helper()
	require.Equal(t, 1, countEvents(out, "complete"), "%s: complete frames", st)
	require.Equal(t, "complete", out.Frames[len(out.Frames)-1].Event, "%s: complete is not last", st)
	c := out.Complete
	require.NotNil(t, c, "%s: complete", st)
	require.True(t, c.OK, "%s: complete %+v", st, c)
	require.NotEmpty(t, c.MessageText(), "%s: complete message", st)
	require.NotNil(t, c.ResultMap(), "%s: complete result", st)
	assert.IsType(t, map[string]any{}, c.ResultMap()["counts"], "%s: result.counts", st)
	for _, ev := range []string{"step", "discovery", "item_progress", "phase_summary"} {
		assert.Positive(t, countEvents(out, ev), "%s: no %s frame", st, ev)
	}
}

func TestContractIndividualAndLogs(t *testing.T) {
	e := newEnv(t, pbhttp.Config{CORSOrigins: []string{"https://netbox.example.com"}, PublicLogs: true}, true)
	// batch virtual-machine
	code, b := e.do("GET", "/sync/individual/vm?cluster_name=lab&node=pve1&type=qemu&vmid=100", nil, nil)
	require.Equal(t, 200, code, "vm: %s", b)
	r := mustJSON[map[string]any](t, b)
	assert.Equal(t, "created", r["action"])
	assert.Nil(t, r["error"])
	deps, _ := r["dependencies_synced"].([]any)
	require.Len(t, deps, 1, "dependencies_synced must be a list of objects: %s", b)
	assert.NotNil(t, deps[0].(map[string]any)["action"], "dependencies_synced[0]")
	assert.Equal(t, "cluster", deps[0].(map[string]any)["object_type"], "dependencies_synced[0]")
	for _, f := range []string{"object_type", "proxmox_resource", "netbox_object", "dry_run"} {
		assert.Contains(t, r, f)
	}
	// vm-task-history sends vm_type instead of type
	code, b = e.do("GET", "/sync/individual/task-history?node=pve1&vm_type=lxc&vmid=120&cluster_name=lab&upid=UPID:x", nil, nil)
	require.Equal(t, 200, code, "task-history vm_type: %s", b)
	e.fake.mu.Lock()
	got := e.fake.indiv[len(e.fake.indiv)-1]
	e.fake.mu.Unlock()
	assert.Equal(t, "lxc", got.Query["type"], "vm_type alias")
	for _, p := range []string{
		"/sync/individual/backup?cluster_name=lab&node=pve1&storage=local&vmid=100&volid=local:backup/x",
		"/sync/individual/snapshot?cluster_name=lab&node=pve1&type=qemu&vmid=100&snapshot_name=s1&storage_name=local",
		"/sync/individual/storage?cluster_name=lab&storage_name=local",
		"/sync/individual/cluster?cluster_name=lab", "/sync/individual/node?cluster_name=lab&node_name=pve1",
		"/sync/individual/interface?cluster_name=lab&node=pve1&type=qemu&vmid=100&interface_name=net0",
		"/sync/individual/ip?cluster_name=lab&node=pve1&type=qemu&vmid=100&ip_address=10.0.0.1",
		"/sync/individual/disk?cluster_name=lab&node=pve1&type=qemu&vmid=100&disk_name=scsi0",
		"/sync/individual/replication?cluster_name=lab&replication_id=100-0",
	} {
		code, b := e.do("GET", p, nil, nil)
		assert.Equal(t, 200, code, "%s: %s", p, b)
	}
	code, _ = e.do("GET", "/sync/individual/vm?cluster_name=lab", nil, nil)
	assert.Equal(t, 422, code, "missing params")
	// Backend logs page: browser-direct, no key, CORS for the NetBox origin.
	hdr := map[string]string{pbhttp.HeaderAPIKey: "", "Origin": "https://netbox.example.com"}
	code, b = e.do("GET", "/admin/logs?errors_only=true&limit=200", nil, hdr)
	require.Equal(t, 200, code, "logs: %s", b)
	l := mustJSON[map[string]any](t, b)
	for _, f := range []string{"logs", "total", "has_more", "active_filters"} {
		assert.NotNil(t, l[f], "logs.%s", f)
	}
	code, h, _ := e.send("GET", "/admin/logs?level=INFO", nil, hdr)
	require.Equal(t, 200, code)
	assert.Equal(t, "https://netbox.example.com", h.Get("Access-Control-Allow-Origin"), "CORS header")
	code, _, _ = e.send("OPTIONS", "/admin/logs", nil, map[string]string{pbhttp.HeaderAPIKey: "", "Origin": "https://netbox.example.com",
		"Access-Control-Request-Method": "GET"})
	assert.Equal(t, 204, code, "preflight")
	// log stream: event `log`, read the way the plugin's page reads it (an
	// EventSource in the browser, no key, plugin-contract §2.9)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w := openEvents(t, e, ctx, "/admin/logs/stream?newer_than_id=0", map[string]string{"Origin": "https://netbox.example.com"})
	require.Eventually(t, func() bool { return len(w.snapshot()) > 0 }, 5*time.Second, 10*time.Millisecond, "no log frame")
	f := w.snapshot()[0]
	assert.Equal(t, "log", f.Event)
	assert.NotNil(t, f.Data["message"], "log frame %+v", f)
	assert.NotNil(t, f.Data["id"], "log frame %+v", f)
	assert.Equal(t, fmt.Sprint(f.Data["id"]), f.ID, "the frame's id is the line's")
}

func TestContractWebSocket(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	wsURL := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	require.NoError(t, err)
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(`{"api_key": "nope-nope-nope-nope-nope-nope-nope-nope"}`)))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce, "bad key")
	assert.Equal(t, pbhttp.WSCloseAuth, ce.Code, "bad key")
	c.Close()
	c, _, err = websocket.DefaultDialer.Dial(wsURL, nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteJSON(map[string]string{"api_key": testKey}))
	for _, want := range []string{"Connected!", "Connected 2!"} {
		_, m, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, string(m))
	}
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("Bogus")))
	_, m, err := c.ReadMessage()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(m), "Invalid command: Bogus"), "got %q", m)
}

// TestContractProxmoxReads runs the dashboard, card, keepalive, storage and
// VM-config calls against pvemock (S100) behind proxboxd.
func TestContractProxmoxReads(t *testing.T) {
	if testing.Short() {
		t.Skip("pvemock env")
	}
	ctx := context.Background()
	env, err := demo.Start(ctx, demo.Options{NewEngine: func(proxbox.Connector) proxbox.Syncer { return newFake() }})
	require.NoError(t, err)
	defer env.Close()
	e := &env2{t: t, base: env.BaseURL, key: env.APIKey}
	ip := "127.0.0.1"
	sel := "source=database&ip_address=" + ip
	// K3 / C1: list whose [0] is a dict whose first value is a dict.
	var ver []map[string]map[string]any
	e.getJSON("/proxmox/version?"+sel, &ver)
	require.Len(t, ver, 1, "version: %v", ver)
	for _, v := range ver[0] {
		for _, f := range []string{"version", "release", "repoid"} {
			assert.NotNil(t, v[f], "version dict: %v", v)
		}
	}
	// C2: sessions[0] with mode
	var sess []map[string]any
	e.getJSON("/proxmox/sessions?"+sel, &sess)
	require.Len(t, sess, 1, "sessions: %v", sess)
	assert.Equal(t, "cluster", sess[0]["mode"])
	assert.Equal(t, "lab", sess[0]["name"])
	for _, f := range []string{"ip_address", "domain", "http_port", "user", "name", "mode"} {
		assert.Contains(t, sess[0], f, "sessions")
	}
	// D2 with and without selector (job cluster sync sends none)
	for _, q := range []string{"?" + sel, ""} {
		var recs []map[string]any
		e.getJSON("/proxmox/cluster/status"+q, &recs)
		clusters, nodes := 0, 0
		for _, r := range recs {
			switch r["type"] {
			case "cluster":
				clusters++
				assert.Equal(t, "lab", r["name"], "cluster record")
				for _, f := range []string{"quorate", "nodes", "version"} {
					assert.NotNil(t, r[f], "cluster record %v", r)
				}
			case "node":
				nodes++
				for _, f := range []string{"name", "nodeid", "ip", "online"} {
					assert.Contains(t, r, f, "node record")
				}
			}
		}
		assert.Equal(t, 1, clusters, "cluster/status clusters")
		assert.Equal(t, 3, nodes, "cluster/status nodes")
	}
	// D3: resources: scalar records with type/status/vmid/name/node/maxcpu/maxmem/maxdisk
	var res []map[string][]map[string]any
	e.getJSON("/proxmox/cluster/resources?"+sel, &res)
	guests := 0
	for _, r := range res[0]["lab"] {
		if r["type"] == "qemu" || r["type"] == "lxc" {
			guests++
			for _, f := range []string{"status", "vmid", "name", "node", "maxcpu", "maxmem", "maxdisk"} {
				assert.Contains(t, r, f, "resource")
			}
		}
	}
	assert.Equal(t, 100, guests, "guests")
	// D4: /proxmox/nodes/ (trailing slash): flat node records
	var nodes []map[string]any
	e.getJSON("/proxmox/nodes/?"+sel, &nodes)
	require.Len(t, nodes, 3, "nodes")
	for _, f := range []string{"node", "status", "cpu", "maxcpu", "mem", "maxmem", "uptime"} {
		assert.Contains(t, nodes[0], f, "node")
	}
	e.getJSON("/proxmox/nodes/", &nodes) // no selector
	// storage page
	var stor []map[string][]map[string]any
	e.getJSON("/proxmox/storage?source=database", &stor)
	require.Len(t, stor, 1, "storage: %v", stor)
	require.NotEmpty(t, stor[0]["lab"], "storage: %v", stor)
	var backupStore string
	for _, s := range stor[0]["lab"] {
		for _, f := range []string{"storage", "name", "cluster", "type", "content", "shared", "enabled"} {
			assert.Contains(t, s, f, "storage")
		}
		if strings.Contains(s["content"].(string), "backup") {
			backupStore = s["name"].(string)
		}
	}
	var content []map[string]any
	e.getJSON("/proxmox/nodes/pve1/storage/"+backupStore+"/content?source=database", &content)
	assert.NotEmpty(t, content, "content on %s", backupStore)
	// VM config tab
	node, kind, _ := env.Mock.GuestNode(100)
	var cfg map[string]any
	e.getJSON("/proxmox/"+node+"/"+kind+"/100/config?source=database&name="+url.QueryEscape("lab (nb:1)"), &cfg)
	assert.NotNil(t, cfg["name"], "config: %v", cfg)
	assert.NotNil(t, cfg["memory"], "config: %v", cfg)
	assert.Equal(t, 400, e.status("/proxmox/"+node+"/bogus/100/config?source=database"), "bad type")
	// unknown selector -> 400
	assert.Equal(t, 400, e.status("/proxmox/version?source=database&domain=nope.example"), "unknown domain")
	// api2 passthrough: reads pass, writes refused, traversal refused
	var v map[string]any
	e.getJSON("/proxmox/api2/version", &v)
	assert.NotNil(t, v["version"], "api2: %v", v)
	assert.Equal(t, 403, e.statusMethod("POST", "/proxmox/api2/nodes/pve1/qemu/100/status/stop"), "api2 write")
	for _, p := range []string{"/proxmox/api2/nodes/..%2f..%2faccess", "/proxmox/api2/nodes/%2e%2e/x", "/proxmox/api2/"} {
		assert.Contains(t, []int{400, 404}, e.status(p), "api2 %s", p)
	}
}

type env2 struct {
	t         *testing.T
	base, key string
}

func (e *env2) statusMethod(method, p string) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+p, nil)
	require.NoError(e.t, err)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env2) status(p string) int { return e.statusMethod("GET", p) }

func (e *env2) getJSON(p string, out any) {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.base+p, nil)
	require.NoError(e.t, err)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, 200, resp.StatusCode, "GET %s: %s", p, buf.String())
	require.NoError(e.t, json.Unmarshal(buf.Bytes(), out), "GET %s: %s", p, buf.String())
}

// TestContractFirewallAndCPUModels: the reads of the plugin job's local
// reconciliation (services/sync_firewall.py, sync_datacenter.py), scoped the
// way the plugin scopes them (backend endpoint ids).
func TestContractFirewallAndCPUModels(t *testing.T) {
	if testing.Short() {
		t.Skip("pvemock env")
	}
	ctx := context.Background()
	env, err := demo.Start(ctx, demo.Options{NewEngine: func(proxbox.Connector) proxbox.Syncer { return newFake() }})
	require.NoError(t, err)
	defer env.Close()
	e := &env2{t: t, base: env.BaseURL, key: env.APIKey}
	var eps []map[string]any
	e.getJSON("/proxmox/endpoints", &eps)
	require.Len(t, eps, 1, "endpoints: %v", eps)
	scope := fmt.Sprintf("?source=database&proxmox_endpoint_ids=%v", eps[0]["id"])
	var fw []map[string]any
	e.getJSON("/proxmox/firewall/summary"+scope, &fw)
	require.Len(t, fw, 1, "firewall summary: %v", fw)
	assert.Equal(t, "lab", fw[0]["cluster_name"], "firewall summary")
	for _, k := range []string{"security_groups", "rules", "ip_sets", "aliases"} {
		assert.IsType(t, []any{}, fw[0][k], "firewall summary %s is not a list", k)
	}
	assert.IsType(t, map[string]any{}, fw[0]["options"], "firewall options")
	groups, _ := fw[0]["security_groups"].([]any)
	for _, g := range groups {
		gm := g.(map[string]any)
		assert.NotNil(t, gm["name"], "security group without name: %v", gm)
		assert.NotNil(t, gm["rules"], "security group without rules: %v", gm)
	}
	var rules []map[string]any
	e.getJSON("/proxmox/firewall/nodes/pve1/rules"+scope, &rules)
	assert.Equal(t, http.StatusNotFound, e.status("/proxmox/firewall/nodes/nosuchnode/rules"+scope), "unknown node")
	assert.NotEqual(t, http.StatusOK, e.status("/proxmox/firewall/nodes/..%2f..%2fetc/rules"+scope), "path traversal in the node name")
	var cpus []map[string]any
	e.getJSON("/proxmox/datacenter/cpu-models"+scope, &cpus)
	for _, m := range cpus {
		assert.Equal(t, "lab", m["cluster_name"], "cpu model: %v", m)
		assert.NotEmpty(t, m["cputype"], "cpu model: %v", m)
	}
	assert.Equal(t, http.StatusBadRequest, e.status("/proxmox/firewall/summary?proxmox_endpoint_ids=x"), "bad proxmox_endpoint_ids")
}
