package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
	"github.com/proxbox-go/proxbox/proxboxd/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// session is what proxboxd knows about one opened Proxmox endpoint.
type session struct {
	t       proxbox.ProxmoxTarget
	px      *pve.Reader
	Name    string           // pve.Identity: cluster name, or the first node's name
	Mode    string           // pve.Identity: cluster, standalone or restricted
	Nodes   int              // nodes listed
	Status  []map[string]any // PVE /cluster/status records as sent (none when restricted)
	Version map[string]any   // /version as PVE sent it (nil when not read)
	err     error
	at      time.Time
}

type sessionCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[int]*session
}

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, m: map[int]*session{}}
}

func (c *sessionCache) clear() {
	c.mu.Lock()
	c.m = map[int]*session{}
	c.mu.Unlock()
}

func (c *sessionCache) get(id int) (*session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	if !ok || time.Since(s.at) > c.ttl {
		return nil, false
	}
	return s, true
}

func (c *sessionCache) put(s *session) {
	c.mu.Lock()
	c.m[s.t.Endpoint.ID] = s
	c.mu.Unlock()
}

// open reads the identity (pve.Reader.Identify: /cluster/status, or /nodes
// for a token that may not read it) and /version of a target, cached for a
// TTL.
func (s *Server) open(ctx context.Context, t proxbox.ProxmoxTarget) *session {
	if ss, ok := s.sess.get(t.Endpoint.ID); ok && ss.t.Client == t.Client {
		return ss
	}
	ss := &session{t: t, px: pve.NewReader(t.Client), at: time.Now()}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	id, err := ss.px.Identify(cctx)
	if err != nil {
		ss.err = err
		ss.at = time.Now().Add(-s.sess.ttl + 5*time.Second) // retry failures sooner
		s.sess.put(ss)
		return ss
	}
	ss.Name, ss.Mode, ss.Nodes = id.Name, id.Mode, len(id.Nodes)
	if ss.Status, err = pve.Records(id.StatusRaw); err != nil {
		ss.err = err
		ss.at = time.Now().Add(-s.sess.ttl + 5*time.Second)
		s.sess.put(ss)
		return ss
	}
	if ver, err := ss.px.Version(cctx); err == nil {
		if b, err := json.Marshal(ver); err == nil { // the model keeps every key PVE sent
			ss.Version = pve.Object(b)
		}
	}
	s.sess.put(ss)
	return ss
}

// selectTargets applies the session selectors (name, domain, ip_address;
// exact match). source=netbox is accepted and treated like database.
func (s *Server) selectTargets(c echo.Context) ([]proxbox.ProxmoxTarget, error) {
	q := c.QueryParams()
	ctx := c.Request().Context()
	ids, err := contract.ParseIntList(q["proxmox_endpoint_ids"])
	if err != nil {
		return nil, fail(c, http.StatusBadRequest, "proxmox_endpoint_ids: "+err.Error())
	}
	ts, err := s.d.Connector.Proxmox(ctx, ids)
	if errors.Is(err, connector.ErrNoProxmox) {
		return nil, fail(c, http.StatusNotFound, "No Proxmox endpoints configured.")
	}
	if err != nil {
		s.log.Warn("opening Proxmox endpoints failed", "error", err.Error())
		return nil, fail(c, http.StatusBadGateway, "cannot open Proxmox endpoints: "+err.Error())
	}
	for _, f := range []string{"name", "domain", "ip_address"} {
		v, ok := q[f]
		if !ok || len(v) == 0 {
			continue
		}
		want := v[0]
		var keep []proxbox.ProxmoxTarget
		for _, t := range ts {
			var have string
			switch f {
			case "name":
				have = t.Endpoint.Name
			case "domain":
				have = t.Endpoint.Domain
			case "ip_address":
				have = connector.HostOf(t.Endpoint.IPAddress)
				if t.Endpoint.IPAddress == want {
					have = want
				}
			}
			if have == want {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			return nil, fail(c, http.StatusBadRequest, "No result found for Proxmox Sessions based on the provided "+f)
		}
		ts = keep
	}
	return ts, nil
}

// sessions opens every selected target in parallel; unreachable ones are
// skipped (the Python backend failed the whole request, QUIRK fixed) unless
// all fail, which is a 502.
func (s *Server) sessions(c echo.Context) ([]*session, error) {
	ts, err := s.selectTargets(c)
	if err != nil {
		return nil, err
	}
	out := make([]*session, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = s.open(c.Request().Context(), t) }()
	}
	wg.Wait()
	var ok []*session
	var errs []string
	for _, ss := range out {
		if ss.err != nil {
			errs = append(errs, ss.t.Endpoint.Name+": "+ss.err.Error())
			continue
		}
		ok = append(ok, ss)
	}
	if len(ok) == 0 {
		return nil, fail(c, http.StatusBadGateway, "Proxmox unreachable: "+strings.Join(errs, "; "))
	}
	return ok, nil
}

