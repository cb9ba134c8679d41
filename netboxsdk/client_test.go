package netboxsdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

func newSrv(t *testing.T, opts ...netboxtest.Option) (*netboxtest.Server, *netboxsdk.Client) {
	t.Helper()
	srv := netboxtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryConnErrors: true}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestAuthHeaders(t *testing.T) {
	var got atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		w.Write([]byte(`{"netbox-version":"4.7.3"}`))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for tok, want := range map[string]string{
		"abc123":                "Token abc123",
		"nbt_key1.secretsecret": "Bearer nbt_key1.secretsecret",
		"nbt_nodot":             "Token nbt_nodot",
		" abc\r\nX-Evil: 1 ":    "Token abcX-Evil: 1",
	} {
		c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken(tok))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Status(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got.Load() != want {
			t.Errorf("token %q: header %q, want %q", tok, got.Load(), want)
		}
	}
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithTokenV2("key", "secret"))
	c.Status(context.Background())
	if got.Load() != "Bearer nbt_key.secret" {
		t.Errorf("WithTokenV2: %q", got.Load())
	}
}

func TestEnvFallback(t *testing.T) {
	srv, _ := newSrv(t)
	t.Setenv("NETBOX_URL", srv.URL+"/api/")
	t.Setenv("NETBOX_TOKEN", srv.TokenV2())
	c, err := netboxsdk.New("")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background())
	if err != nil || st.NetBoxVersion != netboxtest.DefaultVersion || !st.AtLeast(4, 6) {
		t.Fatalf("status: %+v %v", st, err)
	}
	t.Setenv("NETBOX_URL", "")
	if _, err := netboxsdk.New(""); err == nil {
		t.Fatal("want error without URL")
	}
	if _, err := netboxsdk.New("ftp://x"); err == nil {
		t.Fatal("want error for ftp URL")
	}
}

func TestRetry(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	srv.FailNext("GET", "/api/dcim/sites/", 503, 2, "")
	if _, err := c.Objects("/api/dcim/sites/").All(ctx, nil); err != nil {
		t.Fatalf("GET should succeed after 2 retries: %v", err)
	}
	srv.FailNext("GET", "/api/dcim/sites/", 429, 5, "0")
	_, err := c.Objects("/api/dcim/sites/").All(ctx, nil)
	if !errors.Is(err, netboxsdk.ErrRateLimited) {
		t.Fatalf("want ErrRateLimited after 3 attempts, got %v", err)
	}
	srv.Reset()
	srv.FailNext("POST", "/api/dcim/sites/", 502, 1, "")
	_, err = c.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	var ae *netboxsdk.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 {
		t.Fatalf("POST must not be retried by default: %v", err)
	}
	if n := srv.Counts()["POST /api/dcim/sites/"]; n != 1 {
		t.Fatalf("POST sent %d times", n)
	}
	c2, _ := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, RetryNonIdempotent: true}))
	srv.FailNext("POST", "/api/dcim/sites/", 502, 1, "")
	if _, err := c2.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"}); err != nil {
		t.Fatalf("opted-in POST retry: %v", err)
	}
	// Retry-After is honoured (1s, capped by MaxBackoff 5ms here -> fast)
	srv.FailNext("GET", "/api/status/", 503, 1, "1")
	start := time.Now()
	if _, err := c.Status(ctx); err != nil || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("retry-after cap: %v %v", err, time.Since(start))
	}
}

func TestRetryAfterWait(t *testing.T) {
	srv, _ := newSrv(t)
	c, _ := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second}))
	srv.FailNext("GET", "/api/status/", 429, 1, "1")
	start := time.Now()
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("Retry-After: 1 not honoured (%v)", d)
	}
}

func TestConnErrorRetry(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		w.Write([]byte(`{"netbox-version":"4.7.0"}`))
	}))
	defer srv.Close()
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, RetryConnErrors: true}))
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("connection reset not retried: %v", err)
	}
}

