package sync

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// faultyNetBox fails every nth write (POST, PATCH, PUT, DELETE) in turn with:
// 502 before the write, 429 with Retry-After before the write, a connection
// reset before the write, a lost reply (write done, then 502) and a lost
// reply with the connection cut (write done, then closed).
type faultyNetBox struct {
	next   http.Handler
	every  int
	mu     gosync.Mutex
	writes int
	faults map[string]int
}

func (f *faultyNetBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		f.next.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.writes++
	n := f.writes
	mode := ""
	if n%f.every == 0 {
		mode = []string{"502", "429", "reset", "lost-502", "lost-close"}[(n/f.every)%5]
		f.faults[mode]++
	}
	f.mu.Unlock()
	cut := func() {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close()
		}
	}
	switch mode {
	case "":
		f.next.ServeHTTP(w, r)
	case "502":
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case "429":
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"detail":"slow down"}`, http.StatusTooManyRequests)
	case "reset":
		cut()
	case "lost-502":
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case "lost-close":
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		cut()
	}
}

func TestWriteFaultsConverge(t *testing.T) {
	old := convergeBackoff
	convergeBackoff = time.Millisecond
	t.Cleanup(func() { convergeBackoff = old })
	for _, every := range []int{3, 7} {
		t.Run("every"+strconv.Itoa(every), func(t *testing.T) { testWriteFaults(t, every) })
	}
	// batches in flight together fail and are re-read together
	t.Run("every5-3-in-flight", func(t *testing.T) { testWriteFaults(t, 5, WithWriteConcurrency(3)) })
}

func testWriteFaults(t *testing.T, every int, opts ...Option) {
	e := newEnv(t, nil, pvemock.S100())
	e.eng = New(e.conn, append([]Option{WithClock(func() time.Time { return e.clock })}, opts...)...)
	fh := &faultyNetBox{next: e.nb, every: every, faults: map[string]int{}}
	ts := httptest.NewServer(fh)
	t.Cleanup(ts.Close)
	// no SDK retries: the engine alone must converge
	cl, err := netboxsdk.New(ts.URL, netboxsdk.WithToken(e.nb.Token()), netboxsdk.WithHTTPClient(ts.Client()),
		netboxsdk.WithRetry(netboxsdk.RetryPolicy{}), netboxsdk.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	direct := e.conn.nb
	e.conn.nb = cl
	res := e.full(proxbox.DefaultStageParams())
	e.conn.nb = direct
	t.Logf("faults %v over %d writes\n%s", fh.faults, fh.writes, summary(res))
	for _, m := range []string{"502", "429", "reset", "lost-502", "lost-close"} {
		if fh.faults[m] == 0 {
			t.Errorf("fault %s never injected", m)
		}
	}

	want := map[string]int{
		kDevice.Path: 3, kCluster.Path: 1, kSite.Path: 1, kClusterType.Path: 1, kManufacturer.Path: 1,
		kDeviceType.Path: 1, kRole.Path: 3, kVM.Path: 100, kVDisk.Path: 200, kVMIface.Path: 200,
		kNodeIface.Path: 24, kIP.Path: 312 + 9, kVLAN.Path: 6, kStorage.Path: 5, kBackup.Path: 300,
		kSnapshot.Path: 100, kTask.Path: 300, kReplication.Path: 8, kRoutine.Path: 3, kMAC.Path: 200,
	}
	for path, n := range want {
		if got := len(e.list(path, nil)); got != n {
			t.Errorf("%s: %d objects, want %d", path, got, n)
		}
	}
	// no duplicates by identity
	uniq := func(path string, key func(netboxsdk.Object) string) {
		t.Helper()
		seen := map[string]bool{}
		for _, o := range e.list(path, nil) {
			k := key(o)
			if seen[k] {
				t.Errorf("%s: duplicate %s", path, k)
			}
			seen[k] = true
		}
	}
	uniq(kVM.Path, func(o netboxsdk.Object) string { return asStr(o["name"]) })
	vmName := func(o netboxsdk.Object) string {
		return strconv.Itoa(refID(o, "virtual_machine")) + "|" + asStr(o["name"])
	}
	uniq(kVMIface.Path, vmName)
	uniq(kVDisk.Path, vmName)
	uniq(kIP.Path, func(o netboxsdk.Object) string { return strconv.Itoa(refID(o, "vrf")) + "|" + asStr(o["address"]) })
	uniq(kMAC.Path, func(o netboxsdk.Object) string {
		return asStr(o["assigned_object_type"]) + strconv.Itoa(asInt(o["assigned_object_id"])) + asStr(o["mac_address"])
	})

	// the re-sync (no faults) writes nothing
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync after faults wrote %d times: %v", len(w), w)
	}

	// changes (deletes, orphan marks, updates) through the faults converge too
	m := e.conn.mocks[0]
	for vmid := 100; vmid < 110; vmid++ {
		if err := m.DeleteGuest(vmid); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RenameGuest(120, "renamed-under-faults"); err != nil {
		t.Fatal(err)
	}
	if err := m.AddNIC(121); err != nil {
		t.Fatal(err)
	}
	e.conn.nb = cl
	e.full(proxbox.DefaultStageParams())
	e.conn.nb = direct
	if vm := e.vmByVMID(120, "qemu"); vm == nil || asStr(vm["name"]) != "renamed-under-faults" {
		t.Errorf("rename not applied: %v", vm)
	}
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync after faulty change sync wrote %d times: %v", len(w), w)
	}
}

func TestPermanentWriteErrorNotRetried(t *testing.T) {
	e := newEnv(t, nil, pvemock.S100())
	e.allow = func(f proxbox.ItemFailure) bool { return f.ObjectType == kVM.Type }
	e.nb.FailNext("POST", kVM.Path, http.StatusBadRequest, 1000, "")
	res := e.full(proxbox.DefaultStageParams())
	if got := totals(res)[kVM.Type].Failed; got != 100 {
		t.Errorf("VM failures %d, want 100", got)
	}
	// one batch of 50 x2, then 100 single POSTs: no re-read rounds
	posts := 0
	for _, w := range e.writes() {
		if w == "POST "+kVM.Path {
			posts++
		}
	}
	if posts > 102 {
		t.Errorf("%d VM POSTs for a permanent 400 (re-tried?)", posts)
	}
}
