package sync

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// Untidy inventories (names.go, limits.go, refusals.go): each rule converges
// in one run, writes nothing on the next, and reports what it does not write.

func untidyEnv(t *testing.T) (*env, *pvemock.Mock) {
	t.Helper()
	e := newEnv(t, nil, small("untidy"))
	e.full(proxbox.DefaultStageParams())
	return e, e.conn.mocks[0]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// vmName is the NetBox name of a guest's VM.
func (e *env) vmName(vmid int, typ string) string { return asStr(e.vmByVMID(vmid, typ)["name"]) }

func guestName(t *testing.T, m *pvemock.Mock, vmid int) string {
	t.Helper()
	n, ok := m.GuestName(vmid)
	if !ok {
		t.Fatalf("no guest %d", vmid)
	}
	return n
}

// converges runs a full sync that must leave no item failed, then a
// no-change one that must write nothing.
func (e *env) converges() *FullResult {
	e.t.Helper()
	res := e.full(proxbox.DefaultStageParams())
	e.nb.Reset()
	again := e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		e.t.Fatalf("no-change re-sync wrote %d times: %v\n%s", len(w), w, summary(again))
	}
	return res
}

func TestSwappedNamesConvergeInOneRun(t *testing.T) {
	e, m := untidyEnv(t)
	a, b := guestName(t, m, 100), guestName(t, m, 101)
	must(t, m.RenameGuest(100, b))
	must(t, m.RenameGuest(101, a))
	e.converges()
	if e.vmName(100, "qemu") != b || e.vmName(101, "qemu") != a {
		t.Fatalf("swap: 100=%q 101=%q, want %q %q", e.vmName(100, "qemu"), e.vmName(101, "qemu"), b, a)
	}
}

func TestRenameChainConvergesInOneRun(t *testing.T) {
	e, m := untidyEnv(t)
	n101, n102 := guestName(t, m, 101), guestName(t, m, 102)
	must(t, m.RenameGuest(100, n101))
	must(t, m.RenameGuest(101, n102))
	must(t, m.RenameGuest(102, "brand-new"))
	e.converges()
	for vmid, want := range map[int]string{100: n101, 101: n102, 102: "brand-new"} {
		if got := e.vmName(vmid, "qemu"); got != want {
			t.Errorf("vm %d: %q, want %q", vmid, got, want)
		}
	}
}

func TestNewGuestTakesAnOrphansName(t *testing.T) {
	e, m := untidyEnv(t)
	name := guestName(t, m, 103)
	must(t, m.DeleteGuest(103))
	e.converges() // 103 is an orphan holding its name
	node, _, _ := m.GuestNode(100)
	must(t, m.CreateQEMU(150, name, node))
	e.converges()
	if got := e.vmName(150, "qemu"); got != name {
		t.Fatalf("new guest: %q, want %q", got, name)
	}
	if got := e.vmName(103, "qemu"); got != fmt.Sprintf("%s (orphan 103)", name) {
		t.Fatalf("orphan: %q", got)
	}
}

func TestRenameOntoAnOrphansName(t *testing.T) {
	e, m := untidyEnv(t)
	name := guestName(t, m, 103)
	must(t, m.DeleteGuest(103))
	e.converges()
	must(t, m.RenameGuest(104, name))
	e.converges()
	if got := e.vmName(104, "qemu"); got != name {
		t.Fatalf("renamed guest: %q, want %q", got, name)
	}
	// the orphan's guest comes back (restored from backup): it gets its name
	// again and the renamed guest, now a duplicate, "name (vmid)"
	node, _, _ := m.GuestNode(100)
	must(t, m.CreateQEMU(103, name, node))
	e.converges()
	if got := e.vmName(103, "qemu"); got != name+" (103)" && e.vmName(104, "qemu") != name {
		t.Fatalf("restored: 103=%q 104=%q", got, e.vmName(104, "qemu"))
	}
}

