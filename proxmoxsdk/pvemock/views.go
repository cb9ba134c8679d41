package pvemock

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func digest(parts ...any) string {
	h := sha1.Sum([]byte(fmt.Sprint(parts...)))
	return hex.EncodeToString(h[:])
}

func init() {
	reg("GET", "/version", func(m *Mock, _ *call) *proxmoxsdk.Response {
		v := m.sc.Version
		rel := v
		if i := strings.LastIndexByte(v, '.'); i > 0 && strings.Count(v, ".") > 1 {
			rel = v[:i]
		}
		return okResp(map[string]any{"version": v, "release": rel, "repoid": digest(v)[:16], "console": "html5"})
	})
	reg("GET", "/cluster/status", (*Mock).clusterStatus)
	reg("GET", "/cluster/resources", (*Mock).clusterResources)
	reg("GET", "/cluster/config/join", (*Mock).configJoin)
	reg("GET", "/cluster/replication", func(m *Mock, _ *call) *proxmoxsdk.Response { return okResp(m.repl) })
	reg("GET", "/cluster/replication/{id}", func(m *Mock, c *call) *proxmoxsdk.Response {
		return findByID(m.repl, "id", c.str("id"), "replication job '%s' does not exist")
	})
	reg("GET", "/cluster/backup", func(m *Mock, _ *call) *proxmoxsdk.Response { return okResp(m.backupJob) })
	reg("GET", "/cluster/backup/{id}", func(m *Mock, c *call) *proxmoxsdk.Response {
		return findByID(m.backupJob, "id", c.str("id"), "job '%s' does not exist")
	})
	reg("GET", "/pools/{poolid}", (*Mock).pool)
	reg("GET", "/nodes", (*Mock).nodeList)
	reg("GET", "/nodes/{node}/status", (*Mock).nodeStatus)
	reg("GET", "/storage", func(m *Mock, c *call) *proxmoxsdk.Response {
		if t := c.param("type"); t != "" {
			var out []map[string]any
			for _, s := range m.storages {
				if s["type"] == t {
					out = append(out, s)
				}
			}
			return okResp(out)
		}
		return okResp(m.storages)
	})
	reg("GET", "/storage/{storage}", func(m *Mock, c *call) *proxmoxsdk.Response {
		return findByID(m.storages, "storage", c.str("storage"), "storage '%s' does not exist")
	})
	for _, kind := range []string{"qemu", "lxc"} {
		reg("GET", "/nodes/{node}/"+kind, func(m *Mock, c *call) *proxmoxsdk.Response { return m.guestList(c.str("node"), kind) })
		reg("GET", "/nodes/{node}/"+kind+"/{vmid}/config", func(m *Mock, c *call) *proxmoxsdk.Response { return okResp(m.config(m.guests[c.vmid()])) })
		reg("GET", "/nodes/{node}/"+kind+"/{vmid}/status/current", func(m *Mock, c *call) *proxmoxsdk.Response {
			return okResp(m.statusCurrent(m.guests[c.vmid()]))
		})
		reg("GET", "/nodes/{node}/"+kind+"/{vmid}/snapshot", func(m *Mock, c *call) *proxmoxsdk.Response {
			return okResp(snapshotList(m.guests[c.vmid()]))
		})
	}
	reg("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", (*Mock).agentInterfaces)
	reg("GET", "/nodes/{node}/lxc/{vmid}/interfaces", (*Mock).lxcInterfaces)
	reg("GET", "/nodes/{node}/storage", (*Mock).nodeStorage)
	reg("GET", "/nodes/{node}/storage/{storage}/status", (*Mock).storageStatus)
	reg("GET", "/nodes/{node}/storage/{storage}/content", (*Mock).storageContent)
	reg("GET", "/nodes/{node}/network", (*Mock).nodeNetwork)
	reg("GET", "/nodes/{node}/network/{iface}", func(m *Mock, c *call) *proxmoxsdk.Response {
		return findByID(nodeIfaces(m.node(c.str("node"))), "iface", c.str("iface"), "interface '%s' does not exist")
	})
	reg("GET", "/nodes/{node}/tasks", (*Mock).taskList)
	reg("GET", "/nodes/{node}/tasks/{upid}/status", (*Mock).taskStatus, "exclusive")
	reg("GET", "/nodes/{node}/tasks/{upid}/log", (*Mock).taskLog, "nocache")
}

