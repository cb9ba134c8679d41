package pvemock

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

func get(t *testing.T, px *proxmoxsdk.Client, path string, out any) {
	t.Helper()
	if err := px.Call(context.Background(), "GET", path, nil, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// clusterMock is a mock of cluster file f and a client over it.
func clusterMock(t *testing.T, f *ClusterFile) (*Mock, *proxmoxsdk.Client) {
	t.Helper()
	m := New(Scenario{Cluster: f})
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	return m, px
}

// TestClusterFile: a user's cluster file (YAML) drives nodes, guests,
// NICs, disks, IPs, storages and backups.
func TestClusterFile(t *testing.T) {
	f, err := LoadClusterFile("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, px := clusterMock(t, f)
	if sc := m.Scenario(); sc.Name != "homelab" || sc.Nodes != 2 || sc.QEMU != 2 || sc.LXC != 1 || sc.Version != "8.2.4" {
		t.Errorf("scenario %+v", sc)
	}
	var nodes []struct{ Node string }
	get(t, px, "/nodes", &nodes)
	if len(nodes) != 2 || nodes[0].Node != "alpha" || nodes[1].Node != "beta" {
		t.Errorf("nodes %+v", nodes)
	}
	var cfg map[string]any
	get(t, px, "/nodes/alpha/qemu/100/config", &cfg)
	if cfg["name"] != "gateway" || !strings.HasPrefix(cfg["net0"].(string), "virtio=BC:24:11:00:00:01,bridge=vmbr0") ||
		!strings.Contains(cfg["net1"].(string), "tag=20") || !strings.HasPrefix(cfg["scsi0"].(string), "tank:vm-100-disk-0") ||
		strings.Contains(cfg["net0"].(string), "tag=") {
		t.Errorf("config %v", cfg)
	}
	var agent struct {
		Result []struct {
			Name string           `json:"name"`
			IPs  []map[string]any `json:"ip-addresses"`
		} `json:"result"`
	}
	get(t, px, "/nodes/alpha/qemu/100/agent/network-get-interfaces", &agent)
	b, _ := json.Marshal(agent)
	if !strings.Contains(string(b), `"192.168.10.1"`) || !strings.Contains(string(b), `"10.20.0.1"`) {
		t.Errorf("agent interfaces %s", b)
	}
	var storages []map[string]any
	get(t, px, "/storage", &storages)
	if len(storages) != 3 || storages[1]["storage"] != "tank" || storages[1]["type"] != "zfspool" {
		t.Errorf("storages %v", storages)
	}
	var content []map[string]any
	get(t, px, "/nodes/alpha/storage/nas/content", &content)
	if len(content) != 2 || content[0]["vmid"] != float64(100) || content[1]["protected"] != float64(1) {
		t.Errorf("backups %v", content)
	}
	var snaps []map[string]any
	get(t, px, "/nodes/alpha/qemu/100/snapshot", &snaps)
	if len(snaps) != 3 || snaps[1]["parent"] != "initial" {
		t.Errorf("snapshots %v", snaps)
	}
	var st map[string]any
	get(t, px, "/nodes/beta/qemu/101/status/current", &st)
	if st["status"] != "stopped" {
		t.Errorf("media status %v", st)
	}
	var lst []map[string]any
	get(t, px, "/nodes/beta/storage", &lst)
	if len(lst) != 3 {
		t.Errorf("node storage %v", lst)
	}
	var ifaces []map[string]any
	get(t, px, "/nodes/beta/network", &ifaces)
	okNet := false
	for _, i := range ifaces {
		okNet = okNet || (i["iface"] == "vmbr0" && i["cidr"] == "192.168.10.12/24" && i["gateway"] == "192.168.10.1")
	}
	if !okNet {
		t.Errorf("node network %v", ifaces)
	}
	get(t, px, "/nodes/beta/lxc/200/config", &cfg)
	if cfg["hostname"] != "pihole" || !strings.Contains(cfg["net0"].(string), "ip=192.168.10.53/24") {
		t.Errorf("lxc config %v", cfg)
	}
}

func TestClusterFileJSONAndErrors(t *testing.T) {
	f, err := ParseClusterFile([]byte(`{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"name":"a","node":"n1"}]}`), false)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Scenario{Cluster: f})
	if ids := m.VMIDs(); len(ids) != 1 || ids[0] != 100 {
		t.Errorf("vmids %v", ids)
	}
	for name, in := range map[string]string{
		"no nodes":        `{"nodes":[]}`,
		"unknown key":     `{"nodes":[{"name":"n1"}],"bogus":1}`,
		"duplicate node":  `{"nodes":[{"name":"n1"},{"name":"n1"}]}`,
		"unknown node":    `{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"name":"a","node":"n2"}]}`,
		"duplicate vmid":  `{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"name":"a","node":"n1"},{"vmid":100,"name":"b","node":"n1"}]}`,
		"vmid range":      `{"nodes":[{"name":"n1"}],"guests":[{"vmid":7,"name":"a","node":"n1"}]}`,
		"bad type":        `{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"type":"kvm","name":"a","node":"n1"}]}`,
		"unknown storage": `{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"name":"a","node":"n1","disks":[{"key":"scsi0","storage":"x","size_gib":1}]}]}`,
		"storage fields":  `{"nodes":[{"name":"n1"}],"storages":[{"storage":"x"}]}`,
		"backup storage":  `{"nodes":[{"name":"n1"}],"guests":[{"vmid":100,"name":"a","node":"n1","backups":[{"storage":"nowhere"}]}]}`,
	} {
		if _, err := ParseClusterFile([]byte(in), false); !errors.Is(err, ErrClusterFile) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ParseClusterFile([]byte("nodes: [\n"), true); !errors.Is(err, ErrClusterFile) {
		t.Errorf("bad YAML: %v", err)
	}
	if _, err := LoadClusterFile("testdata/missing.yaml"); !errors.Is(err, ErrClusterFile) {
		t.Errorf("missing file: %v", err)
	}
}

// TestClusterFileUntidyShapes: a disk without a size and the backups of a
// destroyed guest are expressible, and the cluster file refuses the
// contradictory forms of both.
func TestClusterFileUntidyShapes(t *testing.T) {
	base := `nodes: [{name: pve1.example.com}]
guests:
  - {vmid: 100, name: a, node: pve1.example.com, disks: [DISK]}
left_backups: [{vmid: LEFT, storage: nfs-backup}]
`
	parse := func(disk, left string) error {
		y := strings.NewReplacer("DISK", disk, "LEFT", left).Replace(base)
		_, err := ParseClusterFile([]byte(y), true)
		return err
	}
	if err := parse("{key: scsi0, storage: local-lvm, no_size: true}", "190"); err != nil {
		t.Fatalf("valid untidy file refused: %v", err)
	}
	for _, c := range [][2]string{
		{"{key: scsi0, storage: local-lvm, size_gib: 8, no_size: true}", "190"}, // a size and no size
		{"{key: scsi0, storage: local-lvm}", "190"},                             // no size, not said
		{"{key: scsi0, storage: local-lvm, size_gib: 8}", "100"},                // a live guest's VMID
	} {
		if err := parse(c[0], c[1]); !errors.Is(err, ErrClusterFile) {
			t.Errorf("disk %s, left backup of %s: %v, want ErrClusterFile", c[0], c[1], err)
		}
	}
	f, err := ParseClusterFile([]byte(strings.NewReplacer("DISK", "{key: scsi0, storage: local-lvm, no_size: true}", "LEFT", "190").Replace(base)), true)
	if err != nil {
		t.Fatal(err)
	}
	m, px := clusterMock(t, f)
	var cfg map[string]any
	get(t, px, "/nodes/pve1.example.com/qemu/100/config", &cfg)
	if s, _ := cfg["scsi0"].(string); s == "" || strings.Contains(s, "size=") {
		t.Errorf("scsi0 = %q, want a volume without size=", s)
	}
	var backups []map[string]any
	get(t, px, "/nodes/pve1.example.com/storage/nfs-backup/content", &backups)
	left := 0
	for _, b := range backups {
		if v, _ := b["vmid"].(float64); v == 190 {
			left++
		}
	}
	if left != 1 {
		t.Errorf("%d backups of the destroyed guest 190, want 1: %v", left, backups)
	}
	if _, ok := m.GuestName(190); ok {
		t.Error("the destroyed guest exists")
	}
}
