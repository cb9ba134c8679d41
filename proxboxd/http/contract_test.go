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
	if code, _ := e.do("GET", "/", nil, noKey); code/100 != 2 {
		t.Fatalf("K1 GET / = %d", code)
	}
	// A1: needs_bootstrap (bool), has_db_keys (bool).
	code, b := e.do("GET", "/auth/bootstrap-status", nil, noKey)
	st := mustJSON[map[string]any](t, b)
	if code != 200 || st["needs_bootstrap"] != true || st["has_db_keys"] != false {
		t.Fatalf("A1 = %d %s", code, b)
	}
	// Before any key: 401 whose detail names "API key" (plugin §1.5 retry).
	code, b = e.do("GET", "/netbox/endpoint", nil, noKey)
	if code != 401 || !strings.Contains(mustJSON[map[string]any](t, b)["detail"].(string), "API key") {
		t.Fatalf("pre-bootstrap = %d %s", code, b)
	}
	// A2: short key 400, first 201, then 409.
	if code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": "short", "label": "x"}, noKey); code != 400 {
		t.Fatalf("A2 short = %d", code)
	}
	if code, b := e.do("POST", "/auth/register-key", map[string]string{"api_key": pluginKey, "label": "netbox-fastapi-1"}, noKey); code != 201 {
		t.Fatalf("A2 = %d %s", code, b)
	}
	if code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": pluginKey + "x", "label": "ProxBox Endpoint"}, noKey); code != 409 {
		t.Fatalf("A2 again = %d", code)
	}
	code, b = e.do("GET", "/auth/bootstrap-status", nil, noKey)
	st = mustJSON[map[string]any](t, b)
	if code != 200 || st["needs_bootstrap"] != false || st["has_db_keys"] != true {
		t.Fatalf("A1 after = %d %s", code, b)
	}
	// A3: GET /auth/keys with H -> 200; a wrong key -> 401 "API key".
	e.key = pluginKey
	code, b = e.do("GET", "/auth/keys", nil, nil)
	keys := mustJSON[map[string][]map[string]any](t, b)["keys"]
	if code != 200 || len(keys) != 1 || keys[0]["label"] != "netbox-fastapi-1" || keys[0]["is_active"] != true {
		t.Fatalf("A3 = %d %s", code, b)
	}
	if strings.Contains(string(b), "hash") || strings.Contains(string(b), pluginKey) {
		t.Fatalf("key listing leaks: %s", b)
	}
	code, b = e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: "wrong-key-wrong-key-wrong-key-wrong-key"})
	if code != 401 || !strings.Contains(string(b), "API key") {
		t.Fatalf("A3 wrong = %d %s", code, b)
	}
	// /health and /version with H (exempt anyway); version >= 0.0.15.
	code, b = e.do("GET", "/health", nil, nil)
	h := mustJSON[map[string]any](t, b)
	if code != 200 || h["status"] != "ready" || h["init_ok"] != true {
		t.Fatalf("health = %d %s", code, b)
	}
	code, b = e.do("GET", "/version", nil, nil)
	v := mustJSON[map[string]any](t, b)["version"].(string)
	if code != 200 || !versionAtLeast(v, 0, 0, 15) {
		t.Fatalf("version = %d %s", code, b)
	}
	// O2: /openapi.json fields the plugin summarises.
	code, b = e.do("GET", "/openapi.json", nil, nil)
	doc := mustJSON[map[string]any](t, b)
	info := doc["info"].(map[string]any)
	comps := doc["components"].(map[string]any)
	sec := comps["securitySchemes"].(map[string]any)["APIKeyHeader"].(map[string]any)
	paths := doc["paths"].(map[string]any)
	if code != 200 || !strings.HasPrefix(doc["openapi"].(string), "3.") || info["title"] == "" || info["version"] != pbhttp.Version ||
		sec["type"] != "apiKey" || sec["in"] != "header" || sec["name"] != pbhttp.HeaderAPIKey || len(paths) < 60 {
		t.Fatalf("openapi = %d (paths %d)", code, len(paths))
	}
	get := paths["/dcim/devices/create/stream"].(map[string]any)["get"].(map[string]any)
	if get["operationId"] == "" || len(get["tags"].([]any)) == 0 || get["responses"] == nil || get["parameters"] == nil {
		t.Fatalf("openapi op = %v", get)
	}
	// revoking the key: 401 afterwards; re-activating works.
	id := strconv.Itoa(int(keys[0]["id"].(float64)))
	if code, _ := e.do("POST", "/auth/keys", map[string]string{"label": "second"}, nil); code != 201 {
		t.Fatalf("create key = %d", code)
	}
	if code, _ := e.do("POST", "/auth/keys/"+id+"/deactivate", nil, nil); code != 200 {
		t.Fatalf("deactivate = %d", code)
	}
	if code, _ := e.do("GET", "/auth/keys", nil, nil); code != 401 {
		t.Fatalf("revoked key still works: %d", code)
	}
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
	if code != 200 || string(bytes.TrimSpace(b)) != "[]" {
		t.Fatalf("N1 = %d %s", code, b)
	}
	nbBody := map[string]any{"name": "NetBox Endpoint", "ip_address": "127.0.0.1", "domain": "", "port": 443, "verify_ssl": true,
		"token_version": "v2", "token": "secret-v2-0123456789", "token_key": "abcdef12345"}
	// N3: POST -> 200/201.
	code, b = e.do("POST", "/netbox/endpoint", nbBody, nil)
	if code != 200 && code != 201 {
		t.Fatalf("N3 = %d %s", code, b)
	}
	code, b = e.do("GET", "/netbox/endpoint", nil, nil)
	list := mustJSON[[]map[string]any](t, b)
	if code != 200 || len(list) != 1 {
		t.Fatalf("N1 = %d %s", code, b)
	}
	for _, f := range []string{"id", "name", "ip_address", "domain", "port", "token_version", "verify_ssl"} {
		if _, ok := list[0][f]; !ok {
			t.Fatalf("N1 item lacks %s: %s", f, b)
		}
	}
	if strings.Contains(string(b), "secret-v2") || strings.Contains(string(b), "abcdef12345") {
		t.Fatalf("secret returned: %s", b)
	}
	// N2: PUT existing[0].id with the same body, then a changed body.
	id := strconv.Itoa(int(list[0]["id"].(float64)))
	nbBody["name"] = "NetBox Renamed"
	if code, b := e.do("PUT", "/netbox/endpoint/"+id, nbBody, nil); code != 200 && code != 201 {
		t.Fatalf("N2 = %d %s", code, b)
	}
	// A second POST (plugin race) updates the single row.
	if code, _ := e.do("POST", "/netbox/endpoint", nbBody, nil); code != 200 {
		t.Fatalf("N3 again = %d", code)
	}
	if _, b := e.do("GET", "/netbox/endpoint", nil, nil); len(mustJSON[[]map[string]any](t, b)) != 1 {
		t.Fatalf("more than one NetBox endpoint: %s", b)
	}

	// P1-P3 for ProxmoxEndpoint pk 7.
	pxBody := map[string]any{"name": "pve-lab (nb:7)", "ip_address": "10.0.0.5", "domain": nil, "port": 8006, "username": "root@pam",
		"password": nil, "verify_ssl": false, "token_name": "proxbox", "token_value": "token-secret-uuid"}
	upsert := func(body map[string]any) int {
		code, b := e.do("GET", "/proxmox/endpoints", nil, nil)
		if code != 200 {
			t.Fatalf("P1 = %d", code)
		}
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
		if code/100 != 2 {
			t.Fatalf("P2/P3 = %d %s", code, b)
		}
		if strings.Contains(string(b), "token-secret") {
			t.Fatalf("secret returned: %s", b)
		}
		return int(mustJSON[map[string]any](t, b)["id"].(float64))
	}
	id1 := upsert(pxBody)
	if id2 := upsert(pxBody); id2 != id1 {
		t.Fatalf("upsert created a second row: %d vs %d", id1, id2)
	}
	// A rename in NetBox (same pk) updates the row instead of leaving a stale one.
	pxBody["name"] = "pve-renamed (nb:7)"
	if id3 := upsert(pxBody); id3 != id1 {
		t.Fatalf("rename created a new row")
	}
	_, b = e.do("GET", "/proxmox/endpoints", nil, nil)
	if n := len(mustJSON[[]map[string]any](t, b)); n != 1 {
		t.Fatalf("%d rows after rename", n)
	}
	// neither password nor token pair -> 400
	bad := map[string]any{"name": "x (nb:9)", "ip_address": "10.0.0.9", "port": 8006, "username": "root@pam", "password": nil, "token_name": "t", "token_value": nil}
	if code, _ := e.do("POST", "/proxmox/endpoints", bad, nil); code != 400 {
		t.Fatalf("no credentials = %d", code)
	}
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
		if req.Stage != st || !p.UseGuestAgentInterfaceName || p.IgnoreIPv6LinkLocal || p.PrimaryIPPreference != "ipv6" || p.FetchMaxConcurrency != 8 ||
			len(p.ProxmoxEndpointIDs) != 2 || p.ProxmoxEndpointIDs[1] != 4 || len(p.NetBoxEndpointIDs) != 1 {
			t.Fatalf("%s: params %+v", st, req)
		}
		switch st {
		case proxbox.StageVirtualMachines:
			if p.SyncVMNetwork {
				t.Fatal("sync_vm_network=false not honoured")
			}
		case proxbox.StageVMBackups:
			if !p.DeleteNonexistentBackup {
				t.Fatal("delete_nonexistent_backup=True not parsed")
			}
		case proxbox.StageVMSnapshots:
			if !p.DeleteNonexistentSnapshot {
				t.Fatal("delete_nonexistent_snapshot=True not parsed")
			}
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
		if req.VMID != 42 || len(req.Params.NetBoxVMIDs) != 1 || !req.Params.DryRun {
			t.Fatalf("per-VM request %+v", req)
		}
	}
	// ok:false -> the plugin's 503 with errors[0].detail.
	e.fake.mu.Lock()
	e.fake.fail[proxbox.StageStorage] = "storage exploded"
	e.fake.errOn[proxbox.StageDevices] = context.DeadlineExceeded
	e.fake.mu.Unlock()
	out := runStream(t, e, e.ts.URL+stagePath(proxbox.StageStorage))
	if out.Status != 503 || out.Detail != "storage exploded" || len(out.Complete.Errors) != 2 {
		t.Fatalf("failing stage: %+v", out)
	}
	out = runStream(t, e, e.ts.URL+stagePath(proxbox.StageDevices))
	if out.Status != 503 || countEvents(out, "error") != 1 || countEvents(out, "complete") != 1 {
		t.Fatalf("erroring stage: %+v", out)
	}
	// malformed known param -> 422 before streaming (not retried by the plugin)
	if code, _ := e.do("GET", stagePath(proxbox.StageDevices)+"?fetch_max_concurrency=abc", nil, nil); code != 422 {
		t.Fatalf("bad param = %d", code)
	}
	// no Accept header is required (the plugin sends none) and the headers keep proxies from buffering.
	req, _ := http.NewRequest("GET", e.ts.URL+stagePath(proxbox.StageReplications), nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") || resp.Header.Get("X-Accel-Buffering") != "no" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("stream headers: %v", resp.Header)
	}
	// run history is stored
	runs, err := e.store.ListRuns(context.Background(), 100)
	if err != nil || len(runs) < 16 {
		t.Fatalf("runs: %d %v", len(runs), err)
	}
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
	if countEvents(out, "complete") != 1 {
		t.Fatalf("%s: %d complete frames", st, countEvents(out, "complete"))
	}
	if out.Frames[len(out.Frames)-1].Event != "complete" {
		t.Fatalf("%s: complete is not last", st)
	}
	c := out.Complete
	if !c.OK || c.MessageText() == "" || c.ResultMap() == nil {
		t.Fatalf("%s: complete %+v", st, c)
	}
	if _, ok := c.ResultMap()["counts"].(map[string]any); !ok {
		t.Fatalf("%s: result.counts missing: %v", st, c.Result)
	}
	for _, ev := range []string{"step", "discovery", "item_progress", "phase_summary"} {
		if countEvents(out, ev) == 0 {
			t.Fatalf("%s: no %s frame", st, ev)
		}
	}
}

