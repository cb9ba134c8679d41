package proxmoxsdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// scripted fails the first len(faults) calls with the given faults, then
// delegates.
type scripted struct {
	next   proxmoxsdk.Transport
	faults []func(ctx context.Context) (*proxmoxsdk.Response, error)
	calls  atomic.Int32
}

func (s *scripted) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	if n := int(s.calls.Add(1)); n <= len(s.faults) {
		return s.faults[n-1](ctx)
	}
	return s.next.RoundTrip(ctx, req)
}

func answer(status int, msg string, header ...string) func(context.Context) (*proxmoxsdk.Response, error) {
	return func(context.Context) (*proxmoxsdk.Response, error) {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &proxmoxsdk.Response{StatusCode: status, Status: msg, Header: h, Body: []byte(`{"data":null}`)}, nil
	}
}

func fail(err error) func(context.Context) (*proxmoxsdk.Response, error) {
	return func(context.Context) (*proxmoxsdk.Response, error) { return nil, err }
}

func times(n int, f func(context.Context) (*proxmoxsdk.Response, error)) []func(context.Context) (*proxmoxsdk.Response, error) {
	out := make([]func(context.Context) (*proxmoxsdk.Response, error), n)
	for i := range out {
		out[i] = f
	}
	return out
}

// TestRetryCoversTransientFaults: idempotent reads are retried on 5xx, 429,
// 408, connection resets, cut replies and per-request timeouts; PVE's
// definitive answers and the caller's own cancellation are not.
func TestRetryCoversTransientFaults(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	fast := proxmoxsdk.WithRetry(proxmoxsdk.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	// what http.Client reports when its Timeout fires: it matches
	// context.DeadlineExceeded although the caller's context is live
	clientTimeout := fmt.Errorf("proxmox: GET /version: Get \"https://pve:8006/api2/json/version\": %w (Client.Timeout exceeded while awaiting headers)", context.DeadlineExceeded)
	cases := []struct {
		name   string
		method string
		faults []func(context.Context) (*proxmoxsdk.Response, error)
		ok     bool
		calls  int32
	}{
		{"503 503", "GET", times(2, answer(503, "")), true, 3},
		{"500 502 504", "GET", append(append(times(1, answer(500, "")), answer(502, "Bad Gateway")), answer(504, "")), true, 4},
		{"429 with Retry-After", "GET", times(2, answer(429, "", "Retry-After", "0")), true, 3},
		{"408", "GET", times(1, answer(408, "")), true, 2},
		{"595 node unreachable", "GET", times(1, answer(595, "Connection refused")), true, 2},
		{"connection reset", "GET", times(2, fail(errors.New("read tcp: connection reset by peer"))), true, 3},
		{"reply cut short", "GET", times(1, fail(io.ErrUnexpectedEOF)), true, 2},
		{"per-request timeout", "GET", times(2, fail(clientTimeout)), true, 3},
		{"persistent 503", "GET", times(9, answer(503, "")), false, 5},
		{"agent not running", "GET", times(9, answer(500, "QEMU guest agent is not running")), false, 1},
		{"agent not configured", "GET", times(9, answer(500, "No QEMU guest agent configured")), false, 1},
		{"VM not running", "GET", times(9, answer(500, "VM 100 is not running")), false, 1},
		{"does not exist", "GET", times(9, answer(500, "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist")), false, 1},
		{"403", "GET", times(9, answer(403, "Permission check failed")), false, 1},
		{"POST 429 (refused unprocessed)", "POST", times(1, answer(429, "")), true, 2},
		{"POST 503 (may have run)", "POST", times(1, answer(503, "")), false, 1},
		{"POST reset (may have run)", "POST", times(1, fail(errors.New("connection reset by peer"))), false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{next: m.Transport(), faults: tc.faults}
			path := "/version"
			if tc.method == "POST" {
				path = "/nodes/pve1/qemu/100/status/stop"
			}
			id, secret := m.Token()
			_, err := newClient(t, proxmoxsdk.WithTransport(s), proxmoxsdk.WithAPIToken(id, secret), fast).CallRaw(ctxT(t), tc.method, path, nil)
			if (err == nil) != tc.ok || s.calls.Load() != tc.calls {
				t.Fatalf("err=%v calls=%d, want ok=%v calls=%d", err, s.calls.Load(), tc.ok, tc.calls)
			}
		})
	}
}

