package pvemock

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

func storageConfigs(nodes int) []map[string]any {
	return []map[string]any{
		{"storage": "local", "type": "dir", "path": "/var/lib/vz", "content": "backup,iso,vztmpl", "prune-backups": "keep-all=1", "shared": 0, "digest": digest("local")},
		{"storage": "local-lvm", "type": "lvmthin", "thinpool": "data", "vgname": "pve", "content": "images,rootdir", "digest": digest("local-lvm")},
		{"storage": "ceph-vm", "type": "rbd", "pool": "vm-pool", "content": "images,rootdir", "krbd": 0, "digest": digest("ceph-vm")},
		{"storage": "nfs-backup", "type": "nfs", "server": "10.10.0.50", "export": "/export/pve-backup", "path": "/mnt/pve/nfs-backup",
			"content": "backup", "options": "vers=4.2", "prune-backups": "keep-daily=7,keep-last=3,keep-weekly=4", "max-protected-backups": 5, "digest": digest("nfs-backup")},
		{"storage": "pbs-backup", "type": "pbs", "server": "10.10.0.60", "datastore": "main", "namespace": "prod", "username": "backup@pbs",
			"fingerprint": "5E:3C:99:0A:6B:21:4D:7F:80:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34",
			"content":     "backup", "prune-backups": "keep-daily=14,keep-monthly=6", "digest": digest("pbs-backup")},
	}
}

func isShared(s map[string]any) bool {
	switch s["type"] {
	case "nfs", "pbs", "rbd", "cephfs", "cifs":
		return true
	}
	return false
}

func (m *Mock) storageUsage(n *node, s map[string]any) map[string]any {
	name := s["storage"].(string)
	total := map[string]int64{"local": 100 << 30, "local-lvm": 1800 << 30, "ceph-vm": 20 << 40, "nfs-backup": 40 << 40, "pbs-backup": 60 << 40}[name]
	if total == 0 {
		total = 4 << 40 // a storage of the user's cluster file
	}
	used := total / int64(3+len(name)%4)
	return map[string]any{"storage": name, "type": s["type"], "content": s["content"], "shared": b01(isShared(s)), "active": 1, "enabled": 1,
		"total": total, "used": used, "avail": total - used, "used_fraction": float64(used) / float64(total)}
}

func (m *Mock) nodeStorage(c *call) *proxmoxsdk.Response {
	n := m.node(c.str("node"))
	want := c.param("content")
	out := []map[string]any{}
	for _, s := range m.storages {
		if want != "" && !contentHas(s["content"].(string), want) {
			continue
		}
		if st := c.param("storage"); st != "" && st != s["storage"] {
			continue
		}
		out = append(out, m.storageUsage(n, s))
	}
	return okResp(out)
}

func contentHas(list, want string) bool {
	for _, w := range strings.Split(want, ",") {
		for _, c := range strings.Split(list, ",") {
			if c == w {
				return true
			}
		}
	}
	return false
}

func (m *Mock) storageCfg(name string) map[string]any {
	for _, s := range m.storages {
		if s["storage"] == name {
			return s
		}
	}
	return nil
}

func (m *Mock) storageStatus(c *call) *proxmoxsdk.Response {
	s := m.storageCfg(c.str("storage"))
	if s == nil {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("storage '%s' does not exist", c.str("storage")), nil)
	}
	return okResp(m.storageUsage(m.node(c.str("node")), s))
}

