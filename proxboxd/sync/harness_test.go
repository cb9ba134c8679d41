package sync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// testConn is a Connector over netboxtest and in-process pvemocks.
type testConn struct {
	nb    *netboxsdk.Client
	mocks []*pvemock.Mock
	// wrap, when set, wraps each mock's transport (fault injection below the
	// Proxmox client and its retries)
	wrap func(proxmoxsdk.Transport) proxmoxsdk.Transport
	// noRetry turns the Proxmox client's retries off (faults injected
	// with wrap stand for reads whose retries are spent)
	noRetry bool
	// hidden mocks (by index) are left out, as endpoints that are not in a
	// run's scope
	hidden map[int]bool
	// byAddress: endpoints are named after the cluster, without "(nb:<pk>)",
	// all on 127.0.0.1, on ports 8006, 8007, … (clusters behind one address)
	byAddress bool
}

func (c *testConn) NetBox(context.Context) (*netboxsdk.Client, error) { return c.nb, nil }

func (c *testConn) Proxmox(_ context.Context, _ []int) ([]proxbox.ProxmoxTarget, error) {
	var out []proxbox.ProxmoxTarget
	for i, m := range c.mocks {
		if c.hidden[i] {
			continue
		}
		id, secret := m.Token()
		tr := m.Transport()
		if c.wrap != nil {
			tr = c.wrap(tr)
		}
		opts := []proxmoxsdk.Option{proxmoxsdk.WithTransport(tr), proxmoxsdk.WithAPIToken(id, secret)}
		if c.noRetry {
			opts = append(opts, proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
		}
		cl, err := proxmoxsdk.New(opts...)
		if err != nil {
			return nil, err
		}
		ep := proxbox.ProxmoxEndpoint{ID: i + 1, Name: fmt.Sprintf("%s (nb:%d)", m.Scenario().Name, i+1), Domain: m.Scenario().Name + ".example", Port: 8006}
		if c.byAddress {
			ep = proxbox.ProxmoxEndpoint{ID: i + 1, Name: m.Scenario().Name, IPAddress: "127.0.0.1", Port: 8006 + i}
		}
		out = append(out, proxbox.ProxmoxTarget{Client: cl, Endpoint: ep})
	}
	return out, nil
}

type env struct {
	t     testing.TB
	srv   *netboxtest.Server
	nb    *netboxtest.NetBox
	conn  *testConn
	eng   *Engine
	clock time.Time
	// allow lets a test accept some item failures
	allow func(proxbox.ItemFailure) bool
}

func newEnv(t testing.TB, opts []netboxtest.Option, scenarios ...pvemock.Scenario) *env {
	t.Helper()
	srv := netboxtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	cl, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, nb: srv.NetBox, conn: &testConn{nb: cl}, clock: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	for _, sc := range scenarios {
		e.conn.mocks = append(e.conn.mocks, pvemock.New(sc))
		// the plugin pushes its ProxmoxEndpoint rows; mimic that
		if _, err := cl.Objects(kPEndpoint.Path).Create(context.Background(), netboxsdk.Object{
			"name": sc.Name, "domain": sc.Name + ".example", "port": 8006}); err != nil {
			t.Fatal(err)
		}
	}
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }))
	return e
}

func (e *env) full(p proxbox.StageParams) *FullResult {
	e.t.Helper()
	res, err := e.eng.FullUpdate(context.Background(), p, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if !res.OK {
		e.t.Fatalf("full update failed: %s", res.Message)
	}
	for _, s := range res.Stages {
		for _, f := range s.Failures {
			if e.allow != nil && e.allow(f) {
				continue
			}
			e.t.Errorf("stage %s: failure %s %q: %s", s.Stage, f.ObjectType, f.Name, f.Detail)
		}
	}
	return res
}

// writes returns the non-GET requests of the log.
func (e *env) writes() []string {
	var out []string
	for _, r := range e.nb.Requests() {
		if r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// list returns every object of a path (through the SDK).
func (e *env) list(path string, f *netboxsdk.Filter) []netboxsdk.Object {
	e.t.Helper()
	out, err := e.conn.nb.Objects(path).All(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func summary(res *FullResult) string {
	var b strings.Builder
	for _, s := range res.Stages {
		keys := make([]string, 0, len(s.Counts))
		for k := range s.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%-18s req=%v", s.Stage, s.Requests)
		for _, k := range keys {
			c := s.Counts[k]
			fmt.Fprintf(&b, " %s{c%d u%d d%d =%d f%d}", k, c.Created, c.Updated, c.Deleted, c.Unchanged, c.Failed)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func totals(res *FullResult) map[string]proxbox.Counts {
	out := map[string]proxbox.Counts{}
	for _, s := range res.Stages {
		for k, c := range s.Counts {
			t := out[k]
			t.Created += c.Created
			t.Updated += c.Updated
			t.Deleted += c.Deleted
			t.Unchanged += c.Unchanged
			t.Failed += c.Failed
			out[k] = t
		}
	}
	return out
}