// GET /proxmox/version -> [{"<session name>": {version, release, repoid}}]
func (s *Server) proxmoxVersion(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range ss {
		v := x.Version
		if v == nil {
			v = map[string]any{}
		}
		out = append(out, map[string]any{x.Name: v})
	}
	return c.JSON(http.StatusOK, out)
}

// GET /proxmox/sessions
func (s *Server) proxmoxSessions(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range ss {
		e := x.t.Endpoint
		var dom any
		if e.Domain != "" {
			dom = e.Domain
		}
		ver, _ := x.Version["version"].(string)
		rel, _ := x.Version["release"].(string)
		out = append(out, map[string]any{
			"name": x.Name, "mode": x.Mode, "ip_address": connector.HostOf(e.IPAddress), "domain": dom,
			"http_port": e.Port, "user": e.Username, "endpoint_id": e.ID, "endpoint_name": e.Name,
			"proxmox_version": ver, "schema_release": rel, "schema_status": "bundled",
		})
	}
	return c.JSON(http.StatusOK, out)
}

// GET /proxmox/cluster/status -> flat PVE records (works with plugin
// b3c09da1 and HEAD); a standalone node gets a synthesised cluster record
// named like the node, with mode "standalone".
func (s *Server) clusterStatus(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range ss {
		hasCluster := false
		for _, r := range x.Status {
			if r["type"] == "cluster" {
				hasCluster = true
			}
		}
		if !hasCluster {
			out = append(out, map[string]any{"type": "cluster", "id": "cluster", "name": x.Name, "nodes": max(x.Nodes, 1), "quorate": 1, "version": 1, "mode": x.Mode})
		}
		for _, r := range x.Status {
			rec := make(map[string]any, len(r)+1)
			for k, v := range r {
				rec[k] = v
			}
			if r["type"] == "cluster" {
				rec["mode"] = x.Mode
			}
			out = append(out, rec)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// GET /proxmox/cluster/resources -> [{"<cluster>": [resource…]}]; a
// resource id seen in an earlier session is dropped.
func (s *Server) clusterResources(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	typ := c.QueryParam("type")
	if typ != "" {
		switch typ {
		case "vm", "storage", "node", "sdn":
		default:
			return jsonError(c, http.StatusUnprocessableEntity, "type must be vm, storage, node or sdn")
		}
	}
	seen := map[string]bool{}
	out := []map[string]any{}
	for _, x := range ss {
		raw, err := x.px.ResourcesRaw(c.Request().Context(), typ)
		var res []map[string]any
		if err == nil {
			res, err = pve.Records(raw)
		}
		if err != nil {
			s.log.Warn("cluster resources failed", "endpoint", x.t.Endpoint.Name, "error", err.Error())
			continue
		}
		keep := make([]map[string]any, 0, len(res))
		for _, r := range res {
			id, _ := r["id"].(string)
			if id != "" && seen[id] {
				continue
			}
			seen[id] = true
			keep = append(keep, r)
		}
		out = append(out, map[string]any{x.Name: keep})
	}
	return c.JSON(http.StatusOK, out)
}

// GET /proxmox/nodes/ -> a flat list of every node's metrics (the Python
// backend returned only the first node per session, QUIRK fixed).
func (s *Server) proxmoxNodes(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range ss {
		raw, err := x.px.NodesRaw(c.Request().Context())
		var nodes []map[string]any
		if err == nil {
			nodes, err = pve.Records(raw)
		}
		if err != nil {
			s.log.Warn("node list failed", "endpoint", x.t.Endpoint.Name, "error", err.Error())
			continue
		}
		sort.Slice(nodes, func(i, j int) bool { return fmt.Sprint(nodes[i]["node"]) < fmt.Sprint(nodes[j]["node"]) })
		for _, n := range nodes {
			n["cluster"] = x.Name
			out = append(out, n)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// GET /proxmox/storage -> [{"<cluster>": [storage…]}] with usage summed from
// /cluster/resources.
func (s *Server) proxmoxStorage(c echo.Context) error {
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out := []map[string]any{}
	for _, x := range ss {
		cfg, err := x.px.Storages(ctx)
		if err != nil {
			s.log.Warn("storage list failed", "endpoint", x.t.Endpoint.Name, "error", err.Error())
			continue
		}
		res, _ := x.px.Resources(ctx, "storage")
		type usage struct{ total, used float64 }
		use := map[string]*usage{}
		for _, r := range res {
			name := r.Storage.Get()
			u := use[name]
			if u == nil {
				u = &usage{}
				use[name] = u
			}
			if r.Shared.Get() && u.total > 0 {
				continue
			}
			u.total += float64(r.Maxdisk.Get())
			u.used += float64(r.Disk.Get())
		}
		items := make([]map[string]any, 0, len(cfg))
		for _, st := range cfg {
			name := st.Storage.Get()
			rec := pve.Object(st.Raw)
			if rec == nil {
				rec = map[string]any{}
			}
			rec["name"] = name
			rec["cluster"] = x.Name
			rec["enabled"] = !st.Disable.Get()
			rec["shared"] = st.Shared.Get()
			if u := use[name]; u != nil {
				rec["total"], rec["used"], rec["avail"] = u.total, u.used, u.total-u.used
			}
			items = append(items, rec)
		}
		out = append(out, map[string]any{x.Name: items})
	}
	return c.JSON(http.StatusOK, out)
}

var segRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func validSeg(v string) bool { return segRe.MatchString(v) && !strings.Contains(v, "..") }

// GET /proxmox/nodes/{node}/storage/{storage}/content
func (s *Server) storageContent(c echo.Context) error {
	node, storage := c.Param("node"), c.Param("storage")
	if !validSeg(node) || !validSeg(storage) {
		return jsonError(c, http.StatusBadRequest, "invalid node or storage name")
	}
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	vmid := 0
	if v := c.QueryParam("vmid"); v != "" {
		if vmid, err = strconv.Atoi(v); err != nil || vmid <= 0 {
			return jsonError(c, http.StatusBadRequest, "invalid vmid")
		}
	}
	for _, x := range ss {
		raw, err := x.px.StorageContentRaw(c.Request().Context(), node, storage, c.QueryParam("content"), vmid)
		if err != nil {
			continue
		}
		items, err := pve.Records(raw)
		if err != nil {
			continue
		}
		return c.JSON(http.StatusOK, items)
	}
	return jsonError(c, http.StatusNotFound, "Node or Storage not found")
}

// GET /proxmox/{node}/{type}/{vmid}/config
func (s *Server) vmConfig(c echo.Context) error {
	node, typ := c.Param("node"), c.Param("type")
	if typ != pve.TypeQemu && typ != pve.TypeLXC {
		return jsonError(c, http.StatusBadRequest, "type must be qemu or lxc")
	}
	vmid, ok := parseVMID(c.Param("vmid"))
	if !validSeg(node) || !ok {
		return jsonError(c, http.StatusBadRequest, "invalid node or vmid")
	}
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	for _, x := range ss {
		raw, err := x.px.ConfigRaw(c.Request().Context(), node, typ, vmid)
		if err != nil {
			continue
		}
		cfg := pve.Object(raw)
		if cfg == nil {
			continue
		}
		for k, v := range cfg {
			if v == nil {
				delete(cfg, k)
			}
		}
		return c.JSON(http.StatusOK, cfg)
	}
	return jsonError(c, http.StatusBadRequest, "VM Config not found.")
}

// GET /proxmox/nodes/{node}/qemu/{vmid}/firewall (HEAD plugin; optional).
func (s *Server) vmFirewall(c echo.Context) error {
	node := c.Param("node")
	vmid, ok := parseVMID(c.Param("vmid"))
	if !validSeg(node) || !ok {
		return jsonError(c, http.StatusBadRequest, "invalid node or vmid")
	}
	ss, err := s.sessions(c)
	if err != nil {
		return err
	}
	for _, x := range ss {
		ctx := c.Request().Context()
		raw, err := x.px.QemuFirewallRulesRaw(ctx, node, vmid)
		if err != nil {
			continue
		}
		rules, err := pve.Records(raw)
		if err != nil {
			continue
		}
		var opts map[string]any
		if raw, err := x.px.QemuFirewallOptionsRaw(ctx, node, vmid); err == nil {
			opts = pve.Object(raw)
		}
		return c.JSON(http.StatusOK, map[string]any{"rules": rules, "options": opts})
	}
	return jsonError(c, http.StatusNotFound, "VM firewall not found")
}

var vmidRe = regexp.MustCompile(`^\d{1,10}$`)

// parseVMID reads a VMID path parameter (1 to 10 digits).
func parseVMID(v string) (int, bool) {
	if !vmidRe.MatchString(v) {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0
}

var api2Seg = regexp.MustCompile(`^[A-Za-z0-9._:@!+=-]{1,256}$`)

// ANY /proxmox/api2/* passes through to the selected endpoint. Reads only,
// unless allow_writes is on (the Python backend proxied writes for any key
// holder, QUIRK fixed). The path is validated segment by segment: no "..",
// no empty segments, no encoded slashes.
func (s *Server) api2(c echo.Context) error {
	method := c.Request().Method
	if method != http.MethodGet && !s.cfg.AllowWrites {
		return jsonError(c, http.StatusForbidden, "Proxmox writes are disabled (allow_writes is off)")
	}
	raw := c.Request().URL.EscapedPath()
	rest := strings.TrimPrefix(raw, "/proxmox/api2")
	rest = strings.TrimPrefix(rest, "/")
	if strings.Contains(rest, "%") {
		return jsonError(c, http.StatusBadRequest, "encoded characters are not allowed in the Proxmox path")
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(segs) > 0 && strings.HasPrefix(segs[0], "json") { // /proxmox/api2/json/... alias
		segs = segs[1:]
	}
	if len(segs) == 0 || segs[0] == "" || len(segs) > 16 {
		return jsonError(c, http.StatusBadRequest, "a Proxmox API path is required")
	}
	for _, sg := range segs {
		if sg == "." || sg == ".." || !api2Seg.MatchString(sg) {
			return jsonError(c, http.StatusBadRequest, "invalid Proxmox API path")
		}
	}
	if segs[0] == "access" && len(segs) > 1 && (segs[1] == "ticket" || segs[1] == "users" || segs[1] == "password") && method != http.MethodGet {
		return jsonError(c, http.StatusForbidden, "credential routes are not proxied")
	}
	ts, err := s.selectTargets(c)
	if err != nil {
		return err
	}
	if len(ts) > 1 {
		return jsonError(c, http.StatusBadRequest, "several Proxmox endpoints: select one with name, domain or ip_address")
	}
	params := url.Values{}
	for k, v := range c.QueryParams() {
		switch k {
		case "name", "domain", "ip_address", "source", "port", "endpoint_ids":
			continue
		}
		params[k] = v
	}
	if method != http.MethodGet {
		var body map[string]any
		if c.Request().ContentLength > 0 {
			if err := decodeJSON(c, &body); err != nil {
				return err
			}
		}
		for k, v := range body {
			params.Set(k, fmt.Sprint(v))
		}
	}
	// Deliberately not a navigator call: this route forwards a method and
	// a path the caller chose (checked segment by segment above), so there
	// is no navigator node to name and no model to decode into, and PVE's
	// data goes back as it came. The reads proxboxd makes on its own go
	// through proxboxd/pve.
	data, err := ts[0].Client.CallRaw(c.Request().Context(), method, "/"+strings.Join(segs, "/"), params)
	if err != nil {
		var ae *proxmoxsdk.APIError
		if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 {
			return jsonError(c, ae.StatusCode, ae.Message)
		}
		return jsonError(c, http.StatusBadGateway, "Proxmox request failed: "+err.Error())
	}
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return c.JSONBlob(http.StatusOK, data)
}
