package netboxsdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

func fastDefault() netboxsdk.RetryPolicy {
	p := netboxsdk.DefaultRetryPolicy()
	p.MinBackoff, p.MaxBackoff = time.Millisecond, 5*time.Second
	return p
}

// A 429 was not processed by the server: every method is retried by default.
func TestRetry429AllMethods(t *testing.T) {
	srv := netboxtest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.Client(netboxsdk.WithRetry(fastDefault()))
	require.NoError(t, err)
	ctx := context.Background()
	sites := c.Objects("/api/dcim/sites/")
	srv.FailNext("POST", "/api/dcim/sites/", 429, 2, "0")
	s, err := sites.Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err, "POST after 429")
	sid := int(s["id"].(float64))
	srv.FailNext("PATCH", "/api/dcim/sites/", 429, 1, "0")
	_, err = sites.Patch(ctx, sid, netboxsdk.Object{"description": "x"})
	require.NoError(t, err, "PATCH after 429")
	srv.FailNext("DELETE", "/api/dcim/sites/", 429, 1, "0")
	require.NoError(t, sites.Delete(ctx, sid), "DELETE after 429")
	assert.Equal(t, 3, srv.Counts()["POST /api/dcim/sites/"])
	assert.Zero(t, srv.Len("/api/dcim/sites/"), "sites left")
	// the number of attempts is still bounded
	srv.FailNext("POST", "/api/dcim/sites/", 429, 4, "0")
	before := c.RequestCount()
	_, err = sites.Create(ctx, netboxsdk.Object{"name": "b", "slug": "b"})
	require.ErrorIs(t, err, netboxsdk.ErrRateLimited)
	assert.EqualValues(t, 4, c.RequestCount()-before, "attempts")
	// 5xx stays idempotent-only
	srv.FailNext("PATCH", "/api/dcim/sites/", 503, 1, "0")
	s2, err := sites.Create(ctx, netboxsdk.Object{"name": "c", "slug": "c"})
	require.NoError(t, err)
	before = c.RequestCount()
	_, err = sites.Patch(ctx, int(s2["id"].(float64)), netboxsdk.Object{"description": "x"})
	var ae *netboxsdk.APIError
	require.ErrorAs(t, err, &ae, "PATCH 503 must not be retried by default")
	assert.Equal(t, 503, ae.StatusCode)
	assert.EqualValues(t, 1, c.RequestCount()-before, "attempts")
}

// Retry-After is honoured for a POST.
func TestRetry429RetryAfterPOST(t *testing.T) {
	srv := netboxtest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.Client(netboxsdk.WithRetry(fastDefault()))
	require.NoError(t, err)
	srv.FailNext("POST", "/api/extras/tags/", 429, 1, "1")
	start := time.Now()
	_, err = c.Objects("/api/extras/tags/").Create(context.Background(), netboxsdk.Object{"name": "t", "slug": "t"})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "Retry-After: 1 not honoured for POST")
}

// retryAfterCase is one row of the Retry-After table both SDKs run
// (testdata/retry-after.json at the workspace root).
type retryAfterCase struct {
	Name            string `json:"name"`
	Status          int    `json:"status"`
	RetryAfter      string `json:"retry_after"`
	MinBackoffMS    int    `json:"min_backoff_ms"`
	MaxBackoffMS    int    `json:"max_backoff_ms"`
	MaxRetryAfterMS int    `json:"max_retry_after_ms"`
	WaitMinMS       int    `json:"wait_min_ms"`
	WaitMaxMS       int    `json:"wait_max_ms"`
}

func retryAfterCases(t *testing.T) []retryAfterCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "retry-after.json"))
	require.NoError(t, err)
	var table struct {
		Cases []retryAfterCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &table))
	require.NotEmpty(t, table.Cases)
	return table.Cases
}

// TestRetryAfterRule runs the workspace's one Retry-After table (shared with
// proxmoxsdk): the pause between a refused GET and its retry.
func TestRetryAfterRule(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range retryAfterCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, time.Now())
				n := len(seen)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n == 1 {
					if tc.RetryAfter != "" {
						w.Header().Set("Retry-After", tc.RetryAfter)
					}
					w.WriteHeader(tc.Status)
					_, _ = w.Write([]byte(`{"detail":"busy"}`))
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			t.Cleanup(srv.Close)
			p := netboxsdk.DefaultRetryPolicy()
			p.MinBackoff, p.MaxBackoff, p.MaxRetryAfter = ms(tc.MinBackoffMS), ms(tc.MaxBackoffMS), ms(tc.MaxRetryAfterMS)
			c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithRetry(p))
			require.NoError(t, err)
			_, err = c.Do(context.Background(), http.MethodGet, "/api/status/", nil, nil, nil)
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, seen, 2, "attempts")
			wait := seen[1].Sub(seen[0])
			assert.GreaterOrEqual(t, wait, ms(tc.WaitMinMS), "wait")
			assert.LessOrEqual(t, wait, ms(tc.WaitMaxMS), "wait")
		})
	}
}

// A dial error happened before the request was written: retried for a POST.
func TestRetryDialErrorPOST(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1,"name":"a"}`))
	}))
	defer srv.Close()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithHTTPClient(&http.Client{Transport: tr}), netboxsdk.WithRetry(fastDefault()))
	require.NoError(t, err)
	_, err = c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"})
	require.NoError(t, err, "POST after dial errors")
	assert.EqualValues(t, 1, posts.Load(), "posts")
	assert.EqualValues(t, 3, dials.Load(), "dials")
	// a connection refused by a closed port is a dial error as well
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c2, err := netboxsdk.New("http://"+addr, netboxsdk.WithToken("x"), netboxsdk.WithRetry(fastDefault()))
	require.NoError(t, err)
	_, err = c2.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"})
	var te *netboxsdk.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.NotSent, "refused POST is not sent")
	assert.EqualValues(t, 4, c2.RequestCount(), "attempts")
}

// A connection dropped after the request was written is ambiguous: a POST is
// not retried by default (it may have been applied), a GET is.
func TestNoRetryAmbiguousPOST(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		_ = conn.Close()
	}))
	defer srv.Close()
	c, err := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithRetry(fastDefault()))
	require.NoError(t, err)
	_, err = c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"})
	var te *netboxsdk.TransportError
	require.ErrorAs(t, err, &te, "POST with dropped connection")
	assert.False(t, te.NotSent)
	assert.EqualValues(t, 1, n.Load(), "the server saw the POST once")
	n.Store(0)
	_, err = c.Objects("/api/dcim/sites/").All(context.Background(), nil)
	require.Error(t, err, "GET with dropped connection")
	assert.EqualValues(t, 4, n.Load(), "the GET was retried")
}
