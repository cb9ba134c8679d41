package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestPluginJob drives the installed netbox-proxbox plugin's own Full update
// job (issue 7 §1): its FastAPI, NetBox and Proxmox endpoint records are
// created through NetBox's REST API, the job is enqueued through
// /api/plugins/proxbox/sync/schedule/ (what the UI's schedule form calls),
// NetBox's RQ worker runs it against proxboxd, and the test waits for the
// Job's result. A counting proxy in front of proxboxd records every backend
// call the plugin made that proxboxd answered 404/405.
func TestPluginJob(t *testing.T) {
	sc := pvemock.S100()
	sc.Name = "e2e-plugin"
	env, ctx := setup(t, sc, 5, "")
	if os.Getenv("E2E_NETBOXTEST") != "" {
		t.Skip("the in-memory NetBox has no RQ worker to run the plugin's job")
	}
	if !env.NB.PluginInstalled(ctx) {
		t.Skip("netbox-proxbox plugin not installed in this NetBox: the stream replay tests cover proxboxd")
	}
	nb := env.NB
	// The plugin talks to proxboxd through a counting proxy.
	fp, err := faultproxy.New(faultproxy.Config{Upstream: env.Proxboxd.URL})
	if err != nil {
		t.Fatal(err)
	}
	bp, err := faultproxy.Listen(fp, "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()

	// A fresh proxboxd: the plugin must bootstrap its own key, so start one
	// without the replay client's key.
	if err := env.Proxboxd.RestartFresh(ctx); err != nil {
		t.Fatal(err)
	}
	cleanupPluginEndpoints(ctx, t, nb)
	nbURL, _ := url.Parse(env.NBProxy.URL)
	nbPort := nbURL.Port()
	if nbURL.Hostname() != "127.0.0.1" {
		t.Fatalf("the NetBox proxy is not on 127.0.0.1: %s", env.NBProxy.URL)
	}
	v1ID := v1TokenID(ctx, t, nb)
	// The plugin's domain fields take DNS names only; an address is an
	// ipam.IPAddress reference (its "fallback" address).
	lo, err := nb.LoopbackIP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if _, err := nb.Do(ctx, http.MethodPost, "/api/plugins/proxbox/endpoints/fastapi/", nil, map[string]any{
		"name": "proxboxd e2e", "ip_address": lo, "port": bp.Port(), "use_https": false, "verify_ssl": false, "enabled": true,
	}, &out); err != nil {
		t.Fatalf("creating the FastAPI endpoint: %v", err)
	}
	var nbe map[string]any
	if _, err := nb.Do(ctx, http.MethodPost, "/api/plugins/proxbox/endpoints/netbox/", nil, map[string]any{
		"name": "NetBox e2e", "ip_address": lo, "port": atoi(nbPort), "token_version": "v1", "token": v1ID, "verify_ssl": false, "enabled": true,
	}, &nbe); err != nil {
		t.Fatalf("creating the NetBox endpoint: %v", err)
	}
	approveTarget(ctx, t, nb, "netbox", nbe["id"])
	user, tname, secret := env.PVE.Token()
	var pxe map[string]any
	if _, err := nb.Do(ctx, http.MethodPost, "/api/plugins/proxbox/endpoints/proxmox/", nil, map[string]any{
		"name": sc.Name, "ip_address": lo, "port": env.PVE.Proxy.Port(), "username": user,
		"token_name": tname, "token_value": secret, "verify_ssl": false, "enabled": true, "mode": "cluster",
	}, &pxe); err != nil {
		t.Fatalf("creating the Proxmox endpoint: %v", err)
	}
	approveTarget(ctx, t, nb, "proxmox", pxe["id"])
	var job map[string]any
	if _, err := nb.Do(ctx, http.MethodPost, "/api/plugins/proxbox/sync/schedule/", nil, map[string]any{
		"sync_types": []string{"all"}, "job_name": "e2e full update",
	}, &job); err != nil {
		t.Fatalf("enqueueing the sync job: %v", err)
	}
	jobID := fmt.Sprint(job["job_id"])
	t.Logf("enqueued job %s: %v", jobID, job["message"])
	status, final := waitJob(ctx, t, nb, jobID, 30*time.Minute)
	ns := bp.Counters().NotServed
	calls := bp.Counters().ByRoute
	t.Logf("job %s ended %q; backend calls by route %v; not served by proxboxd %v", jobID, status, calls, ns)
	logTail(t, final)
	record("plugin_job", map[string]any{"job_id": jobID, "status": status, "not_served": ns, "calls": calls, "data": final["data"]})
	if status != "completed" {
		t.Errorf("the plugin's job ended %q, want completed (error %v)", status, final["error"])
	}
	if len(ns) > 0 {
		t.Logf("backend calls proxboxd did not serve: %v", ns)
	}
	inv, err := nb.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(inv)
	t.Logf("inventory after the plugin's job: %s", b)
	if status != "completed" {
		return
	}
	expect(t, inv, sc, true)

	// A second job with nothing changed in Proxmox: proxboxd's NetBox traffic
	// goes through env.NBProxy (the plugin pushed the proxy's port as its
	// NetBox endpoint), so its writes are counted there; the RQ worker writes
	// the plugin's own bookkeeping straight to the database, so the changelog
	// is checked on the object types only proxboxd writes.
	mark, err := nb.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := env.NBProxy.Counters()
	if _, err := nb.Do(ctx, http.MethodPost, "/api/plugins/proxbox/sync/schedule/", nil, map[string]any{
		"sync_types": []string{"all"}, "job_name": "e2e full update (no change)",
	}, &job); err != nil {
		t.Fatalf("enqueueing the second sync job: %v", err)
	}
	jobID2 := fmt.Sprint(job["job_id"])
	status2, final2 := waitJob(ctx, t, nb, jobID2, 30*time.Minute)
	after := env.NBProxy.Counters()
	writes := after.Writes() - before.Writes()
	_, changes, err := nb.ChangesSince(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	core := map[string]int{}
	for k, v := range changes {
		if !strings.Contains(k, " netbox_proxbox.") && !strings.Contains(k, " core.") {
			core[k] = v
		}
	}
	t.Logf("second job %s ended %q; proxboxd's NetBox writes %d; changelog %v", jobID2, status2, writes, changes)
	record("plugin_job_resync", map[string]any{"job_id": jobID2, "status": status2, "proxboxd_netbox_writes": writes, "changes": changes})
	if status2 != "completed" {
		logTail(t, final2)
		t.Errorf("the second job ended %q (error %v)", status2, final2["error"])
	}
	if writes != 0 {
		t.Errorf("the no-change job made proxboxd write %d times to NetBox", writes)
	}
	if len(core) != 0 {
		t.Errorf("the no-change job changed dcim/virtualization/ipam/extras objects: %v", core)
	}
}

// approveTarget does what an operator does in the plugin's UI before the
// plugin sends an endpoint's credentials anywhere: read the connection
// target's fingerprint, review it, approve exactly that fingerprint.
func approveTarget(ctx context.Context, t *testing.T, nb *harness.NetBox, kind string, id any) {
	t.Helper()
	path := fmt.Sprintf("/api/plugins/proxbox/endpoints/%s/%v/connection-authority/", kind, id)
	var rev map[string]any
	if _, err := nb.Do(ctx, http.MethodGet, path, nil, nil, &rev); err != nil {
		t.Fatalf("reviewing the %s endpoint's connection target: %v", kind, err)
	}
	var ok map[string]any
	if _, err := nb.Do(ctx, http.MethodPut, path, nil, map[string]any{"target_fingerprint": rev["target_fingerprint"]}, &ok); err != nil {
		t.Fatalf("approving the %s endpoint's connection target: %v", kind, err)
	}
	if ok["approved"] != true {
		t.Fatalf("the %s endpoint's connection target is not approved: %v", kind, ok)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// v1TokenID finds the id of the NETBOX_TOKEN v1 token (the plugin links it).
func v1TokenID(ctx context.Context, t *testing.T, nb *harness.NetBox) int {
	t.Helper()
	rows, err := nb.List(ctx, "/api/users/tokens/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if v, ok := r["version"].(float64); ok && v != 1 {
			continue
		}
		tok, _ := r["token"].(string)
		key, _ := r["key"].(string)
		if tok == nb.Token || (len(tok) > 4 && strings.HasSuffix(nb.Token, strings.Trim(tok, "*"))) || key != "" && strings.HasPrefix(nb.Token, key) || len(rows) == 1 {
			return int(r["id"].(float64))
		}
	}
	for _, r := range rows {
		if v, ok := r["version"].(float64); !ok || v == 1 {
			return int(r["id"].(float64))
		}
	}
	t.Fatal("no v1 token in NetBox")
	return 0
}

func cleanupPluginEndpoints(ctx context.Context, t *testing.T, nb *harness.NetBox) {
	t.Helper()
	for _, p := range []string{"proxmox", "netbox", "fastapi"} {
		path := "/api/plugins/proxbox/endpoints/" + p + "/"
		rows, err := nb.List(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if _, err := nb.Do(ctx, http.MethodDelete, fmt.Sprintf("%s%v/", path, r["id"]), nil, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func waitJob(ctx context.Context, t *testing.T, nb *harness.NetBox, id string, limit time.Duration) (string, map[string]any) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var j map[string]any
	last := ""
	for time.Now().Before(deadline) {
		if _, err := nb.Do(ctx, http.MethodGet, "/api/core/jobs/"+id+"/", nil, nil, &j); err != nil {
			t.Fatal(err)
		}
		st := fmt.Sprint(j["status"])
		if m, ok := j["status"].(map[string]any); ok {
			st = fmt.Sprint(m["value"])
		}
		if st != last {
			t.Logf("job %s: %s", id, st)
			last = st
		}
		switch st {
		case "completed", "errored", "failed":
			return st, j
		}
		time.Sleep(2 * time.Second)
	}
	return "timeout", j
}

func logTail(t *testing.T, job map[string]any) {
	t.Helper()
	entries, _ := job["log_entries"].([]any)
	start := max(0, len(entries)-40)
	var b strings.Builder
	for _, e := range entries[start:] {
		if m, ok := e.(map[string]any); ok {
			fmt.Fprintf(&b, "  %v %v\n", m["level"], truncate(fmt.Sprint(m["message"]), 300))
		}
	}
	t.Logf("job log (last %d of %d):\n%s", len(entries)-start, len(entries), b.String())
	if os.Getenv("E2E_VERBOSE") != "" {
		d, _ := json.MarshalIndent(job["data"], "", " ")
		t.Logf("job data: %s", d)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