func (m *Mock) storageContent(c *call) *proxmoxsdk.Response {
	name, nodeName := c.str("storage"), c.str("node")
	s := m.storageCfg(name)
	if s == nil {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("storage '%s' does not exist", name), nil)
	}
	want := c.param("content")
	vmidFilter, _ := strconv.Atoi(c.param("vmid"))
	out := []map[string]any{}
	add := func(e map[string]any) {
		if want != "" && !contentHas(e["content"].(string), want) {
			return
		}
		if vmidFilter != 0 && e["vmid"] != vmidFilter {
			return
		}
		out = append(out, e)
	}
	switch name {
	case "local":
		add(map[string]any{"volid": "local:iso/debian-12.7.0-amd64-netinst.iso", "content": "iso", "format": "iso", "size": 661651456, "ctime": m.sc.Epoch.Unix() - 86400*90})
		add(map[string]any{"volid": "local:iso/ubuntu-24.04.1-live-server-amd64.iso", "content": "iso", "format": "iso", "size": 2773874688, "ctime": m.sc.Epoch.Unix() - 86400*60})
		add(map[string]any{"volid": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "content": "vztmpl", "format": "tzst", "size": 126149325, "ctime": m.sc.Epoch.Unix() - 86400*80})
	case "local-lvm", "ceph-vm":
		for _, id := range m.vmids() {
			g := m.guests[id]
			if name == "local-lvm" && g.node != nodeName {
				continue
			}
			for _, d := range g.disks {
				if d.storage != name {
					continue
				}
				content := "images"
				if g.kind == "lxc" {
					content = "rootdir"
				}
				add(map[string]any{"volid": name + ":" + d.volume, "content": content, "format": "raw", "size": int64(d.sizeGiB) << 30, "vmid": g.vmid, "ctime": g.ctime})
			}
		}
	default:
		for _, b := range m.backups {
			if b.storage != name {
				continue
			}
			e := map[string]any{"volid": b.volid, "content": "backup", "format": b.format, "subtype": b.subtype, "vmid": b.vmid, "ctime": b.ctime, "size": b.size, "notes": b.notes}
			if b.verified != "" {
				e["verification"] = map[string]any{"state": b.verified, "upid": upid("pbs", 4242, 1234, b.ctime+600, "verificationjob", "main:v-"+digest(b.volid)[:8], "root@pam")}
				e["encrypted"] = "5E:3C:99:0A:6B:21"
			}
			if b.protected {
				e["protected"] = 1
			}
			add(e)
		}
	}
	return okResp(out)
}

// jobs generates replication jobs (every 10th QEMU guest) and three vzdump
// backup jobs.
func (g *generator) jobs(m *Mock) (repl, backup []map[string]any) {
	repl = []map[string]any{}
	if len(m.nodes) > 1 {
		for _, id := range m.vmids() {
			gs := m.guests[id]
			if gs.kind != "qemu" || id%10 != 0 {
				continue
			}
			target := m.nodes[(nodeIndex(gs.node)+1)%len(m.nodes)].name
			j := map[string]any{"id": fmt.Sprintf("%d-0", id), "type": "local", "guest": id, "jobnum": 0, "target": target, "source": gs.node,
				"schedule": []string{"*/15", "*/30", "hourly"}[g.rng.IntN(3)], "comment": "replicate " + gs.name}
			if id%20 == 0 {
				j["rate"] = 50
			}
			if id%30 == 0 {
				j["disable"] = 1
			}
			repl = append(repl, j)
		}
	}
	var sel []string
	for _, id := range m.vmids() {
		if id%4 == 0 {
			sel = append(sel, strconv.Itoa(id))
		}
		if len(sel) >= 12 {
			break
		}
	}
	backup = []map[string]any{
		{"id": "backup-" + g.hex(8) + "-" + g.hex(4), "type": "vzdump", "enabled": 1, "schedule": "21:00", "storage": "nfs-backup", "mode": "snapshot",
			"compress": "zstd", "all": 1, "notes-template": "{{guestname}}", "prune-backups": map[string]any{"keep-last": 3, "keep-weekly": 4},
			"mailnotification": "failure", "repeat-missed": 0, "comment": "nightly to NFS", "fleecing": map[string]any{"enabled": 0}},
		{"id": "backup-" + g.hex(8) + "-" + g.hex(4), "type": "vzdump", "enabled": 1, "schedule": "sat 02:00", "storage": "pbs-backup", "mode": "snapshot",
			"vmid": strings.Join(sel, ","), "notes-template": "{{guestname}} ({{vmid}})", "prune-backups": map[string]any{"keep-daily": 14, "keep-monthly": 6},
			"repeat-missed": 1, "pbs-change-detection-mode": "metadata", "comment": "weekly to PBS"},
		{"id": "backup-" + g.hex(8) + "-" + g.hex(4), "type": "vzdump", "enabled": 0, "schedule": "*-*-01 03:00", "storage": "local", "mode": "stop",
			"compress": "zstd", "zstd": 2, "bwlimit": 102400, "node": "pve1", "pool": "production", "comment": "monthly local (disabled)"},
	}
	return repl, backup
}

func nodeIndex(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "pve"))
	return n - 1
}
