package sync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	gosync "sync"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

// pveNode is a node of a Proxmox cluster.
type pveNode = pve.Node

// guest is a QEMU VM or LXC container with what was read about it.
//
// Each per-guest read has its own outcome. A read that failed (after the
// Proxmox client's retries) leaves that part "not read": stages plan nothing
// from it (no child deleted, marked or blanked, no status changed) and report
// the guest as an item failure; a later sync completes it.
type guest struct {
	VMID     int
	Type     string // qemu | lxc
	Name     string
	Node     string
	Status   string // from /cluster/resources; "" or "unknown" when PVE does not know it
	MaxMem   float64
	MaxCPU   float64
	MaxDisk  float64
	Template bool

	Config    *pve.Config // nil when not read (ConfigErr says why)
	ConfigErr error
	Agent     []agentIface
	AgentOK   bool           // agent data was read (or the guest has no agent)
	AgentErr  error          // why the agent data was not read
	HasAgent  bool           // agent enabled and running (or its state unknown)
	Snaps     []pve.Snapshot // PVE snapshot list (without "current")
	SnapErr   error
}

// statusKnown reports whether PVE reported the guest's run state (it reports
// "unknown" for guests of a node it cannot reach).
func (g *guest) statusKnown() bool {
	switch strings.ToLower(g.Status) {
	case "", "unknown":
		return false
	}
	return true
}

// nodeOfflineError is the read error of a guest or node part that was not
// attempted because /cluster/status reports the node offline.
type nodeOfflineError struct{ node string }

func (e *nodeOfflineError) Error() string {
	return "node " + e.node + " is offline (per /cluster/status)"
}

// errEmptyConfig: PVE answered a guest config with no data.
var errEmptyConfig = errors.New("empty guest configuration")

func (g *guest) key() string { return g.Type + "/" + strconv.Itoa(g.VMID) }

// cluster is one Proxmox endpoint with its read state and NetBox ids.
type cluster struct {
	t   proxbox.ProxmoxTarget
	pve *pve.Reader

	mu        gosync.Mutex
	loaded    map[string]error // part name -> error of its read
	partial   bool
	failed    error // cluster status could not be read: the cluster is skipped
	name      string
	mode      string
	nodes     []pveNode
	guests    []*guest
	storages  []pve.Storage
	backups   []backupVol // backup volumes of the storages
	backupsOK bool
	tasks     map[string][]pve.TaskItem    // node -> task rows
	networks  map[string][]pve.NetworkItem // node -> interfaces
	// reads that failed (after retries) per part, reported by the stages
	// that depend on them: "<node>" or "<node>/<storage>" -> error
	backupErrs  map[string]error
	taskErrs    map[string]error
	networkErrs map[string]error

	// NetBox ids
	nbCluster int
	nbSite    int
	devices   map[string]int // node name -> device id
	endpoint  int            // plugin ProxmoxEndpoint id (0 unknown)
}

func (c *cluster) label() string {
	if c.name != "" {
		return c.name
	}
	return c.t.Endpoint.Name
}

// backupVol is a backup volume of a storage, listed on Node.
type backupVol struct {
	pve.ContentItem
	Storage string
	Node    string
}