func TestLongNameIsShortenedAndItsChildrenWritten(t *testing.T) {
	e, m := untidyEnv(t)
	long := "a-very-long-guest-name-" + strings.Repeat("x", 60) + "-end"
	must(t, m.RenameGuest(100, long))
	e.converges()
	vm := e.vmByVMID(100, "qemu")
	got := asStr(vm["name"])
	if utf8.RuneCountInString(got) != maxName || !strings.HasSuffix(got, "~100") || !strings.HasPrefix(long, strings.TrimSuffix(got, "~100")) {
		t.Fatalf("shortened name %q (%d characters)", got, utf8.RuneCountInString(got))
	}
	if cf := cfOf(vm, "proxmox_name"); cf != long {
		t.Fatalf("proxmox_name = %v, want the full name", cf)
	}
	for _, p := range []string{kVMIface.Path, kVDisk.Path} {
		if l := e.list(p, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm))); len(l) == 0 {
			t.Errorf("%s: none for the long-named VM", p)
		}
	}
	// a shorter name again: proxmox_name is cleared
	must(t, m.RenameGuest(100, "short-again"))
	e.converges()
	if vm := e.vmByVMID(100, "qemu"); asStr(vm["name"]) != "short-again" || cfOf(vm, "proxmox_name") != nil {
		t.Fatalf("after rename: %q %v", vm["name"], cfOf(vm, "proxmox_name"))
	}
}

func TestDuplicateNamesKeepTheHolder(t *testing.T) {
	e, m := untidyEnv(t)
	name := guestName(t, m, 102)
	must(t, m.RenameGuest(101, name)) // 101 < 102, but 102's VM holds the name
	e.converges()
	if e.vmName(102, "qemu") != name || e.vmName(101, "qemu") != name+" (101)" {
		t.Fatalf("101=%q 102=%q", e.vmName(101, "qemu"), e.vmName(102, "qemu"))
	}
}

func TestVMIDReuseTakesOverSnapshotsAndReleasesIPs(t *testing.T) {
	e, m := untidyEnv(t)
	old := e.vmByVMID(105, "qemu")
	if refID(old, "primary_ip4") == 0 && refID(old, "primary_ip6") == 0 {
		t.Fatal("vm 105 has no primary IP to release")
	}
	node, _, _ := m.GuestNode(105)
	must(t, m.SetSnapshots(105, "before-upgrade"))
	e.converges()
	must(t, m.DeleteGuest(105))
	e.converges()
	old = e.vmByVMID(105, "qemu")
	if !isOrphanVM(old) || refID(old, "primary_ip4") != 0 || refID(old, "primary_ip6") != 0 {
		t.Fatalf("orphan: tags %v primaries %v %v", tagSlugs(old), old["primary_ip4"], old["primary_ip6"])
	}
	ifs := e.list(kVMIface.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(old)))
	for _, ip := range e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(old))) {
		if plain(ip["status"]) != "deprecated" {
			t.Errorf("orphan's IP %v is %v, want deprecated (%d interfaces)", ip["address"], plain(ip["status"]), len(ifs))
		}
	}
	for _, s := range e.list(kSnapshot.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(old))) {
		if plain(s["status"]) != "stale" {
			t.Errorf("orphan's snapshot %v is %v, want stale", s["name"], plain(s["status"]))
		}
	}
	// VMID 105 reused by a container on the same node, with a snapshot of
	// the same name: netbox-proxbox's (vmid, name, node) key is the orphan's
	must(t, m.CreateLXC(105, "reused-105", node))
	must(t, m.SetSnapshots(105, "before-upgrade"))
	e.converges()
	nw := e.vmByVMID(105, "lxc")
	snaps := e.list(kSnapshot.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(nw)))
	if len(snaps) != 1 || asStr(snaps[0]["name"]) != "before-upgrade" || plain(snaps[0]["status"]) != "active" {
		t.Fatalf("new guest's snapshots: %v", snaps)
	}
}

