package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Proxmox read failures: a read that still fails after the client's
// retries leaves its guest (or node, or storage) "not read". Nothing is
// planned from the missing data, the stage stays ok, is partial and reports
// an item failure; a later sync completes it.

// pveFaults fails chosen Proxmox reads above the client (as the client
// reports them once its retries are spent) and can rewrite answers.
type pveFaults struct {
	mu      gosync.Mutex
	rules   []*pveRule
	rewrite func(path string, v any, err error) (any, error)
	seen    map[string]int // GETs by path
}

type pveRule struct {
	match string // substring of the path
	left  int    // failures left; < 0: always
}

func (f *pveFaults) fail(match string, times int) {
	f.mu.Lock()
	f.rules = append(f.rules, &pveRule{match: match, left: times})
	f.mu.Unlock()
}

func (f *pveFaults) clear() {
	f.mu.Lock()
	f.rules, f.seen = nil, nil
	f.mu.Unlock()
}

// gets counts the GETs whose path starts with prefix.
func (f *pveFaults) gets(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for p, c := range f.seen {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// install puts the faults below the Proxmox client of e's endpoints, with
// the client's retries off: an injected fault is what the client reports
// once its retries are spent.
func (f *pveFaults) install(e *env) {
	e.conn.noRetry = true
	e.conn.wrap = func(next proxmoxsdk.Transport) proxmoxsdk.Transport { return &faultyPVE{f: f, next: next} }
}

type faultyPVE struct {
	f    *pveFaults
	next proxmoxsdk.Transport
}

func (p *faultyPVE) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	if req.Method != http.MethodGet {
		return p.next.RoundTrip(ctx, req)
	}
	path := req.Path
	f := p.f
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[path]++
	hit := false
	for _, r := range f.rules {
		if r.left != 0 && strings.Contains(path, r.match) {
			if r.left > 0 {
				r.left--
			}
			hit = true
			break
		}
	}
	rw := f.rewrite
	f.mu.Unlock()
	if hit {
		return &proxmoxsdk.Response{StatusCode: http.StatusServiceUnavailable, Status: "Service Unavailable", Body: []byte(`{"data":null}`)}, nil
	}
	resp, err := p.next.RoundTrip(ctx, req)
	if rw == nil || err != nil {
		return resp, err
	}
	var v any
	data, derr := proxmoxsdk.DecodeEnvelope(req.Method, path, resp)
	if derr == nil {
		if derr = json.Unmarshal(data, &v); derr != nil {
			return nil, derr
		}
	}
	v, derr = rw(path, v, derr)
	if derr != nil {
		return resp, nil // the answer as it was
	}
	body, err := json.Marshal(map[string]any{"data": v})
	if err != nil {
		return nil, err
	}
	out := *resp
	out.Body = body
	return &out, nil
}

// vmState is what NetBox holds about one VM and its children (no ids, so
// two NetBoxes compare).
type vmState struct {
	Name, Status, PVEStatus, Agent string
	VCPUs, Memory                  string
	Disks, Ifaces, IPs, Snaps      []string
}

// vmStates returns the state of every VM by "<type>/<vmid>".
func (e *env) vmStates() map[string]*vmState {
	e.t.Helper()
	out := map[string]*vmState{}
	byID := map[int]*vmState{}
	for _, vm := range e.list(kVM.Path, nil) {
		s := &vmState{Name: asStr(vm["name"]), Status: asStr(plain(vm["status"])), PVEStatus: asStr(cfOf(vm, "proxmox_status")),
			Agent: fmt.Sprint(cfOf(vm, "proxmox_qemu_agent")), VCPUs: fmt.Sprint(vm["vcpus"]), Memory: fmt.Sprint(vm["memory"])}
		out[asStr(cfOf(vm, "proxmox_vm_type"))+"/"+strconv.Itoa(asInt(cfOf(vm, "proxmox_vm_id")))] = s
		byID[idOf(vm)] = s
	}
	ifaceVM := map[int]*vmState{}
	for _, o := range e.list(kVMIface.Path, nil) {
		if s := byID[refID(o, "virtual_machine")]; s != nil {
			s.Ifaces = append(s.Ifaces, asStr(o["name"]))
			ifaceVM[idOf(o)] = s
		}
	}
	for _, o := range e.list(kVDisk.Path, nil) {
		if s := byID[refID(o, "virtual_machine")]; s != nil {
			s.Disks = append(s.Disks, asStr(o["name"])+" "+fmt.Sprint(o["size"]))
		}
	}
	for _, o := range e.list(kIP.Path, nil) {
		if s := ifaceVM[asInt(o["assigned_object_id"])]; s != nil && asStr(o["assigned_object_type"]) == "virtualization.vminterface" {
			s.IPs = append(s.IPs, asStr(o["address"]))
		}
	}
	for _, o := range e.list(kSnapshot.Path, nil) {
		if s := byID[refID(o, "virtual_machine")]; s != nil {
			s.Snaps = append(s.Snaps, asStr(o["name"])+" "+asStr(plain(o["status"])))
		}
	}
	for _, s := range out {
		for _, l := range [][]string{s.Disks, s.Ifaces, s.IPs, s.Snaps} {
			sort.Strings(l)
		}
	}
	return out
}

func diffStates(t *testing.T, what string, got, want map[string]*vmState) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: VM %s is\n  %+v\nwant\n  %+v", what, k, g, w)
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("%s: unexpected VM %s", what, k)
		}
	}
}

