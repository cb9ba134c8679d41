package faultproxy

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type upstream struct {
	srv  *httptest.Server
	hits atomic.Int64
	host atomic.Value
}

func newUpstream(t *testing.T, tlsUp bool) *upstream {
	t.Helper()
	u := &upstream{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.host.Store(r.Host)
		switch {
		case strings.HasPrefix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
		case r.URL.Path == "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 3 {
				fmt.Fprintf(w, "event: step\ndata: {\"i\": %d}\n\n", i)
				w.(http.Flusher).Flush()
			}
		default:
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "body": string(body)})
		}
	})
	if tlsUp {
		u.srv = httptest.NewTLSServer(h)
	} else {
		u.srv = httptest.NewServer(h)
	}
	t.Cleanup(u.srv.Close)
	return u
}

func start(t *testing.T, cfg Config, serveTLS bool) *Server {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen(p, "127.0.0.1:0", serveTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client never reuses connections, so Go's transparent retry of idempotent
// requests on a reused connection cannot hide an injected reset.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the proxy's self-signed test cert
	}}
}

func TestCountingProxy(t *testing.T) {
	up := newUpstream(t, false)
	s := start(t, Config{Upstream: up.srv.URL}, false)
	c := client(5 * time.Second)
	for _, m := range []string{"GET", "GET", "POST", "PATCH", "DELETE"} {
		req, _ := http.NewRequest(m, s.URL+"/api/dcim/devices/12/?limit=5", strings.NewReader(`{"a":1}`))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got["method"] != m || got["path"] != "/api/dcim/devices/12/" {
			t.Fatalf("upstream saw %v", got)
		}
		if m == "POST" && got["body"] != `{"a":1}` {
			t.Fatalf("body not forwarded: %q", got["body"])
		}
	}
	resp, err := c.Get(s.URL + "/missing/7")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cn := s.Counters()
	if cn.Requests != 6 || cn.Forwarded != 6 || cn.FaultTotal() != 0 {
		t.Fatalf("counters %+v", cn)
	}
	if cn.ByMethod["GET"] != 3 || cn.ByMethod["POST"] != 1 || cn.Writes() != 3 {
		t.Fatalf("by method %v", cn.ByMethod)
	}
	if cn.ByRoute["GET /api/dcim/devices/{id}/"] != 2 {
		t.Fatalf("by route %v", cn.ByRoute)
	}
	if cn.NotServed["404 GET /missing/{id}"] != 1 {
		t.Fatalf("not served %v", cn.NotServed)
	}
	if h, _ := up.host.Load().(string); h != strings.TrimPrefix(s.URL, "http://") {
		t.Fatalf("Host not preserved: upstream saw %q, proxy is %s", h, s.URL)
	}
	if !strings.Contains(cn.String(), "GET:3") {
		t.Fatalf("String() = %s", cn.String())
	}
}

func TestStreamingPassesThrough(t *testing.T) {
	up := newUpstream(t, true)
	s := start(t, Config{Upstream: up.srv.URL, UpstreamInsecure: true}, true)
	resp, err := client(5 * time.Second).Get(s.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.Count(string(b), "event: step") != 3 {
		t.Fatalf("stream body %q", b)
	}
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
}

func TestKinds(t *testing.T) {
	cases := []struct {
		kind  Kind
		check func(t *testing.T, resp *http.Response, err error, elapsed time.Duration, hits int64)
	}{
		{Kind5xx, func(t *testing.T, resp *http.Response, err error, _ time.Duration, hits int64) {
			if err != nil || resp.StatusCode < 500 || resp.StatusCode > 504 || resp.StatusCode == 501 || hits != 0 {
				t.Fatalf("5xx: resp=%v err=%v hits=%d", resp, err, hits)
			}
		}},
		{Kind429, func(t *testing.T, resp *http.Response, err error, _ time.Duration, hits int64) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || hits != 0 {
				t.Fatalf("429: resp=%v err=%v hits=%d", resp, err, hits)
			}
		}},
		{KindReset, func(t *testing.T, resp *http.Response, err error, _ time.Duration, hits int64) {
			if err == nil || hits != 0 {
				t.Fatalf("reset: want a client error and no upstream hit, got resp=%v hits=%d", resp, hits)
			}
		}},
		{KindSlow, func(t *testing.T, resp *http.Response, err error, elapsed time.Duration, hits int64) {
			if err != nil || resp.StatusCode != 200 || elapsed < 150*time.Millisecond || hits != 1 {
				t.Fatalf("slow: resp=%v err=%v elapsed=%v hits=%d", resp, err, elapsed, hits)
			}
		}},
		{KindTimeout, func(t *testing.T, resp *http.Response, err error, elapsed time.Duration, hits int64) {
			if err == nil || elapsed < 250*time.Millisecond || hits != 0 {
				t.Fatalf("timeout: resp=%v err=%v elapsed=%v hits=%d", resp, err, elapsed, hits)
			}
		}},
		{KindLostReply, func(t *testing.T, resp *http.Response, err error, _ time.Duration, hits int64) {
			if err == nil || hits != 1 {
				t.Fatalf("lost reply: want upstream hit and client error, got resp=%v err=%v hits=%d", resp, err, hits)
			}
		}},
	}
	for _, tc := range cases {
		for _, tlsMode := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tls=%v", tc.kind, tlsMode), func(t *testing.T) {
				up := newUpstream(t, tlsMode)
				s := start(t, Config{
					Upstream: up.srv.URL, UpstreamInsecure: true, Rates: Rates{tc.kind: 1},
					RetryAfter: 1500 * time.Millisecond, SlowDelay: 200 * time.Millisecond, HoldMax: 5 * time.Second,
				}, tlsMode)
				t0 := time.Now()
				resp, err := client(300 * time.Millisecond * 3).Get(s.URL + "/api/x/")
				elapsed := time.Since(t0)
				if resp != nil {
					resp.Body.Close()
				}
				if tc.kind == KindTimeout {
					// the client gave up after 900 ms; the proxy never forwarded.
					if elapsed > 4*time.Second {
						t.Fatalf("held past the client's timeout: %v", elapsed)
					}
				}
				tc.check(t, resp, err, elapsed, up.hits.Load())
				if got := s.Counters().Faults[tc.kind]; got != 1 {
					t.Fatalf("fault counter %s = %d", tc.kind, got)
				}
			})
		}
	}
}

