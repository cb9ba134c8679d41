package plugin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The frame and complete rules themselves are proxboxd/contract's and are
// tested there (a table test against contrib/sse_check.py); these tests
// cover what this package adds: the plugin's requests, retries and
// bookkeeping.

func TestStreamMapping(t *testing.T) {
	var hits atomic.Int64
	var lastQuery atomic.Value
	mux := http.NewServeMux()
	sse := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		_, _ = io.WriteString(w, body)
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Proxbox-API-Key") != "k" {
			w.WriteHeader(401)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ready","init_ok":true}`)
	})
	mux.HandleFunc("GET /ok/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		lastQuery.Store(r.URL.RawQuery)
		sse(w, "event: complete\ndata: {\"ok\": false}\n\nevent: complete\ndata: {\"ok\": true, \"result\": {\"count\": 3}}\n\n")
	})
	mux.HandleFunc("GET /fail/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		sse(w, "event: complete\ndata: {\"ok\": false, \"message\": \"nope\"}\n\n")
	})
	mux.HandleFunc("GET /eof/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		sse(w, "event: step\ndata: {}\n\n")
	})
	mux.HandleFunc("GET /bad/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		sse(w, "event: complete\ndata: {\"ok\": true, \"message\": 5}\n\n")
	})
	mux.HandleFunc("GET /busy/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"detail":"slow down"}`)
	})
	mux.HandleFunc("GET /gone/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewClient(srv.URL, "k")
	c.RetryDelay = time.Millisecond
	ctx := context.Background()
	cases := []struct {
		path         string
		ok           bool
		status, hits int
		detail       string
	}{
		{"ok/stream", true, 200, 1, ""},        // last complete wins
		{"fail/stream", false, 503, 3, "nope"}, // ok:false is retried twice
		{"eof/stream", false, 502, 3, "ProxBox backend stream ended without a complete event."}, // no complete
		{"bad/stream", false, 502, 3, "ProxBox backend stream sent an invalid complete event: Input should be a valid string"},
		{"busy/stream", false, 429, 3, "slow down"}, // 429 retried
		{"gone/stream", false, 404, 1, "Not Found"}, // 4xx not retried
	}
	for _, tc := range cases {
		hits.Store(0)
		r := c.RunStage(ctx, Stage{ID: "x", Path: tc.path}, DefaultSettings().Query())
		assert.Equal(t, tc.ok, r.OK(), tc.path)
		assert.Equal(t, tc.status, r.Last().Status, tc.path)
		assert.Equal(t, tc.hits, int(hits.Load()), tc.path)
		assert.Equal(t, tc.detail, r.Last().Detail, tc.path)
		if !tc.ok {
			assert.True(t, strings.HasPrefix(r.Error(), "Stage 'x' failed (HTTP "), r.Error())
		}
	}
	q, _ := lastQuery.Load().(string)
	assert.Contains(t, q, "use_guest_agent_interface_name=true")
	assert.Contains(t, q, "primary_ip_preference=ipv4")
	ns := c.NotServed()
	require.Len(t, ns, 1)
	assert.Equal(t, "/gone/stream", ns[0].Path)
}

func TestStagesAndEndpoint(t *testing.T) {
	require.Len(t, Stages, 12)
	assert.Equal(t, "devices", Stages[0].Slug())
	assert.Equal(t, "backup-routines", Stages[11].Slug())
	vm, _ := StageBySlug("virtual-machines")
	assert.Equal(t, "false", vm.All.Get("sync_vm_network"))
	b, _ := StageBySlug("vm-backups")
	assert.Equal(t, "True", b.All.Get("delete_nonexistent_backup"), "delete_nonexistent_backup must be Python's True")
	ep, err := NetBoxEndpointFor("NetBox", "http://127.0.0.1:8001", "tok")
	require.NoError(t, err)
	assert.Equal(t, NetBoxEndpoint{Name: "NetBox", IPAddress: "127.0.0.1", Port: 8001, TokenVersion: "v1", Token: "tok"}, ep)
	ep, _ = NetBoxEndpointFor("NetBox", "https://netbox.local", "tok")
	assert.Equal(t, "netbox.local", ep.Domain)
	assert.Equal(t, 443, ep.Port)
	assert.Equal(t, "Proxmox Endpoint (nb:3)", BackendName("", 3))
	assert.Len(t, NewAPIKey(), 64)
}
