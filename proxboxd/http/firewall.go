package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// The plugin's job (netbox-proxbox 0.0.24+) ends its run with a "local
// reconciliation" that reads the datacenter firewall and CPU models of every
// Proxmox endpoint in scope; a 404 on either fails the whole job. The shapes
// are the ones its services/sync_firewall.py and sync_datacenter.py read.

// GET /proxmox/firewall/summary -> [{cluster_name, security_groups: [{group,
// name, comment, rules: [...]}], rules, ip_sets: [{name, comment, entries}],
// aliases, options}], one entry per session. A session whose firewall cannot
// be read is left out (logged); none readable is a 502.
func (s *Server) firewallSummary(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out := make([]map[string]any, len(ss))
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, x := range ss {
		wg.Go(func() { out[i], errs[i] = readFirewall(ctx, x) })
	}
	wg.Wait()
	list := []map[string]any{}
	var failed []string
	for i, e := range out {
		if errs[i] != nil {
			s.log.Warn("reading the datacenter firewall failed", "endpoint", ss[i].t.Endpoint.Name, "error", errs[i].Error())
			failed = append(failed, ss[i].t.Endpoint.Name+": "+errs[i].Error())
			continue
		}
		list = append(list, e)
	}
	if len(list) == 0 && len(failed) > 0 {
		return jsonError(c, http.StatusBadGateway, "cannot read the datacenter firewall: "+strings.Join(failed, "; "))
	}
	return c.JSON(http.StatusOK, list)
}

func readFirewall(ctx context.Context, x *session) (map[string]any, error) {
	px := x.px
	groups, err := records("/cluster/firewall/groups")(px.ClusterFirewallGroupsRaw(ctx))
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		name, _ := g["group"].(string)
		if !validSeg(name) {
			return nil, fmt.Errorf("security group name %q is not a valid path segment", name)
		}
		rules, err := records("/cluster/firewall/groups/" + name)(px.ClusterFirewallGroupRulesRaw(ctx, name))
		if err != nil {
			return nil, err
		}
		g["name"], g["rules"] = name, rules
	}
	rules, err := records("/cluster/firewall/rules")(px.ClusterFirewallRulesRaw(ctx))
	if err != nil {
		return nil, err
	}
	ipsets, err := records("/cluster/firewall/ipset")(px.ClusterFirewallIPSetsRaw(ctx))
	if err != nil {
		return nil, err
	}
	for _, set := range ipsets {
		name, _ := set["name"].(string)
		if !validSeg(name) {
			return nil, fmt.Errorf("IP set name %q is not a valid path segment", name)
		}
		entries, err := records("/cluster/firewall/ipset/" + name)(px.ClusterFirewallIPSetEntriesRaw(ctx, name))
		if err != nil {
			return nil, err
		}
		set["entries"] = entries
	}
	aliases, err := records("/cluster/firewall/aliases")(px.ClusterFirewallAliasesRaw(ctx))
	if err != nil {
		return nil, err
	}
	rawOpts, err := px.ClusterFirewallOptionsRaw(ctx)
	if err != nil {
		return nil, err
	}
	options := pve.Object(rawOpts)
	return map[string]any{
		"cluster_name": x.Name, "endpoint_id": x.t.Endpoint.ID, "endpoint_name": x.t.Endpoint.Name,
		"security_groups": groups, "rules": rules, "ip_sets": ipsets, "aliases": aliases, "options": options,
	}, nil
}

// records decodes the answer of a pass-through list read into PVE's
// records. what names the read in a decode error only (the answers have
// always named it by its PVE path); the request itself went through the
// navigator in pve.
func records(what string) func(json.RawMessage, error) ([]map[string]any, error) {
	return func(raw json.RawMessage, err error) ([]map[string]any, error) {
		if err != nil {
			return nil, err
		}
		out, err := pve.Records(raw)
		if err != nil {
			return nil, fmt.Errorf("proxmox %s: %w", what, err)
		}
		return out, nil
	}
}

// GET /proxmox/firewall/nodes/{node}/rules -> the node's firewall rules, from
// the first session that has the node.
func (s *Server) nodeFirewallRules(c echo.Context) error {
	node := c.Param("node")
	if !validSeg(node) {
		return jsonError(c, http.StatusBadRequest, "invalid node name")
	}
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	for _, x := range ss {
		if !sessionHasNode(x, node) {
			continue
		}
		rules, err := records("/nodes/" + node + "/firewall/rules")(x.px.NodeFirewallRulesRaw(ctx, node))
		if err != nil {
			return jsonError(c, http.StatusBadGateway, "cannot read the firewall rules of node "+node+": "+err.Error())
		}
		return c.JSON(http.StatusOK, rules)
	}
	return jsonError(c, http.StatusNotFound, "node "+node+" not found")
}

// GET /proxmox/datacenter/cpu-models -> [{cluster_name, cputype, name,
// vendor_id, custom}]: the custom CPU models of each cluster, read from one
// online node's /capabilities/qemu/cpu (PVE 8.1 and 9.1 have no cluster-wide
// list; built-in models are not datacenter objects and are left out).
func (s *Server) cpuModels(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out := []map[string]any{}
	var failed []string
	for _, x := range ss {
		node := onlineNode(x)
		if node == "" {
			failed = append(failed, x.t.Endpoint.Name+": no online node")
			continue
		}
		models, err := x.px.CPUModels(ctx, node)
		if err != nil {
			failed = append(failed, x.t.Endpoint.Name+": "+err.Error())
			continue
		}
		for _, m := range models {
			if !m.Custom.Get() {
				continue
			}
			var vendor any // null when PVE sent none
			if m.Vendor.Set {
				vendor = m.Vendor.Value
			}
			name := m.Name.Get()
			out = append(out, map[string]any{
				"cluster_name": x.Name, "endpoint_id": x.t.Endpoint.ID,
				"cputype": name, "name": name, "vendor_id": vendor, "custom": true,
			})
		}
	}
	if len(out) == 0 && len(failed) == len(ss) && len(failed) > 0 {
		return jsonError(c, http.StatusBadGateway, "cannot read CPU models: "+strings.Join(failed, "; "))
	}
	return c.JSON(http.StatusOK, out)
}

func sessionHasNode(x *session, node string) bool {
	for _, r := range x.Status {
		if r["type"] == "node" && r["name"] == node {
			return true
		}
	}
	return x.Mode == "standalone" && x.Name == node
}

// onlineNode names a node of the session reported online (or the standalone
// node itself).
func onlineNode(x *session) string {
	for _, r := range x.Status {
		if r["type"] == "node" && pvetypes.Truthy(r["online"]) {
			if n, ok := r["name"].(string); ok && validSeg(n) {
				return n
			}
		}
	}
	if x.Mode == "standalone" && validSeg(x.Name) {
		return x.Name
	}
	return ""
}
