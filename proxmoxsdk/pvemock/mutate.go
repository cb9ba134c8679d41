package pvemock

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// ErrNoGuest / ErrNoNode are returned by mutations on unknown ids.
var (
	ErrNoGuest = errors.New("pvemock: no such guest")
	ErrNoNode  = errors.New("pvemock: no such node")
)

func (m *Mock) mutate(vmid int, f func(g *guest) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.guests[vmid]
	if g == nil {
		return fmt.Errorf("%w: %d", ErrNoGuest, vmid)
	}
	if err := f(g); err != nil {
		return err
	}
	m.version++
	return nil
}

// RenameGuest sets the name (QEMU) or hostname (LXC) of a guest.
func (m *Mock) RenameGuest(vmid int, name string) error {
	return m.mutate(vmid, func(g *guest) error { g.name = name; return nil })
}

// MigrateGuest moves a guest to node, recording a migrate task.
func (m *Mock) MigrateGuest(vmid int, node string) error {
	return m.mutate(vmid, func(g *guest) error { return m.migrateLocked(g, node) })
}

func (m *Mock) migrateLocked(g *guest, node string) error {
	if m.node(node) == nil {
		return fmt.Errorf("%w: %s", ErrNoNode, node)
	}
	typ := "qmigrate"
	if g.kind == "lxc" {
		typ = "vzmigrate"
	}
	m.newTaskLocked(g.node, typ, strconv.Itoa(g.vmid), "OK", 0, "migration to "+node+" finished successfully")
	g.node = node
	return nil
}

// SetMemory sets the memory of a guest in MiB.
func (m *Mock) SetMemory(vmid, mb int) error {
	return m.mutate(vmid, func(g *guest) error { g.memMB = mb; return nil })
}

// AddNIC adds a network interface (new MAC, VLAN tag and addresses).
func (m *Mock) AddNIC(vmid int) error {
	return m.mutate(vmid, func(g *guest) error {
		idx := 0
		for _, n := range g.nics {
			if n.index >= idx {
				idx = n.index + 1
			}
		}
		gen := newGenerator(&Scenario{Seed: m.sc.Seed*7919 + int64(vmid*31+idx)})
		for _, gs := range m.guests {
			for _, n := range gs.nics {
				gen.macSeen[n.mac] = true
			}
		}
		n := gen.nic(vmid, idx)
		n.model = g.nics[0].model
		g.nics = append(g.nics, n)
		return nil
	})
}

// MoveIP moves an address (with or without prefix) from one guest to the
// first NIC of another, as when an IP is reassigned.
func (m *Mock) MoveIP(fromVMID, toVMID int, ip string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to := m.guests[fromVMID], m.guests[toVMID]
	if from == nil || to == nil || len(to.nics) == 0 {
		return fmt.Errorf("%w: %d or %d", ErrNoGuest, fromVMID, toVMID)
	}
	bare := strings.Split(ip, "/")[0]
	for i := range from.nics {
		n := &from.nics[i]
		for _, p := range []*string{&n.ipv4, &n.ipv6} {
			if *p != "" && strings.Split(*p, "/")[0] == bare {
				moved := *p
				*p = ""
				if strings.Contains(moved, ":") {
					to.nics[0].ipv6 = moved
				} else {
					to.nics[0].ipv4 = moved
				}
				m.version++
				return nil
			}
		}
	}
	return fmt.Errorf("pvemock: guest %d has no address %s", fromVMID, ip)
}

// DeleteGuest removes a guest with its backups.
func (m *Mock) DeleteGuest(vmid int) error {
	return m.mutate(vmid, func(g *guest) error { m.deleteLocked(g); return nil })
}

func (m *Mock) deleteLocked(g *guest) {
	delete(m.guests, g.vmid)
	kept := m.backups[:0]
	for _, b := range m.backups {
		if b.vmid != g.vmid {
			kept = append(kept, b)
		}
	}
	m.backups = kept
}

// CreateLXC adds a running container on node.
func (m *Mock) CreateLXC(vmid int, name, node string) error {
	return m.createGuest(vmid, "lxc", name, node, 104729, "vzcreate")
}