// once runs a read part at most once per run.
func (c *cluster) once(part string, fn func() error) error {
	c.mu.Lock()
	if c.loaded == nil {
		c.loaded = map[string]error{}
	}
	if err, ok := c.loaded[part]; ok {
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	err := fn()
	c.mu.Lock()
	c.loaded[part] = err
	c.mu.Unlock()
	return err
}

// forEach runs fn(i) for i in [0,n) with at most limit in flight.
func forEach(ctx context.Context, n, limit int, fn func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg gosync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

// readStatus reads the cluster's identity (pve.Reader.Identify): name,
// mode and nodes.
func (c *cluster) readStatus(ctx context.Context) error {
	return c.once("status", func() error {
		id, err := c.pve.Identify(ctx)
		if err != nil {
			c.failed = fmt.Errorf("cluster %s: %w", c.t.Endpoint.Name, err)
			return c.failed
		}
		c.name, c.mode, c.nodes = id.Name, id.Mode, id.Nodes
		return nil
	})
}

func (c *cluster) nodeOnline(name string) bool {
	for _, n := range c.nodes {
		if n.Name == name {
			return n.Online
		}
	}
	return false
}

// offline returns a nodeOfflineError when /cluster/status lists node as
// offline: its API cannot answer (PVE proxies the call to it and fails with
// 595), so its reads are not attempted. Unknown nodes are tried.
func (c *cluster) offline(node string) error {
	for _, n := range c.nodes {
		if n.Name == node && !n.Online {
			return &nodeOfflineError{node: node}
		}
	}
	return nil
}

// readGuests reads /cluster/resources and every guest config (concurrently).
func (c *cluster) readGuests(ctx context.Context, limit int) error {
	return c.once("guests", func() error {
		res, err := c.pve.Resources(ctx, "vm")
		if err != nil {
			c.partial = true
			return fmt.Errorf("cluster %s: read /cluster/resources: %w", c.label(), err)
		}
		for _, it := range res {
			typ := it.Type.Get()
			if typ != "qemu" && typ != "lxc" {
				continue
			}
			g := &guest{VMID: it.Vmid.Get(), Type: typ, Name: it.Name.Get(), Node: it.Node.Get(),
				Status: it.Status.Get(), MaxMem: float64(it.Maxmem.Get()), MaxCPU: it.Maxcpu.Get(),
				MaxDisk: float64(it.Maxdisk.Get()), Template: it.Template.Get()}
			if g.VMID <= 0 {
				continue
			}
			if g.Name == "" {
				g.Name = typ + "-" + strconv.Itoa(g.VMID)
			}
			c.guests = append(c.guests, g)
		}
		sort.Slice(c.guests, func(i, j int) bool {
			if c.guests[i].VMID != c.guests[j].VMID {
				return c.guests[i].VMID < c.guests[j].VMID
			}
			return c.guests[i].Type < c.guests[j].Type
		})
		forEach(ctx, len(c.guests), limit, func(i int) {
			g := c.guests[i]
			if err := c.offline(g.Node); err != nil {
				g.ConfigErr = err
				return
			}
			cfg, err := c.pve.Config(ctx, g.Node, g.Type, g.VMID)
			switch {
			case err != nil:
				g.ConfigErr = err
			case cfg == nil:
				g.ConfigErr = errEmptyConfig
			default:
				g.Config = cfg
			}
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, g := range c.guests {
			if g.Config == nil && g.ConfigErr == nil {
				g.ConfigErr = errors.New("guest configuration not read")
			}
		}
		for _, g := range c.guests {
			if g.ConfigErr != nil {
				c.partial = true
			}
		}
		return ctx.Err()
	})
}

// readAgents reads guest-agent interfaces of running QEMU guests with the agent enabled.
func (c *cluster) readAgents(ctx context.Context, limit int, dropLinkLocal bool) {
	_ = c.once("agents", func() error {
		forEach(ctx, len(c.guests), limit, func(i int) {
			g := c.guests[i]
			g.AgentOK = true
			if g.Type != "qemu" || g.Config == nil || !g.Config.AgentEnabled() {
				return
			}
			if !g.statusKnown() {
				// running or not is unknown: so is what the agent would report
				g.HasAgent, g.AgentOK = true, false
				g.AgentErr = fmt.Errorf("guest status %q: guest-agent data unknown", g.Status)
				return
			}
			if g.Status != "running" {
				return
			}
			g.HasAgent = true
			if err := c.offline(g.Node); err != nil {
				g.AgentOK, g.AgentErr = false, err
				return
			}
			raw, err := c.pve.AgentInterfaces(ctx, g.Node, g.VMID)
			if err != nil {
				g.AgentOK, g.AgentErr = false, err
				return
			}
			ifs, err := parseAgentInterfaces(raw, dropLinkLocal)
			if err != nil {
				g.AgentOK, g.AgentErr = false, fmt.Errorf("guest-agent interfaces: %w", err)
				return
			}
			g.Agent = ifs
		})
		return nil
	})
}

func (c *cluster) readStorages(ctx context.Context) error {
	return c.once("storages", func() error {
		st, err := c.pve.Storages(ctx)
		if err != nil {
			c.partial = true
			return fmt.Errorf("cluster %s: read /storage: %w", c.label(), err)
		}
		c.storages = st
		sort.Slice(c.storages, func(i, j int) bool { return c.storages[i].Storage.Get() < c.storages[j].Storage.Get() })
		return nil
	})
}

// readBackups lists backup volumes of every backup storage on every node that
// has it (shared storages once). backupsOK is false when any list failed.
func (c *cluster) readBackups(ctx context.Context, limit int) error {
	return c.once("backups", func() error {
		if err := c.readStorages(ctx); err != nil {
			return err
		}
		type job struct{ node, storage string }
		var jobs []job
		c.backupsOK = true
		c.backupErrs = map[string]error{}
		for _, s := range c.storages {
			if !strings.Contains(s.Content.Get(), "backup") || s.Disable.Get() {
				continue
			}
			name := s.Storage.Get()
			var nodes []string
			if ns := s.Nodes.Get(); ns != "" {
				for _, n := range strings.Split(ns, ",") {
					nodes = append(nodes, strings.TrimSpace(n))
				}
			} else {
				for _, n := range c.nodes {
					nodes = append(nodes, n.Name)
				}
			}
			shared := s.Shared.Get() || s.Type.Get() == "pbs"
			listed := false
			for _, n := range nodes {
				if !c.nodeOnline(n) {
					if !shared {
						// its backups are unknown: none may look stale
						c.partial = true
						c.backupsOK = false
						c.backupErrs[n+"/"+name] = &nodeOfflineError{node: n}
					}
					continue
				}
				jobs = append(jobs, job{n, name})
				listed = true
				if shared {
					break
				}
			}
			if shared && !listed && len(nodes) > 0 {
				// no node that has it is online
				c.partial = true
				c.backupsOK = false
				c.backupErrs[strings.Join(nodes, ",")+"/"+name] = &nodeOfflineError{node: strings.Join(nodes, ",")}
			}
		}
		results := make([][]pve.ContentItem, len(jobs))
		errs := make([]error, len(jobs))
		forEach(ctx, len(jobs), limit, func(i int) {
			results[i], errs[i] = c.pve.StorageContent(ctx, jobs[i].node, jobs[i].storage, "backup")
		})
		seen := map[string]bool{}
		for i, items := range results {
			if errs[i] != nil {
				c.backupsOK = false
				c.partial = true
				c.backupErrs[jobs[i].node+"/"+jobs[i].storage] = errs[i]
				continue
			}
			for _, it := range items {
				v := it.Volid.Get()
				if v == "" || seen[v] || (it.Content.Get() != "" && it.Content.Get() != "backup") {
					continue
				}
				seen[v] = true
				c.backups = append(c.backups, backupVol{ContentItem: it, Storage: jobs[i].storage, Node: jobs[i].node})
			}
		}
		sort.Slice(c.backups, func(i, j int) bool { return c.backups[i].Volid.Get() < c.backups[j].Volid.Get() })
		return ctx.Err()
	})
}

// readSnapshots reads the snapshot list of every guest.
func (c *cluster) readSnapshots(ctx context.Context, limit int, only map[string]bool) {
	_ = c.once("snapshots", func() error {
		forEach(ctx, len(c.guests), limit, func(i int) {
			g := c.guests[i]
			if only != nil && !only[g.key()] {
				return
			}
			if err := c.offline(g.Node); err != nil {
				g.SnapErr = err
				return
			}
			items, err := c.pve.Snapshots(ctx, g.Node, g.Type, g.VMID)
			if err != nil {
				g.SnapErr = err
				return
			}
			for _, s := range items {
				if s.Name != "current" {
					g.Snaps = append(g.Snaps, s)
				}
			}
		})
		return nil
	})
}

// readTasks reads each online node's task archive once (paged by 500, at
// most 20 pages).
func (c *cluster) readTasks(ctx context.Context, limit int) {
	_ = c.once("tasks", func() error {
		c.tasks = map[string][]pve.TaskItem{}
		c.taskErrs = map[string]error{}
		var mu gosync.Mutex
		forEach(ctx, len(c.nodes), limit, func(i int) {
			n := c.nodes[i]
			if !n.Online {
				mu.Lock()
				c.taskErrs[n.Name] = &nodeOfflineError{node: n.Name}
				mu.Unlock()
				return
			}
			var all []pve.TaskItem
			for page := 0; page < 20; page++ {
				rows, err := c.pve.Tasks(ctx, n.Name, page*500, 500)
				if err != nil {
					// the pages read so far are kept (task history is never deleted)
					mu.Lock()
					c.taskErrs[n.Name] = err
					mu.Unlock()
					break
				}
				all = append(all, rows...)
				if len(rows) < 500 {
					break
				}
			}
			mu.Lock()
			c.tasks[n.Name] = all
			mu.Unlock()
		})
		return nil
	})
}

func (c *cluster) readNetworks(ctx context.Context, limit int) {
	_ = c.once("networks", func() error {
		c.networks = map[string][]pve.NetworkItem{}
		c.networkErrs = map[string]error{}
		var mu gosync.Mutex
		forEach(ctx, len(c.nodes), limit, func(i int) {
			n := c.nodes[i]
			if !n.Online {
				mu.Lock()
				c.networkErrs[n.Name] = &nodeOfflineError{node: n.Name}
				mu.Unlock()
				return
			}
			rows, err := c.pve.Network(ctx, n.Name)
			if err != nil {
				mu.Lock()
				c.partial = true
				c.networkErrs[n.Name] = err
				mu.Unlock()
				return
			}
			mu.Lock()
			c.networks[n.Name] = rows
			mu.Unlock()
		})
		return nil
	})
}

// sortedKeys returns the keys of m in order (stable reports).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hasVMID reports whether the cluster has a guest with this VMID.
func (c *cluster) hasVMID(vmid int) bool {
	for _, g := range c.guests {
		if g.VMID == vmid {
			return true
		}
	}
	return false
}