func TestContractIndividualAndLogs(t *testing.T) {
	e := newEnv(t, pbhttp.Config{CORSOrigins: []string{"https://netbox.example.com"}, PublicLogs: true}, true)
	// batch virtual-machine
	code, b := e.do("GET", "/sync/individual/vm?cluster_name=lab&node=pve1&type=qemu&vmid=100", nil, nil)
	r := mustJSON[map[string]any](t, b)
	if code != 200 || r["action"] != "created" || r["error"] != nil {
		t.Fatalf("vm = %d %s", code, b)
	}
	deps := r["dependencies_synced"].([]any)
	if len(deps) != 1 || deps[0].(map[string]any)["action"] == nil || deps[0].(map[string]any)["object_type"] != "cluster" {
		t.Fatalf("dependencies_synced must be a list of objects: %s", b)
	}
	for _, f := range []string{"object_type", "proxmox_resource", "netbox_object", "dry_run"} {
		if _, ok := r[f]; !ok {
			t.Fatalf("missing %s: %s", f, b)
		}
	}
	// vm-task-history sends vm_type instead of type
	if code, b := e.do("GET", "/sync/individual/task-history?node=pve1&vm_type=lxc&vmid=120&cluster_name=lab&upid=UPID:x", nil, nil); code != 200 {
		t.Fatalf("task-history vm_type = %d %s", code, b)
	}
	e.fake.mu.Lock()
	got := e.fake.indiv[len(e.fake.indiv)-1]
	e.fake.mu.Unlock()
	if got.Query["type"] != "lxc" {
		t.Fatalf("vm_type alias: %+v", got)
	}
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
		if code, b := e.do("GET", p, nil, nil); code != 200 {
			t.Fatalf("%s = %d %s", p, code, b)
		}
	}
	if code, _ := e.do("GET", "/sync/individual/vm?cluster_name=lab", nil, nil); code != 422 {
		t.Fatalf("missing params = %d", code)
	}
	// Backend logs page: browser-direct, no key, CORS for the NetBox origin.
	hdr := map[string]string{pbhttp.HeaderAPIKey: "", "Origin": "https://netbox.example.com"}
	code, b = e.do("GET", "/admin/logs?errors_only=true&limit=200", nil, hdr)
	l := mustJSON[map[string]any](t, b)
	if code != 200 || l["logs"] == nil || l["total"] == nil || l["has_more"] == nil || l["active_filters"] == nil {
		t.Fatalf("logs = %d %s", code, b)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/admin/logs?level=INFO", nil)
	req.Header.Set("Origin", "https://netbox.example.com")
	resp, _ := e.client.Do(req)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://netbox.example.com" {
		t.Fatalf("CORS header missing: %v", resp.Header)
	}
	pre, _ := http.NewRequest("OPTIONS", e.ts.URL+"/admin/logs", nil)
	pre.Header.Set("Origin", "https://netbox.example.com")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	resp, _ = e.client.Do(pre)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("preflight = %d", resp.StatusCode)
	}
	// log stream: event `log`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/admin/logs/stream?newer_than_id=0", nil)
	sresp, err := e.client.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	got1 := make(chan contract.Frame, 1)
	go func() {
		_ = contract.ReadFrames(sresp.Body, sresp.Header.Get("Content-Type"), 0, func(f contract.Frame) bool {
			select {
			case got1 <- f:
			default:
			}
			return true
		})
	}()
	select {
	case f := <-got1:
		if f.Event != "log" || f.Data["message"] == nil || f.Data["id"] == nil {
			t.Fatalf("log frame %+v", f)
		}
	case <-ctx.Done():
		t.Fatal("no log frame")
	}
	cancel()
	sresp.Body.Close()
}

