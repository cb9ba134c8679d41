package pvemock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ClusterFile describes a user's own cluster: the nodes, the guests with
// their names, NICs, disks, IPs and backups, and the storages. Set it as
// Scenario.Cluster (or pass the file to `pvemock serve --scenario FILE`).
// What it leaves out is generated from Seed like the built-in scenarios.
type ClusterFile struct {
	Name    string      `json:"name,omitempty"`    // cluster name (default "lab")
	Version string      `json:"version,omitempty"` // what /version reports (default 8.1.4)
	Seed    int64       `json:"seed,omitempty"`
	Nodes   []NodeSpec  `json:"nodes"`
	Guests  []GuestSpec `json:"guests,omitempty"`
	// Storages are storage.cfg sections as GET /storage returns them
	// (storage, type, content, path, shared, nodes, …); default: local,
	// local-lvm, ceph-vm, nfs-backup, pbs-backup.
	Storages []map[string]any `json:"storages,omitempty"`
	// LeftBackups are backups whose guest was destroyed (PVE keeps them on
	// their storage): listed with a VMID no guest has.
	LeftBackups []LeftBackupSpec `json:"left_backups,omitempty"`
}

// LeftBackupSpec is a backup of a destroyed guest.
type LeftBackupSpec struct {
	VMID int    `json:"vmid"`
	Type string `json:"type,omitempty"` // qemu (default) or lxc
	BackupSpec
}

// NodeSpec is one node.
type NodeSpec struct {
	Name      string `json:"name"`
	IP        string `json:"ip,omitempty"`         // default 10.10.0.(11+i)
	CPUs      int    `json:"cpus,omitempty"`       // default 32
	MemoryGiB int    `json:"memory_gib,omitempty"` // default 256
	Down      bool   `json:"down,omitempty"`       // offline: its reads fail with 595
}

