package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	"net/http"
	"net/http/httptest"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func small(name string) pvemock.Scenario {
	return pvemock.Scenario{Name: name, Nodes: 2, QEMU: 6, LXC: 2, NICs: 2, Disks: 2, Seed: 7}
}

// newTwinEnv is east and west, two identical small clusters (names, VMIDs,
// addresses), each with its own VRF. Its allow accepts the twin's records
// that netbox-proxbox's uniqueness refuses (snapshots, tasks) and counts the
// snapshot ones in *refused.
func newTwinEnv(t *testing.T) (e *env, vrfs map[string]int, refused *int) {
	t.Helper()
	e = newEnv(t, nil, small("east"), small("west"))
	vrfs = map[string]int{}
	for _, n := range []string{"east", "west"} {
		v, err := e.conn.nb.Objects(kVRF.Path).Create(context.Background(), netboxsdk.Object{"name": n})
		if err != nil {
			t.Fatal(err)
		}
		vrfs[n] = idOf(v)
	}
	e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }), WithClusterVRF(vrfs))
	refused = new(int)
	e.allow = func(f proxbox.ItemFailure) bool {
		if f.ObjectType == kSnapshot.Type && strings.Contains(f.Detail, "unique on vmid, name and node") {
			*refused++
			return true
		}
		// the twin's task UPIDs are the same too
		return f.ObjectType == kTask.Type && strings.Contains(f.Detail, "unique on the UPID")
	}
	return e, vrfs, refused
}

func TestTwoClustersSameNamesStaySeparate(t *testing.T) {
	// identical generated guests (names, VMIDs and addresses); each cluster's
	// IPs go to its own VRF
	e, vrfs, refused := newTwinEnv(t)
	e.full(proxbox.DefaultStageParams())
	snaps := e.list(kSnapshot.Path, nil)
	if len(snaps) == 0 || *refused != len(snaps) {
		t.Errorf("%d snapshots stored, %d refused: want one cluster's stored and the other's refused", len(snaps), *refused)
	}
	vms := e.list(kVM.Path, netboxsdk.NewFilter().CF("proxmox_vm_id", 100))
	if len(vms) != 2 {
		t.Fatalf("VMID 100: %d NetBox VMs, want 2 (one per cluster)", len(vms))
	}
	if asStr(vms[0]["name"]) != asStr(vms[1]["name"]) || refID(vms[0], "cluster") == refID(vms[1], "cluster") {
		t.Errorf("VMs %v / %v: want same name, different clusters", vms[0]["name"], vms[1]["name"])
	}
	all := e.list(kVM.Path, nil)
	if len(all) != 16 {
		t.Errorf("%d VMs, want 16", len(all))
	}
	for _, n := range []string{"east", "west"} {
		ips := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vrf_id", vrfs[n]))
		if len(ips) == 0 {
			t.Errorf("no IPs in VRF %s", n)
		}
	}
	e.nb.Reset()
	*refused = 0
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync wrote %v", w)
	}
	if *refused != len(snaps) {
		t.Errorf("re-sync refused %d snapshots, want %d", *refused, len(snaps))
	}
}

func TestTwinClustersSyncedApartWriteNothingOnResync(t *testing.T) {
	// the clusters are synced in separate runs (one endpoint each), so the
	// second run's snapshot table does not hold the first's records: the
	// snapshot identity check must ask NetBox by VMID
	e, _, refused := newTwinEnv(t)
	for _, only := range []int{0, 1, 0, 1} {
		e.conn.hidden = map[int]bool{1 - only: true}
		e.nb.Reset()
		*refused = 0
		e.full(proxbox.DefaultStageParams())
		if only == 0 && *refused != 0 {
			t.Errorf("east refused %d snapshots", *refused)
		}
		if only == 1 && *refused == 0 {
			t.Errorf("west stored snapshots that east holds")
		}
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("second west run wrote %v", w)
	}
	if n := len(e.list(kVM.Path, nil)); n != 16 {
		t.Errorf("%d VMs, want 16", n)
	}
}