func TestSilentDropsAreReported(t *testing.T) {
	e, m := untidyEnv(t)
	must(t, m.RemoveNICs(100))
	must(t, m.SetDiskSize(101, "scsi1", -1))
	must(t, m.SetDiskSize(102, "scsi1", 0))
	must(t, m.DestroyGuestKeepBackups(103))
	// another guest also reports 105's first address; container 106 has only a
	// link-local IPv4
	vm105 := e.vmByVMID(105, "qemu")
	ip105 := e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm105)).Eq("family", 4))
	if len(ip105) == 0 {
		t.Fatal("105 has no IPv4")
	}
	sharer := 0 // a guest whose agent reports addresses
	for _, vmid := range []int{104, 102, 101} {
		if l := e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(e.vmByVMID(vmid, "qemu")))); len(l) > 0 && sharer == 0 {
			sharer = vmid
		}
	}
	if sharer == 0 {
		t.Fatal("no guest with addresses to share one")
	}
	must(t, m.SetAddress(sharer, 0, asStr(ip105[0]["address"])))
	for _, n := range []int{0, 1} {
		must(t, m.SetAddress(106, n, ""))
	}
	must(t, m.SetAddress(106, 0, "169.254.7.7/16"))
	res := e.converges()
	reasons := map[string]string{}
	partial := map[proxbox.Stage]bool{}
	for _, s := range res.Stages {
		for _, k := range s.Skipped {
			reasons[k.ObjectType+" "+k.Name] = k.Reason
		}
		partial[s.Stage] = s.Partial
		if len(s.Skipped) > 0 && (!s.Partial || !strings.Contains(s.Message, "skipped")) {
			t.Errorf("stage %s skipped %d items but says %q (partial %v)", s.Stage, len(s.Skipped), s.Message, s.Partial)
		}
	}
	t.Logf("skipped: %v", reasons)
	has := func(prefix, reason string) {
		t.Helper()
		for k, v := range reasons {
			if strings.HasPrefix(k, prefix) && strings.Contains(v, reason) {
				return
			}
		}
		t.Errorf("no skipped %q with reason %q", prefix, reason)
	}
	has(kVDisk.Type+" "+guestName(t, m, 101)+"/scsi1", "no size")
	has(kBackup.Type+" ", "no guest of cluster untidy has VMID 103")
	// 105's VM holds the address: it keeps it, the other is told
	has(kIP.Type+" "+guestName(t, m, sharer)+" "+asStr(ip105[0]["address"]), "keeps it")
	if l := e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm105)).Eq("address", asStr(ip105[0]["address"]))); len(l) != 1 {
		t.Errorf("105 lost its address to %d", sharer)
	}
	// a size=0 disk is written with size 0
	vm102 := e.vmByVMID(102, "qemu")
	var zero bool
	for _, d := range e.list(kVDisk.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm102))) {
		zero = zero || (asStr(d["name"]) == "scsi1" && asInt(d["size"]) == 0)
	}
	if !zero {
		t.Error("the size=0 disk was not written with size 0")
	}
	// the link-local address is recorded, never primary
	vm106 := e.vmByVMID(106, "lxc")
	if p := refID(vm106, "primary_ip4"); p != 0 {
		t.Errorf("106's primary IPv4 is %d, want none (link-local only)", p)
	}
	if l := e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm106)).Eq("address", "169.254.7.7/16")); len(l) != 1 {
		t.Errorf("the link-local address is not recorded: %v", l)
	}
}

func TestRefusedWriteIsNotResentUnchanged(t *testing.T) {
	e, m := untidyEnv(t)
	cl := e.list(kCluster.Path, netboxsdk.NewFilter().Eq("name", "untidy"))
	// a VM someone else made in the cluster holds the name a guest wants
	if _, err := e.conn.nb.Objects(kVM.Path).Create(t.Context(), netboxsdk.Object{"name": "taken-by-user", "cluster": idOf(cl[0])}); err != nil {
		t.Fatal(err)
	}
	must(t, m.RenameGuest(100, "taken-by-user"))
	var refused int
	e.allow = func(f proxbox.ItemFailure) bool {
		if f.ObjectType == kVM.Type {
			refused++
			return true
		}
		return false
	}
	e.full(proxbox.DefaultStageParams())
	if refused != 1 {
		t.Fatalf("first run: %d VM failures, want the refused rename", refused)
	}
	e.nb.Reset()
	res := e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("re-sync re-sent the refused write: %v", w)
	}
	var again bool
	for _, s := range res.Stages {
		for _, f := range s.Failures {
			again = again || strings.Contains(f.Detail, ErrRefusedEarlier.Error())
		}
	}
	if refused != 2 || !again {
		t.Fatalf("re-sync: %d failures, reported as refused earlier: %v", refused, again)
	}
	// the guest changes: the write is sent again (and succeeds)
	must(t, m.RenameGuest(100, "free-name"))
	e.converges()
	if got := e.vmName(100, "qemu"); got != "free-name" {
		t.Fatalf("after the change: %q", got)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrRefusedEarlier), ErrRefusedEarlier) {
		t.Fatal("ErrRefusedEarlier does not wrap")
	}
}