func findByID(list []map[string]any, key, id, msg string) *proxmoxsdk.Response {
	for _, e := range list {
		if fmt.Sprint(e[key]) == id {
			return okResp(e)
		}
	}
	return errResp(http.StatusInternalServerError, fmt.Sprintf(msg, id), nil)
}

func (m *Mock) clusterStatus(_ *call) *proxmoxsdk.Response {
	online := 0
	for _, n := range m.nodes {
		if !n.down {
			online++
		}
	}
	out := []map[string]any{{"type": "cluster", "id": "cluster", "name": m.sc.Name, "nodes": len(m.nodes), "quorate": b01(online*2 > len(m.nodes)), "version": len(m.nodes) + 2}}
	for _, n := range m.nodes {
		out = append(out, map[string]any{"type": "node", "id": "node/" + n.name, "name": n.name, "nodeid": n.id, "ip": n.ip,
			"local": b01(n.id == 1), "online": b01(!n.down), "level": ""})
	}
	return okResp(out)
}

func (m *Mock) guestResource(g *guest) map[string]any {
	n := m.node(g.node)
	status := "stopped"
	if g.running {
		status = "running"
	}
	if n.down {
		status = "unknown"
	}
	r := map[string]any{"id": g.kind + "/" + strconv.Itoa(g.vmid), "type": g.kind, "vmid": g.vmid, "name": g.name, "node": g.node,
		"status": status, "maxcpu": g.cores, "maxmem": int64(g.memMB) << 20, "maxdisk": int64(max(g.disks[0].sizeGiB, 0)) << 30,
		"template": b01(g.template), "tags": strings.Join(g.tags, ";"), "disk": 0, "mem": 0, "cpu": 0, "uptime": 0,
		"netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0}
	if g.running && !n.down {
		r["cpu"] = float64(g.vmid*37%100) / 1000
		r["mem"] = int64(g.memMB) << 19
		r["uptime"] = 3600 + g.vmid*97
		r["netin"], r["netout"] = int64(g.vmid)*123456, int64(g.vmid)*65432
		r["diskread"], r["diskwrite"] = int64(g.vmid)*1048576, int64(g.vmid)*524288
		if g.kind == "lxc" {
			r["disk"] = int64(max(g.disks[0].sizeGiB, 0)) << 28
		}
	}
	return r
}

func (m *Mock) nodeResource(n *node) map[string]any {
	r := map[string]any{"id": "node/" + n.name, "type": "node", "node": n.name, "status": "online", "level": "", "cgroup-mode": 2,
		"maxcpu": n.maxcpu, "maxmem": n.maxmem, "maxdisk": int64(100) << 30, "cpu": 0.05 + float64(n.id)/100, "mem": n.maxmem / 3,
		"disk": int64(12) << 30, "uptime": n.uptime}
	if n.down {
		r = map[string]any{"id": "node/" + n.name, "type": "node", "node": n.name, "status": "offline", "level": ""}
	}
	return r
}

func (m *Mock) clusterResources(c *call) *proxmoxsdk.Response {
	typ := c.param("type")
	var out []map[string]any
	if typ == "" || typ == "node" {
		for _, n := range m.nodes {
			out = append(out, m.nodeResource(n))
		}
	}
	if typ == "" || typ == "vm" {
		for _, id := range m.vmids() {
			out = append(out, m.guestResource(m.guests[id]))
		}
	}
	if typ == "" || typ == "storage" {
		for _, n := range m.nodes {
			for _, s := range m.storages {
				st := m.storageUsage(n, s)
				st["id"] = "storage/" + n.name + "/" + st["storage"].(string)
				st["type"], st["node"] = "storage", n.name
				st["plugintype"] = s["type"]
				st["disk"], st["maxdisk"] = st["used"], st["total"]
				for _, k := range []string{"used", "total", "avail", "active", "enabled", "used_fraction"} {
					delete(st, k)
				}
				st["status"] = "available"
				if n.down {
					st["status"] = "unknown"
				}
				out = append(out, st)
			}
		}
	}
	if typ == "" || typ == "sdn" {
		for _, n := range m.nodes {
			out = append(out, map[string]any{"id": "sdn/" + n.name + "/localnetwork", "type": "sdn", "sdn": "localnetwork", "node": n.name, "status": "ok"})
		}
	}
	if typ == "" || typ == "pool" {
		out = append(out, map[string]any{"id": "/pool/production", "type": "pool", "pool": "production"})
	}
	if out == nil {
		out = []map[string]any{}
	}
	return okResp(out)
}

func (m *Mock) configJoin(_ *call) *proxmoxsdk.Response {
	var list []map[string]any
	for _, n := range m.nodes {
		list = append(list, map[string]any{"name": n.name, "nodeid": n.id, "pve_addr": n.ip, "pve_fp": n.fp, "quorum_votes": 1, "ring0_addr": n.ip})
	}
	return okResp(map[string]any{"nodelist": list, "preferred_node": m.nodes[0].name, "config_digest": digest(m.sc.Name, len(m.nodes)),
		"totem": map[string]any{"cluster_name": m.sc.Name, "config_version": strconv.Itoa(len(m.nodes) + 2), "version": "2", "secauth": "on", "ip_version": "ipv4-6", "link_mode": "passive", "interface": map[string]any{"0": map[string]any{"linknumber": "0"}}}})
}

func (m *Mock) nodeList(_ *call) *proxmoxsdk.Response {
	var out []map[string]any
	for _, n := range m.nodes {
		r := m.nodeResource(n)
		delete(r, "cgroup-mode")
		r["ssl_fingerprint"] = n.fp
		out = append(out, r)
	}
	return okResp(out)
}

func (m *Mock) guestList(node, kind string) *proxmoxsdk.Response {
	out := []map[string]any{}
	for _, id := range m.vmids() {
		g := m.guests[id]
		if g.node != node || g.kind != kind {
			continue
		}
		r := m.guestResource(g)
		delete(r, "id")
		delete(r, "node")
		if kind == "qemu" {
			delete(r, "type")
			r["cpus"] = g.cores
			if g.running {
				r["pid"] = 10000 + g.vmid
				r["qmpstatus"] = "running"
			}
		}
		out = append(out, r)
	}
	return okResp(out)
}

func diskString(d disk) string {
	size := fmt.Sprintf(",size=%dG", d.sizeGiB)
	if d.sizeGiB < 0 {
		size = "" // a volume the config gives no size (SetDiskSize)
	}
	if d.mp != "" {
		return fmt.Sprintf("%s:%s,mp=%s,backup=1%s", d.storage, d.volume, d.mp, size)
	}
	if d.key == "rootfs" {
		return fmt.Sprintf("%s:%s%s", d.storage, d.volume, size)
	}
	return fmt.Sprintf("%s:%s,iothread=1%s", d.storage, d.volume, size)
}

func gateway(cidr string) string {
	ip, _, _ := strings.Cut(cidr, "/")
	if i := strings.LastIndexByte(ip, '.'); i > 0 {
		return ip[:i] + ".1"
	}
	return ""
}

func (m *Mock) config(g *guest) map[string]any {
	cfg := map[string]any{"cores": g.cores, "onboot": b01(g.onboot), "tags": strings.Join(g.tags, ";"), "ostype": g.ostype,
		"description": "Managed by proxbox mock\nrole: " + strings.SplitN(g.name, "-", 2)[0] + "\n"}
	for _, d := range g.disks {
		cfg[d.key] = diskString(d)
	}
	if g.kind == "qemu" {
		cfg["name"] = g.name
		cfg["memory"] = strconv.Itoa(g.memMB)
		cfg["sockets"] = 1
		cfg["cpu"] = "x86-64-v2-AES"
		cfg["boot"] = "order=scsi0;net0"
		cfg["scsihw"] = "virtio-scsi-single"
		cfg["numa"] = 0
		cfg["ide2"] = "none,media=cdrom"
		cfg["smbios1"] = "uuid=" + g.uuid
		cfg["vmgenid"] = g.uuid[:24] + digest(g.vmid)[:12]
		cfg["meta"] = fmt.Sprintf("creation-qemu=8.1.5,ctime=%d", g.ctime)
		if g.agent {
			cfg["agent"] = "1"
			if g.vmid%3 == 0 {
				cfg["agent"] = "enabled=1,fstrim_cloned_disks=1"
			}
		}
		for _, n := range g.nics {
			cfg[fmt.Sprintf("net%d", n.index)] = fmt.Sprintf("virtio=%s,bridge=vmbr0,firewall=1", n.mac) + tagOpt(n.tag)
		}
	} else {
		cfg["hostname"] = g.name
		cfg["memory"] = g.memMB
		cfg["swap"] = 512
		cfg["arch"] = "amd64"
		cfg["unprivileged"] = 1
		cfg["features"] = "nesting=1"
		cfg["searchdomain"] = "example.internal"
		cfg["nameserver"] = "10.10.0.1"
		for _, n := range g.nics {
			s := fmt.Sprintf("name=eth%d,bridge=vmbr0,firewall=1", n.index)
			if n.ipv4 != "" {
				s += ",gw=" + gateway(n.ipv4)
			}
			s += ",hwaddr=" + n.mac
			if n.ipv4 != "" {
				s += ",ip=" + n.ipv4
			}
			if n.ipv6 != "" {
				s += ",ip6=" + n.ipv6
			}
			cfg[fmt.Sprintf("net%d", n.index)] = s + tagOpt(n.tag) + ",type=veth"
		}
	}
	if len(g.snapshots) > 0 {
		cfg["parent"] = g.snapshots[len(g.snapshots)-1].name
	}
	cfg["digest"] = digest(cfg)
	return cfg
}

// tagOpt is the ",tag=N" option of a NIC; PVE writes none without a VLAN.
func tagOpt(tag int) string {
	if tag <= 0 {
		return ""
	}
	return ",tag=" + strconv.Itoa(tag)
}

func (m *Mock) statusCurrent(g *guest) map[string]any {
	r := m.guestResource(g)
	delete(r, "id")
	delete(r, "node")
	delete(r, "type")
	delete(r, "maxcpu") // a /cluster/resources field; vmstatus reports cpus
	r["ha"] = map[string]any{"managed": 0}
	if g.kind == "qemu" {
		r["cpus"] = g.cores
		r["agent"] = b01(g.agent)
		r["qmpstatus"] = r["status"]
		if g.running {
			r["pid"] = 10000 + g.vmid
			r["running-machine"] = "pc-i440fx-8.1+pve0"
			r["running-qemu"] = "8.1.5"
			m.qemuFullStatus(g, r)
		}
	} else {
		r["type"] = "lxc"
		r["swap"] = 0
		r["maxswap"] = 512 << 20
	}
	return r
}

func snapshotList(g *guest) []map[string]any {
	out := []map[string]any{}
	for _, s := range g.snapshots {
		e := map[string]any{"name": s.name, "description": s.description, "snaptime": s.snaptime}
		if s.parent != "" {
			e["parent"] = s.parent
		}
		if g.kind == "qemu" {
			e["vmstate"] = b01(s.vmstate)
		}
		out = append(out, e)
	}
	cur := map[string]any{"name": "current", "description": "You are here!", "running": b01(g.running)}
	if len(g.snapshots) > 0 {
		cur["parent"] = g.snapshots[len(g.snapshots)-1].name
	}
	return append(out, cur)
}

// linkLocal derives the EUI-64 fe80:: address of a MAC.
func linkLocal(mac string) string {
	var b [6]byte
	for i, p := range strings.Split(mac, ":") {
		if i < 6 {
			v, _ := strconv.ParseUint(p, 16, 8)
			b[i] = byte(v)
		}
	}
	b[0] ^= 2
	return fmt.Sprintf("fe80::%x:%x:%x:%x", uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|0xff, 0xfe00|uint16(b[3]), uint16(b[4])<<8|uint16(b[5]))
}

func ipEntry(typ, cidr string) map[string]any {
	ip, pfx, _ := strings.Cut(cidr, "/")
	p, _ := strconv.Atoi(pfx)
	return map[string]any{"ip-address-type": typ, "ip-address": ip, "prefix": p}
}

func (m *Mock) agentInterfaces(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	if !g.agent {
		return errResp(http.StatusInternalServerError, "No QEMU guest agent configured", nil)
	}
	if !g.running {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("VM %d is not running", g.vmid), nil)
	}
	res := []map[string]any{{"name": "lo", "hardware-address": "00:00:00:00:00:00",
		"ip-addresses": []map[string]any{ipEntry("ipv4", "127.0.0.1/8"), ipEntry("ipv6", "::1/128")},
		"statistics":   map[string]any{"rx-bytes": 1024, "tx-bytes": 1024, "rx-packets": 12, "tx-packets": 12, "rx-errs": 0, "tx-errs": 0, "rx-dropped": 0, "tx-dropped": 0}}}
	for _, n := range g.nics {
		ips := []map[string]any{}
		if n.ipv4 != "" {
			ips = append(ips, ipEntry("ipv4", n.ipv4))
		}
		if n.ipv6 != "" {
			ips = append(ips, ipEntry("ipv6", n.ipv6))
		}
		ips = append(ips, ipEntry("ipv6", linkLocal(n.mac)+"/64"))
		name := fmt.Sprintf("ens%d", 18+n.index)
		if g.ostype == "win11" {
			name = fmt.Sprintf("Ethernet %d", n.index+1)
		}
		res = append(res, map[string]any{"name": name, "hardware-address": strings.ToLower(n.mac), "ip-addresses": ips,
			"statistics": map[string]any{"rx-bytes": int64(g.vmid) * 1000, "tx-bytes": int64(g.vmid) * 500, "rx-packets": g.vmid * 10, "tx-packets": g.vmid * 5, "rx-errs": 0, "tx-errs": 0, "rx-dropped": 0, "tx-dropped": 0}})
	}
	return okResp(map[string]any{"result": res})
}

