package proxmoxsdk_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestErrorTypes(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	url, fp, _ := tlsServer(t, m)
	ro, roSecret := m.ReadOnlyToken()
	id, secret := m.Token()
	px := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)), proxmoxsdk.WithAPIToken(id, secret), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
	roClient := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)), proxmoxsdk.WithAPIToken(ro, roSecret))
	ctx := ctxT(t)
	if err := m.SetNodeDown("pve3", true); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		c      *proxmoxsdk.Client
		method string
		path   string
		params any
		want   error
		status int
	}{
		{"500 does not exist", px, "GET", "/nodes/pve1/qemu/9999/config", nil, proxmoxsdk.ErrNotFound, 500},
		{"wrong node", px, "GET", "/nodes/pve2/qemu/100/config", nil, proxmoxsdk.ErrNotFound, 500},
		{"403", roClient, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": 2048}, proxmoxsdk.ErrPermission, 403},
		{"400 errors map", px, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": "lots", "bogus": 1}, proxmoxsdk.ErrParameter, 400},
		{"501 unknown path", px, "GET", "/nodes/pve1/no-such-thing", nil, proxmoxsdk.ErrNotImplemented, 501},
		{"595 node down", px, "GET", "/nodes/pve3/qemu", nil, proxmoxsdk.ErrNodeUnreachable, 595},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.CallRaw(ctx, tc.method, tc.path, tc.params)
			var ae *proxmoxsdk.APIError
			if !errors.Is(err, tc.want) || !errors.As(err, &ae) || ae.StatusCode != tc.status {
				t.Fatalf("got %v, want %v (%d)", err, tc.want, tc.status)
			}
			if ae.Message == "" || ae.Message == http.StatusText(tc.status) && tc.status != 403 {
				t.Errorf("message not decoded: %q", ae.Message)
			}
			if tc.status == 400 {
				if !strings.Contains(ae.Errors["memory"], "memory size") || ae.Errors["bogus"] == "" {
					t.Errorf("errors map = %v", ae.Errors)
				}
			}
			for _, other := range []error{proxmoxsdk.ErrNotFound, proxmoxsdk.ErrPermission, proxmoxsdk.ErrAuth, proxmoxsdk.ErrParameter} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
		})
	}
}

// flaky answers 503 n times, then delegates.
type flaky struct {
	next  proxmoxsdk.Transport
	fails int32
	calls atomic.Int32
	err   error
}

func (f *flaky) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	if f.calls.Add(1) <= f.fails {
		if f.err != nil {
			return nil, f.err
		}
		return &proxmoxsdk.Response{StatusCode: 503, Body: []byte(`{"data":null}`)}, nil
	}
	return f.next.RoundTrip(ctx, req)
}

func TestRetry(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	ctx := ctxT(t)
	fast := proxmoxsdk.WithRetry(proxmoxsdk.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})

	f := &flaky{next: m.Transport(), fails: 2}
	if _, err := newClient(t, proxmoxsdk.WithTransport(f), fast).CallRaw(ctx, "GET", "/version", nil); err != nil || f.calls.Load() != 3 {
		t.Fatalf("GET after two 503: err=%v calls=%d", err, f.calls.Load())
	}
	f = &flaky{next: m.Transport(), fails: 2, err: errors.New("connection reset by peer")}
	if _, err := newClient(t, proxmoxsdk.WithTransport(f), fast).CallRaw(ctx, "GET", "/version", nil); err != nil || f.calls.Load() != 3 {
		t.Fatalf("GET after two connection errors: err=%v calls=%d", err, f.calls.Load())
	}
	f = &flaky{next: m.Transport(), fails: 5}
	_, err := newClient(t, proxmoxsdk.WithTransport(f), fast).CallRaw(ctx, "GET", "/version", nil)
	if f.calls.Load() != 3 || err == nil {
		t.Fatalf("persistent 503: err=%v calls=%d", err, f.calls.Load())
	}
	f = &flaky{next: m.Transport(), fails: 1}
	if _, err := newClient(t, proxmoxsdk.WithTransport(f), fast).CallRaw(ctx, "POST", "/nodes/pve1/qemu/100/status/stop", nil); err == nil || f.calls.Load() != 1 {
		t.Fatalf("POST must not be retried: err=%v calls=%d", err, f.calls.Load())
	}
	// "does not exist" is final.
	counting := &flaky{next: m.Transport()}
	_, err = newClient(t, proxmoxsdk.WithTransport(counting), fast).CallRaw(ctx, "GET", "/nodes/pve1/qemu/9999/config", nil)
	if !errors.Is(err, proxmoxsdk.ErrNotFound) || counting.calls.Load() != 1 {
		t.Fatalf("not-found retried: err=%v calls=%d", err, counting.calls.Load())
	}
}