func TestPluginNotInstalledSkipsPluginStages(t *testing.T) {
	// NetBox without the plugin: every /api/plugins/proxbox/ path answers 404
	nb := netboxtest.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/plugins/") {
			http.Error(w, `{"detail":"Not found."}`, http.StatusNotFound)
			return
		}
		nb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cl, err := netboxsdk.New(srv.URL, netboxsdk.WithToken(nb.Token()))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, nb: nb, conn: &testConn{nb: cl, mocks: []*pvemock.Mock{pvemock.New(small("lab"))}}}
	e.eng = New(e.conn)
	res := e.full(proxbox.DefaultStageParams())
	for _, s := range res.Stages {
		switch s.Stage {
		case proxbox.StageStorage, proxbox.StageTaskHistory, proxbox.StageVMBackups, proxbox.StageVMSnapshots,
			proxbox.StageReplications, proxbox.StageBackupRoutines:
			if !s.OK || !strings.Contains(s.Message, "plugin not installed") || len(s.Counts) != 0 {
				t.Errorf("%s: ok=%v msg=%q counts=%v", s.Stage, s.OK, s.Message, s.Counts)
			}
		}
	}
	if n := len(e.list(kVDisk.Path, nil)); n != 16 {
		t.Errorf("%d virtual disks, want 16", n)
	}
}

func TestDryRunFirstSyncWritesNothing(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	p := proxbox.DefaultStageParams()
	p.DryRun = true
	res := e.full(p)
	if w := e.writes(); len(w) != 1 { // the plugin endpoint row the harness created
		t.Errorf("dry run wrote: %v", w)
	}
	n := 0
	for _, s := range res.Stages {
		n += len(s.Plan)
	}
	if n < 8 {
		t.Errorf("plan has %d changes", n)
	}
}

func TestNodeDownMarksNothing(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	e.full(proxbox.DefaultStageParams())
	m := e.conn.mocks[0]
	if err := m.SetNodeDown("pve2", true); err != nil {
		t.Fatal(err)
	}
	e.nb.Reset()
	res, err := e.eng.FullUpdate(context.Background(), proxbox.DefaultStageParams(), nil)
	if err != nil || !res.OK {
		t.Fatalf("full update: %v %+v", err, res)
	}
	partial := false
	for _, s := range res.Stages {
		partial = partial || s.Partial
		for typ, c := range s.Counts {
			if c.Deleted > 0 {
				t.Errorf("%s: deleted %d %s with a node down", s.Stage, c.Deleted, typ)
			}
		}
	}
	if !partial {
		t.Error("no stage reported partial")
	}
	for _, vm := range e.list(kVM.Path, nil) {
		if hasTag(vm, tagOrphan) {
			t.Errorf("VM %v marked orphan while its node is down", vm["name"])
		}
	}
}

func TestPerVMBackupDeletesOnlyThatVM(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	e.full(proxbox.DefaultStageParams())
	vm100, vm101 := e.vmByVMID(100, "qemu"), e.vmByVMID(101, "qemu")
	// a stale backup record on each of two VMs
	for _, vm := range []netboxsdk.Object{vm100, vm101} {
		if _, err := e.conn.nb.Objects(kBackup.Path).Create(context.Background(), netboxsdk.Object{
			"virtual_machine": idOf(vm), "volume_id": "nfs-backup:backup/gone-" + asStr(vm["name"]), "storage": "nfs-backup",
			"subtype": "qemu", "format": "zst", "vmid": asInt(cfOf(vm, "proxmox_vm_id"))}); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.list(kBackup.Path, nil))
	p := proxbox.DefaultStageParams()
	p.DeleteNonexistentBackup = true
	res, err := e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: proxbox.StageVMBackups, Params: p, VMID: idOf(vm100)}, nil)
	if err != nil || !res.OK {
		t.Fatalf("%v %+v", err, res)
	}
	if c := res.Counts[kBackup.Type]; c == nil || c.Deleted != 1 {
		t.Errorf("per-VM run counts %+v", c)
	}
	if after := len(e.list(kBackup.Path, nil)); after != before-1 {
		t.Errorf("backups %d -> %d after a per-VM run, want one fewer", before, after)
	}
	if n := len(e.list(kBackup.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm101)))); n == 0 {
		t.Error("VM 101 lost its backups")
	}
}

