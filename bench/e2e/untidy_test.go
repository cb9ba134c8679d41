package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestUntidyInventoryConverges is issue 18's acceptance against the real
// NetBox (and, with E2E_NETBOXTEST=1 and no NETBOX_URL, against netboxtest):
// an untidy cluster — a deleted guest whose name a new guest takes, swapped
// names, a name over 64 characters, duplicate names, a VMID reused with a
// snapshot of the same name, a disk without a size, backups of a destroyed
// guest, a link-local address — converges after each change in one sync,
// every guest is in NetBox, every object not written is reported with its
// reason, and the next no-change sync writes nothing.
func TestUntidyInventoryConverges(t *testing.T) {
	sc := pvemock.Scenario{Name: "e2e-untidy", Nodes: 2, QEMU: 10, LXC: 2, NICs: 2, Disks: 2, Seed: 31}
	env, ctx := setup(t, sc, 31, "")
	m := env.PVE.Mock
	if m == nil {
		t.Skip("needs the in-process PVE mock")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	name := func(vmid int) string {
		t.Helper()
		n, ok := m.GuestName(vmid)
		if !ok {
			t.Fatalf("no guest %d", vmid)
		}
		return n
	}
	live := map[int]string{} // VMID -> type, the guests Proxmox has
	for i := 0; i < sc.QEMU; i++ {
		live[100+i] = "qemu"
	}
	for i := 0; i < sc.LXC; i++ {
		live[100+sc.QEMU+i] = "lxc"
	}
	step := func(label string) *harness.SyncRun {
		t.Helper()
		run := mustSync(t, ctx, env, label)
		for vmid, typ := range live {
			if vm := untidyVM(ctx, t, env, sc.Name, vmid, typ); vm == nil {
				t.Errorf("%s: guest %s/%d is not in NetBox", label, typ, vmid)
			}
		}
		for _, s := range run.Stages {
			for _, e := range s.Errors {
				t.Errorf("%s: stage %s failed item: %v", label, s.Slug, e)
			}
		}
		resyncWritesNothing(t, ctx, env, label+": no-change re-sync")
		return run
	}
	must(m.SetSnapshots(106, "before-upgrade"))
	step("first sync")

	// 1: a guest deleted (its VM an orphan holding its name), names swapped,
	// a long name, a duplicate name, a disk without a size, backups left by a
	// destroyed guest, a container with only a link-local address
	reused := name(103)
	must(m.DeleteGuest(103))
	delete(live, 103)
	n100, n101 := name(100), name(101)
	must(m.RenameGuest(100, n101))
	must(m.RenameGuest(101, n100))
	long := "an-untidy-guest-with-a-name-longer-than-netbox-allows-" + strings.Repeat("z", 30)
	must(m.RenameGuest(102, long))
	must(m.RenameGuest(104, name(105)))
	node, _, _ := m.GuestNode(106)
	must(m.DeleteGuest(106)) // its snapshot's plugin key is reused below
	delete(live, 106)
	must(m.SetDiskSize(107, "scsi1", -1))
	must(m.DestroyGuestKeepBackups(108))
	delete(live, 108)
	ct := 100 + sc.QEMU
	must(m.SetAddress(ct, 0, "169.254.10.10/16"))
	must(m.SetAddress(ct, 1, ""))
	run := step("untidy changes")
	if got := vmName(untidyVM(ctx, t, env, sc.Name, 100, "qemu")); got != n101 {
		t.Errorf("swap: guest 100 is %q, want %q", got, n101)
	}
	if got := vmName(untidyVM(ctx, t, env, sc.Name, 101, "qemu")); got != n100 {
		t.Errorf("swap: guest 101 is %q, want %q", got, n100)
	}
	vm102 := untidyVM(ctx, t, env, sc.Name, 102, "qemu")
	if got := vmName(vm102); utf8.RuneCountInString(got) != 64 || !strings.HasSuffix(got, "~102") {
		t.Errorf("long name: %q", got)
	}
	if cf, _ := vm102["custom_fields"].(map[string]any); cf["proxmox_name"] != long {
		t.Errorf("long name: proxmox_name %v", cf["proxmox_name"])
	}
	if got := vmName(untidyVM(ctx, t, env, sc.Name, 104, "qemu")); got != name(105)+" (104)" {
		t.Errorf("duplicate name: guest 104 is %q", got)
	}
	skipped := skippedItems(run)
	t.Logf("skipped items: %v", skipped)
	for _, want := range []string{"no size", "has VMID 108"} {
		if !anyContains(skipped, want) {
			t.Errorf("no skipped item says %q", want)
		}
	}
	for _, s := range run.Stages {
		if s.Slug == "vm-disks" && !s.Partial {
			t.Errorf("stage %s skipped a disk but is not partial", s.Slug)
		}
	}
	if p := refIDv(untidyVM(ctx, t, env, sc.Name, ct, "lxc")["primary_ip4"]); p != 0 {
		t.Errorf("the link-local address is container %d's primary IPv4 (%d)", ct, p)
	}

	// 2: a new guest takes the deleted guest's name; VMID 106 is reused by a
	// container on the same node, with a snapshot of the same name
	// (netbox-proxbox's key: vmid, name, node)
	must(m.CreateQEMU(150, reused, node))
	live[150] = "qemu"
	must(m.CreateLXC(106, "reused-106", node))
	must(m.SetSnapshots(106, "before-upgrade"))
	live[106] = "lxc"
	step("a new guest takes an orphan's name; a VMID reused with the same snapshot name")
	if got := vmName(untidyVM(ctx, t, env, sc.Name, 150, "qemu")); got != reused {
		t.Errorf("new guest 150 is %q, want %q", got, reused)
	}
	if got := vmName(untidyVM(ctx, t, env, sc.Name, 103, "qemu")); got != reused+" (orphan 103)" {
		t.Errorf("orphan 103 is %q", got)
	}
	if env.NB.PluginInstalled(ctx) {
		vm := untidyVM(ctx, t, env, sc.Name, 106, "lxc")
		all, err := env.NB.List(ctx, "/api/plugins/proxbox/snapshots/", url.Values{"vmid": {"106"}})
		if err != nil {
			t.Fatal(err)
		}
		var mine []string // the plugin's filters may not narrow by VM: filter here
		for _, s := range all {
			if refID(s, "virtual_machine") == refIDv(vm["id"]) {
				mine = append(mine, fmt.Sprintf("%v (%v)", s["name"], s["status"]))
			}
		}
		if len(mine) != 1 || !strings.HasPrefix(mine[0], "before-upgrade ") || !strings.Contains(mine[0], "active") {
			t.Errorf("the reused VMID's snapshots: %v, want before-upgrade, active", mine)
		}
	}
}

// untidyVM is the live (not orphaned) NetBox VM of a guest, nil when none.
func untidyVM(ctx context.Context, t *testing.T, env *harness.Env, cluster string, vmid int, typ string) map[string]any {
	t.Helper()
	cl, err := env.NB.List(ctx, "/api/virtualization/clusters/", url.Values{"name": {cluster}})
	if err != nil || len(cl) != 1 {
		t.Fatalf("cluster %s: %v %v", cluster, cl, err)
	}
	rows, err := env.NB.List(ctx, "/api/virtualization/virtual-machines/", url.Values{"cluster_id": {fmt.Sprint(cl[0]["id"])},
		"cf_proxmox_vm_id": {fmt.Sprint(vmid)}, "cf_proxmox_vm_type": {typ}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		return nil
	}
	return rows[0]
}

func vmName(vm map[string]any) string {
	s, _ := vm["name"].(string)
	return s
}

// skippedItems lists "<object type> <name>: <reason>" of every stage's
// result.skipped.
func skippedItems(run *harness.SyncRun) []string {
	var out []string
	for _, s := range run.Stages {
		res, _ := s.Result.(map[string]any)
		list, _ := res["skipped"].([]any)
		for _, it := range list {
			m, _ := it.(map[string]any)
			out = append(out, fmt.Sprintf("%v %v: %v", m["object_type"], m["name"], m["reason"]))
		}
	}
	return out
}

func anyContains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