// failuresBy returns "<stage> <type> <name>" of every item failure.
func failuresBy(res *FullResult) map[string]string {
	out := map[string]string{}
	for _, s := range res.Stages {
		for _, f := range s.Failures {
			out[string(s.Stage)+" "+f.ObjectType+" "+f.Name] = f.Detail
		}
	}
	return out
}

// pickGuests returns (type, vmid) of three different running QEMU guests with
// the guest agent, interfaces, disks, IPs and snapshots in NetBox.
func pickGuests(t *testing.T, states map[string]*vmState) []string {
	t.Helper()
	var keys []string
	for k, s := range states {
		if strings.HasPrefix(k, "qemu/") && s.Status == "active" && s.Agent == "true" && len(s.Disks) > 0 && len(s.Ifaces) > 0 && len(s.IPs) > 0 && len(s.Snaps) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) < 3 {
		t.Fatalf("scenario has %d running QEMU guests with agent, disks, NICs, IPs and snapshots, want 3", len(keys))
	}
	return keys[:3]
}

func allowPVE(f proxbox.ItemFailure) bool { return strings.HasPrefix(f.ObjectType, "proxmox.") }

func TestPVEReadFailuresChangeNothing(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	f := &pveFaults{}
	f.install(e)
	e.full(proxbox.DefaultStageParams())
	before := e.vmStates()
	g := pickGuests(t, before)
	cfgVM, agentVM, snapVM := g[0], g[1], g[2]

	// every read of these fails (after retries) in the next sync
	f.fail("/"+cfgVM+"/config", -1)
	f.fail("/"+agentVM+"/agent/", -1)
	f.fail("/"+snapVM+"/snapshot", -1)
	f.fail("/nodes/pve1/network", -1)
	f.fail("/nodes/pve1/tasks", -1)
	f.fail("/storage/nfs-backup/content", -1)
	e.allow = allowPVE
	e.nb.Reset()
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("sync with failing reads:\n%s", summary(res))
	if w := e.writes(); len(w) != 0 {
		t.Errorf("a sync whose reads failed wrote %v", w)
	}
	diffStates(t, "after failed reads", e.vmStates(), before)

	got := failuresBy(res)
	name := func(k string) string { return "lab/" + k + " " + before[k].Name }
	want := []string{
		"virtual-machines proxmox.guest " + name(cfgVM),
		"vm-disks proxmox.guest " + name(cfgVM),
		"vm-interfaces proxmox.guest " + name(cfgVM),
		"vm-interfaces proxmox.guest " + name(agentVM),
		"ip-addresses proxmox.guest " + name(cfgVM),
		"ip-addresses proxmox.guest " + name(agentVM),
		"vm-snapshots proxmox.guest " + name(snapVM),
		"network-interfaces proxmox.node lab/pve1",
		"task-history proxmox.node lab/pve1",
	}
	for _, w := range want {
		if _, ok := got[w]; !ok {
			t.Errorf("no item failure %q; got %v", w, got)
		}
	}
	backupReported := false
	for k := range got {
		backupReported = backupReported || strings.HasPrefix(k, "vm-backups proxmox.storage lab/") && strings.HasSuffix(k, "/nfs-backup")
	}
	if !backupReported {
		t.Errorf("no item failure for the nfs-backup listing; got %v", got)
	}
	for _, s := range res.Stages {
		if !s.OK {
			t.Errorf("stage %s failed: %s", s.Stage, s.Message)
		}
		if len(s.Failures) > 0 && !s.Partial {
			t.Errorf("stage %s reports read failures but is not partial", s.Stage)
		}
	}

	// the reads work again: nothing was lost, so nothing to write
	f.clear()
	e.allow = nil
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("sync after the faults wrote %v", w)
	}
}

