package netboxsdk_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

func newSrv(t *testing.T, opts ...netboxtest.Option) (*netboxtest.Server, *netboxsdk.Client) {
	t.Helper()
	srv := netboxtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		MaxRetryAfter: 5 * time.Millisecond, RetryConnErrors: true}))
	require.NoError(t, err)
	return srv, c
}

func TestAuthHeaders(t *testing.T) {
	var got atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"netbox-version":"4.7.3"}`))
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
		require.NoError(t, err)
		_, err = c.Status(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, got.Load(), "token %q", tok)
	}
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithTokenV2("key", "secret"))
	require.NoError(t, err)
	_, err = c.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer nbt_key.secret", got.Load(), "WithTokenV2")
}

func TestEnvFallback(t *testing.T) {
	srv, _ := newSrv(t)
	t.Setenv("NETBOX_URL", srv.URL+"/api/")
	t.Setenv("NETBOX_TOKEN", srv.TokenV2())
	c, err := netboxsdk.New("")
	require.NoError(t, err)
	st, err := c.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, netboxtest.DefaultVersion, st.NetBoxVersion)
	assert.True(t, st.AtLeast(4, 6))
	t.Setenv("NETBOX_URL", "")
	_, err = netboxsdk.New("")
	require.Error(t, err, "want error without URL")
	_, err = netboxsdk.New("ftp://x")
	require.Error(t, err, "want error for ftp URL")
}

func TestRetry(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	srv.FailNext("GET", "/api/dcim/sites/", 503, 2, "")
	_, err := c.Objects("/api/dcim/sites/").All(ctx, nil)
	require.NoError(t, err, "GET should succeed after 2 retries")
	srv.FailNext("GET", "/api/dcim/sites/", 429, 5, "0")
	_, err = c.Objects("/api/dcim/sites/").All(ctx, nil)
	require.ErrorIs(t, err, netboxsdk.ErrRateLimited, "after 3 attempts")
	srv.Reset()
	srv.FailNext("POST", "/api/dcim/sites/", 502, 1, "")
	_, err = c.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	var ae *netboxsdk.APIError
	require.ErrorAs(t, err, &ae, "POST must not be retried by default")
	assert.Equal(t, 502, ae.StatusCode)
	assert.Equal(t, 1, srv.Counts()["POST /api/dcim/sites/"], "POSTs sent")
	c2, err := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, RetryNonIdempotent: true}))
	require.NoError(t, err)
	srv.FailNext("POST", "/api/dcim/sites/", 502, 1, "")
	_, err = c2.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err, "opted-in POST retry")
	// Retry-After is honoured up to MaxRetryAfter (1s asked, 5ms here -> fast);
	// the full rule is TestRetryAfterRule's table
	srv.FailNext("GET", "/api/status/", 503, 1, "1")
	start := time.Now()
	_, err = c.Status(ctx)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "Retry-After capped")
}

func TestConnErrorRetry(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		_, _ = w.Write([]byte(`{"netbox-version":"4.7.0"}`))
	}))
	defer srv.Close()
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, RetryConnErrors: true}))
	require.NoError(t, err)
	_, err = c.Status(context.Background())
	require.NoError(t, err, "connection reset not retried")
}

func TestCacheInvalidation(t *testing.T) {
	srv, _ := newSrv(t)
	c, err := srv.Client(netboxsdk.WithCache(time.Minute))
	require.NoError(t, err)
	ctx := context.Background()
	sites := c.Objects("/api/dcim/sites/")
	for range 3 {
		n, err := sites.Count(ctx, nil)
		require.NoError(t, err)
		require.Zero(t, n)
	}
	assert.Equal(t, 1, srv.Counts()["GET /api/dcim/sites/"], "cached GETs")
	_, err = sites.Create(ctx, netboxsdk.Object{"name": "s", "slug": "s"})
	require.NoError(t, err)
	n, err := sites.Count(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "count after a write")
	// a write elsewhere leaves the cache alone
	_, err = c.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": "t", "slug": "t"})
	require.NoError(t, err)
	_, err = sites.Count(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Counts()["GET /api/dcim/sites/"], "GETs")
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
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithMaxConcurrency(2))
	require.NoError(t, err)
	errs := make(chan error)
	for range 8 {
		go func() { _, err := c.Do(context.Background(), "GET", "/api/", nil, nil, nil); errs <- err }()
	}
	for range 8 {
		assert.NoError(t, <-errs)
	}
	assert.LessOrEqual(t, peak.Load(), int32(2), "peak concurrency")
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
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken(tok), netboxsdk.WithLogger(lg))
	require.NoError(t, err)
	_, err = c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "x"})
	var ae *netboxsdk.APIError
	require.ErrorAs(t, err, &ae)
	for _, s := range []string{err.Error(), string(ae.Body), ae.Detail, strings.Join(ae.Fields["name"], ""), logs.String()} {
		assert.NotContains(t, s, "SUPERSECRETVALUE", "token leaked")
		assert.NotContains(t, s, "leakkey.", "token leaked")
	}
	// a dead server: transport error text has no token either
	srv.Close()
	c2, err := netboxsdk.New(srv.URL, netboxsdk.WithToken(tok), netboxsdk.WithLogger(lg), netboxsdk.WithRetry(netboxsdk.RetryPolicy{}))
	require.NoError(t, err)
	_, err = c2.Status(context.Background())
	var te *netboxsdk.TransportError
	require.ErrorAs(t, err, &te)
	assert.NotContains(t, err.Error(), "SUPERSECRET")
	assert.NotContains(t, logs.String(), "SUPERSECRET")
}

func TestErrorParsing(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	_, err := c.Objects("/api/dcim/sites/").BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b"}})
	var ae *netboxsdk.APIError
	require.ErrorAs(t, err, &ae)
	assert.NotNil(t, ae.Fields["[1].slug"], "bulk field error")
	assert.Len(t, ae.Items, 2)
	assert.NotEmpty(t, ae.RequestID)
	assert.Equal(t, "POST", ae.Method)
	assert.True(t, strings.HasPrefix(ae.URL, srv.URL), "URL %s", ae.URL)
	_, err = c.Objects("/api/nope/things/").All(ctx, nil)
	require.ErrorIs(t, err, netboxsdk.ErrNotFound, "unknown app")
}

func TestDoRawAndNextLinks(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 7 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("s", i), "slug": fmt.Sprint("s", i)})
	}
	_, err := c.Objects("/api/dcim/sites/").BulkCreate(ctx, in)
	require.NoError(t, err)
	var page netboxsdk.Page[netboxsdk.Object]
	resp, err := c.Do(ctx, "GET", "/api/dcim/sites/?limit=3", nil, nil, &page)
	require.NoError(t, err)
	assert.Equal(t, 7, resp.Count)
	assert.NotEmpty(t, resp.Next)
	assert.Len(t, page.Results, 3)
	resp, err = c.Do(ctx, "GET", resp.Next, nil, nil, &page)
	require.NoError(t, err, "follow next")
	assert.Contains(t, resp.Previous, "limit=3")
	_, err = c.Do(ctx, "GET", "//evil.example/api/", nil, nil, nil)
	require.Error(t, err, "scheme-relative path accepted")
	_, err = c.Do(ctx, "GET", "/api/../admin/", nil, nil, nil)
	require.Error(t, err, "dot-dot path accepted")
	_ = srv
}

func TestOldNetBoxOffsetPaging(t *testing.T) {
	srv, c := newSrv(t, netboxtest.WithVersion("4.5.2"), netboxtest.WithPageSizes(50, 10))
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 35 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("t", i), "slug": fmt.Sprint("t", i)})
	}
	_, err := c.Objects("/api/extras/tags/").BulkCreate(ctx, in)
	require.NoError(t, err)
	srv.Reset()
	all, err := c.Objects("/api/extras/tags/").All(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, all, 35)
	assert.Equal(t, 4, srv.Counts()["GET /api/extras/tags/"], "pages (MAX_PAGE_SIZE 10 => 4)")
	for _, r := range srv.Requests() {
		assert.False(t, strings.Contains(r.Query, "start=") && strings.Contains(r.Query, "offset="), "mixed start and offset: %s", r.Query)
	}
}

func TestCursorPaging(t *testing.T) {
	srv, c := newSrv(t)
	ctx := context.Background()
	var in []netboxsdk.Object
	for i := range 30 {
		in = append(in, netboxsdk.Object{"name": fmt.Sprint("t", i), "slug": fmt.Sprint("t", i)})
	}
	_, err := c.Objects("/api/extras/tags/").BulkCreate(ctx, in)
	require.NoError(t, err)
	srv.Reset()
	all, err := c.Objects("/api/extras/tags/").All(ctx, netboxsdk.NewFilter().Limit(10))
	require.NoError(t, err)
	assert.Len(t, all, 30)
	reqs := srv.Requests()
	require.Len(t, reqs, 3, "cursor requests")
	assert.Contains(t, reqs[0].Query, "start=0")
	assert.Contains(t, reqs[1].Query, "start=")
}

func TestStrictFilter(t *testing.T) {
	_, c := newSrv(t)
	f := netboxsdk.NewFilter().Eq("", 1)
	_, err := c.Objects("/api/dcim/sites/").All(context.Background(), f)
	require.ErrorIs(t, err, netboxsdk.ErrUnknownFilter, "empty filter name")
	// The generated table must be there and hold the names used below: a missing
	// table would make Strict a no-op and this test vacuous.
	names, ok := netboxsdk.FilterNames("/api/dcim/sites/")
	require.True(t, ok, "no generated filter names for /api/dcim/sites/ (filters_gen.go); run `make generate`")
	assert.True(t, slices.Contains(names, "name"), "name")
	assert.True(t, slices.Contains(names, "name__ic"), "name__ic")
	assert.False(t, slices.Contains(names, "nmae"), "nmae")
	f = netboxsdk.NewFilter().Eq("nmae", "x").Strict()
	_, err = c.Objects("/api/dcim/sites/").All(context.Background(), f)
	require.ErrorIs(t, err, netboxsdk.ErrUnknownFilter, "strict")
	f = netboxsdk.NewFilter().Eq("name", "x").CF("anything", 1).Lookup("name", "ic", "x").Strict()
	_, err = c.Objects("/api/dcim/sites/").All(context.Background(), f)
	require.NoError(t, err, "strict with valid names")
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
	require.NoError(t, err)
	p, err := col.Patch(ctx, s.ID, sitePatch{Description: netboxsdk.Value("d"), TimeZone: netboxsdk.Null[string]()})
	require.NoError(t, err)
	assert.Equal(t, "d", p.Description, "set")
	assert.Nil(t, p.TimeZone, "nulled")
	assert.Equal(t, "dc1", p.Facility, "left alone")
}
