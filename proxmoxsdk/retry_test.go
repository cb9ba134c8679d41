package proxmoxsdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			assert.Equal(t, tc.calls, s.calls.Load(), "calls")
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
	require.ErrorIs(t, err, context.Canceled, "cancelled caller")
	assert.EqualValues(t, 1, s.calls.Load(), "calls")
	short, cancel2 := context.WithTimeout(ctxT(t), time.Millisecond)
	defer cancel2()
	<-short.Done()
	s = &scripted{next: m.Transport(), faults: times(9, fail(fmt.Errorf("get: %w", context.DeadlineExceeded)))}
	_, err = newClient(t, proxmoxsdk.WithTransport(s)).CallRaw(short, "GET", "/version", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded, "expired caller")
	assert.EqualValues(t, 1, s.calls.Load(), "calls")
}

// stamped records when each call reaches the transport.
type stamped struct {
	next proxmoxsdk.Transport
	mu   sync.Mutex
	at   []time.Time
}

func (s *stamped) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return s.next.RoundTrip(ctx, req)
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

// TestRetryAfterRule runs the workspace's one Retry-After table (shared with
// netboxsdk): the pause between a refused GET and its retry.
func TestRetryAfterRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "retry-after.json"))
	require.NoError(t, err)
	var table struct {
		Cases []retryAfterCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &table))
	require.NotEmpty(t, table.Cases)
	m := pvemock.New(pvemock.S100())
	id, secret := m.Token()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range table.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var hdr []string
			if tc.RetryAfter != "" {
				hdr = []string{"Retry-After", tc.RetryAfter}
			}
			s := &stamped{next: &scripted{next: m.Transport(), faults: times(1, answer(tc.Status, "", hdr...))}}
			pol := proxmoxsdk.RetryPolicy{MaxAttempts: 2, MinBackoff: ms(tc.MinBackoffMS), MaxBackoff: ms(tc.MaxBackoffMS), MaxRetryAfter: ms(tc.MaxRetryAfterMS)}
			_, err := newClient(t, proxmoxsdk.WithTransport(s), proxmoxsdk.WithAPIToken(id, secret), proxmoxsdk.WithRetry(pol)).CallRaw(ctxT(t), "GET", "/version", nil)
			require.NoError(t, err)
			s.mu.Lock()
			defer s.mu.Unlock()
			require.Len(t, s.at, 2, "attempts")
			wait := s.at[1].Sub(s.at[0])
			assert.GreaterOrEqual(t, wait, ms(tc.WaitMinMS), "wait")
			assert.LessOrEqual(t, wait, ms(tc.WaitMaxMS), "wait")
		})
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
	require.NoError(t, px.Call(ctxT(t), "GET", "/version", nil, &v))
	assert.EqualValues(t, 2, n.Load(), "requests")
	assert.NotNil(t, v["version"])
}