func TestPVEReadFailedOnceCompletesNextSync(t *testing.T) {
	clean := newEnv(t, nil, small("lab"))
	clean.full(proxbox.DefaultStageParams())
	want := clean.vmStates()
	g := pickGuests(t, want)
	cfgVM, agentVM, snapVM := g[0], g[1], g[2]

	e := newEnv(t, nil, small("lab"))
	f := &pveFaults{}
	f.install(e)
	f.fail("/"+cfgVM+"/config", 1)
	f.fail("/"+agentVM+"/agent/", 1)
	f.fail("/"+snapVM+"/snapshot", 1)
	e.allow = allowPVE
	res := e.full(proxbox.DefaultStageParams())
	got := failuresBy(res)
	for _, w := range []string{"vm-disks proxmox.guest lab/" + cfgVM, "ip-addresses proxmox.guest lab/" + agentVM, "vm-snapshots proxmox.guest lab/" + snapVM} {
		found := false
		for k := range got {
			found = found || strings.HasPrefix(k, w+" ")
		}
		if !found {
			t.Errorf("first sync: no item failure %q; got %v", w, got)
		}
	}
	first := e.vmStates()
	if s := first[cfgVM]; s == nil || len(s.Disks)+len(s.Ifaces) != 0 {
		t.Errorf("first sync: VM %s whose config was not read: %+v (want it without disks and interfaces)", cfgVM, s)
	}

	e.allow = nil
	res = e.full(proxbox.DefaultStageParams())
	for _, s := range res.Stages {
		if s.Partial {
			t.Errorf("second sync: stage %s partial", s.Stage)
		}
	}
	diffStates(t, "second sync", e.vmStates(), want)
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("third sync wrote %v", w)
	}
}

// flakyPVE answers the first GET of every path with a transient fault (429
// with Retry-After, 5xx, connection reset, cut reply, per-request timeout),
// below the Proxmox client.
type flakyPVE struct {
	next proxmoxsdk.Transport
	mu   gosync.Mutex
	seen map[string]int
	n    int
}

func (f *flakyPVE) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	key := req.Method + " " + req.Path + "?" + req.Params.Encode()
	f.seen[key]++
	first := f.seen[key] == 1 && req.Method == http.MethodGet
	if first {
		f.n++
	}
	n := f.n
	f.mu.Unlock()
	if !first {
		return f.next.RoundTrip(ctx, req)
	}
	answer := func(code int, h ...string) (*proxmoxsdk.Response, error) {
		hd := http.Header{}
		if len(h) == 2 {
			hd.Set(h[0], h[1])
		}
		return &proxmoxsdk.Response{StatusCode: code, Status: http.StatusText(code), Header: hd, Body: []byte(`{"data":null}`)}, nil
	}
	switch n % 6 {
	case 0:
		return answer(http.StatusTooManyRequests, "Retry-After", "0")
	case 1:
		return answer(http.StatusServiceUnavailable)
	case 2:
		return answer(http.StatusBadGateway)
	case 3:
		return nil, errors.New("read tcp 127.0.0.1:8006: connection reset by peer")
	case 4:
		return nil, fmt.Errorf("proxmox: GET %s: %w", req.Path, io.ErrUnexpectedEOF)
	}
	// http.Client's Timeout: matches context.DeadlineExceeded, the caller's context is live
	return nil, fmt.Errorf("proxmox: GET %s: %w (Client.Timeout exceeded while awaiting headers)", req.Path, context.DeadlineExceeded)
}

// TestEngineRetriesTransientPVEFaults: the engine's reads go through the
// Proxmox client's retries, which cover every transient fault kind, so a
// sync whose every read first fails is complete.
func TestEngineRetriesTransientPVEFaults(t *testing.T) {
	clean := newEnv(t, nil, small("lab"))
	clean.full(proxbox.DefaultStageParams())
	want := clean.vmStates()

	e := newEnv(t, nil, small("lab"))
	fl := &flakyPVE{}
	e.conn.wrap = func(next proxmoxsdk.Transport) proxmoxsdk.Transport { fl.next = next; return fl }
	res := e.full(proxbox.DefaultStageParams()) // fails the test on any item failure
	for _, s := range res.Stages {
		if s.Partial {
			t.Errorf("stage %s partial", s.Stage)
		}
	}
	if fl.n < 20 {
		t.Errorf("only %d faults injected", fl.n)
	}
	diffStates(t, "sync through transient faults", e.vmStates(), want)
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync wrote %v", w)
	}
}