func TestCacheInvalidation(t *testing.T) {
	srv, _ := newSrv(t)
	c, _ := srv.Client(netboxsdk.WithCache(time.Minute))
	ctx := context.Background()
	sites := c.Objects("/api/dcim/sites/")
	for range 3 {
		if n, _ := sites.Count(ctx, nil); n != 0 {
			t.Fatal(n)
		}
	}
	if got := srv.Counts()["GET /api/dcim/sites/"]; got != 1 {
		t.Fatalf("cache: %d GETs, want 1", got)
	}
	if _, err := sites.Create(ctx, netboxsdk.Object{"name": "s", "slug": "s"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := sites.Count(ctx, nil); n != 1 {
		t.Fatalf("stale count after write: %d", n)
	}
	// a write elsewhere leaves the cache alone
	c.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": "t", "slug": "t"})
	sites.Count(ctx, nil)
	if got := srv.Counts()["GET /api/dcim/sites/"]; got != 2 {
		t.Fatalf("GETs %d, want 2", got)
	}
}

func TestMaxConcurrency(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithMaxConcurrency(2))
	done := make(chan struct{})
	for range 8 {
		go func() { c.Do(context.Background(), "GET", "/api/", nil, nil, nil); done <- struct{}{} }()
	}
	for range 8 {
		<-done
	}
	if peak.Load() > 2 {
		t.Fatalf("peak concurrency %d > 2", peak.Load())
	}
}

func TestTokenNeverLogged(t *testing.T) {
	const tok = "nbt_leakkey.SUPERSECRETVALUE123456"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// a hostile or buggy server echoing the credential back
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"detail":"bad header %s","name":["%s"]}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken(tok), netboxsdk.WithLogger(lg))
	_, err := c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "x"})
	var ae *netboxsdk.APIError
	if !errors.As(err, &ae) {
		t.Fatal(err)
	}
	for _, s := range []string{err.Error(), string(ae.Body), ae.Detail, strings.Join(ae.Fields["name"], ""), logs.String()} {
		if strings.Contains(s, "SUPERSECRETVALUE") || strings.Contains(s, "leakkey.") {
			t.Fatalf("token leaked: %s", s)
		}
	}
	// a dead server: transport error text has no token either
	srv.Close()
	c2, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken(tok), netboxsdk.WithLogger(lg), netboxsdk.WithRetry(netboxsdk.RetryPolicy{}))
	_, err = c2.Status(context.Background())
	if err == nil || strings.Contains(err.Error(), "SUPERSECRET") || strings.Contains(logs.String(), "SUPERSECRET") {
		t.Fatalf("transport error: %v", err)
	}
	var te *netboxsdk.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("want TransportError, got %T", err)
	}
}

func TestErrorParsing(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	_, err := c.Objects("/api/dcim/sites/").BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b"}})
	var ae *netboxsdk.APIError
	if !errors.As(err, &ae) || ae.Fields["[1].slug"] == nil || len(ae.Items) != 2 {
		t.Fatalf("bulk errors: %#v", err)
	}
	if ae.RequestID == "" || ae.Method != "POST" || !strings.HasPrefix(ae.URL, srv.URL) {
		t.Fatalf("error metadata: %+v", ae)
	}
	_, err = c.Objects("/api/nope/things/").All(ctx, nil)
	if !errors.Is(err, netboxsdk.ErrNotFound) {
		t.Fatalf("unknown app: %v", err)
	}
}

func TestDoRawAndNextLinks(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 7 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("s", i), "slug": fmt.Sprint("s", i)})
	}
	if _, err := c.Objects("/api/dcim/sites/").BulkCreate(ctx, in); err != nil {
		t.Fatal(err)
	}
	var page netboxsdk.Page[netboxsdk.Object]
	resp, err := c.Do(ctx, "GET", "/api/dcim/sites/?limit=3", nil, nil, &page)
	if err != nil || resp.Count != 7 || resp.Next == "" || len(page.Results) != 3 {
		t.Fatalf("Do: %+v %v", resp, err)
	}
	resp, err = c.Do(ctx, "GET", resp.Next, nil, nil, &page)
	if err != nil || !strings.Contains(resp.Previous, "limit=3") {
		t.Fatalf("follow next: %+v %v", resp, err)
	}
	if _, err := c.Do(ctx, "GET", "//evil.example/api/", nil, nil, nil); err == nil {
		t.Fatal("scheme-relative path accepted")
	}
	if _, err := c.Do(ctx, "GET", "/api/../admin/", nil, nil, nil); err == nil {
		t.Fatal("dot-dot path accepted")
	}
	_ = srv
}