func TestWaitTask(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	px := newClient(t, proxmoxsdk.WithTransport(m.Transport()))
	ctx := ctxT(t)
	poll := proxmoxsdk.WithPollInterval(time.Millisecond, 2*time.Millisecond)

	ok := m.AddTask("pve1", "qmstart", 100, "OK", 3)
	st, err := px.WaitTask(ctx, ok, poll)
	if err != nil || st.ExitStatus != "OK" {
		t.Fatalf("ok task: %+v %v", st, err)
	}
	if n := m.RequestCount("GET", "/nodes/{node}/tasks/{upid}/status"); n != 4 {
		t.Fatalf("status polls = %d, want 4", n)
	}
	bad := m.AddTask("pve2", "vzdump", 101, "job errors", 1, "INFO: starting new backup job", "ERROR: Backup of VM 101 failed - no space left on device")
	_, err = px.WaitTask(ctx, bad, poll)
	var te *proxmoxsdk.TaskError
	if !errors.Is(err, proxmoxsdk.ErrTaskFailed) || !errors.As(err, &te) {
		t.Fatalf("failed task: %v", err)
	}
	if te.ExitStatus != "job errors" || !strings.Contains(strings.Join(te.LogTail, "\n"), "no space left") {
		t.Fatalf("task error = %+v", te)
	}
	warn := m.AddTask("pve1", "vzdump", 100, "WARNINGS: 1", 0)
	if _, err := px.WaitTask(ctx, warn, poll); err != nil {
		t.Fatalf("warnings are not failures by default: %v", err)
	}
	if _, err := px.WaitTask(ctx, warn, poll, proxmoxsdk.WithFailOnWarnings()); !errors.Is(err, proxmoxsdk.ErrTaskFailed) {
		t.Fatalf("WithFailOnWarnings: %v", err)
	}
	slow := m.AddTask("pve1", "qmstart", 100, "OK", 1000)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := px.WaitTask(short, slow, poll); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if _, err := px.WaitTask(ctx, "not-a-upid"); err == nil {
		t.Fatal("bad UPID accepted")
	}
	u, err := proxmoxsdk.ParseUPID(ok)
	if err != nil || u.Node != "pve1" || u.Type != "qmstart" || u.ID != "100" || u.User != "root@pam" {
		t.Fatalf("ParseUPID = %+v, %v", u, err)
	}
}

func TestGetListTolerant(t *testing.T) {
	type item struct {
		VMID int    `json:"vmid"`
		Name string `json:"name"`
	}
	raw := []byte(`[{"vmid":100,"name":"a"},{"vmid":"oops","name":"b"},{"vmid":102,"name":"c"}]`)
	items, errs := proxmoxsdk.DecodeList[item](raw)
	if len(items) != 2 || len(errs) != 1 {
		t.Fatalf("items=%v errs=%v", items, errs)
	}
	var ie *proxmoxsdk.ItemError
	if !errors.As(errs[0], &ie) || ie.Index != 1 {
		t.Fatalf("item error = %v", errs[0])
	}
	var into []item
	err := proxmoxsdk.DecodeListInto(raw, &into)
	if len(into) != 2 || !errors.As(err, &ie) || ie.Index != 1 {
		t.Fatalf("DecodeListInto: %v %v", into, err)
	}
	if err := proxmoxsdk.DecodeListInto(raw, into); err == nil {
		t.Fatal("non-pointer accepted")
	}
	if _, errs := proxmoxsdk.DecodeList[item]([]byte(`{"not":"a list"}`)); len(errs) != 1 {
		t.Fatal("object accepted as list")
	}
	m := pvemock.New(pvemock.S100())
	px := newClient(t, proxmoxsdk.WithTransport(m.Transport()))
	if _, errs := proxmoxsdk.GetList[item](ctxT(t), px, "/nodes/pve1/nope", nil); len(errs) != 1 || !errors.Is(errs[0], proxmoxsdk.ErrNotImplemented) {
		t.Fatalf("failed call: %v", errs)
	}
}