// GuestSpec is one VM or container. Unset fields are generated.
type GuestSpec struct {
	VMID      int      `json:"vmid"`
	Type      string   `json:"type,omitempty"` // qemu (default) or lxc
	Name      string   `json:"name"`
	Node      string   `json:"node"`
	Running   *bool    `json:"running,omitempty"`
	Cores     int      `json:"cores,omitempty"`
	MemoryMiB int      `json:"memory_mib,omitempty"`
	OSType    string   `json:"ostype,omitempty"`
	Agent     *bool    `json:"agent,omitempty"`
	OnBoot    *bool    `json:"onboot,omitempty"`
	Template  bool     `json:"template,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	// NICs replace the generated ones when given: net0, net1, … in order.
	NICs []NICSpec `json:"nics,omitempty"`
	// Disks replace the generated ones when given.
	Disks []DiskSpec `json:"disks,omitempty"`
	// Snapshots are snapshot names, oldest first.
	Snapshots []string `json:"snapshots,omitempty"`
	// Backups replace the generated ones when given ([] for none).
	Backups []BackupSpec `json:"backups,omitempty"`
}

// NICSpec is one network interface of a guest.
type NICSpec struct {
	MAC  string `json:"mac,omitempty"` // default generated BC:24:11:…
	Tag  int    `json:"tag,omitempty"` // VLAN tag, 0 for none
	IPv4 string `json:"ipv4,omitempty"`
	IPv6 string `json:"ipv6,omitempty"`
}

// DiskSpec is one disk (qemu: scsi0, virtio1, …; lxc: rootfs, mp0, …).
type DiskSpec struct {
	Key     string `json:"key"`
	Storage string `json:"storage"`
	SizeGiB int    `json:"size_gib"`
	MP      string `json:"mp,omitempty"` // LXC mount point path
	// NoSize leaves size= out of the config (a volume PVE has not sized).
	NoSize bool `json:"no_size,omitempty"`
}

// BackupSpec is one backup of a guest on a backup storage.
type BackupSpec struct {
	Storage   string `json:"storage"`
	AgeHours  int    `json:"age_hours,omitempty"` // default 24
	Notes     string `json:"notes,omitempty"`
	Protected bool   `json:"protected,omitempty"`
	Verified  string `json:"verified,omitempty"` // PBS: ok | failed
}

// ErrClusterFile is wrapped by every error of LoadClusterFile and
// ClusterFile.Validate.
var ErrClusterFile = errors.New("pvemock: cluster file")

// LoadClusterFile reads a cluster file: YAML when the name ends in .yaml
// or .yml, JSON otherwise. Unknown keys are errors.
func LoadClusterFile(path string) (*ClusterFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClusterFile, err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	return ParseClusterFile(b, ext == ".yaml" || ext == ".yml")
}

// ParseClusterFile parses a cluster file (YAML or JSON) and validates it.
func ParseClusterFile(b []byte, isYAML bool) (*ClusterFile, error) {
	if isYAML {
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrClusterFile, err)
		}
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrClusterFile, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f ClusterFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClusterFile, err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks names, references and ranges.
func (f *ClusterFile) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrClusterFile, fmt.Sprintf(format, args...))
	}
	if len(f.Nodes) == 0 {
		return bad("no nodes")
	}
	nodes := map[string]bool{}
	for i, n := range f.Nodes {
		if n.Name == "" || strings.ContainsAny(n.Name, "/ ") {
			return bad("node %d: bad name %q", i, n.Name)
		}
		if nodes[n.Name] {
			return bad("node %q twice", n.Name)
		}
		nodes[n.Name] = true
	}
	storages := map[string]bool{}
	for _, s := range f.Storages {
		name, _ := s["storage"].(string)
		typ, _ := s["type"].(string)
		content, _ := s["content"].(string)
		if name == "" || typ == "" || content == "" {
			return bad("storage %v: storage, type and content are required strings", s)
		}
		storages[name] = true
	}
	if len(f.Storages) == 0 {
		for _, s := range storageConfigs(len(f.Nodes)) {
			storages[s["storage"].(string)] = true
		}
	}
	vmids := map[int]bool{}
	for _, g := range f.Guests {
		switch {
		case g.VMID < 100 || g.VMID > 999999999:
			return bad("guest %q: vmid %d out of range", g.Name, g.VMID)
		case vmids[g.VMID]:
			return bad("vmid %d twice", g.VMID)
		case g.Name == "":
			return bad("guest %d: no name", g.VMID)
		case !nodes[g.Node]:
			return bad("guest %d: unknown node %q", g.VMID, g.Node)
		case g.Type != "" && g.Type != "qemu" && g.Type != "lxc":
			return bad("guest %d: type %q is not qemu or lxc", g.VMID, g.Type)
		}
		vmids[g.VMID] = true
		for _, d := range g.Disks {
			if d.Key == "" || !storages[d.Storage] || (d.SizeGiB <= 0) != d.NoSize {
				return bad("guest %d: disk %+v needs a key, a known storage and a size (or no_size)", g.VMID, d)
			}
		}
		for _, b := range g.Backups {
			if !storages[b.Storage] {
				return bad("guest %d: backup on unknown storage %q", g.VMID, b.Storage)
			}
		}
	}
	for _, b := range f.LeftBackups {
		switch {
		case vmids[b.VMID]:
			return bad("left backup of %d: a guest has this VMID", b.VMID)
		case b.VMID < 100:
			return bad("left backup: vmid %d out of range", b.VMID)
		case !storages[b.Storage]:
			return bad("left backup of %d: unknown storage %q", b.VMID, b.Storage)
		case b.Type != "" && b.Type != "qemu" && b.Type != "lxc":
			return bad("left backup of %d: type %q is not qemu or lxc", b.VMID, b.Type)
		}
	}
	return nil
}

// applyCluster builds the nodes, guests, backups and storages of sc.Cluster.
func (m *Mock) applyCluster(g *generator, f *ClusterFile) {
	m.nodes = nil
	for i, ns := range f.Nodes {
		n := g.nodes1(i)
		n.name, n.down = ns.Name, ns.Down
		if ns.IP != "" {
			n.ip = ns.IP
		}
		if ns.CPUs > 0 {
			n.maxcpu = ns.CPUs
		}
		if ns.MemoryGiB > 0 {
			n.maxmem = int64(ns.MemoryGiB) << 30
		}
		m.nodes = append(m.nodes, n)
	}
	for _, gs := range f.Guests {
		kind := gs.Type
		if kind == "" {
			kind = "qemu"
		}
		gu := g.guest(gs.VMID, kind, gs.Node)
		gu.name = gs.Name
		setIf(&gu.running, gs.Running)
		setIf(&gu.agent, gs.Agent)
		setIf(&gu.onboot, gs.OnBoot)
		gu.template = gs.Template
		if gs.Cores > 0 {
			gu.cores = gs.Cores
		}
		if gs.MemoryMiB > 0 {
			gu.memMB = gs.MemoryMiB
		}
		if gs.OSType != "" {
			gu.ostype = gs.OSType
		}
		if gs.Tags != nil {
			gu.tags = gs.Tags
		}
		if gs.NICs != nil {
			gu.nics = nil
			for i, ns := range gs.NICs {
				n := g.nic(gs.VMID, i)
				n.model = "virtio"
				if kind == "lxc" {
					n.model = "veth"
				}
				n.tag, n.ipv4, n.ipv6 = ns.Tag, ns.IPv4, ns.IPv6
				if ns.MAC != "" {
					n.mac = strings.ToUpper(ns.MAC)
				}
				gu.nics = append(gu.nics, n)
			}
		}
		if gs.Disks != nil {
			gu.disks = nil
			for i, d := range gs.Disks {
				size := d.SizeGiB
				if d.NoSize {
					size = -1
				}
				gu.disks = append(gu.disks, disk{key: d.Key, storage: d.Storage, volume: fmt.Sprintf("vm-%d-disk-%d", gs.VMID, i), sizeGiB: size, mp: d.MP})
			}
		}
		if gs.Snapshots != nil {
			gu.snapshots = nil
			parent := ""
			for i, name := range gs.Snapshots {
				gu.snapshots = append(gu.snapshots, snapshot{name: name, description: "Snapshot " + name + " of " + gu.name,
					parent: parent, snaptime: gu.ctime + int64(86400*(i+1))})
				parent = name
			}
		}
		m.guests[gu.vmid] = gu
		if gs.Backups == nil {
			m.backups = append(m.backups, g.backups(gu)...)
		} else {
			m.backups = append(m.backups, backupsOf(m, gu, gs.Backups)...)
		}
		for _, t := range g.tasks(gu) {
			m.addTaskLocked(t)
		}
	}
	if len(f.Storages) > 0 {
		m.storages = f.Storages
	} else {
		m.storages = storageConfigs(len(f.Nodes))
	}
	for _, b := range f.LeftBackups {
		kind := b.Type
		if kind == "" {
			kind = "qemu"
		}
		gone := &guest{vmid: b.VMID, kind: kind, name: fmt.Sprintf("destroyed-%d", b.VMID)}
		m.backups = append(m.backups, backupsOf(m, gone, []BackupSpec{b.BackupSpec})...)
	}
}

func setIf(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// backupsOf builds the backups a guest spec lists, named like vzdump (or
// PBS snapshots on a pbs storage).
func backupsOf(m *Mock, gu *guest, specs []BackupSpec) []backup {
	var out []backup
	size := int64(8) << 30
	if len(gu.disks) > 0 && gu.disks[0].sizeGiB > 0 {
		size = int64(gu.disks[0].sizeGiB) << 28
	}
	for _, b := range specs {
		age := b.AgeHours
		if age <= 0 {
			age = 24
		}
		ct := m.sc.Epoch.Add(-time.Duration(age) * time.Hour).Unix()
		isPBS := false
		for _, s := range m.storagesFor() {
			if s["storage"] == b.Storage && s["type"] == "pbs" {
				isPBS = true
			}
		}
		bk := backup{storage: b.Storage, subtype: gu.kind, notes: b.Notes, vmid: gu.vmid, ctime: ct, size: size, protected: b.Protected, verified: b.Verified}
		if isPBS {
			dir, f := "vm", "pbs-vm"
			if gu.kind == "lxc" {
				dir, f = "ct", "pbs-ct"
			}
			bk.format = f
			bk.volid = fmt.Sprintf("%s:backup/%s/%d/%s", b.Storage, dir, gu.vmid, time.Unix(ct, 0).UTC().Format("2006-01-02T15:04:05Z"))
		} else {
			ext := "vma.zst"
			if gu.kind == "lxc" {
				ext = "tar.zst"
			}
			bk.format = ext
			bk.volid = fmt.Sprintf("%s:backup/vzdump-%s-%d-%s.%s", b.Storage, gu.kind, gu.vmid, time.Unix(ct, 0).UTC().Format("2006_01_02-15_04_05"), ext)
		}
		out = append(out, bk)
	}
	return out
}

// storagesFor is the storage list while the mock is being built.
func (m *Mock) storagesFor() []map[string]any {
	if m.sc.Cluster != nil && len(m.sc.Cluster.Storages) > 0 {
		return m.sc.Cluster.Storages
	}
	return storageConfigs(len(m.nodes))
}
