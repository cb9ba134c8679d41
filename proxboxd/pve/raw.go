package pve

import (
	"context"
	"encoding/json"
	"fmt"

	gen "github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
)

// Pass-through reads: the data as PVE sent it, for routes that hand PVE's
// records on unchanged (proxboxd's /proxmox/* routes). Same requests as
// the typed reads.

// ResourcesRaw reads /cluster/resources (typ as in Resources).
func (r *Reader) ResourcesRaw(ctx context.Context, typ string) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	var p *gen.GetClusterResourcesParams
	if typ != "" {
		t := gen.GetClusterResourcesParamsType(typ)
		p = &gen.GetClusterResourcesParams{Type: &t}
	}
	return px.Cluster().Resources().GetRaw(ctx, p)
}

// NodesRaw reads /nodes.
func (r *Reader) NodesRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.NodesIndex().GetRaw(ctx)
}

// StorageContentRaw reads a storage's content on a node, of one content
// type ("" all) and one guest (vmid 0: all).
func (r *Reader) StorageContentRaw(ctx context.Context, node, storage, content string, vmid int) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	p := &gen.GetNodesNodeStorageStorageContentParams{}
	if content != "" {
		p.Content = &content
	}
	if vmid > 0 {
		p.Vmid = &vmid
	}
	return px.Nodes(node).Storage(storage).ContentIndex().GetRaw(ctx, p)
}

// ConfigRaw reads a guest config (typ qemu or lxc).
func (r *Reader) ConfigRaw(ctx context.Context, node, typ string, vmid int) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeQemu:
		return px.Nodes(node).Qemu(vmid).Config().GetRaw(ctx, nil)
	case TypeLXC:
		return px.Nodes(node).Lxc(vmid).Config().GetRaw(ctx, nil)
	}
	return nil, fmt.Errorf("%w: %q", ErrGuestType, typ)
}

// QemuFirewallRulesRaw reads a QEMU guest's firewall rules.
func (r *Reader) QemuFirewallRulesRaw(ctx context.Context, node string, vmid int) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Nodes(node).Qemu(vmid).Firewall().RulesIndex().GetRaw(ctx)
}

// QemuFirewallOptionsRaw reads a QEMU guest's firewall options.
func (r *Reader) QemuFirewallOptionsRaw(ctx context.Context, node string, vmid int) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Nodes(node).Qemu(vmid).Firewall().Options().GetRaw(ctx)
}

// ClusterFirewallOptionsRaw reads the cluster firewall options.
func (r *Reader) ClusterFirewallOptionsRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().Options().GetRaw(ctx)
}

// ClusterFirewallGroupsRaw reads the cluster's security groups
// (/cluster/firewall/groups).
func (r *Reader) ClusterFirewallGroupsRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().GroupsIndex().GetRaw(ctx)
}

// ClusterFirewallGroupRulesRaw reads the rules of one security group
// (/cluster/firewall/groups/{group}).
func (r *Reader) ClusterFirewallGroupRulesRaw(ctx context.Context, group string) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().Groups(group).GetRaw(ctx)
}

// ClusterFirewallRulesRaw reads the cluster firewall rules
// (/cluster/firewall/rules).
func (r *Reader) ClusterFirewallRulesRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().RulesIndex().GetRaw(ctx)
}

// ClusterFirewallIPSetsRaw reads the cluster's IP sets
// (/cluster/firewall/ipset).
func (r *Reader) ClusterFirewallIPSetsRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().IpsetIndex().GetRaw(ctx)
}

// ClusterFirewallIPSetEntriesRaw reads the entries of one IP set
// (/cluster/firewall/ipset/{name}).
func (r *Reader) ClusterFirewallIPSetEntriesRaw(ctx context.Context, name string) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().Ipset(name).GetRaw(ctx)
}

// ClusterFirewallAliasesRaw reads the cluster firewall aliases
// (/cluster/firewall/aliases).
func (r *Reader) ClusterFirewallAliasesRaw(ctx context.Context) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Cluster().Firewall().AliasesIndex().GetRaw(ctx)
}

// NodeFirewallRulesRaw reads a node's firewall rules
// (/nodes/{node}/firewall/rules).
func (r *Reader) NodeFirewallRulesRaw(ctx context.Context, node string) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Nodes(node).Firewall().RulesIndex().GetRaw(ctx)
}

// Records decodes a pass-through list into PVE's records (nil for null).
func Records(raw json.RawMessage) ([]map[string]any, error) {
	if isNull(raw) {
		return nil, nil
	}
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("pve: unexpected data: %w", err)
	}
	return out, nil
}
