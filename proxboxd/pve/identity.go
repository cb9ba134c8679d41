package pve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Cluster modes (NetBox cluster types of the same slugs).
const (
	// ModeCluster: /cluster/status has a cluster record (or lists more than
	// one node).
	ModeCluster = "cluster"
	// ModeStandalone: one node, no cluster record.
	ModeStandalone = "standalone"
	// ModeRestricted: the token may not read /cluster/status (403); the
	// nodes come from /nodes.
	ModeRestricted = "restricted"
)

// ErrNoNodes: PVE listed no node, so the endpoint has no name.
var ErrNoNodes = errors.New("pve: no nodes listed")

// Node is a node of a PVE cluster.
type Node struct {
	Name   string
	Online bool
	IP     string // from /cluster/status ("" from /nodes)
}

// Identity is who an endpoint is: its name and mode, and its nodes.
type Identity struct {
	// Name is the cluster name, or the first node's name (by name) when
	// /cluster/status has no cluster record or was not readable.
	Name string
	Mode string
	// Nodes sorted by name.
	Nodes []Node
	// Status is /cluster/status as read (nil in ModeRestricted); StatusRaw
	// is its data as PVE sent it.
	Status    []StatusItem
	StatusRaw json.RawMessage
}

// Identify reads an endpoint's identity: /cluster/status, or /nodes when
// the token may not read it (errors.Is(err, proxmoxsdk.ErrPermission)).
// Both reads fail with PVE's error; an endpoint that lists no node fails
// with ErrNoNodes.
func (r *Reader) Identify(ctx context.Context) (Identity, error) {
	st, raw, err := r.ClusterStatus(ctx)
	if err == nil {
		id, err := IdentityFromStatus(st)
		id.StatusRaw = raw
		return id, err
	}
	if !errors.Is(err, proxmoxsdk.ErrPermission) {
		return Identity{}, fmt.Errorf("read /cluster/status: %w", err)
	}
	nodes, err := r.Nodes(ctx)
	if err != nil {
		return Identity{}, fmt.Errorf("read /nodes: %w", err)
	}
	return IdentityFromNodes(nodes)
}

// IdentityFromStatus applies the identity rule to /cluster/status records:
// the cluster record names the cluster (mode cluster); without one, more
// than one node is a cluster, one node is standalone, and the first node by
// name names it.
func IdentityFromStatus(items []StatusItem) (Identity, error) {
	id := Identity{Status: items}
	for _, it := range items {
		switch it.Type.Get() {
		case "cluster":
			id.Name = it.Name.Get()
			id.Mode = ModeCluster
		case "node":
			id.Nodes = append(id.Nodes, Node{Name: it.Name.Get(), Online: it.Online.Get(), IP: it.Ip.Get()})
		}
	}
	return finish(id, "")
}

// IdentityFromNodes applies the identity rule to /nodes (a token that may
// not read /cluster/status): mode restricted, named after the first node.
func IdentityFromNodes(items []NodeItem) (Identity, error) {
	id := Identity{}
	for _, n := range items {
		id.Nodes = append(id.Nodes, Node{Name: n.Node.Get(), Online: n.Status.Get() == "online"})
	}
	return finish(id, ModeRestricted)
}

func finish(id Identity, mode string) (Identity, error) {
	sort.Slice(id.Nodes, func(i, j int) bool { return id.Nodes[i].Name < id.Nodes[j].Name })
	switch {
	case mode != "":
		id.Mode = mode
	case id.Mode != "":
	case len(id.Nodes) > 1:
		id.Mode = ModeCluster
	default:
		id.Mode = ModeStandalone
	}
	if id.Name == "" && len(id.Nodes) > 0 {
		id.Name = id.Nodes[0].Name
	}
	if id.Name == "" {
		return id, ErrNoNodes
	}
	return id, nil
}

// Online reports whether the identity lists node as online.
func (id *Identity) Online(node string) bool {
	for _, n := range id.Nodes {
		if n.Name == node {
			return n.Online
		}
	}
	return false
}
