package demo

import (
	"context"
	"fmt"
	"net/http"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// DriftLXC is the VMID of the container Drift adds.
const DriftLXC = 9001

// Drift changes the Proxmox side the way a cluster drifts between two syncs:
// the first guest is renamed, the next two get more memory, and a container
// (DriftLXC) appears on the first node. It returns what it did, one line
// per change.
func (e *Env) Drift() ([]string, error) {
	ids := e.Mock.VMIDs()
	if len(ids) < 3 {
		return nil, fmt.Errorf("demo drift: the scenario has %d guests, want 3", len(ids))
	}
	var did []string
	old, _ := e.Mock.GuestName(ids[0])
	name := old + "-renamed"
	if err := e.Mock.RenameGuest(ids[0], name); err != nil {
		return nil, fmt.Errorf("demo drift: %w", err)
	}
	did = append(did, fmt.Sprintf("guest %d renamed %s -> %s", ids[0], old, name))
	for _, id := range ids[1:3] {
		if err := e.Mock.SetMemory(id, 6144); err != nil {
			return nil, fmt.Errorf("demo drift: %w", err)
		}
		did = append(did, fmt.Sprintf("guest %d memory -> 6144 MiB", id))
	}
	node, _, _ := e.Mock.GuestNode(ids[0])
	if err := e.Mock.CreateLXC(DriftLXC, "drift-ct", node); err != nil {
		return nil, fmt.Errorf("demo drift: %w", err)
	}
	did = append(did, fmt.Sprintf("container %d drift-ct created on %s", DriftLXC, node))
	return did, nil
}

// DryRun runs a dry full update (/full-update/stream?dry_run=true): every
// stage plans against what the earlier ones would write, nothing is written,
// and the run record keeps the plan.
func (e *Env) DryRun(ctx context.Context) (contract.Outcome, error) {
	out := contract.Run(ctx, &http.Client{}, e.BaseURL+"/full-update/stream?dry_run=true", e.APIKey, nil)
	return out, out.ReadErr
}

// RunStage runs one stage stream with the plugin's query.
func (e *Env) RunStage(ctx context.Context, st proxbox.Stage) (contract.Outcome, error) {
	d, ok := contract.Lookup(st)
	if !ok {
		return contract.Outcome{}, fmt.Errorf("unknown stage %q", st)
	}
	out := contract.Run(ctx, &http.Client{}, e.BaseURL+d.Path+"?"+d.AllQuery(contract.DefaultSettings().Query()).Encode(), e.APIKey, nil)
	return out, out.ReadErr
}