// createGuest adds a running guest of kind on node, generated from a seed
// of its own (salt) so it never repeats another guest's MACs.
func (m *Mock) createGuest(vmid int, kind, name, node string, salt int64, task string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.guests[vmid] != nil {
		return fmt.Errorf("pvemock: VMID %d already exists", vmid)
	}
	if m.node(node) == nil {
		return fmt.Errorf("%w: %s", ErrNoNode, node)
	}
	sc := m.sc
	sc.Seed = m.sc.Seed*salt + int64(vmid)
	gen := newGenerator(&sc)
	for _, gs := range m.guests {
		for _, n := range gs.nics {
			gen.macSeen[n.mac] = true
		}
	}
	g := gen.guest(vmid, kind, node)
	g.name, g.running = name, true
	m.guests[vmid] = g
	m.newTaskLocked(node, task, strconv.Itoa(vmid), "OK", 0)
	m.version++
	return nil
}

// SetNodeDown makes a node unreachable (its reads fail with 595 and it is
// offline in cluster status and resources) or brings it back.
func (m *Mock) SetNodeDown(name string, down bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.node(name)
	if n == nil {
		return fmt.Errorf("%w: %s", ErrNoNode, name)
	}
	n.down = down
	m.version++
	return nil
}

// ---- write endpoints ----

func init() {
	for _, kind := range []string{"qemu", "lxc"} {
		for _, action := range []string{"start", "stop", "shutdown", "reboot", "suspend", "resume"} {
			reg("POST", "/nodes/{node}/"+kind+"/{vmid}/status/"+action, func(m *Mock, c *call) *proxmoxsdk.Response {
				return m.setStatus(c, kind, action)
			}, "exclusive")
		}
		reg("PUT", "/nodes/{node}/"+kind+"/{vmid}/config", func(m *Mock, c *call) *proxmoxsdk.Response { return m.setConfig(c, false) }, "exclusive")
		reg("DELETE", "/nodes/{node}/"+kind+"/{vmid}", (*Mock).deleteGuestAPI, "exclusive")
		reg("POST", "/nodes/{node}/"+kind+"/{vmid}/migrate", (*Mock).migrateAPI, "exclusive")
		reg("POST", "/nodes/{node}/"+kind+"/{vmid}/snapshot", (*Mock).snapshotAPI, "exclusive")
		reg("DELETE", "/nodes/{node}/"+kind+"/{vmid}/snapshot/{snapname}", (*Mock).delSnapshotAPI, "exclusive")
	}
	reg("POST", "/nodes/{node}/qemu/{vmid}/config", func(m *Mock, c *call) *proxmoxsdk.Response { return m.setConfig(c, true) }, "exclusive")
}

func taskPrefix(kind string) string {
	if kind == "lxc" {
		return "vz"
	}
	return "qm"
}

func (m *Mock) setStatus(c *call, kind, action string) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	switch action {
	case "start", "resume":
		if g.running && action == "start" {
			return errResp(http.StatusInternalServerError, fmt.Sprintf("VM %d already running", g.vmid), nil)
		}
		g.running = true
	case "stop", "shutdown", "suspend":
		g.running = false
	}
	return okResp(m.newTaskLocked(g.node, taskPrefix(kind)+action, strconv.Itoa(g.vmid), "OK", 1))
}

var memRE = regexp.MustCompile(`^(?:current=)?(\d+)$`)

