package pvemock

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

type node struct {
	name   string
	id     int
	ip     string
	down   bool
	maxcpu int
	maxmem int64
	uptime int64
	fp     string
}

type disk struct {
	key     string // scsi0, virtio1, rootfs, mp0
	storage string
	volume  string // vm-100-disk-0
	sizeGiB int
	mp      string // LXC mount point path
}

type nic struct {
	index int
	mac   string
	tag   int
	ipv4  string // 10.20.1.5/24
	ipv6  string // 2001:db8:20::105/64
	model string // virtio (qemu) / veth (lxc)
}

type snapshot struct {
	name, description, parent string
	snaptime                  int64
	vmstate                   bool
}

type backup struct {
	volid, storage, format, subtype, notes string
	vmid                                   int
	ctime, size                            int64
	verified                               string // "", "ok", "failed"
	protected                              bool
}

type guest struct {
	vmid      int
	kind      string // qemu | lxc
	node      string
	name      string
	running   bool
	memMB     int
	cores     int
	agent     bool
	ostype    string
	tags      []string
	onboot    bool
	disks     []disk
	nics      []nic
	snapshots []snapshot
	uuid      string
	ctime     int64
	template  bool
}

type task struct {
	upid, node, typ, id, user, exit string
	pid, pstart                     int64
	start, end                      int64
	log                             []string
	running                         int // polls left before it stops
}

var roles = []string{"web", "db", "app", "api", "cache", "mq", "proxy", "mail", "dns", "ci", "git", "mon", "log", "k8s-worker", "k8s-cp", "files", "vpn", "ldap", "grafana", "backup"}
var ctRoles = []string{"nginx", "redis", "pihole", "postgres", "minio", "unifi", "traefik", "vault", "consul", "jump"}
var vlanTags = []int{10, 20, 30, 40, 100}

type generator struct {
	rng      *rand.Rand
	sc       *Scenario
	roleSeen map[string]int
	macSeen  map[string]bool
}

func newGenerator(sc *Scenario) *generator {
	return &generator{rng: rand.New(rand.NewPCG(uint64(sc.Seed), 0x9e3779b97f4a7c15)), sc: sc, roleSeen: map[string]int{}, macSeen: map[string]bool{}}
}

func (g *generator) name(pool []string) string {
	r := pool[g.rng.IntN(len(pool))]
	g.roleSeen[r]++
	return fmt.Sprintf("%s-%02d", r, g.roleSeen[r])
}

func (g *generator) mac() string {
	for {
		m := fmt.Sprintf("BC:24:11:%02X:%02X:%02X", g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256))
		if !g.macSeen[m] {
			g.macSeen[m] = true
			return m
		}
	}
}

