package sync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// vmIPs returns the addresses NetBox holds for a VM (by its vmid).
func (e *env) vmByVMID(vmid int, typ string) netboxsdk.Object {
	e.t.Helper()
	vms := e.list(kVM.Path, netboxsdk.NewFilter().CF("proxmox_vm_id", vmid).CF("proxmox_vm_type", typ))
	if len(vms) != 1 {
		e.t.Fatalf("vm %s/%d: %d NetBox VMs", typ, vmid, len(vms))
	}
	return vms[0]
}

func TestChangesConvergeAndDryRunListsThem(t *testing.T) {
	e := newEnv(t, nil, pvemock.S100())
	m := e.conn.mocks[0]
	e.full(proxbox.DefaultStageParams())

	vm100 := e.vmByVMID(100, "qemu")
	ips := e.list(kIP.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm100)).Eq("family", 4))
	if len(ips) == 0 {
		t.Fatal("vm 100 has no IPv4")
	}
	moved := asStr(ips[0]["address"])
	node103, _, _ := m.GuestNode(103)
	target := "pve1"
	if node103 == "pve1" {
		target = "pve2"
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.RenameGuest(102, "renamed-102"))
	must(m.MigrateGuest(103, target))
	must(m.SetMemory(104, 12345))
	must(m.AddNIC(105))
	must(m.MoveIP(100, 101, moved))
	must(m.DeleteGuest(106))
	must(m.DeleteGuest(107))
	must(m.CreateLXC(107, "reused-107", "pve1"))

	// dry run: the plan lists the changes and nothing is written
	e.nb.Reset()
	p := proxbox.DefaultStageParams()
	p.DryRun = true
	dry := e.full(p)
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote: %v", w)
	}
	plan := map[string][]string{}
	for _, s := range dry.Stages {
		for _, c := range s.Plan {
			var f []string
			for k := range c.Fields {
				f = append(f, k)
			}
			sort.Strings(f)
			plan[c.ObjectType] = append(plan[c.ObjectType], fmt.Sprintf("%s %s [%s]", c.Action, c.Name, strings.Join(f, ",")))
		}
	}
	for k, v := range plan {
		sort.Strings(v)
		t.Logf("%s:\n  %s", k, strings.Join(v, "\n  "))
	}
	vmPlan := strings.Join(plan[kVM.Type], "\n")
	for _, want := range []string{
		"update renamed-102 [name]",
		"update " + asStr(e.vmByVMID(103, "qemu")["name"]) + " [custom_fields.proxmox_node,description,device]",
		"update " + asStr(e.vmByVMID(104, "qemu")["name"]) + " [memory]",
		"mark-orphan " + asStr(e.vmByVMID(106, "qemu")["name"]) + " [custom_fields.proxbox_last_seen,status,tags]",
		"mark-orphan " + asStr(e.vmByVMID(107, "qemu")["name"]) + " [custom_fields.proxbox_last_seen,status,tags]",
		"create reused-107 ",
	} {
		if !strings.Contains(vmPlan, want) {
			t.Errorf("VM plan lacks %q", want)
		}
	}
	creates := 0
	for _, c := range plan[kVMIface.Type] {
		if strings.HasPrefix(c, "create ") {
			creates++
		}
	}
	if creates != 2+1 { // new NIC of 105, 2 NICs of the new LXC
		t.Errorf("vminterface plan = %v", plan[kVMIface.Type])
	}

	// apply: converges in one run
	e.nb.Reset()
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("apply run: %d requests\n%s", e.nb.Total(), summary(res))
	if got := asStr(e.vmByVMID(102, "qemu")["name"]); got != "renamed-102" {
		t.Errorf("renamed VM name = %q", got)
	}
	if got := asStr(mapGet(e.vmByVMID(103, "qemu")["device"], "name")); got != target {
		t.Errorf("migrated VM device = %q, want %s", got, target)
	}
	if got := asInt(e.vmByVMID(104, "qemu")["memory"]); got != 12345 {
		t.Errorf("memory = %d", got)
	}
	if got := asStr(plain(e.vmByVMID(106, "qemu")["status"])); got != "offline" {
		t.Errorf("deleted VM status = %q", got)
	}
	if !hasTag(e.vmByVMID(106, "qemu"), tagOrphan) {
		t.Error("deleted VM lacks the orphan tag")
	}
	lxc := e.vmByVMID(107, "lxc")
	if asStr(lxc["name"]) != "reused-107" {
		t.Errorf("new LXC name %q", lxc["name"])
	}
	vm101 := e.vmByVMID(101, "qemu")
	got := e.list(kIP.Path, netboxsdk.NewFilter().Eq("address", moved))
	if len(got) != 1 {
		t.Fatalf("moved IP: %d objects", len(got))
	}
	ifs := e.list(kVMIface.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm101)))
	onto := map[int]bool{}
	for _, i := range ifs {
		onto[idOf(i)] = true
	}
	if !onto[asInt(got[0]["assigned_object_id"])] {
		t.Errorf("moved IP %s not on VM 101 (assigned to %v)", moved, got[0]["assigned_object_id"])
	}
	n105 := e.list(kVMIface.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(e.vmByVMID(105, "qemu"))))
	if len(n105) != 3 {
		t.Errorf("VM 105 has %d interfaces, want 3", len(n105))
	}

	// the reused VMID's old tasks stay with the old guest: each UPID once
	upids := map[string]int{}
	for _, o := range e.list(kTask.Path, nil) {
		upids[asStr(o["upid"])]++
	}
	for u, n := range upids {
		if n > 1 {
			t.Errorf("task %s recorded %d times", u, n)
		}
	}

	// and the next run writes nothing
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("run after convergence wrote %d times: %v", len(w), w)
	}
	_ = context.Background
}