func (m *Mock) setConfig(c *call, async bool) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	p := c.req.Params
	errs := map[string]string{}
	var mem, cores int
	if v := p.Get("memory"); v != "" {
		mm := memRE.FindStringSubmatch(v)
		if mm == nil {
			errs["memory"] = fmt.Sprintf("value '%s' does not look like a valid memory size", v)
		} else {
			mem, _ = strconv.Atoi(mm[1])
		}
	}
	if v := p.Get("cores"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs["cores"] = fmt.Sprintf("type check ('integer') failed - got '%s'", v)
		}
		cores = n
	}
	for k := range p {
		if k == "digest" || k == "delete" || k == "revert" || k == "skiplock" || k == "background_delay" {
			continue
		}
		if !knownConfigKey(k) {
			errs[k] = "property is not defined in schema and the schema does not allow additional properties"
		}
	}
	if len(errs) > 0 {
		return errResp(http.StatusBadRequest, "Parameter verification failed.", errs)
	}
	if mem > 0 {
		g.memMB = mem
	}
	if cores > 0 {
		g.cores = cores
	}
	if v := p.Get("name"); v != "" {
		g.name = v
	}
	if v := p.Get("hostname"); v != "" {
		g.name = v
	}
	if v, ok := p["tags"]; ok {
		g.tags = strings.FieldsFunc(strings.Join(v, ";"), func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
		sort.Strings(g.tags)
	}
	m.version++
	if async {
		return okResp(m.newTaskLocked(g.node, "qmconfig", strconv.Itoa(g.vmid), "OK", 0))
	}
	return okResp(nil)
}

var configKeyRE = regexp.MustCompile(`^(name|hostname|memory|cores|sockets|cpu|description|tags|onboot|agent|ostype|boot|balloon|swap|nameserver|searchdomain|protection|startup|(net|scsi|virtio|sata|ide|mp|unused|ipconfig)\d+)$`)

func knownConfigKey(k string) bool { return configKeyRE.MatchString(k) }

func (m *Mock) deleteGuestAPI(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	if g.running {
		return errResp(http.StatusInternalServerError, fmt.Sprintf("VM %d is running - destroy failed", g.vmid), nil)
	}
	m.deleteLocked(g)
	m.version++
	return okResp(m.newTaskLocked(c.str("node"), taskPrefix(g.kind)+"destroy", strconv.Itoa(g.vmid), "OK", 1))
}

func (m *Mock) migrateAPI(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	target := c.param("target")
	if target == "" {
		return errResp(http.StatusBadRequest, "Parameter verification failed.", map[string]string{"target": "property is missing and it is not optional"})
	}
	if target == g.node {
		return errResp(http.StatusBadRequest, "Parameter verification failed.", map[string]string{"target": "target is local node."})
	}
	if m.node(target) == nil {
		return errResp(http.StatusInternalServerError, "no such cluster node '"+target+"'", nil)
	}
	src := g.node
	g.node = target
	m.version++
	typ := "qmigrate"
	if g.kind == "lxc" {
		typ = "vzmigrate"
	}
	return okResp(m.newTaskLocked(src, typ, strconv.Itoa(g.vmid), "OK", 1))
}

func (m *Mock) snapshotAPI(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	name := c.param("snapname")
	if name == "" || name == "current" {
		return errResp(http.StatusBadRequest, "Parameter verification failed.", map[string]string{"snapname": "invalid format - invalid configuration ID '" + name + "'"})
	}
	for _, s := range g.snapshots {
		if s.name == name {
			return errResp(http.StatusInternalServerError, "snapshot name '"+name+"' already used", nil)
		}
	}
	parent := ""
	if len(g.snapshots) > 0 {
		parent = g.snapshots[len(g.snapshots)-1].name
	}
	g.snapshots = append(g.snapshots, snapshot{name: name, description: c.param("description"), parent: parent, snaptime: m.sc.Epoch.Unix() + m.pidNext - 400000})
	m.version++
	return okResp(m.newTaskLocked(g.node, taskPrefix(g.kind)+"snapshot", strconv.Itoa(g.vmid), "OK", 1))
}

func (m *Mock) delSnapshotAPI(c *call) *proxmoxsdk.Response {
	g := m.guests[c.vmid()]
	name := c.str("snapname")
	for i, s := range g.snapshots {
		if s.name == name {
			g.snapshots = append(g.snapshots[:i], g.snapshots[i+1:]...)
			if i < len(g.snapshots) {
				g.snapshots[i].parent = s.parent
			}
			m.version++
			return okResp(m.newTaskLocked(g.node, taskPrefix(g.kind)+"delsnapshot", strconv.Itoa(g.vmid), "OK", 1))
		}
	}
	return errResp(http.StatusInternalServerError, "snapshot '"+name+"' does not exist", nil)
}
