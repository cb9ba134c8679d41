package sync

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestS100FullSyncThenZeroWrites(t *testing.T) {
	sc := pvemock.S100()
	e := newEnv(t, nil, sc)
	start := time.Now()
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("first sync %v, %d requests\n%s", time.Since(start), e.nb.Total(), summary(res))

	// Exact objects per type. The guest-shaped ones follow from the scenario;
	// the ones pvemock draws (storages, jobs, node interfaces, addresses, VLAN
	// tags) are read from the mock's own PVE API, not from the sync engine.
	m := e.conn.mocks[0]
	src := readPVE(t, m)
	t.Logf("PVE side: %+v", src)
	guests := sc.QEMU + sc.LXC
	want := map[string]int{
		kDevice.Path: sc.Nodes, kVM.Path: guests,
		kVDisk.Path: guests * sc.Disks, kVMIface.Path: guests * sc.NICs,
		kMAC.Path: guests * sc.NICs, // one MAC object per VM NIC (NetBox >= 4.2)
		// pvemock: Backups on nfs-backup plus one on pbs-backup per guest (default 2),
		// Snapshots (default 1) and Tasks (default 3) per guest
		kBackup.Path: guests * (2 + 1), kSnapshot.Path: guests * 1, kTask.Path: guests * 3,
		// one cluster with its site, cluster type, manufacturer and device type;
		// the roles of nodes, QEMU guests and LXC guests
		kCluster.Path: 1, kSite.Path: 1, kClusterType.Path: 1, kManufacturer.Path: 1, kDeviceType.Path: 1, kRole.Path: 3,
		kStorage.Path: src.storages, kReplication.Path: src.replications, kRoutine.Path: src.backupJobs,
		kNodeIface.Path: src.nodeIfaces, kVLAN.Path: src.vlans, kIP.Path: src.guestIPs + src.nodeIPs,
	}
	if sc.Backups != 0 || sc.Snapshots != 0 || sc.Tasks != 0 {
		t.Fatalf("S100 sets Backups/Snapshots/Tasks (%d/%d/%d): update the defaults above", sc.Backups, sc.Snapshots, sc.Tasks)
	}
	for path, n := range want {
		if got := len(e.list(path, nil)); got != n {
			t.Errorf("%s: %d objects, want %d", path, got, n)
		}
	}
	tot := totals(res)
	if c := tot[kVM.Type]; c.Created != guests || c.Failed != 0 {
		t.Errorf("VM counts %+v", c)
	}

	// field values on a sample of each type
	node, _, _ := m.GuestNode(100)
	vm := e.vmByVMID(100, "qemu")
	cl := e.list(kCluster.Path, nil)[0]
	// check compares exactly (same dynamic type and value), not with the
	// engine's own normaliser same(), which the test would otherwise share.
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("cluster name", cl["name"], sc.Name)
	check("cluster type", mapGet(cl["type"], "slug"), "cluster")
	check("vm cluster", refID(vm, "cluster"), idOf(cl))
	check("vm device", mapGet(vm["device"], "name"), node)
	check("vm role", mapGet(vm["role"], "slug"), "virtual-machine-qemu")
	check("vm cf type", cfOf(vm, "proxmox_vm_type"), "qemu")
	check("vm cf node", cfOf(vm, "proxmox_node"), node)
	check("vm cf cluster", cfOf(vm, "proxmox_cluster"), sc.Name)
	check("vm cf link", strings.HasPrefix(asStr(cfOf(vm, "proxmox_link")), "https://lab.example:8006/#v1:0:=qemu/100"), true)
	check("vm tag", hasTag(vm, tagProxbox), true)
	if refID(vm, "primary_ip4") == 0 {
		t.Error("vm 100 has no primary IPv4")
	}
	ct := e.vmByVMID(100+sc.QEMU, "lxc") // LXC VMIDs follow the QEMU ones
	check("lxc role", mapGet(ct["role"], "slug"), "container-lxc")
	check("lxc unprivileged cf", cfOf(ct, "proxmox_unprivileged_container") != nil, true)
	dev := e.list(kDevice.Path, netboxsdk.NewFilter().Name("pve1"))[0]
	check("device type", mapGet(dev["device_type"], "slug"), "proxmox-generic-device")
	check("device role", mapGet(dev["role"], "slug"), "proxmox-node")
	check("device site", mapGet(dev["site"], "slug"), "proxmox-default-site-lab")
	disks := e.list(kVDisk.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm)))
	if len(disks) != sc.Disks || asInt(disks[0]["size"]) <= 0 || cfOf(disks[0], "proxbox_storage_id") == nil {
		t.Errorf("vm 100 disks: %v", disks)
	}
	ifs := e.list(kVMIface.Path, netboxsdk.NewFilter().Eq("virtual_machine_id", idOf(vm)))
	tagged := 0
	for _, vmi := range e.list(kVMIface.Path, nil) {
		if refID(vmi, "untagged_vlan") != 0 && asStr(plain(vmi["mode"])) == "access" {
			tagged++
		}
	}
	if len(ifs) != sc.NICs || tagged == 0 {
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
	if len(tasks) != 3 {
		t.Errorf("lxc %d: %d tasks, want 3", 100+sc.QEMU, len(tasks))
	}
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

// pveCounts is what a PVE cluster holds, read through its API.
type pveCounts struct {
	storages, replications, backupJobs int
	nodeIfaces, nodeIPs                int
	vlans                              int // distinct VLAN tags of guest NICs and node VLAN interfaces
	guestIPs                           int // addresses reported by guest agents (QEMU) and static LXC configs
}

// readPVE counts objects through the mock's PVE API, independently of the
// engine: loopback, unspecified, multicast and link-local addresses are not
// inventory (PVE documents them as host-local).
func readPVE(t *testing.T, m *pvemock.Mock) pveCounts {
	t.Helper()
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list := func(path string) []map[string]any {
		t.Helper()
		var out []map[string]any
		if err := px.Call(ctx, "GET", path, nil, &out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return out
	}
	usable := func(cidr string) bool {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return false
		}
		a := p.Addr()
		return !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast() && !a.IsLinkLocalUnicast()
	}
	var c pveCounts
	c.storages = len(list("/storage"))
	c.replications = len(list("/cluster/replication"))
	c.backupJobs = len(list("/cluster/backup"))
	vlans := map[string]bool{}
	tagRE := regexp.MustCompile(`(?:^|,)tag=(\d+)`)
	for _, n := range list("/nodes") {
		for _, ifc := range list("/nodes/" + asStr(n["node"]) + "/network") {
			c.nodeIfaces++
			if ifc["type"] == "vlan" {
				vlans[asStr(ifc["vlan-id"])] = true
			}
			for _, k := range []string{"cidr", "cidr6"} {
				if s := asStr(ifc[k]); s != "" && usable(s) {
					c.nodeIPs++
				}
			}
		}
	}
	for _, vmid := range m.VMIDs() {
		node, kind, _ := m.GuestNode(vmid)
		base := fmt.Sprintf("/nodes/%s/%s/%d", node, kind, vmid)
		var cfg map[string]any
		if err := px.Call(ctx, "GET", base+"/config", nil, &cfg); err != nil {
			t.Fatal(err)
		}
		for k, v := range cfg {
			if !strings.HasPrefix(k, "net") {
				continue
			}
			for _, tag := range tagRE.FindAllStringSubmatch(asStr(v), -1) {
				vlans[tag[1]] = true
			}
			if kind == "lxc" {
				for _, kv := range strings.Split(asStr(v), ",") {
					if ip, ok := strings.CutPrefix(kv, "ip="); ok && usable(ip) {
						c.guestIPs++
					} else if ip, ok := strings.CutPrefix(kv, "ip6="); ok && usable(ip) {
						c.guestIPs++
					}
				}
			}
		}
		if kind != "qemu" {
			continue
		}
		var agent struct {
			Result []struct {
				IPs []struct {
					Addr   string `json:"ip-address"`
					Prefix int    `json:"prefix"`
				} `json:"ip-addresses"`
			} `json:"result"`
		}
		if err := px.Call(ctx, "GET", base+"/agent/network-get-interfaces", nil, &agent); err != nil {
			continue // no agent: PVE knows no addresses of this VM
		}
		for _, ifc := range agent.Result {
			for _, ip := range ifc.IPs {
				if usable(fmt.Sprintf("%s/%d", ip.Addr, ip.Prefix)) {
					c.guestIPs++
				}
			}
		}
	}
	c.vlans = len(vlans)
	return c
}
