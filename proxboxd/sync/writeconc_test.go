package sync

import (
	"context"
	"net/http"
	gosync "sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// inFlight is an http.RoundTripper that records the most write requests
// (anything but GET) it ever had in flight at once.
type inFlight struct {
	next http.RoundTripper

	mu        gosync.Mutex
	now, peak int
}

func (f *inFlight) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		return f.next.RoundTrip(req)
	}
	f.mu.Lock()
	f.now++
	f.peak = max(f.peak, f.now)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}()
	return f.next.RoundTrip(req)
}

// TestWriteBatchesRunConcurrently: bulk write batches of one object type go
// out WithWriteConcurrency at a time (one by default), never more, a
// WithWriteTuning source wins over the option, and the result does not
// depend on either: the same objects, and a re-sync writes nothing.
func TestWriteBatchesRunConcurrently(t *testing.T) {
	cases := []struct {
		name     string
		opts     []Option
		peak     int
		fewerMin bool // bigger batches: a smaller FullResult.MinRequests than batches of 50
	}{
		{name: "default", peak: 1},
		{name: "option 3", opts: []Option{WithWriteConcurrency(3)}, peak: 3},
		{name: "tuning 2 over option 3", opts: []Option{WithWriteConcurrency(3),
			WithWriteTuning(func(context.Context) WriteTuning { return WriteTuning{Concurrency: 2} })}, peak: 2},
		{name: "tuning batch 100", opts: []Option{
			WithWriteTuning(func(context.Context) WriteTuning { return WriteTuning{BatchSize: 100} })}, peak: 1, fewerMin: true},
	}
	var base map[string]int
	baseMin := 0
	for _, tc := range cases {
		e := newEnv(t, []netboxtest.Option{netboxtest.WithLatency(3 * time.Millisecond)}, pvemock.S100())
		tr := &inFlight{next: e.srv.Server.Client().Transport}
		cl, err := netboxsdk.New(e.srv.URL, netboxsdk.WithToken(e.nb.Token()), netboxsdk.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		e.conn.nb = cl
		e.eng = New(e.conn, append([]Option{WithClock(func() time.Time { return e.clock })}, tc.opts...)...)
		res := e.full(proxbox.DefaultStageParams())
		if tr.peak != tc.peak {
			t.Errorf("%s: at most %d writes in flight, want %d", tc.name, tr.peak, tc.peak)
		}
		got := map[string]int{}
		for _, k := range []*kind{kVM, kVMIface, kVDisk, kIP, kMAC, kBackup, kSnapshot, kTask} {
			got[k.Path] = len(e.list(k.Path, nil))
		}
		if base == nil {
			base, baseMin = got, res.MinRequests
		}
		for path, n := range base {
			if got[path] != n {
				t.Errorf("%s: %s holds %d objects, one batch at a time %d", tc.name, path, got[path], n)
			}
		}
		if tc.fewerMin && res.MinRequests >= baseMin {
			t.Errorf("%s: minimum %d requests, with batches of 50 %d", tc.name, res.MinRequests, baseMin)
		}
		before := len(e.writes())
		e.full(proxbox.DefaultStageParams())
		if w := e.writes()[before:]; len(w) != 0 {
			t.Errorf("%s: the re-sync wrote %d times: %v", tc.name, len(w), w)
		}
	}
}
