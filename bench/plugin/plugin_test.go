package plugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func frames(t *testing.T, body, contentType string) []Frame {
	t.Helper()
	var out []Frame
	if err := ParseStream(strings.NewReader(body), contentType, func(f Frame) { out = append(out, f) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFrameRules(t *testing.T) {
	body := ": keepalive\n\n" +
		"event: step\ndata: {\"step\": \"devices\", \"status\": \"started\"}\n\n" +
		"data: {\"no\": \"event\"}\n\n" +
		"event: x\ndata: not json\n\n" +
		"event: y\ndata: [1, 2]\n\n" +
		"event: multi\ndata: {\"a\":\ndata: 1}\n\n" +
		"event: a\ndata: {\"first\": 1}\nevent: b\ndata: {\"second\": 2}\n\n" +
		"event: empty\n\n" +
		"event: complete\ndata: {\"ok\": true, \"message\": \"done\"}\n\n"
	fs := frames(t, body, "text/event-stream; charset=utf-8")
	want := []string{"step", "message", "x", "y", "multi", "a", "b", "complete"}
	if len(fs) != len(want) {
		t.Fatalf("got %d frames: %+v", len(fs), fs)
	}
	for i, w := range want {
		if fs[i].Event != w {
			t.Errorf("frame %d event %q, want %q", i, fs[i].Event, w)
		}
	}
	if fs[2].Data["raw"] != "not json" {
		t.Errorf("invalid JSON -> %v", fs[2].Data)
	}
	if _, ok := fs[3].Data["raw"].([]any); !ok {
		t.Errorf("non-object JSON -> %v", fs[3].Data)
	}
	if fs[4].Data["a"] != float64(1) {
		t.Errorf("multi-line data -> %v", fs[4].Data)
	}
	if fs[5].Data["first"] != float64(1) || fs[6].Data["second"] != float64(2) {
		t.Errorf("event line flushes pending data: %v %v", fs[5].Data, fs[6].Data)
	}
}

// python-requests decodes text/event-stream without a charset as ISO-8859-1
// and the plugin splits with str.splitlines: "Å" (C3 85) contains U+0085 NEL.
func TestLatin1NELTrap(t *testing.T) {
	body := "event: complete\ndata: {\"ok\": true, \"message\": \"VM Åsa synced\"}\n\n"
	fs := frames(t, body, "text/event-stream")
	if len(fs) != 1 || fs[0].Event != "complete" {
		t.Fatalf("frames %+v", fs)
	}
	if _, err := ParseComplete(fs[0].Data); err == nil {
		t.Fatal("the frame split by U+0085 still parsed: the trap is not reproduced")
	}
	fs = frames(t, body, "text/event-stream; charset=utf-8")
	c, err := ParseComplete(fs[0].Data)
	if err != nil || !c.OK || *c.Message != "VM Åsa synced" {
		t.Fatalf("utf-8 declared: %v %v", c, err)
	}
}

func TestCRLFAndChunking(t *testing.T) {
	body := "event: step\r\ndata: {\"i\": 1}\r\n\r\nevent: complete\r\ndata: {\"ok\": false, \"errors\": [{\"detail\": \"boom\"}]}\r\n\r\n"
	for _, rd := range []io.Reader{strings.NewReader(body), iotest.HalfReader(strings.NewReader(body))} {
		var fs []Frame
		if err := ParseStream(rd, "text/event-stream", func(f Frame) { fs = append(fs, f) }); err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 || fs[0].Event != "step" || fs[1].Event != "complete" {
			t.Fatalf("frames %+v", fs)
		}
		c, err := ParseComplete(fs[1].Data)
		if err != nil || c.OK || c.FailureDetail() != "boom" {
			t.Fatalf("complete %+v %v", c, err)
		}
	}
	// requests' iter_lines yields an extra blank line when a chunk ends
	// between "\r" and "\n": the blank line resets the event name, so with
	// CRLF framing the plugin can lose the `complete` event name. proxboxd
	// must frame with "\n" only.
	var fs []Frame
	if err := ParseStream(iotest.OneByteReader(strings.NewReader(body)), "text/event-stream", func(f Frame) { fs = append(fs, f) }); err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[1].Event != "message" {
		t.Fatalf("CRLF split across chunks: frames %+v", fs)
	}
}

func TestSplitlines(t *testing.T) {
	got := splitlines("a\r\nb\rc\nd\x1ce\u2028f\n")
	if fmt.Sprint(got) != "[a b c d e f]" {
		t.Fatalf("splitlines = %q", got)
	}
	if fmt.Sprint(splitlines("a\n\nb")) != "[a  b]" {
		t.Fatalf("blank lines kept: %q", splitlines("a\n\nb"))
	}
}

func TestParseComplete(t *testing.T) {
	ok := []map[string]any{
		{},
		{"ok": true, "message": nil, "result": map[string]any{}, "errors": []any{}},
		{"ok": "True", "result": []any{1}},
		{"ok": false, "errors": []any{map[string]any{"detail": "x"}}, "extra": 1},
	}
	for _, d := range ok {
		if _, err := ParseComplete(d); err != nil {
			t.Errorf("ParseComplete(%v) = %v", d, err)
		}
	}
	bad := []map[string]any{
		{"ok": "maybe"},
		{"message": 3.0},
		{"result": "done"},
		{"result": 1.0},
		{"errors": "x"},
		{"errors": []any{"x"}},
		{"errors": nil},
		{"raw": "not json"},
	}
	for _, d := range bad {
		if _, err := ParseComplete(d); err == nil {
			t.Errorf("ParseComplete(%v) accepted", d)
		}
	}
	c, _ := ParseComplete(map[string]any{"ok": false})
	if c.FailureDetail() != "Sync failed." {
		t.Errorf("default detail %q", c.FailureDetail())
	}
}

func TestStreamMapping(t *testing.T) {
	var hits atomic.Int64
	var lastQuery atomic.Value
	mux := http.NewServeMux()
	sse := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		io.WriteString(w, body)
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Proxbox-API-Key") != "k" {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `{"status":"ready","init_ok":true}`)
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
		io.WriteString(w, `{"detail":"slow down"}`)
	})
	mux.HandleFunc("GET /gone/stream", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(404)
		io.WriteString(w, `{"detail":"Not Found"}`)
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
	}{
		{"ok/stream", true, 200, 1},    // last complete wins
		{"fail/stream", false, 503, 3}, // ok:false is retried twice
		{"eof/stream", false, 502, 3},  // no complete
		{"bad/stream", false, 502, 1},  // invalid complete: the job would crash
		{"busy/stream", false, 429, 3}, // 429 retried
		{"gone/stream", false, 404, 1}, // 4xx not retried
	}
	for _, tc := range cases {
		hits.Store(0)
		r := c.RunStage(ctx, Stage{Slug: tc.path, Path: tc.path}, DefaultSettings().Query())
		if r.OK() != tc.ok || r.Last().Status != tc.status || int(hits.Load()) != tc.hits {
			t.Errorf("%s: ok=%v status=%d hits=%d (%s)", tc.path, r.OK(), r.Last().Status, hits.Load(), r.Error())
		}
	}
	if q, _ := lastQuery.Load().(string); !strings.Contains(q, "use_guest_agent_interface_name=true") || !strings.Contains(q, "primary_ip_preference=ipv4") {
		t.Errorf("base query %q", q)
	}
	ns := c.NotServed()
	if len(ns) != 1 || ns[0].Path != "/gone/stream" {
		t.Errorf("not served %+v", ns)
	}
}

func TestStagesAndEndpoint(t *testing.T) {
	if len(Stages) != 12 || Stages[0].Slug != "devices" || Stages[11].Slug != "backup-routines" {
		t.Fatalf("stages %v", Stages)
	}
	vm, _ := StageBySlug("virtual-machines")
	if vm.Extra.Get("sync_vm_network") != "false" {
		t.Fatal("sync_vm_network")
	}
	b, _ := StageBySlug("vm-backups")
	if b.Extra.Get("delete_nonexistent_backup") != "True" {
		t.Fatal("delete_nonexistent_backup must be Python's True")
	}
	ep, err := NetBoxEndpointFor("NetBox", "http://127.0.0.1:8001", "tok")
	if err != nil || ep.IPAddress != "127.0.0.1" || ep.Port != 8001 || ep.VerifySSL || ep.Domain != "" || ep.TokenVersion != "v1" {
		t.Fatalf("%+v %v", ep, err)
	}
	ep, _ = NetBoxEndpointFor("NetBox", "https://netbox.local", "tok")
	if ep.Domain != "netbox.local" || ep.Port != 443 {
		t.Fatalf("%+v", ep)
	}
	if BackendName("", 3) != "Proxmox Endpoint (nb:3)" {
		t.Fatal(BackendName("", 3))
	}
	if k := NewAPIKey(); len(k) != 64 {
		t.Fatalf("key length %d", len(k))
	}
}