func TestOldNetBoxOffsetPaging(t *testing.T) {
	srv, c := newSrv(t, netboxtest.WithVersion("4.5.2"), netboxtest.WithPageSizes(50, 10))
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 35 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("t", i), "slug": fmt.Sprint("t", i)})
	}
	c.Objects("/api/extras/tags/").BulkCreate(ctx, in)
	srv.Reset()
	all, err := c.Objects("/api/extras/tags/").All(ctx, nil)
	if err != nil || len(all) != 35 {
		t.Fatalf("%d %v", len(all), err)
	}
	if n := srv.Counts()["GET /api/extras/tags/"]; n != 4 {
		t.Fatalf("pages: %d (MAX_PAGE_SIZE 10 => 4)", n)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Query, "start=") && strings.Contains(r.Query, "offset=") {
			t.Fatalf("mixed start and offset: %s", r.Query)
		}
	}
}

func TestCursorPaging(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 30 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("t", i), "slug": fmt.Sprint("t", i)})
	}
	c.Objects("/api/extras/tags/").BulkCreate(ctx, in)
	srv.Reset()
	all, err := c.Objects("/api/extras/tags/").All(ctx, netboxsdk.NewFilter().Limit(10))
	if err != nil || len(all) != 30 {
		t.Fatalf("%d %v", len(all), err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || !strings.Contains(reqs[0].Query, "start=0") || !strings.Contains(reqs[1].Query, "start=") {
		t.Fatalf("cursor requests: %+v", reqs)
	}
}

func TestStrictFilter(t *testing.T) {
	_, c := newSrv(t)
	f := netboxsdk.NewFilter().Eq("", 1)
	if _, err := c.Objects("/api/dcim/sites/").All(context.Background(), f); !errors.Is(err, netboxsdk.ErrUnknownFilter) {
		t.Fatalf("empty filter name: %v", err)
	}
	// The generated table must be there and hold the names used below: a missing
	// table would make Strict a no-op and this test vacuous.
	names, ok := netboxsdk.FilterNames("/api/dcim/sites/")
	if !ok {
		t.Fatal("no generated filter names for /api/dcim/sites/ (filters_gen.go); run `make generate`")
	}
	if !slices.Contains(names, "name") || !slices.Contains(names, "name__ic") || slices.Contains(names, "nmae") {
		t.Fatalf("filter names of /api/dcim/sites/: %v", names)
	}
	f = netboxsdk.NewFilter().Eq("nmae", "x").Strict()
	if _, err := c.Objects("/api/dcim/sites/").All(context.Background(), f); !errors.Is(err, netboxsdk.ErrUnknownFilter) {
		t.Fatalf("strict: %v", err)
	}
	f = netboxsdk.NewFilter().Eq("name", "x").CF("anything", 1).Lookup("name", "ic", "x").Strict()
	if _, err := c.Objects("/api/dcim/sites/").All(context.Background(), f); err != nil {
		t.Fatalf("strict with valid names: %v", err)
	}
}

func TestNullablePatch(t *testing.T) {
	_, c := newSrv(t)
	ctx := context.Background()
	type sitePatch struct {
		Description netboxsdk.Nullable[string] `json:"description,omitzero"`
		TimeZone    netboxsdk.Nullable[string] `json:"time_zone,omitzero"`
		Facility    netboxsdk.Nullable[string] `json:"facility,omitzero"`
	}
	type site struct {
		ID          int     `json:"id"`
		Description string  `json:"description"`
		TimeZone    *string `json:"time_zone"`
		Facility    string  `json:"facility"`
	}
	col := netboxsdk.NewCollection[site, netboxsdk.Object, sitePatch](c, "/api/dcim/sites")
	s, err := col.Create(ctx, netboxsdk.Object{"name": "a", "slug": "a", "time_zone": "UTC", "facility": "dc1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := col.Patch(ctx, s.ID, sitePatch{Description: netboxsdk.Value("d"), TimeZone: netboxsdk.Null[string]()})
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "d" || p.TimeZone != nil || p.Facility != "dc1" {
		t.Fatalf("three-state patch: %+v", p)
	}
}