func (m *Mock) lxcInterfaces(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	if !g.running {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("CT %d not running", g.vmid), nil)
	}
	entry := func(name, mac, v4, v6 string) map[string]any {
		ips := []map[string]any{}
		if v4 != "" {
			ips = append(ips, ipEntry("inet", v4))
		}
		if v6 != "" {
			ips = append(ips, ipEntry("inet6", v6))
		}
		return map[string]any{"name": name, "hwaddr": mac, "hardware-address": mac, "inet": v4, "inet6": v6, "ip-addresses": ips}
	}
	out := []map[string]any{entry("lo", "00:00:00:00:00:00", "127.0.0.1/8", "::1/128")}
	for _, n := range g.nics {
		out = append(out, entry(fmt.Sprintf("eth%d", n.index), strings.ToLower(n.mac), n.ipv4, n.ipv6))
	}
	return okResp(out)
}

func nodeIfaces(n *node) []map[string]any {
	last := n.ip[strings.LastIndexByte(n.ip, '.')+1:] // host part of the node's address
	eth := func(name string, active bool) map[string]any {
		return map[string]any{"iface": name, "type": "eth", "method": "manual", "method6": "manual", "families": []string{"inet"}, "active": b01(active), "exists": 1, "autostart": b01(active), "priority": 3}
	}
	return []map[string]any{
		eth("eno1", true), eth("eno2", true), eth("eno3", true), eth("eno4", false),
		{"iface": "bond0", "type": "bond", "method": "manual", "method6": "manual", "families": []string{"inet"}, "active": 1, "autostart": 1,
			"slaves": "eno1 eno2", "bond_mode": "802.3ad", "bond_xmit_hash_policy": "layer3+4", "priority": 5},
		{"iface": "vmbr0", "type": "bridge", "method": "static", "method6": "static", "families": []string{"inet", "inet6"}, "active": 1, "autostart": 1,
			"address": n.ip, "netmask": "24", "cidr": n.ip + "/24", "gateway": gateway(n.ip),
			"address6": "2001:db8:10::" + last, "netmask6": 64, "cidr6": "2001:db8:10::" + last + "/64", "gateway6": "2001:db8:10::1",
			"bridge_ports": "bond0", "bridge_stp": "off", "bridge_fd": "0", "bridge_vlan_aware": 1, "bridge_vids": "2-4094", "comments": "VM traffic\n", "priority": 6},
		{"iface": "vmbr1", "type": "bridge", "method": "manual", "method6": "manual", "families": []string{"inet"}, "active": 1, "autostart": 1,
			"bridge_ports": "eno3", "bridge_stp": "off", "bridge_fd": "0", "priority": 7},
		{"iface": "vmbr0.50", "type": "vlan", "method": "static", "method6": "manual", "families": []string{"inet"}, "active": 1, "autostart": 1,
			"address": "10.50.0." + last, "netmask": "24", "cidr": "10.50.0." + last + "/24", "vlan-id": 50, "vlan-raw-device": "vmbr0", "comments": "storage network\n", "priority": 8},
	}
}