func TestSecondSyncWaitsForLock(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	var events []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: proxbox.StageVirtualMachines, Params: proxbox.DefaultStageParams()}, nil)
	}()
	res, err := e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: proxbox.StageVirtualMachines, Params: proxbox.DefaultStageParams()},
		func(ev proxbox.Event) { events = append(events, ev.Name) })
	<-done
	if err != nil || !res.OK {
		t.Fatalf("%v %+v", err, res)
	}
	if c := res.Counts[kVM.Type]; c == nil || c.Created+c.Unchanged != 8 || c.Failed != 0 {
		t.Errorf("counts %+v", c)
	}
	if n := len(e.list(kVM.Path, nil)); n != 8 {
		t.Errorf("%d VMs after two concurrent syncs, want 8", n)
	}
}

func TestSyncIndividualVM(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	res, err := e.eng.SyncIndividual(context.Background(), proxbox.IndividualRequest{Kind: "vm",
		Query: map[string]string{"cluster_name": "lab", "node": "pve1", "type": "qemu", "vmid": "101"}, Params: proxbox.DefaultStageParams()})
	if err != nil || res.Error != nil {
		t.Fatalf("%v %+v", err, res)
	}
	if res.Action != "created" || res.NetBoxObject == nil {
		t.Errorf("result %+v", res)
	}
	if n := len(e.list(kVM.Path, nil)); n != 1 {
		t.Errorf("%d VMs after syncing one", n)
	}
	res, _ = e.eng.SyncIndividual(context.Background(), proxbox.IndividualRequest{Kind: "vm",
		Query: map[string]string{"cluster_name": "lab", "type": "qemu", "vmid": "101"}, Params: proxbox.DefaultStageParams()})
	if res.Action != "unchanged" {
		t.Errorf("second call action %q", res.Action)
	}
	res, _ = e.eng.SyncIndividual(context.Background(), proxbox.IndividualRequest{Kind: "vm",
		Query: map[string]string{"cluster_name": "nope", "vmid": "1"}})
	if res.Error == nil || !strings.Contains(*res.Error, "No Proxmox session found") {
		t.Errorf("unknown cluster: %+v", res)
	}
}

func TestPluginEndpointMatchNeedsThePort(t *testing.T) {
	// two clusters behind one address on different ports; the plugin knows
	// only the one on port 8006: the other's replications must not be
	// written under it (they would flip between the clusters on every run)
	e, _, _ := newTwinEnv(t)
	ctx := context.Background()
	eps := e.conn.nb.Objects(kPEndpoint.Path)
	old, err := eps.All(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range old {
		if err := eps.Delete(ctx, idOf(o)); err != nil {
			t.Fatal(err)
		}
	}
	ip, err := e.conn.nb.Objects(kIP.Path).Create(ctx, netboxsdk.Object{"address": "127.0.0.1/32", "status": "active"})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := eps.Create(ctx, netboxsdk.Object{"name": "the east cluster", "ip_address": idOf(ip), "port": 8006})
	if err != nil {
		t.Fatal(err)
	}
	e.conn.byAddress = true
	var unmatched int
	e.allow = func(f proxbox.ItemFailure) bool {
		if strings.Contains(f.Detail, "no netbox-proxbox ProxmoxEndpoint matches") {
			unmatched++
			return true
		}
		return strings.Contains(f.Detail, ErrPluginUniqueTaken.Error())
	}
	e.full(proxbox.DefaultStageParams())
	reps := e.list(kReplication.Path, nil)
	if len(reps) == 0 || unmatched == 0 {
		t.Fatalf("%d replications, %d unmatched clusters: want east's written and west's skipped", len(reps), unmatched)
	}
	for _, r := range reps {
		if refID(r, "endpoint") != idOf(ep) {
			t.Errorf("replication %v under endpoint %d", r["id"], refID(r, "endpoint"))
		}
	}
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync wrote %v", w)
	}
}