func TestContractWebSocket(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	wsURL := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"api_key": "nope-nope-nope-nope-nope-nope-nope-nope"}`))
	_, _, err = c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != pbhttp.WSCloseAuth {
		t.Fatalf("bad key: %v", err)
	}
	c.Close()
	c, _, err = websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.WriteJSON(map[string]string{"api_key": testKey})
	for _, want := range []string{"Connected!", "Connected 2!"} {
		_, m, err := c.ReadMessage()
		if err != nil || string(m) != want {
			t.Fatalf("got %q %v want %q", m, err, want)
		}
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte("Bogus"))
	if _, m, _ := c.ReadMessage(); !strings.HasPrefix(string(m), "Invalid command: Bogus") {
		t.Fatalf("got %q", m)
	}
}

// TestContractProxmoxReads runs the dashboard, card, keepalive, storage and
// VM-config calls against pvemock (S100) behind proxboxd.
func TestContractProxmoxReads(t *testing.T) {
	if testing.Short() {
		t.Skip("pvemock env")
	}
	ctx := context.Background()
	env, err := demo.Start(ctx, demo.Options{NewEngine: func(proxbox.Connector) proxbox.Syncer { return newFake() }})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	e := &env2{t: t, base: env.BaseURL, key: env.APIKey}
	ip := "127.0.0.1"
	sel := "source=database&ip_address=" + ip
	// K3 / C1: list whose [0] is a dict whose first value is a dict.
	var ver []map[string]map[string]any
	e.getJSON("/proxmox/version?"+sel, &ver)
	if len(ver) != 1 {
		t.Fatalf("version: %v", ver)
	}
	for _, v := range ver[0] {
		if v["version"] == nil || v["release"] == nil || v["repoid"] == nil {
			t.Fatalf("version dict: %v", v)
		}
	}
	// C2: sessions[0] with mode
	var sess []map[string]any
	e.getJSON("/proxmox/sessions?"+sel, &sess)
	if len(sess) != 1 || sess[0]["mode"] != "cluster" || sess[0]["name"] != "lab" {
		t.Fatalf("sessions: %v", sess)
	}
	for _, f := range []string{"ip_address", "domain", "http_port", "user", "name", "mode"} {
		if _, ok := sess[0][f]; !ok {
			t.Fatalf("sessions lacks %s", f)
		}
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
				if r["name"] != "lab" || r["quorate"] == nil || r["nodes"] == nil || r["version"] == nil {
					t.Fatalf("cluster record %v", r)
				}
			case "node":
				nodes++
				for _, f := range []string{"name", "nodeid", "ip", "online"} {
					if _, ok := r[f]; !ok {
						t.Fatalf("node record lacks %s: %v", f, r)
					}
				}
			}
		}
		if clusters != 1 || nodes != 3 {
			t.Fatalf("cluster/status: %d clusters %d nodes", clusters, nodes)
		}
	}
	// D3: resources: scalar records with type/status/vmid/name/node/maxcpu/maxmem/maxdisk
	var res []map[string][]map[string]any
	e.getJSON("/proxmox/cluster/resources?"+sel, &res)
	guests := 0
	for _, r := range res[0]["lab"] {
		if r["type"] == "qemu" || r["type"] == "lxc" {
			guests++
			for _, f := range []string{"status", "vmid", "name", "node", "maxcpu", "maxmem", "maxdisk"} {
				if _, ok := r[f]; !ok {
					t.Fatalf("resource lacks %s: %v", f, r)
				}
			}
		}
	}
	if guests != 100 {
		t.Fatalf("%d guests", guests)
	}
	// D4: /proxmox/nodes/ (trailing slash): flat node records
	var nodes []map[string]any
	e.getJSON("/proxmox/nodes/?"+sel, &nodes)
	if len(nodes) != 3 {
		t.Fatalf("nodes: %d", len(nodes))
	}
	for _, f := range []string{"node", "status", "cpu", "maxcpu", "mem", "maxmem", "uptime"} {
		if _, ok := nodes[0][f]; !ok {
			t.Fatalf("node lacks %s: %v", f, nodes[0])
		}
	}
	e.getJSON("/proxmox/nodes/", &nodes) // no selector
	// storage page
	var stor []map[string][]map[string]any
	e.getJSON("/proxmox/storage?source=database", &stor)
	if len(stor) != 1 || len(stor[0]["lab"]) == 0 {
		t.Fatalf("storage: %v", stor)
	}
	var backupStore string
	for _, s := range stor[0]["lab"] {
		for _, f := range []string{"storage", "name", "cluster", "type", "content", "shared", "enabled"} {
			if _, ok := s[f]; !ok {
				t.Fatalf("storage lacks %s: %v", f, s)
			}
		}
		if strings.Contains(s["content"].(string), "backup") {
			backupStore = s["name"].(string)
		}
	}
	var content []map[string]any
	e.getJSON("/proxmox/nodes/pve1/storage/"+backupStore+"/content?source=database", &content)
	if len(content) == 0 {
		t.Fatalf("no content on %s", backupStore)
	}
	// VM config tab
	node, kind, _ := env.Mock.GuestNode(100)
	var cfg map[string]any
	e.getJSON("/proxmox/"+node+"/"+kind+"/100/config?source=database&name="+url.QueryEscape("lab (nb:1)"), &cfg)
	if cfg["name"] == nil || cfg["memory"] == nil {
		t.Fatalf("config: %v", cfg)
	}
	if code := e.status("/proxmox/" + node + "/bogus/100/config?source=database"); code != 400 {
		t.Fatalf("bad type = %d", code)
	}
	// unknown selector -> 400
	if code := e.status("/proxmox/version?source=database&domain=nope.example"); code != 400 {
		t.Fatalf("unknown domain = %d", code)
	}
	// api2 passthrough: reads pass, writes refused, traversal refused
	var v map[string]any
	e.getJSON("/proxmox/api2/version", &v)
	if v["version"] == nil {
		t.Fatalf("api2: %v", v)
	}
	if code := e.statusMethod("POST", "/proxmox/api2/nodes/pve1/qemu/100/status/stop"); code != 403 {
		t.Fatalf("api2 write = %d", code)
	}
	for _, p := range []string{"/proxmox/api2/nodes/..%2f..%2faccess", "/proxmox/api2/nodes/%2e%2e/x", "/proxmox/api2/"} {
		if code := e.status(p); code != 400 && code != 404 {
			t.Fatalf("api2 %s = %d", p, code)
		}
	}
}

type env2 struct {
	t         *testing.T
	base, key string
}

func (e *env2) statusMethod(method, p string) int {
	req, _ := http.NewRequest(method, e.base+p, nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env2) status(p string) int { return e.statusMethod("GET", p) }

func (e *env2) getJSON(p string, out any) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+p, nil)
	req.Header.Set(pbhttp.HeaderAPIKey, e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s = %d %s", p, resp.StatusCode, buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		e.t.Fatalf("GET %s: %v: %s", p, err, buf.String())
	}
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
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	e := &env2{t: t, base: env.BaseURL, key: env.APIKey}
	var eps []map[string]any
	e.getJSON("/proxmox/endpoints", &eps)
	if len(eps) != 1 {
		t.Fatalf("endpoints: %v", eps)
	}
	scope := fmt.Sprintf("?source=database&proxmox_endpoint_ids=%v", eps[0]["id"])
	var fw []map[string]any
	e.getJSON("/proxmox/firewall/summary"+scope, &fw)
	if len(fw) != 1 || fw[0]["cluster_name"] != "lab" {
		t.Fatalf("firewall summary: %v", fw)
	}
	for _, k := range []string{"security_groups", "rules", "ip_sets", "aliases"} {
		if _, ok := fw[0][k].([]any); !ok {
			t.Fatalf("firewall summary %s is not a list: %v", k, fw[0][k])
		}
	}
	if _, ok := fw[0]["options"].(map[string]any); !ok {
		t.Fatalf("firewall options: %v", fw[0]["options"])
	}
	for _, g := range fw[0]["security_groups"].([]any) {
		if gm := g.(map[string]any); gm["name"] == nil || gm["rules"] == nil {
			t.Fatalf("security group without name or rules: %v", gm)
		}
	}
	var rules []map[string]any
	e.getJSON("/proxmox/firewall/nodes/pve1/rules"+scope, &rules)
	if code := e.status("/proxmox/firewall/nodes/nosuchnode/rules" + scope); code != http.StatusNotFound {
		t.Fatalf("unknown node: %d", code)
	}
	if code := e.status("/proxmox/firewall/nodes/..%2f..%2fetc/rules" + scope); code == http.StatusOK {
		t.Fatalf("path traversal in the node name answered 200")
	}
	var cpus []map[string]any
	e.getJSON("/proxmox/datacenter/cpu-models"+scope, &cpus)
	for _, m := range cpus {
		if m["cluster_name"] != "lab" || m["cputype"] == "" {
			t.Fatalf("cpu model: %v", m)
		}
	}
	if code := e.status("/proxmox/firewall/summary?proxmox_endpoint_ids=x"); code != http.StatusBadRequest {
		t.Fatalf("bad proxmox_endpoint_ids: %d", code)
	}
}