// TestRetryStopsWithTheCaller: a cancelled or expired caller context ends
// the retries at once.
func TestRetryStopsWithTheCaller(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	ctx, cancel := context.WithCancel(ctxT(t))
	s := &scripted{next: m.Transport(), faults: times(9, func(context.Context) (*proxmoxsdk.Response, error) {
		cancel()
		return nil, context.Canceled
	})}
	_, err := newClient(t, proxmoxsdk.WithTransport(s)).CallRaw(ctx, "GET", "/version", nil)
	if !errors.Is(err, context.Canceled) || s.calls.Load() != 1 {
		t.Fatalf("cancelled caller: err=%v calls=%d", err, s.calls.Load())
	}
	short, cancel2 := context.WithTimeout(ctxT(t), time.Millisecond)
	defer cancel2()
	<-short.Done()
	s = &scripted{next: m.Transport(), faults: times(9, fail(fmt.Errorf("get: %w", context.DeadlineExceeded)))}
	_, err = newClient(t, proxmoxsdk.WithTransport(s)).CallRaw(short, "GET", "/version", nil)
	if !errors.Is(err, context.DeadlineExceeded) || s.calls.Load() != 1 {
		t.Fatalf("expired caller: err=%v calls=%d", err, s.calls.Load())
	}
}

// TestRetryAfterHonoured: the wait after a 429 (or 503) is at least its
// Retry-After (seconds or HTTP date), capped by MaxRetryAfter.
func TestRetryAfterHonoured(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	id, secret := m.Token()
	pol := proxmoxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRetryAfter: 10 * time.Second}
	run := func(pol proxmoxsdk.RetryPolicy, f func(context.Context) (*proxmoxsdk.Response, error)) time.Duration {
		t.Helper()
		s := &scripted{next: m.Transport(), faults: times(1, f)}
		start := time.Now()
		if _, err := newClient(t, proxmoxsdk.WithTransport(s), proxmoxsdk.WithAPIToken(id, secret), proxmoxsdk.WithRetry(pol)).CallRaw(ctxT(t), "GET", "/version", nil); err != nil || s.calls.Load() != 2 {
			t.Fatalf("err=%v calls=%d", err, s.calls.Load())
		}
		return time.Since(start)
	}
	if d := run(pol, answer(429, "", "Retry-After", "1")); d < time.Second {
		t.Errorf("429 Retry-After: 1 retried after %v", d)
	}
	if d := run(pol, answer(503, "", "Retry-After", "1")); d < time.Second {
		t.Errorf("503 Retry-After: 1 retried after %v", d)
	}
	capped := pol
	capped.MaxRetryAfter = 150 * time.Millisecond
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if d := run(capped, answer(429, "", "Retry-After", date)); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("429 Retry-After %s capped at 150ms: retried after %v", date, d)
	}
}

// TestRetryHTTPSTimeout: a GET whose answer takes longer than the HTTPS
// transport's per-request timeout is retried (the real http.Client error).
func TestRetryHTTPSTimeout(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	var n atomic.Int32
	h := m.Handler()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	id, secret := m.Token()
	px := newClient(t, proxmoxsdk.WithHTTPS(srv.URL, proxmoxsdk.WithInsecureSkipVerify(), proxmoxsdk.WithTimeout(200*time.Millisecond)),
		proxmoxsdk.WithAPIToken(id, secret), proxmoxsdk.WithRetry(proxmoxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	var v map[string]any
	if err := px.Call(ctxT(t), "GET", "/version", nil, &v); err != nil || n.Load() != 2 || v["version"] == nil {
		t.Fatalf("err=%v requests=%d version=%v", err, n.Load(), v)
	}
}