func TestFitName(t *testing.T) {
	for _, c := range []struct{ in, tag, want string }{
		{"short", "1", "short"},
		{strings.Repeat("é", 64), "1", strings.Repeat("é", 64)},
		{strings.Repeat("é", 65), "123", strings.Repeat("é", 60) + "~123"},
		{strings.Repeat("a", 59) + "     " + "bbbbb", "7", strings.Repeat("a", 59) + "~7"},
	} {
		if got := fitName(c.in, maxName, c.tag); got != c.want || utf8.RuneCountInString(got) > maxName {
			t.Errorf("fitName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOrphanDeletedAfterDaysFreesItsNameWithoutARename: an orphan past its
// AfterDays is deleted, which frees its name; it is not renamed first.
func TestOrphanDeletedAfterDaysFreesItsNameWithoutARename(t *testing.T) {
	e, m := untidyEnv(t)
	e.eng.policies[kVM.Type] = OrphanPolicy{Mode: OrphanMark, AfterDays: 1}
	name := guestName(t, m, 103)
	must(t, m.DeleteGuest(103))
	e.converges()
	e.clock = e.clock.Add(48 * time.Hour)
	must(t, m.RenameGuest(104, name))
	e.full(proxbox.DefaultStageParams()) // a rename of the deleted orphan would fail (reported, so fatal here)
	if l := e.list(kVM.Path, netboxsdk.NewFilter().CF("proxmox_vm_id", 103)); len(l) != 0 {
		t.Fatalf("the orphan is still there: %v", l)
	}
	if got := e.vmName(104, "qemu"); got != name {
		t.Fatalf("guest 104 is %q, want %q", got, name)
	}
}

// TestUntidyClusterFileConverges: a cluster file with FQDN node names,
// duplicate and over-long names, a guest without NICs, a disk without a
// size, a link-local and a shared address and backups of a destroyed guest
// syncs with every guest in NetBox, reports what it does not write, and
// re-syncs without a write.
func TestUntidyClusterFileConverges(t *testing.T) {
	f, err := pvemock.LoadClusterFile("testdata/untidy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil, pvemock.Scenario{Name: f.Name, Cluster: f, Seed: f.Seed})
	res := e.converges()
	names := map[int]string{}
	for _, vmid := range []int{100, 101, 102, 103, 104, 105} {
		names[vmid] = e.vmName(vmid, "qemu")
	}
	if names[100] != "web" || names[101] != "web (101)" {
		t.Errorf("duplicate names: %q %q", names[100], names[101])
	}
	if utf8.RuneCountInString(names[102]) != maxName || !strings.HasSuffix(names[102], "~102") {
		t.Errorf("long name: %q", names[102])
	}
	devs := e.list(kDevice.Path, netboxsdk.NewFilter().Eq("name", "pve-a.dc1.example.com"))
	if len(devs) != 1 {
		t.Errorf("FQDN node: %d devices", len(devs))
	}
	var skipped []string
	for _, s := range res.Stages {
		for _, k := range s.Skipped {
			skipped = append(skipped, k.ObjectType+" "+k.Name+": "+k.Reason)
		}
	}
	for _, want := range []string{"appliance/scsi1: the Proxmox config gives the disk no size", "has VMID 190", "198.51.100.10/24 is also reported by"} {
		found := false
		for _, s := range skipped {
			found = found || strings.Contains(s, want)
		}
		if !found {
			t.Errorf("no skipped item %q in %v", want, skipped)
		}
	}
	if p := refID(e.vmByVMID(104, "qemu"), "primary_ip4"); p != 0 {
		t.Errorf("the link-local address is 104's primary IPv4")
	}
}