// TestNodeDownLeavesItsGuestsAlone: with a node offline its guests' reads
// are not attempted, their VMs keep their status and children, and backups
// on its local storage ("local" is not shared, so it is not listed) are not
// deleted.
func TestNodeDownLeavesItsGuestsAlone(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	m := e.conn.mocks[0]
	var onPVE2 []int
	for _, id := range m.VMIDs() {
		if n, _, _ := m.GuestNode(id); n == "pve2" {
			onPVE2 = append(onPVE2, id)
		}
	}
	if len(onPVE2) == 0 {
		t.Fatal("no guest on pve2")
	}
	stopped := onPVE2[0]
	f := &pveFaults{rewrite: func(path string, v any, err error) (any, error) {
		if path == "/cluster/resources" && err == nil {
			for _, it := range v.([]any) {
				if r := it.(map[string]any); asInt(r["vmid"]) == stopped && r["status"] == "running" {
					r["status"] = "stopped"
				}
			}
		}
		return v, err
	}}
	f.install(e)
	e.full(proxbox.DefaultStageParams())
	typ := "qemu"
	if _, k, _ := m.GuestNode(stopped); k != "" {
		typ = k
	}
	vm := e.vmByVMID(stopped, typ)
	if asStr(plain(vm["status"])) != "offline" {
		t.Fatalf("stopped guest %d: NetBox status %v", stopped, vm["status"])
	}
	volid := fmt.Sprintf("local:backup/vzdump-%s-%d-2026_11_01-00_00_00.vma.zst", typ, stopped)
	if _, err := e.conn.nb.Objects(kBackup.Path).Create(context.Background(), netboxsdk.Object{
		"virtual_machine": idOf(vm), "volume_id": volid, "storage": "local", "subtype": typ, "format": "zst", "vmid": stopped}); err != nil {
		t.Fatal(err)
	}
	before := e.vmStates()

	if err := m.SetNodeDown("pve2", true); err != nil {
		t.Fatal(err)
	}
	f.clear()
	e.nb.Reset()
	e.allow = allowPVE
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("sync with pve2 down:\n%s", summary(res))
	if n := f.gets("/nodes/pve2/"); n != 0 {
		t.Errorf("%d reads sent to the offline node", n)
	}
	diffStates(t, "pve2 down", e.vmStates(), before)
	kept := false
	for _, b := range e.list(kBackup.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm))) {
		kept = kept || asStr(b["volume_id"]) == volid
	}
	if !kept {
		t.Errorf("backup %s on pve2's local storage deleted while pve2 is down", volid)
	}
	for _, w := range e.writes() {
		if w != "PATCH "+kDevice.Path {
			t.Errorf("unexpected write with pve2 down: %s", w)
		}
	}
	got := failuresBy(res)
	t.Logf("failures: %v", got)
	for k := range got {
		if strings.Contains(k, " proxmox.guest ") {
			t.Errorf("guests of the offline node reported one by one: %s", k)
		}
	}
	if _, ok := got["vm-disks proxmox.node lab/pve2"]; !ok {
		t.Errorf("offline node not reported by the disk stage: %v", got)
	}
	for _, s := range res.Stages {
		if s.Stage == proxbox.StageVirtualMachines && !s.Partial {
			t.Error("VM stage not partial with a node down")
		}
	}
}

// TestSyncIndividualReportsFailedRead: an individual sync whose Proxmox read
// of the object failed says so and changes nothing.
func TestSyncIndividualReportsFailedRead(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	f := &pveFaults{}
	f.install(e)
	e.full(proxbox.DefaultStageParams())
	before := e.vmStates()
	f.fail("/qemu/101/config", -1)
	e.nb.Reset()
	res, err := e.eng.SyncIndividual(context.Background(), proxbox.IndividualRequest{Kind: "disk",
		Query: map[string]string{"cluster_name": "lab", "type": "qemu", "vmid": "101"}, Params: proxbox.DefaultStageParams()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != "error" || res.Error == nil || !strings.Contains(*res.Error, "config not read") {
		t.Errorf("result %+v (error %v), want action error with the read failure", res, res.Error)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("individual sync with a failed read wrote %v", w)
	}
	diffStates(t, "individual sync", e.vmStates(), before)
}
