package sync

import (
	"context"
	"errors"
	"fmt"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// stageFunc syncs one stage over the reachable clusters. It returns the
// stage's main object count and a message for the plugin (empty: the default).
type stageFunc func(r *run, ctx context.Context, live []*cluster) (int, string, error)

// stageDef is one entry of the stage registry.
type stageDef struct {
	run stageFunc
	// plugin: the stage writes netbox-proxbox models and is skipped (with a
	// message, not an error) when the plugin API answers 404.
	plugin bool
}

// registry maps each of the plugin's 12 stage slugs to its implementation,
// one file per stage (stage_<slug>.go).
var registry = map[proxbox.Stage]stageDef{
	proxbox.StageDevices:           {run: (*run).stageDevices},
	proxbox.StageVirtualMachines:   {run: (*run).stageVMsWithNetwork},
	proxbox.StageVMDisks:           {run: (*run).stageDisks},
	proxbox.StageVMInterfaces:      {run: (*run).stageVMIfaces},
	proxbox.StageIPAddresses:       {run: (*run).stageIPs},
	proxbox.StageNetworkInterfaces: {run: (*run).stageNodeIfaces},
	proxbox.StageStorage:           {run: (*run).stageStorage, plugin: true},
	proxbox.StageTaskHistory:       {run: (*run).stageTasks, plugin: true},
	proxbox.StageVMBackups:         {run: (*run).stageBackups, plugin: true},
	proxbox.StageVMSnapshots:       {run: (*run).stageSnapshots, plugin: true},
	proxbox.StageReplications:      {run: (*run).stageReplications, plugin: true},
	proxbox.StageBackupRoutines:    {run: (*run).stageRoutines, plugin: true},
}

// runStage runs one stage from the registry. It returns the stage's main object count.
func (r *run) runStage(ctx context.Context, s proxbox.Stage) (int, string, error) {
	def, ok := registry[s]
	if !ok {
		return 0, "", fmt.Errorf("unknown stage %q", s)
	}
	if err := r.prepare(ctx); err != nil {
		return 0, "", err
	}
	live, err := r.live(ctx)
	if err != nil {
		return 0, "", err
	}
	if len(live) == 0 {
		return 0, "No Proxmox endpoints configured; nothing to sync.", nil
	}
	if def.plugin && !r.pluginInstalled(ctx) {
		return 0, "netbox-proxbox plugin not installed in NetBox (/api/plugins/proxbox/ answers 404): " + StepName(s) + " skipped.", nil
	}
	return def.run(r, ctx, live)
}

// live reads every cluster's status; unreachable ones are reported and
// skipped (the stage goes on with the others, and is partial).
func (r *run) live(ctx context.Context) ([]*cluster, error) {
	var live []*cluster
	var errs []error
	for _, c := range r.clusters {
		if err := c.readStatus(ctx); err != nil {
			r.res.Partial = true
			r.fail("proxmox.endpoint", c.t.Endpoint.Name, err)
			errs = append(errs, err)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("no Proxmox endpoint could be read: %w", errors.Join(errs...))
	}
	return live, nil
}

// guestInScope applies netbox_vm_ids and individual-sync filters.
func (r *run) guestInScope(c *cluster, g *guest, vmID int) bool {
	if r.only != nil && !r.only[c.label()+"|"+g.key()] {
		return false
	}
	if len(r.p.NetBoxVMIDs) == 0 {
		return true
	}
	for _, id := range r.p.NetBoxVMIDs {
		if id == vmID && vmID != 0 {
			return true
		}
	}
	return false
}

func (r *run) scoped() bool { return r.only != nil || len(r.p.NetBoxVMIDs) > 0 }

func (r *run) scopedGuests(ctx context.Context, cls []*cluster) ([]vmGuest, *table, error) {
	t, err := r.vmTable(ctx, cls)
	if err != nil {
		return nil, nil, err
	}
	var out []vmGuest
	for _, c := range cls {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err != nil {
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		for _, g := range c.guests {
			id := r.vmOf(t, c, g)
			if id == 0 {
				if !r.scoped() {
					r.skip(kVM.Type, fmt.Sprintf("%s/%s %s", c.label(), g.key(), g.Name),
						"the guest has no virtual machine in NetBox (see the virtual-machines stage's failures), so its "+r.phase+" are not written")
				}
				continue
			}
			if !r.guestInScope(c, g, id) {
				continue
			}
			out = append(out, vmGuest{c, g, id})
		}
	}
	return out, t, nil
}

func vmIDs(gs []vmGuest) []int {
	ids := make([]int, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.vmID)
	}
	return ids
}

// vmGuests pairs the in-scope guests of all clusters with their NetBox VM id.
type vmGuest struct {
	c    *cluster
	g    *guest
	vmID int
}
