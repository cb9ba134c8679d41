package pvemock

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// call is one matched request.
type call struct {
	req  *proxmoxsdk.Request
	segs []string
	vars map[string]string
}

func (c *call) str(k string) string { return c.vars[k] }
func (c *call) vmid() int           { n, _ := strconv.Atoi(c.vars["vmid"]); return n }
func (c *call) param(k string) string {
	if c.req.Params == nil {
		return ""
	}
	return c.req.Params.Get(k)
}

type handler func(m *Mock, c *call) *proxmoxsdk.Response

type route struct {
	method string
	tmpl   string
	segs   []string
	h      handler
	// exclusive handlers mutate state (writes, task polling).
	exclusive bool
	nocache   bool
}

func splitTmpl(t string) []string { return strings.Split(strings.Trim(t, "/"), "/") }

// match fills vars when segs fits the template.
func match(tmpl, segs []string) (map[string]string, bool) {
	if len(tmpl) != len(segs) {
		return nil, false
	}
	var vars map[string]string
	for i, t := range tmpl {
		if len(t) > 1 && t[0] == '{' && t[len(t)-1] == '}' {
			if segs[i] == "" {
				return nil, false
			}
			if vars == nil {
				vars = make(map[string]string, 4)
			}
			vars[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

var routes []*route

func reg(method, tmpl string, h handler, flags ...string) {
	r := &route{method: method, tmpl: tmpl, segs: splitTmpl(tmpl), h: h}
	for _, f := range flags {
		switch f {
		case "exclusive":
			r.exclusive, r.nocache = true, true
		case "nocache":
			r.nocache = true
		}
	}
	routes = append(routes, r)
}

// route dispatches: stateful routes first, then the schema operations,
// then 501 like pveproxy.
func (m *Mock) route(req *proxmoxsdk.Request, segs []string) *proxmoxsdk.Response {
	for _, r := range routes {
		if r.method != req.Method {
			continue
		}
		vars, ok := match(r.segs, segs)
		if !ok {
			continue
		}
		m.count(req.Method + " " + r.tmpl)
		c := &call{req: req, segs: segs, vars: vars}
		return m.run(c, r.h, r.exclusive, req.Method == http.MethodGet && !r.nocache)
	}
	if op, vars, ok := m.ops.find(req.Method, segs, m.sc.Version); ok {
		m.count(req.Method + " " + op.Path)
		c := &call{req: req, segs: segs, vars: vars}
		write := req.Method != http.MethodGet
		return m.run(c, func(m *Mock, c *call) *proxmoxsdk.Response { return m.generic(op, c) }, write, !write)
	}
	m.count(req.Method + " " + req.Path)
	return errResp(http.StatusNotImplemented, "Method '"+req.Method+" /api2/json"+req.Path+"' not implemented", nil)
}

func (m *Mock) run(c *call, h handler, exclusive, cacheable bool) *proxmoxsdk.Response {
	if exclusive {
		m.mu.Lock()
		defer m.mu.Unlock()
	} else {
		m.mu.RLock()
		defer m.mu.RUnlock()
	}
	if resp := m.checkVars(c); resp != nil {
		return resp
	}
	if !cacheable {
		return h(m, c)
	}
	key := c.req.Path + "?" + c.req.Params.Encode()
	m.cacheMu.Lock()
	if m.cacheV != m.version {
		clear(m.cache)
		m.cacheV = m.version
	}
	e, ok := m.cache[key]
	m.cacheMu.Unlock()
	if ok {
		// A copy: callers may keep or modify the body.
		return &proxmoxsdk.Response{StatusCode: e.status, Body: append([]byte(nil), e.body...), Header: http.Header{}}
	}
	resp := h(m, c)
	if resp.StatusCode == http.StatusOK {
		m.cacheMu.Lock()
		if m.cacheV == m.version && len(m.cache) < 100000 {
			m.cache[key] = cached{status: resp.StatusCode, body: append([]byte(nil), resp.Body...)}
		}
		m.cacheMu.Unlock()
	}
	return resp
}

// checkVars answers like PVE for unknown or unreachable nodes and unknown
// guests.
func (m *Mock) checkVars(c *call) *proxmoxsdk.Response {
	name, ok := c.vars["node"]
	if !ok {
		return nil
	}
	n := m.node(name)
	if n == nil {
		return errResp(http.StatusInternalServerError, "no such cluster node '"+name+"'", nil)
	}
	if n.down {
		return errResp(595, "Connection refused", nil)
	}
	if _, ok := c.vars["vmid"]; !ok || len(c.segs) < 4 {
		return nil
	}
	kind := c.segs[2]
	if kind != "qemu" && kind != "lxc" {
		return nil
	}
	if c.req.Method == http.MethodPost && len(c.segs) == 3 {
		return nil
	}
	g := m.guests[c.vmid()]
	if g == nil || g.node != name || g.kind != kind {
		dir := "qemu-server"
		if kind == "lxc" {
			dir = "lxc"
		}
		return notExist("Configuration file 'nodes/%s/%s/%s.conf' does not exist", name, dir, c.vars["vmid"])
	}
	return nil
}

func (m *Mock) node(name string) *node {
	for _, n := range m.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}