func (g *generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *generator) uuid() string {
	h := g.hex(32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func nodeName(i int) string { return fmt.Sprintf("pve%d", i+1) }

func (g *generator) nodes() []*node {
	out := make([]*node, g.sc.Nodes)
	for i := range out {
		out[i] = g.nodes1(i)
	}
	return out
}

// nodes1 generates node i (pve<i+1>).
func (g *generator) nodes1(i int) *node {
	fp := make([]string, 32)
	for j := range fp {
		fp[j] = strings.ToUpper(g.hex(2))
	}
	return &node{name: nodeName(i), id: i + 1, ip: fmt.Sprintf("10.10.0.%d", 11+i), maxcpu: 32 + 16*(i%3),
		maxmem: int64(256+128*(i%2)) << 30, uptime: 864000 + int64(g.rng.IntN(864000)), fp: strings.Join(fp, ":")}
}

func (g *generator) nic(vmid, index int) nic {
	tag := vlanTags[g.rng.IntN(len(vlanTags))]
	host := vmid*4 + index
	return nic{index: index, mac: g.mac(), tag: tag,
		ipv4: fmt.Sprintf("10.%d.%d.%d/24", tag, (host/250)%250, host%250+2),
		ipv6: fmt.Sprintf("2001:db8:%d::%x/64", tag, host)}
}

func (g *generator) guest(vmid int, kind string, nodeName string) *guest {
	gs := &guest{vmid: vmid, kind: kind, node: nodeName, running: g.rng.IntN(10) != 0,
		cores: []int{1, 2, 2, 4, 4, 8}[g.rng.IntN(6)], memMB: []int{1024, 2048, 4096, 4096, 8192, 16384}[g.rng.IntN(6)],
		onboot: g.rng.IntN(4) != 0, uuid: g.uuid(), ctime: g.sc.Epoch.Add(-time.Duration(g.rng.IntN(400*24)) * time.Hour).Unix()}
	env := []string{"prod", "staging", "dev"}[g.rng.IntN(3)]
	if kind == "qemu" {
		gs.name = g.name(roles)
		gs.agent = g.rng.IntN(5) != 0
		gs.ostype = []string{"l26", "l26", "l26", "win11", "other"}[g.rng.IntN(5)]
		for i := 0; i < g.sc.Disks; i++ {
			size := []int{32, 64, 100, 250}[g.rng.IntN(4)]
			if i == 0 {
				size = 32
			}
			st := "local-lvm"
			if g.rng.IntN(3) == 0 {
				st = "ceph-vm"
			}
			gs.disks = append(gs.disks, disk{key: fmt.Sprintf("scsi%d", i), storage: st, volume: fmt.Sprintf("vm-%d-disk-%d", vmid, i), sizeGiB: size})
		}
	} else {
		gs.name = g.name(ctRoles)
		gs.ostype = []string{"debian", "ubuntu", "alpine"}[g.rng.IntN(3)]
		gs.memMB /= 2
		for i := 0; i < g.sc.Disks; i++ {
			d := disk{key: "rootfs", storage: "local-lvm", volume: fmt.Sprintf("vm-%d-disk-%d", vmid, i), sizeGiB: 8}
			if i > 0 {
				d.key, d.sizeGiB, d.mp = fmt.Sprintf("mp%d", i-1), []int{10, 20, 50}[g.rng.IntN(3)], fmt.Sprintf("/srv/data%d", i)
			}
			gs.disks = append(gs.disks, d)
		}
	}
	gs.tags = []string{env, strings.SplitN(gs.name, "-", 2)[0]}
	for i := 0; i < g.sc.NICs; i++ {
		n := g.nic(vmid, i)
		n.model = "virtio"
		if kind == "lxc" {
			n.model = "veth"
		}
		gs.nics = append(gs.nics, n)
	}
	parent := ""
	for i := 0; i < g.sc.Snapshots; i++ {
		name := []string{"before-upgrade", "pre-patch", "baseline", "weekly"}[i%4]
		if i >= 4 {
			name = fmt.Sprintf("snap%d", i)
		}
		gs.snapshots = append(gs.snapshots, snapshot{name: name, description: "Snapshot " + name + " of " + gs.name,
			parent: parent, snaptime: gs.ctime + int64(86400*(i+1)), vmstate: kind == "qemu" && i%2 == 1})
		parent = name
	}
	return gs
}

// upid builds a task id like PVE: UPID:node:pid:pstart:starttime:type:id:user:
func upid(node string, pid, pstart, start int64, typ, id, user string) string {
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", node, pid, pstart, start, typ, id, user)
}

func (g *generator) backups(gs *guest) []backup {
	var out []backup
	kind := "qemu"
	ext := "vma.zst"
	if gs.kind == "lxc" {
		ext = "tar.zst"
		kind = "lxc"
	}
	for i := 0; i < g.sc.Backups; i++ {
		ct := g.sc.Epoch.Add(-time.Duration(24*(i+1))*time.Hour).Unix() + int64(gs.vmid%3600)
		ts := time.Unix(ct, 0).UTC().Format("2006_01_02-15_04_05")
		typ := "qemu"
		if gs.kind == "lxc" {
			typ = "lxc"
		}
		out = append(out, backup{volid: fmt.Sprintf("nfs-backup:backup/vzdump-%s-%d-%s.%s", typ, gs.vmid, ts, ext), storage: "nfs-backup",
			format: ext, subtype: kind, notes: gs.name, vmid: gs.vmid, ctime: ct, size: int64(gs.disks[0].sizeGiB) << 28})
	}
	ct := g.sc.Epoch.Add(-6*time.Hour).Unix() + int64(gs.vmid%3600)
	dir, fmtName := "vm", "pbs-vm"
	if gs.kind == "lxc" {
		dir, fmtName = "ct", "pbs-ct"
	}
	ver := "ok"
	if g.rng.IntN(10) == 0 {
		ver = "failed"
	}
	out = append(out, backup{volid: fmt.Sprintf("pbs-backup:backup/%s/%d/%s", dir, gs.vmid, time.Unix(ct, 0).UTC().Format("2006-01-02T15:04:05Z")),
		storage: "pbs-backup", format: fmtName, subtype: kind, notes: gs.name, vmid: gs.vmid, ctime: ct, size: int64(gs.disks[0].sizeGiB) << 27,
		verified: ver, protected: g.rng.IntN(8) == 0})
	return out
}

func (g *generator) tasks(gs *guest) []*task {
	types := []string{"qmstart", "vzdump", "qmsnapshot", "qmshutdown", "qmigrate"}
	if gs.kind == "lxc" {
		types = []string{"vzstart", "vzdump", "vzsnapshot", "vzshutdown", "vzmigrate"}
	}
	var out []*task
	for i := 0; i < g.sc.Tasks; i++ {
		typ := types[i%len(types)]
		start := g.sc.Epoch.Add(-time.Duration(i*7+1)*time.Hour).Unix() - int64(gs.vmid)
		pid := int64(1000 + g.rng.IntN(60000))
		pstart := int64(100000 + g.rng.IntN(9000000))
		exit := "OK"
		if g.rng.IntN(15) == 0 {
			exit = "command 'vzdump' failed: exit code 255"
		}
		t := &task{node: gs.node, typ: typ, id: fmt.Sprint(gs.vmid), user: "root@pam", exit: exit, pid: pid, pstart: pstart,
			start: start, end: start + int64(2+g.rng.IntN(300))}
		t.upid = upid(t.node, pid, pstart, start, typ, t.id, t.user)
		t.log = []string{fmt.Sprintf("starting task %s for %s %d", typ, gs.kind, gs.vmid), "progress 100%"}
		if exit == "OK" {
			t.log = append(t.log, "TASK OK")
		} else {
			t.log = append(t.log, "ERROR: "+exit, "TASK ERROR: "+exit)
		}
		out = append(out, t)
	}
	return out
}
