package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// NetBox inspects the real NetBox directly (never through the proxies, so
// assertions do not count as the product's requests).
type NetBox struct {
	URL   string
	Token string
	HTTP  *http.Client
}

// NewNetBox returns an inspector for url with a v1 token.
func NewNetBox(u, token string) *NetBox {
	return &NetBox{URL: strings.TrimRight(u, "/"), Token: token, HTTP: &http.Client{Timeout: 300 * time.Second}}
}

// Do sends a request and decodes a JSON answer into out (when not nil).
func (n *NetBox) Do(ctx context.Context, method, path string, q url.Values, body, out any) (int, error) {
	u := path
	if !strings.HasPrefix(u, "http") {
		u = n.URL + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("netbox: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("netbox: %w", err)
	}
	req.Header.Set("Authorization", "Token "+n.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("netbox: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("netbox: %s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("netbox: %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

type page struct {
	Count   int              `json:"count"`
	Next    *string          `json:"next"`
	Results []map[string]any `json:"results"`
}

// List returns every record of path matching q, following "next".
func (n *NetBox) List(ctx context.Context, path string, q url.Values) ([]map[string]any, error) {
	qq := url.Values{}
	for k, v := range q {
		qq[k] = v
	}
	qq.Set("limit", "1000")
	var out []map[string]any
	next := path
	for next != "" {
		var p page
		if _, err := n.Do(ctx, http.MethodGet, next, qq, nil, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		next, qq = "", nil
		if p.Next != nil && *p.Next != "" {
			// keep the path and query, but talk to our base URL
			if u, err := url.Parse(*p.Next); err == nil {
				next = u.Path
				qq = u.Query()
			}
		}
	}
	return out, nil
}

// Count returns the count of path matching q.
func (n *NetBox) Count(ctx context.Context, path string, q url.Values) (int, error) {
	qq := url.Values{}
	for k, v := range q {
		qq[k] = v
	}
	qq.Set("limit", "1")
	qq.Set("brief", "1")
	var p page
	if _, err := n.Do(ctx, http.MethodGet, path, qq, nil, &p); err != nil {
		return 0, err
	}
	return p.Count, nil
}

// Exists reports whether GET path answers 200.
func (n *NetBox) Exists(ctx context.Context, path string) bool {
	st, err := n.Do(ctx, http.MethodGet, path, url.Values{"limit": {"1"}}, nil, nil)
	return err == nil && st == http.StatusOK
}

// LoopbackIP returns the id of the ipam IP address 127.0.0.1/32, creating it.
// The plugin's endpoint records take DNS names only in "domain"; an address
// is a reference to an ipam IP address, which is how a user records a
// Proxmox or backend reachable by address.
func (n *NetBox) LoopbackIP(ctx context.Context) (int, error) {
	rows, err := n.List(ctx, "/api/ipam/ip-addresses/", url.Values{"address": {"127.0.0.1/32"}})
	if err != nil {
		return 0, err
	}
	if len(rows) > 0 {
		return asInt(rows[0]["id"]), nil
	}
	var ip map[string]any
	if _, err := n.Do(ctx, http.MethodPost, "/api/ipam/ip-addresses/", nil, map[string]any{
		"address": "127.0.0.1/32", "status": "active", "description": "proxbox e2e: loopback backend address",
	}, &ip); err != nil {
		return 0, fmt.Errorf("creating 127.0.0.1/32: %w", err)
	}
	return asInt(ip["id"]), nil
}

// Version is NetBox's version from /api/status/.
func (n *NetBox) Version(ctx context.Context) (netbox string, plugins map[string]string, err error) {
	var st struct {
		NetBoxVersion string         `json:"netbox-version"`
		Plugins       map[string]any `json:"plugins"`
	}
	if _, err := n.Do(ctx, http.MethodGet, "/api/status/", nil, nil, &st); err != nil {
		return "", nil, err
	}
	plugins = map[string]string{}
	for k, v := range st.Plugins {
		plugins[k] = fmt.Sprint(v)
	}
	return st.NetBoxVersion, plugins, nil
}

// PluginInstalled reports whether the netbox-proxbox plugin's API answers.
func (n *NetBox) PluginInstalled(ctx context.Context) bool {
	return n.Exists(ctx, "/api/plugins/proxbox/storage/")
}

// ChangelogPath is the object-changes list of this NetBox (core/ since 4.1).
func (n *NetBox) ChangelogPath(ctx context.Context) string {
	if n.Exists(ctx, "/api/core/object-changes/") {
		return "/api/core/object-changes/"
	}
	return "/api/extras/object-changes/"
}

// ChangeMark is the id of the newest changelog entry (0 when empty).
func (n *NetBox) ChangeMark(ctx context.Context) (int, error) {
	var p page
	if _, err := n.Do(ctx, http.MethodGet, n.ChangelogPath(ctx), url.Values{"limit": {"1"}, "ordering": {"-id"}}, nil, &p); err != nil {
		return 0, err
	}
	if len(p.Results) == 0 {
		return 0, nil
	}
	return asInt(p.Results[0]["id"]), nil
}

// ChangesSince lists changelog entries with id > mark, summarised as
// "action object_type" -> count.
func (n *NetBox) ChangesSince(ctx context.Context, mark int) (int, map[string]int, error) {
	rows, err := n.List(ctx, n.ChangelogPath(ctx), url.Values{"id__gt": {fmt.Sprint(mark)}})
	if err != nil {
		return 0, nil, err
	}
	sum := map[string]int{}
	for _, r := range rows {
		if asInt(r["id"]) <= mark { // the filter was ignored
			continue
		}
		sum[fmt.Sprintf("%v %v", label(r["action"]), r["changed_object_type"])]++
	}
	total := 0
	for _, v := range sum {
		total += v
	}
	return total, sum, nil
}

func label(v any) any {
	if m, ok := v.(map[string]any); ok {
		if x, ok := m["value"]; ok {
			return x
		}
	}
	return v
}

func asInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	case map[string]any:
		return asInt(x["id"])
	}
	return 0
}

func cf(o map[string]any, name string) any {
	if m, ok := o["custom_fields"].(map[string]any); ok {
		return m[name]
	}
	return nil
}

// Inventory is what a sync left in NetBox for one cluster.
type Inventory struct {
	Cluster        string         `json:"cluster"`
	ClusterID      int            `json:"cluster_id"`
	Clusters       int            `json:"clusters"` // clusters with that name
	Devices        int            `json:"devices"`
	VMs            int            `json:"vms"`
	VMsByType      map[string]int `json:"vms_by_type"`
	VMInterfaces   int            `json:"vm_interfaces"`
	NodeInterfaces int            `json:"node_interfaces"`
	VMIPs          int            `json:"vm_ips"`
	NodeIPs        int            `json:"node_ips"`
	Disks          int            `json:"disks"`
	Tag            bool           `json:"tag_proxbox"`
	CustomFields   []string       `json:"custom_fields"` // the proxbox ones present
	Plugin         map[string]int `json:"plugin,omitempty"`
	Orphaned       int            `json:"orphaned"` // VMs/devices marked orphan (tag proxbox-orphan)
	Offline        int            `json:"offline_vms"`
	Duplicates     []string       `json:"duplicates"`
}

// Take reads the inventory of cluster (its devices are nodes).
func (n *NetBox) Take(ctx context.Context, cluster string, nodes []string) (*Inventory, error) {
	inv := &Inventory{Cluster: cluster, VMsByType: map[string]int{}}
	inv.Tag = countOK(n.Count(ctx, "/api/extras/tags/", url.Values{"slug": {"proxbox"}}))
	cfs, err := n.List(ctx, "/api/extras/custom-fields/", nil)
	if err != nil {
		return nil, err
	}
	for _, c := range cfs {
		switch name, _ := c["name"].(string); name {
		case "proxmox_vm_id", "proxmox_vm_type", "proxmox_node", "proxbox_storage_id":
			inv.CustomFields = append(inv.CustomFields, name)
		}
	}
	sort.Strings(inv.CustomFields)
	clusters, err := n.List(ctx, "/api/virtualization/clusters/", url.Values{"name": {cluster}})
	if err != nil {
		return nil, err
	}
	inv.Clusters = len(clusters)
	if len(clusters) > 1 {
		inv.Duplicates = append(inv.Duplicates, fmt.Sprintf("cluster %q x%d", cluster, len(clusters)))
	}
	// devices: the nodes, by name
	devs, err := n.List(ctx, "/api/dcim/devices/", url.Values{"name": nodes})
	if err != nil {
		return nil, err
	}
	inv.Devices = len(devs)
	inv.Duplicates = append(inv.Duplicates, dups("device", devs, func(o map[string]any) string { return fmt.Sprint(o["name"]) })...)
	devIDs := map[int]bool{}
	for _, d := range devs {
		devIDs[asInt(d["id"])] = true
		inv.Orphaned += orphanTagged(d)
	}
	if len(devs) > 0 {
		ids := make([]string, 0, len(devs))
		for id := range devIDs {
			ids = append(ids, fmt.Sprint(id))
		}
		ifs, err := n.List(ctx, "/api/dcim/interfaces/", url.Values{"device_id": ids, "fields": {"id,name,device"}})
		if err != nil {
			return nil, err
		}
		inv.NodeInterfaces = len(ifs)
		inv.Duplicates = append(inv.Duplicates, dups("node interface", ifs, func(o map[string]any) string {
			return fmt.Sprintf("%d/%v", asInt(o["device"]), o["name"])
		})...)
	}
	if len(clusters) == 0 {
		return inv, nil
	}
	inv.ClusterID = asInt(clusters[0]["id"])
	cid := fmt.Sprint(inv.ClusterID)
	vms, err := n.List(ctx, "/api/virtualization/virtual-machines/", url.Values{"cluster_id": {cid}})
	if err != nil {
		return nil, err
	}
	inv.VMs = len(vms)
	vmIDs := map[int]bool{}
	for _, v := range vms {
		vmIDs[asInt(v["id"])] = true
		inv.VMsByType[fmt.Sprint(cf(v, "proxmox_vm_type"))]++
		inv.Orphaned += orphanTagged(v)
		if st, _ := label(v["status"]).(string); st == "offline" {
			inv.Offline++
		}
	}
	inv.Duplicates = append(inv.Duplicates, dups("vm (vmid,type)", vms, func(o map[string]any) string {
		return fmt.Sprintf("%v/%v", cf(o, "proxmox_vm_id"), cf(o, "proxmox_vm_type"))
	})...)
	inv.Duplicates = append(inv.Duplicates, dups("vm name", vms, func(o map[string]any) string { return fmt.Sprint(o["name"]) })...)
	vmIDList := make([]string, 0, len(vmIDs))
	for id := range vmIDs {
		vmIDList = append(vmIDList, fmt.Sprint(id))
	}
	sort.Strings(vmIDList)
	var vifs []map[string]any
	for i := 0; i < len(vmIDList); i += 100 {
		part, err := n.List(ctx, "/api/virtualization/interfaces/", url.Values{"virtual_machine_id": vmIDList[i:min(i+100, len(vmIDList))], "fields": {"id,name,virtual_machine"}})
		if err != nil {
			return nil, err
		}
		vifs = append(vifs, part...)
	}
	inv.VMInterfaces = len(vifs)
	inv.Duplicates = append(inv.Duplicates, dups("vm interface", vifs, func(o map[string]any) string {
		return fmt.Sprintf("%d/%v", asInt(o["virtual_machine"]), o["name"])
	})...)
	vifIDs := map[int]bool{}
	for _, i := range vifs {
		vifIDs[asInt(i["id"])] = true
	}
	disks, err := n.List(ctx, "/api/virtualization/virtual-disks/", url.Values{"fields": {"id,name,virtual_machine"}})
	if err != nil {
		return nil, err
	}
	var mine []map[string]any
	for _, d := range disks {
		if vmIDs[asInt(d["virtual_machine"])] {
			mine = append(mine, d)
		}
	}
	inv.Disks = len(mine)
	inv.Duplicates = append(inv.Duplicates, dups("disk", mine, func(o map[string]any) string {
		return fmt.Sprintf("%d/%v", asInt(o["virtual_machine"]), o["name"])
	})...)
	ips, err := n.List(ctx, "/api/ipam/ip-addresses/", url.Values{"fields": {"id,address,vrf,assigned_object_type,assigned_object_id"}})
	if err != nil {
		return nil, err
	}
	var vmIPs []map[string]any
	for _, ip := range ips {
		id := asInt(ip["assigned_object_id"])
		switch ip["assigned_object_type"] {
		case "virtualization.vminterface":
			if vifIDs[id] {
				inv.VMIPs++
				vmIPs = append(vmIPs, ip)
			}
		case "dcim.interface":
			inv.NodeIPs++ // any node: node IPs are few
		}
	}
	inv.Duplicates = append(inv.Duplicates, dups("ip (address,vrf)", vmIPs, func(o map[string]any) string {
		return fmt.Sprintf("%v/%d", o["address"], asInt(o["vrf"]))
	})...)
	if n.PluginInstalled(ctx) {
		inv.Plugin = map[string]int{}
		for _, p := range []struct{ name, key string }{
			{"storage", "cluster,name"}, {"backups", "volume_id"}, {"snapshots", "vmid,name,node"},
			{"task-history", "upid"}, {"replications", "replication_id"}, {"backup-routines", "job_id"},
		} {
			rows, err := n.List(ctx, "/api/plugins/proxbox/"+p.name+"/", nil)
			if err != nil {
				continue
			}
			inv.Plugin[p.name] = len(rows)
			keys := strings.Split(p.key, ",")
			inv.Duplicates = append(inv.Duplicates, dups("plugin "+p.name, rows, func(o map[string]any) string {
				parts := make([]string, len(keys))
				for i, k := range keys {
					if m, ok := o[k].(map[string]any); ok {
						parts[i] = fmt.Sprint(m["id"])
					} else {
						parts[i] = fmt.Sprint(o[k])
					}
				}
				return strings.Join(parts, "/")
			})...)
		}
	}
	return inv, nil
}

func countOK(n int, err error) bool { return err == nil && n > 0 }

func orphanTagged(o map[string]any) int {
	tags, _ := o["tags"].([]any)
	for _, t := range tags {
		if m, ok := t.(map[string]any); ok && (m["slug"] == "proxbox-orphan" || m["name"] == "proxbox-orphan") {
			return 1
		}
	}
	return 0
}

func dups(kind string, rows []map[string]any, key func(map[string]any) string) []string {
	seen := map[string]int{}
	for _, r := range rows {
		seen[key(r)]++
	}
	var out []string
	for k, c := range seen {
		if c > 1 {
			out = append(out, fmt.Sprintf("%s %s x%d", kind, k, c))
		}
	}
	sort.Strings(out)
	return out
}

// Cleanup deletes what a sync of cluster created (and the plugin's records),
// so each test starts from an empty NetBox. Only for the loopback dev NetBox.
func (n *NetBox) Cleanup(ctx context.Context, cluster string, nodes []string) error {
	if !strings.HasPrefix(n.URL, "http://127.0.0.1") && !strings.HasPrefix(n.URL, "http://localhost") && !strings.HasPrefix(n.URL, "https://127.0.0.1") {
		return fmt.Errorf("harness: refusing to clean a non-loopback NetBox %s", n.URL)
	}
	del := func(path string, q url.Values) error {
		rows, err := n.List(ctx, path, q)
		if err != nil {
			return err
		}
		for len(rows) > 0 {
			k := min(len(rows), 50) // a bulk DELETE of 200 VMs outlasts 120 s on a loaded real NetBox
			body := make([]map[string]int, 0, k)
			for _, r := range rows[:k] {
				body = append(body, map[string]int{"id": asInt(r["id"])})
			}
			if _, err := n.Do(ctx, http.MethodDelete, path, nil, body, nil); err != nil {
				return err
			}
			rows = rows[k:]
		}
		return nil
	}
	if n.PluginInstalled(ctx) {
		for _, p := range []string{"backups", "snapshots", "task-history", "replications", "backup-routines", "storage"} {
			if err := del("/api/plugins/proxbox/"+p+"/", url.Values{"fields": {"id"}}); err != nil {
				return err
			}
		}
	}
	var clusters []map[string]any
	if cluster != "" {
		var err error
		if clusters, err = n.List(ctx, "/api/virtualization/clusters/", url.Values{"name": {cluster}}); err != nil {
			return err
		}
	}
	for _, c := range clusters {
		cid := fmt.Sprint(asInt(c["id"]))
		vifs, err := n.List(ctx, "/api/virtualization/interfaces/", url.Values{"cluster_id": {cid}, "fields": {"id"}})
		if err != nil {
			return err
		}
		if len(vifs) > 0 {
			ids := make([]string, 0, len(vifs))
			for _, v := range vifs {
				ids = append(ids, fmt.Sprint(asInt(v["id"])))
			}
			for len(ids) > 0 {
				k := min(len(ids), 100)
				if err := del("/api/ipam/ip-addresses/", url.Values{"vminterface_id": ids[:k], "fields": {"id"}}); err != nil {
					return err
				}
				ids = ids[k:]
			}
		}
		if err := del("/api/virtualization/virtual-machines/", url.Values{"cluster_id": {cid}, "fields": {"id"}}); err != nil {
			return err
		}
	}
	if len(nodes) > 0 {
		devs, err := n.List(ctx, "/api/dcim/devices/", url.Values{"name": nodes, "fields": {"id"}})
		if err != nil {
			return err
		}
		for _, d := range devs {
			if err := del("/api/ipam/ip-addresses/", url.Values{"device_id": {fmt.Sprint(asInt(d["id"]))}, "fields": {"id"}}); err != nil {
				return err
			}
		}
		if err := del("/api/dcim/devices/", url.Values{"name": nodes, "fields": {"id"}}); err != nil {
			return err
		}
	}
	if cluster == "" {
		return nil
	}
	return del("/api/virtualization/clusters/", url.Values{"name": {cluster}, "fields": {"id"}})
}

// TestClusters are the cluster names the e2e tests and benchmarks create.
var TestClusters = []string{"lab", "prod", "dc1"}

// CleanAll removes every test cluster (the scenarios' and "e2e-*") with its
// objects, and the node devices pve1…pve10, so a run starts from an empty
// NetBox whatever ran before (scenarios share node names).
func (n *NetBox) CleanAll(ctx context.Context) error {
	clusters, err := n.List(ctx, "/api/virtualization/clusters/", url.Values{"fields": {"id,name"}})
	if err != nil {
		return err
	}
	nodes := make([]string, 10)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("pve%d", i+1)
	}
	for _, c := range clusters {
		name, _ := c["name"].(string)
		if strings.HasPrefix(name, "e2e-") || slices.Contains(TestClusters, name) {
			if err := n.Cleanup(ctx, name, nil); err != nil {
				return err
			}
		}
	}
	return n.Cleanup(ctx, "", nodes)
}
