package e2e

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/bench/plugin"
)

// TestChangesConverge is issue 6's change scenario against the real NetBox,
// through proxboxd and the plugin's stage streams: after a full sync, a VM is
// renamed, one migrated, one given more memory, one a new NIC, an IP moves
// between VMs, two VMs are deleted and one's VMID is reused by a new LXC
// guest. A dry run must list exactly those changes and write nothing; the
// next sync converges, and the one after writes nothing.
func TestChangesConverge(t *testing.T) {
	sc := s40()
	sc.Name = "e2e-changes"
	env, ctx := setup(t, sc, 13, "")
	m := env.PVE.Mock
	if m == nil {
		t.Skip("needs the in-process PVE mock")
	}
	mustSync(t, ctx, env, "first sync")
	inv, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	vm := func(vmid int) map[string]any {
		t.Helper()
		rows, err := env.NB.List(ctx, "/api/virtualization/virtual-machines/", url.Values{
			"cluster_id": {fmt.Sprint(inv.ClusterID)}, "cf_proxmox_vm_id": {fmt.Sprint(vmid)}, "status__n": {"offline"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("VMs with VMID %d in %s: %d", vmid, sc.Name, len(rows))
		}
		return rows[0]
	}
	name := func(o map[string]any) string { s, _ := o["name"].(string); return s }
	v100 := vm(100)
	ips, err := env.NB.List(ctx, "/api/ipam/ip-addresses/", url.Values{"virtual_machine_id": {fmt.Sprint(v100["id"])}, "family": {"4"}})
	if err != nil || len(ips) == 0 {
		t.Fatalf("VM 100 has no IPv4 (%v)", err)
	}
	moved, _ := ips[0]["address"].(string)
	node103, _, _ := m.GuestNode(103)
	target := "pve1"
	if node103 == "pve1" {
		target = "pve2"
	}
	names := map[int]string{}
	for _, id := range []int{103, 104, 106, 107} {
		names[id] = name(vm(id))
	}
	for _, err := range []error{
		m.RenameGuest(102, "renamed-102"), m.MigrateGuest(103, target), m.SetMemory(104, 12345), m.AddNIC(105),
		m.MoveIP(100, 101, moved), m.DeleteGuest(106), m.DeleteGuest(107), m.CreateLXC(107, "reused-107", "pve1"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	// The dry run is one /full-update/stream request: the stages plan
	// against each other's planned objects (the new LXC guest's NICs need its
	// planned VM), which 12 separate stage requests that write nothing cannot.
	q := harness.StageQuery(plugin.Stage{})
	q.Set("dry_run", "true")
	before := env.NBProxy.Counters()
	a := env.Client.Stream(ctx, "full-update", "/full-update/stream", q)
	if a.Status != 200 || a.Complete == nil || !a.Complete.OK {
		t.Fatalf("dry run: status %d %s", a.Status, a.Detail)
	}
	if w := env.NBProxy.Counters().Writes() - before.Writes(); w != 0 {
		t.Fatalf("the dry run wrote %d times to NetBox", w)
	}
	var results []any
	if m, ok := a.Complete.Result.(map[string]any); ok {
		for _, v := range m {
			results = append(results, v)
		}
	}
	plan := planOf(results)
	for typ, lines := range plan {
		t.Logf("plan %s:\n  %s", typ, strings.Join(lines, "\n  "))
	}
	var vmLines []string
	for _, l := range plan["virtualization.virtualmachine"] {
		if !strings.HasSuffix(l, " [primary_ip4]") && !strings.HasSuffix(l, " [primary_ip6]") {
			vmLines = append(vmLines, l) // the moved IP changes two primary IPs too
		}
	}
	vmPlan := strings.Join(vmLines, "\n")
	for _, want := range []string{
		"update renamed-102 [name]",
		"update " + names[103] + " [custom_fields.proxmox_node,description,device]",
		"update " + names[104] + " [memory]",
		"mark-orphan " + names[106] + " [custom_fields.proxbox_last_seen,status,tags]",
		"mark-orphan " + names[107] + " [custom_fields.proxbox_last_seen,status,tags]",
		"create reused-107 [",
	} {
		if !strings.Contains(vmPlan, want) {
			t.Errorf("the VM plan lacks %q", want)
		}
	}
	if n := len(vmLines); n != 6 {
		t.Errorf("the VM plan has %d changes, want the 6 above", n)
	}
	ifCreates := 0
	for _, l := range plan["virtualization.vminterface"] {
		if strings.HasPrefix(l, "create ") {
			ifCreates++
		}
	}
	if ifCreates != 3 { // the new NIC of 105, the 2 NICs of the new LXC guest
		t.Errorf("VM interface creates = %d, want 3: %v", ifCreates, plan["virtualization.vminterface"])
	}
	ipPlan := strings.Join(plan["ipam.ipaddress"], "\n")
	if !strings.Contains(ipPlan, strings.SplitN(moved, "/", 2)[0]) {
		t.Errorf("the IP plan does not move %s: %v", moved, plan["ipam.ipaddress"])
	}

	mustSync(t, ctx, env, "sync after the changes")
	if got := name(vm(102)); got != "renamed-102" {
		t.Errorf("VM 102 is named %q, want renamed-102", got)
	}
	if d, _ := vm(103)["device"].(map[string]any); d == nil || d["name"] != target {
		t.Errorf("VM 103's device is %v, want %s", vm(103)["device"], target)
	}
	if mem := vm(104)["memory"]; fmt.Sprint(mem) != "12345" {
		t.Errorf("VM 104's memory is %v, want 12345", mem)
	}
	if v := vm(107); name(v) != "reused-107" || fmt.Sprint(v["custom_fields"].(map[string]any)["proxmox_vm_type"]) != "lxc" {
		t.Errorf("VMID 107 is %q (%v), want the new LXC guest reused-107", name(v), v["custom_fields"])
	}
	after, err := env.NB.Take(ctx, sc.Name, env.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Duplicates) > 0 {
		t.Errorf("duplicates: %v", after.Duplicates)
	}
	resyncWritesNothing(t, ctx, env, "re-sync after the changes")
	record("changes_converge", map[string]any{"plan": plan, "inventory": after})
}

// planOf gathers the dry-run plans of stage results: "action name [fields]"
// per object type.
func planOf(results []any) map[string][]string {
	out := map[string][]string{}
	for _, r := range results {
		m, _ := r.(map[string]any)
		changes, _ := m["plan"].([]any)
		for _, c := range changes {
			cm, _ := c.(map[string]any)
			var fields []string
			if fm, ok := cm["fields"].(map[string]any); ok {
				for k := range fm {
					fields = append(fields, k)
				}
			}
			sort.Strings(fields)
			typ := fmt.Sprint(cm["object_type"])
			out[typ] = append(out[typ], fmt.Sprintf("%v %v [%s]", cm["action"], cm["name"], strings.Join(fields, ",")))
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}