func (m *Mock) nodeNetwork(c *call) *proxmoxsdk.Response {
	all := nodeIfaces(m.node(c.str("node")))
	t := c.param("type")
	if t == "" {
		return okResp(all)
	}
	out := []map[string]any{}
	for _, i := range all {
		if i["type"] == t || (t == "any_bridge" && i["type"] == "bridge") {
			out = append(out, i)
		}
	}
	return okResp(out)
}

// pool answers /pools/{poolid}: "production" holds every guest whose VMID is
// even (the monthly backup job backs it up); any other pool is empty.
func (m *Mock) pool(c *call) *proxmoxsdk.Response {
	if c.str("poolid") != "production" {
		return okResp(map[string]any{"poolid": c.str("poolid"), "comment": "", "members": []map[string]any{}})
	}
	ids := make([]int, 0, len(m.guests))
	for id := range m.guests {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	members := []map[string]any{}
	for _, id := range ids {
		g := m.guests[id]
		if id%2 == 0 {
			// PVE's read_pool fills members from the same stats as
			// /cluster/resources.
			members = append(members, m.guestResource(g))
		}
	}
	return okResp(map[string]any{"poolid": "production", "comment": "production guests", "members": members})
}

// qemuFullStatus adds what PVE's vmstatus($vmid, 1) reports for a running
// VM on top of the list fields (qemu-server PVE/QemuServer.pm): balloon and
// ballooninfo (query-balloon), freemem, blockstat (query-blockstats), nics
// (/proc/net/dev of the tap devices) and proxmox-support.
func (m *Mock) qemuFullStatus(g *guest, r map[string]any) {
	maxmem := int64(g.memMB) << 20
	free := maxmem / 4
	r["balloon"] = maxmem
	r["freemem"] = free
	r["ballooninfo"] = map[string]any{"actual": maxmem, "max_mem": maxmem, "total_mem": maxmem - 64<<20, "free_mem": free,
		"last_update": m.sc.Epoch.Unix(), "major_page_faults": g.vmid * 3, "minor_page_faults": g.vmid * 1000,
		"mem_swapped_in": 0, "mem_swapped_out": 0}
	blk := map[string]any{}
	for _, d := range g.disks {
		blk[d.key] = map[string]any{"rd_bytes": int64(g.vmid) * 1048576, "wr_bytes": int64(g.vmid) * 524288,
			"rd_operations": g.vmid * 10, "wr_operations": g.vmid * 5, "flush_operations": g.vmid,
			"failed_rd_operations": 0, "failed_wr_operations": 0, "idle_time_ns": 123456789, "timed_stats": []any{},
			"account_invalid": true, "account_failed": true}
	}
	r["blockstat"] = blk
	nics := map[string]any{}
	for _, n := range g.nics {
		nics[fmt.Sprintf("tap%di%d", g.vmid, n.index)] = map[string]any{"netin": int64(g.vmid) * 123456, "netout": int64(g.vmid) * 65432}
	}
	r["nics"] = nics
	r["proxmox-support"] = map[string]any{"pbs-dirty-bitmap": true, "pbs-dirty-bitmap-migration": true, "pbs-dirty-bitmap-savevm": true,
		"pbs-library-version": "1.4.1 (UNKNOWN)", "pbs-masterkey": true, "query-bitmap-info": true, "backup-max-workers": true}
}

// nodeStatus answers /nodes/{node}/status like pve-manager's
// PVE/API2/Nodes.pm status(): uptime, idle and wait, kversion,
// current-kernel, cpuinfo (PVE::ProcFSTools::read_cpuinfo), memory, swap,
// ksm, rootfs, loadavg (strings, as PVE sends them), boot-info.
func (m *Mock) nodeStatus(c *call) *proxmoxsdk.Response {
	n := m.node(c.str("node"))
	if n == nil {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", c.str("node"), c.str("node")), nil)
	}
	const release = "6.5.13-5-pve"
	kver := "#1 SMP PREEMPT_DYNAMIC PMX 6.5.13-5 (2024-04-05T11:03Z)"
	used := n.maxmem / 3
	return okResp(map[string]any{
		"uptime": n.uptime, "idle": 0, "wait": 0.0012, "cpu": 0.05 + float64(n.id)/100,
		"kversion":       "Linux " + release + " " + kver,
		"current-kernel": map[string]any{"sysname": "Linux", "release": release, "version": kver, "machine": "x86_64"},
		"pveversion":     "pve-manager/" + m.sc.Version + "/a1b2c3d4e5f60718",
		"cpuinfo": map[string]any{"model": "AMD EPYC 7543 32-Core Processor", "sockets": 1, "cpus": n.maxcpu, "cores": n.maxcpu / 2,
			"mhz": "2800.000", "hvm": 1, "user_hz": 100, "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov"},
		"memory":    map[string]any{"total": n.maxmem, "used": used, "free": n.maxmem - used, "available": n.maxmem - used},
		"swap":      map[string]any{"total": int64(8) << 30, "used": 0, "free": int64(8) << 30},
		"ksm":       map[string]any{"shared": 0},
		"rootfs":    map[string]any{"total": int64(100) << 30, "used": int64(12) << 30, "avail": int64(83) << 30, "free": int64(88) << 30},
		"loadavg":   []string{"0.42", "0.38", "0.35"},
		"boot-info": map[string]any{"mode": "efi", "secureboot": 0},
	})
}
