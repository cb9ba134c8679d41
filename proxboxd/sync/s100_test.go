package sync

import (
	"strings"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestS100FullSyncThenZeroWrites(t *testing.T) {
	e := newEnv(t, nil, pvemock.S100())
	start := time.Now()
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("first sync %v, %d requests\n%s", time.Since(start), e.nb.Total(), summary(res))

	// exact objects per type (S100: 3 nodes, 80 QEMU + 20 LXC, 2 NICs and 2
	// disks each; addresses, backups, snapshots and tasks as pvemock generates them)
	want := map[string]int{
		kDevice.Path: 3, kCluster.Path: 1, kSite.Path: 1, kClusterType.Path: 1, kManufacturer.Path: 1,
		kDeviceType.Path: 1, kRole.Path: 3, kVM.Path: 100, kVDisk.Path: 200, kVMIface.Path: 200,
		kNodeIface.Path: 24, kIP.Path: 312 + 9, kVLAN.Path: 6, kStorage.Path: 5, kBackup.Path: 300,
		kSnapshot.Path: 100, kTask.Path: 300, kReplication.Path: 8, kRoutine.Path: 3,
		kMAC.Path: 200, // one MAC object per VM NIC (NetBox >= 4.2)
	}
	for path, n := range want {
		if got := len(e.list(path, nil)); got != n {
			t.Errorf("%s: %d objects, want %d", path, got, n)
		}
	}
	tot := totals(res)
	if c := tot[kVM.Type]; c.Created != 100 || c.Failed != 0 {
		t.Errorf("VM counts %+v", c)
	}

	// field values on a sample of each type
	m := e.conn.mocks[0]
	node, _, _ := m.GuestNode(100)
	vm := e.vmByVMID(100, "qemu")
	cl := e.list(kCluster.Path, nil)[0]
	check := func(what string, got, want any) {
		t.Helper()
		if !same(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("cluster name", cl["name"], "lab")
	check("cluster type", mapGet(cl["type"], "slug"), "cluster")
	check("vm cluster", refID(vm, "cluster"), idOf(cl))
	check("vm device", mapGet(vm["device"], "name"), node)
	check("vm role", mapGet(vm["role"], "slug"), "virtual-machine-qemu")
	check("vm cf type", cfOf(vm, "proxmox_vm_type"), "qemu")
	check("vm cf node", cfOf(vm, "proxmox_node"), node)
	check("vm cf cluster", cfOf(vm, "proxmox_cluster"), "lab")
	check("vm cf link", strings.HasPrefix(asStr(cfOf(vm, "proxmox_link")), "https://lab.example:8006/#v1:0:=qemu/100"), true)
	check("vm tag", hasTag(vm, tagProxbox), true)
	if refID(vm, "primary_ip4") == 0 {
		t.Error("vm 100 has no primary IPv4")
	}
	ct := e.vmByVMID(180, "lxc")
	check("lxc role", mapGet(ct["role"], "slug"), "container-lxc")
	check("lxc unprivileged cf", cfOf(ct, "proxmox_unprivileged_container") != nil, true)
	dev := e.list(kDevice.Path, netboxsdk.NewFilter().Name("pve1"))[0]
	check("device type", mapGet(dev["device_type"], "slug"), "proxmox-generic-device")
	check("device role", mapGet(dev["role"], "slug"), "proxmox-node")
	check("device site", mapGet(dev["site"], "slug"), "proxmox-default-site-lab")
	disks := e.list(kVDisk.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm)))
	if len(disks) != 2 || asInt(disks[0]["size"]) <= 0 || cfOf(disks[0], "proxbox_storage_id") == nil {
		t.Errorf("vm 100 disks: %v", disks)
	}
	ifs := e.list(kVMIface.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm)))
	tagged := 0
	for _, vmi := range e.list(kVMIface.Path, nil) {
		if refID(vmi, "untagged_vlan") != 0 && asStr(plain(vmi["mode"])) == "access" {
			tagged++
		}
	}
	if len(ifs) != 2 || tagged == 0 {
		t.Errorf("vm 100 interfaces: %d; %d VLAN-tagged interfaces", len(ifs), tagged)
	}
	if mid := refID(ifs[0], "primary_mac_address"); mid == 0 {
		t.Error("vm 100 interface has no primary_mac_address")
	} else if macs := e.list(kMAC.Path, netboxsdk.NewFilter().ID(mid)); len(macs) != 1 || !looksLikeMAC(strings.ToLower(asStr(macs[0]["mac_address"]))) ||
		asInt(macs[0]["assigned_object_id"]) != idOf(ifs[0]) || !hasTag(macs[0], tagProxbox) {
		t.Errorf("vm 100 interface MAC: %v", macs)
	}
	if cfOf(ifs[0], "proxbox_bridge") == nil {
		t.Error("vm 100 interface has no proxbox_bridge")
	}
	ips := e.list(kIP.Path, netboxsdk.NewFilter().Eq("vminterface_id", idOf(ifs[0])))
	if len(ips) == 0 || asStr(ips[0]["assigned_object_type"]) != "virtualization.vminterface" {
		t.Errorf("interface IPs: %v", ips)
	}
	nifs := e.list(kNodeIface.Path, netboxsdk.NewFilter().Eq("device_id", idOf(dev)))
	types := map[string]bool{}
	for _, i := range nifs {
		types[asStr(plain(i["type"]))] = true
	}
	for _, ty := range []string{"bridge", "lag", "virtual"} {
		if !types[ty] {
			t.Errorf("node interfaces lack type %s: %v", ty, types)
		}
	}
	tasks := e.list(kTask.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(ct)))
	for _, tk := range tasks {
		check("lxc task vm_type", tk["vm_type"], "lxc")
	}
	bk := e.list(kBackup.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm)))
	if len(bk) == 0 || !strings.HasSuffix(asStr(bk[0]["creation_time"]), "Z") {
		t.Errorf("vm 100 backups: %v", bk)
	}

	e.nb.Reset()
	start = time.Now()
	res2 := e.full(proxbox.DefaultStageParams())
	t.Logf("second sync %v, %d requests\n%s", time.Since(start), e.nb.Total(), summary(res2))
	if w := e.writes(); len(w) != 0 {
		t.Errorf("second sync wrote %d times: %v", len(w), w[:min(len(w), 20)])
	}
}
