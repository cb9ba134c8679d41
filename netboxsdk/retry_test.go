package netboxsdk_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sites := c.Objects("/api/dcim/sites/")
	srv.FailNext("POST", "/api/dcim/sites/", 429, 2, "0")
	s, err := sites.Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	if err != nil {
		t.Fatalf("POST after 429: %v", err)
	}
	sid := int(s["id"].(float64))
	srv.FailNext("PATCH", "/api/dcim/sites/", 429, 1, "0")
	if _, err := sites.Patch(ctx, sid, netboxsdk.Object{"description": "x"}); err != nil {
		t.Fatalf("PATCH after 429: %v", err)
	}
	srv.FailNext("DELETE", "/api/dcim/sites/", 429, 1, "0")
	if err := sites.Delete(ctx, sid); err != nil {
		t.Fatalf("DELETE after 429: %v", err)
	}
	counts := srv.Counts()
	if counts["POST /api/dcim/sites/"] != 3 || srv.Len("/api/dcim/sites/") != 0 {
		t.Fatalf("counts %v, sites left %d", counts, srv.Len("/api/dcim/sites/"))
	}
	// the number of attempts is still bounded
	srv.FailNext("POST", "/api/dcim/sites/", 429, 4, "0")
	before := c.RequestCount()
	_, err = sites.Create(ctx, netboxsdk.Object{"name": "b", "slug": "b"})
	if !errors.Is(err, netboxsdk.ErrRateLimited) || c.RequestCount()-before != 4 {
		t.Fatalf("want ErrRateLimited after 4 attempts: %v (%d)", err, c.RequestCount()-before)
	}
	// 5xx stays idempotent-only
	srv.FailNext("PATCH", "/api/dcim/sites/", 503, 1, "0")
	s2, _ := sites.Create(ctx, netboxsdk.Object{"name": "c", "slug": "c"})
	before = c.RequestCount()
	_, err = sites.Patch(ctx, int(s2["id"].(float64)), netboxsdk.Object{"description": "x"})
	var ae *netboxsdk.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || c.RequestCount()-before != 1 {
		t.Fatalf("PATCH 503 must not be retried by default: %v", err)
	}
}

// Retry-After is honoured for a POST.
func TestRetry429RetryAfterPOST(t *testing.T) {
	srv := netboxtest.NewServer()
	t.Cleanup(srv.Close)
	c, _ := srv.Client(netboxsdk.WithRetry(fastDefault()))
	srv.FailNext("POST", "/api/extras/tags/", 429, 1, "1")
	start := time.Now()
	if _, err := c.Objects("/api/extras/tags/").Create(context.Background(), netboxsdk.Object{"name": "t", "slug": "t"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("Retry-After: 1 not honoured for POST (%v)", d)
	}
}

// A dial error happened before the request was written: retried for a POST.
func TestRetryDialErrorPOST(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":1,"name":"a"}`))
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
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithHTTPClient(&http.Client{Transport: tr}), netboxsdk.WithRetry(fastDefault()))
	if _, err := c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"}); err != nil {
		t.Fatalf("POST after dial errors: %v", err)
	}
	if posts.Load() != 1 || dials.Load() != 3 {
		t.Fatalf("posts %d dials %d", posts.Load(), dials.Load())
	}
	// a connection refused by a closed port is a dial error as well
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := netboxsdk.New("http://"+addr, netboxsdk.WithToken("x"), netboxsdk.WithRetry(fastDefault()))
	_, err := c2.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"})
	var te *netboxsdk.TransportError
	if !errors.As(err, &te) || !te.NotSent || c2.RequestCount() != 4 {
		t.Fatalf("refused POST: %v notSent=%v attempts=%d", err, te != nil && te.NotSent, c2.RequestCount())
	}
}

// A connection dropped after the request was written is ambiguous: a POST is
// not retried by default (it may have been applied), a GET is.
func TestNoRetryAmbiguousPOST(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, _ := netboxsdk.New(srv.URL, netboxsdk.WithToken("x"), netboxsdk.WithRetry(fastDefault()))
	_, err := c.Objects("/api/dcim/sites/").Create(context.Background(), netboxsdk.Object{"name": "a"})
	var te *netboxsdk.TransportError
	if !errors.As(err, &te) || te.NotSent || n.Load() != 1 {
		t.Fatalf("POST with dropped connection: %v, server saw %d", err, n.Load())
	}
	n.Store(0)
	if _, err := c.Objects("/api/dcim/sites/").All(context.Background(), nil); err == nil || n.Load() != 4 {
		t.Fatalf("GET with dropped connection: %v, server saw %d", err, n.Load())
	}
}