func TestDeterministicAndRate(t *testing.T) {
	up := newUpstream(t, false)
	run := func(seed int64) ([]int, Counters) {
		s := start(t, Config{Upstream: up.srv.URL, Seed: seed, Rates: Rates{Kind5xx: 0.05, Kind429: 0.05}}, false)
		c := client(5 * time.Second)
		var codes []int
		for i := range 400 {
			resp, err := c.Get(fmt.Sprintf("%s/api/item/%d/", s.URL, i%40))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			codes = append(codes, resp.StatusCode)
		}
		return codes, s.Counters()
	}
	a, ca := run(7)
	b, _ := run(7)
	c, _ := run(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("same seed, different faults")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("different seeds, same faults")
	}
	n := ca.FaultTotal()
	if n < 20 || n > 65 {
		t.Fatalf("10%% of 400 requests gave %d faults", n)
	}
	if ca.Faults[Kind5xx] == 0 || ca.Faults[Kind429] == 0 {
		t.Fatalf("faults %v", ca.Faults)
	}
	// Each of the 40 identities repeats 10 times: a repeat after a fault is a retry.
	if ca.Retries == 0 || ca.Retries > n {
		t.Fatalf("retries %d of %d faults", ca.Retries, n)
	}
}

func TestSkipAndSetRates(t *testing.T) {
	up := newUpstream(t, false)
	s := start(t, Config{Upstream: up.srv.URL, Rates: Rates{Kind5xx: 1}, Skip: func(r *http.Request) bool { return r.URL.Path == "/api/status/" }}, false)
	c := client(5 * time.Second)
	get := func(p string) int {
		resp, err := c.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/api/status/"); code != 200 {
		t.Fatalf("skipped path faulted: %d", code)
	}
	if code := get("/api/x/"); code < 500 {
		t.Fatalf("not faulted: %d", code)
	}
	if err := s.SetRates(Rates{}); err != nil {
		t.Fatal(err)
	}
	if code := get("/api/x/"); code != 200 {
		t.Fatalf("rates off, still faulted: %d", code)
	}
	if err := s.SetRates(Rates{Kind5xx: 0.7, Kind429: 0.7}); err == nil {
		t.Fatal("rates summing to 1.4 accepted")
	}
}

func TestAdmin(t *testing.T) {
	up := newUpstream(t, false)
	s := start(t, Config{Upstream: up.srv.URL, Seed: 3}, false)
	c := client(5 * time.Second)
	resp, err := c.Post(s.URL+AdminPath, "application/json", strings.NewReader(`{"rates":{"429":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin POST %d", resp.StatusCode)
	}
	resp, err = c.Get(s.URL + "/api/y/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Fatalf("want 429 after admin set rates, got %d", resp.StatusCode)
	}
	resp, err = c.Get(s.URL + AdminPath)
	if err != nil {
		t.Fatal(err)
	}
	var v adminView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v.Counters.Faults[Kind429] != 1 || v.Seed != 3 || v.Rates[Kind429] != 1 {
		t.Fatalf("admin view %+v", v)
	}
	resp, err = c.Post(s.URL+AdminPath+"?reset=1", "application/json", strings.NewReader(`{"rates":{"bogus":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad kind accepted: %d", resp.StatusCode)
	}
}

func TestParseRatesAndLoopback(t *testing.T) {
	r, err := ParseRates("0.1")
	if err != nil || len(r) != 5 || r.Total() < 0.0999 || r.Total() > 0.1001 {
		t.Fatalf("ParseRates(0.1) = %v, %v", r, err)
	}
	r, err = ParseRates("5xx=0.02, reset=0.03,lost_reply=0.01")
	if err != nil || r[KindReset] != 0.03 || r[KindLostReply] != 0.01 {
		t.Fatalf("ParseRates = %v, %v", r, err)
	}
	for _, bad := range []string{"nope=0.1", "5xx", "5xx=x", "5xx=2", "5xx=0.6,429=0.6"} {
		if _, err := ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:8080", "localhost:1"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("CheckLoopback(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:80", ":8080", "10.0.0.1:80", "example.com:80", "nonsense"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("CheckLoopback(%q) accepted", bad)
		}
	}
	if _, err := New(Config{Upstream: "ftp://x"}); err == nil {
		t.Error("ftp upstream accepted")
	}
}

func TestRoute(t *testing.T) {
	for in, want := range map[string]string{
		"/api/dcim/devices/12/":                 "GET /api/dcim/devices/{id}/",
		"/api2/json/nodes/pve1/qemu/101/config": "GET /api2/json/nodes/pve1/qemu/{id}/config",
		"/":                                     "GET /",
	} {
		if got := Route("GET", in); got != want {
			t.Errorf("Route(%q) = %q, want %q", in, got, want)
		}
	}
}
