// Package pvemock is an in-memory Proxmox VE: a deterministic cluster
// generated from a Scenario, stateful for what a sync reads (nodes, guests
// and their config, storage and backups, snapshots, node network, cluster
// status and resources, replication and backup jobs, tasks, guest agent),
// and answering every other GET of the schema with data generated from its
// return schema. Serve it in-process (Transport) or over HTTP(S) (Handler).
package pvemock

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Mock is an in-memory PVE cluster. It is safe for concurrent use.
type Mock struct {
	sc      Scenario
	authKey []byte

	mu        sync.RWMutex
	nodes     []*node
	guests    map[int]*guest
	backups   []backup
	tasks     map[string][]*task // per node, newest first
	taskByID  map[string]*task
	storages  []map[string]any
	repl      []map[string]any
	backupJob []map[string]any
	version   uint64 // bumped on every mutation
	pidNext   int64

	tokens map[string]tokenInfo // "user@realm!name" -> secret

	counts sync.Map // "GET /path/{tmpl}" -> *atomic.Int64

	cacheMu sync.Mutex
	cache   map[string]cached
	cacheV  uint64

	ops *opIndex
}

type tokenInfo struct {
	secret   string
	readOnly bool
}

type cached struct {
	status int
	body   []byte
}

// New generates the cluster described by sc.
func New(sc Scenario) *Mock {
	if f := sc.Cluster; f != nil {
		sc.Nodes, sc.QEMU, sc.LXC = len(f.Nodes), 0, 0
		for _, g := range f.Guests {
			if g.Type == "lxc" {
				sc.LXC++
			} else {
				sc.QEMU++
			}
		}
		if f.Name != "" && sc.Name == "" {
			sc.Name = f.Name
		}
		if f.Version != "" && sc.Version == "" {
			sc.Version = f.Version
		}
		if f.Seed != 0 && sc.Seed == 0 {
			sc.Seed = f.Seed
		}
	}
	sc.defaults()
	g := newGenerator(&sc)
	m := &Mock{sc: sc, guests: map[int]*guest{}, tasks: map[string][]*task{}, taskByID: map[string]*task{}, cache: map[string]cached{}, pidNext: 400000}
	m.authKey = []byte(g.hex(64))
	m.tokens = map[string]tokenInfo{
		"root@pam!proxbox": {secret: g.uuid()},
		"audit@pve!ro":     {secret: g.uuid(), readOnly: true},
	}
	if sc.Cluster != nil {
		m.applyCluster(g, sc.Cluster)
	} else {
		m.generate(g)
	}
	m.repl, m.backupJob = g.jobs(m)
	m.ops = defaultOps()
	return m
}

// generate builds the nodes, guests, backups, tasks and storages of a
// generated scenario.
func (m *Mock) generate(g *generator) {
	sc := &m.sc
	m.nodes = g.nodes()
	for i := 0; i < sc.QEMU; i++ {
		gs := g.guest(100+i, "qemu", nodeName(i%sc.Nodes))
		m.guests[gs.vmid] = gs
	}
	for i := 0; i < sc.LXC; i++ {
		gs := g.guest(100+sc.QEMU+i, "lxc", nodeName(i%sc.Nodes))
		m.guests[gs.vmid] = gs
	}
	for _, id := range m.vmids() {
		gs := m.guests[id]
		m.backups = append(m.backups, g.backups(gs)...)
		for _, t := range g.tasks(gs) {
			m.addTaskLocked(t)
		}
	}
	m.storages = storageConfigs(sc.Nodes)
}

// Scenario returns the (defaulted) scenario.
func (m *Mock) Scenario() Scenario { return m.sc }

// Token returns the id and secret of the full-privilege API token.
func (m *Mock) Token() (id, secret string) {
	return "root@pam!proxbox", m.tokens["root@pam!proxbox"].secret
}

// ReadOnlyToken returns a token whose writes fail with 403.
func (m *Mock) ReadOnlyToken() (id, secret string) {
	return "audit@pve!ro", m.tokens["audit@pve!ro"].secret
}

// VMIDs returns all guest ids, sorted.
func (m *Mock) VMIDs() []int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.vmids()
}

func (m *Mock) vmids() []int {
	ids := make([]int, 0, len(m.guests))
	for id := range m.guests {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// GuestNode returns the node of guest vmid and its type (qemu|lxc).
func (m *Mock) GuestNode(vmid int) (node, kind string, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	g, ok := m.guests[vmid]
	if !ok {
		return "", "", false
	}
	return g.node, g.kind, true
}

// Transport returns the in-process transport. Requests without
// credentials are served as root; requests carrying an Authorization
// header or a PVEAuthCookie are checked like pveproxy does.
func (m *Mock) Transport() proxmoxsdk.Transport {
	return proxmoxsdk.TransportFunc(func(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		optional := req.Header.Get("Authorization") == "" && !strings.Contains(req.Header.Get("Cookie"), "PVEAuthCookie=")
		return m.serve(req, !optional), nil
	})
}

// Requests returns the request counters keyed "METHOD /path/{template}".
func (m *Mock) Requests() map[string]int64 {
	out := map[string]int64{}
	m.counts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// RequestCount returns the counter of one method and path template
// (e.g. "GET", "/nodes/{node}/qemu/{vmid}/config").
func (m *Mock) RequestCount(method, tmpl string) int64 {
	if v, ok := m.counts.Load(method + " " + tmpl); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// ResetRequests zeroes the counters.
func (m *Mock) ResetRequests() { m.counts.Clear() }

func (m *Mock) count(key string) {
	v, ok := m.counts.Load(key)
	if !ok {
		v, _ = m.counts.LoadOrStore(key, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// Handler serves /api2/json/... like pveproxy (token or ticket auth).
func (m *Mock) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const prefix = "/api2/json"
		p := r.URL.EscapedPath()
		if !strings.HasPrefix(p, prefix+"/") && p != prefix {
			http.NotFound(w, r)
			return
		}
		var params url.Values
		switch r.Method {
		case http.MethodPost, http.MethodPut:
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				var body map[string]any
				if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
					writeResp(w, errResp(http.StatusBadRequest, "invalid JSON body", nil))
					return
				}
				var err error
				if params, err = proxmoxsdk.EncodeParams(body); err != nil {
					writeResp(w, errResp(http.StatusBadRequest, err.Error(), nil))
					return
				}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
				if err := r.ParseForm(); err != nil {
					writeResp(w, errResp(http.StatusBadRequest, "invalid form body", nil))
					return
				}
				params = r.PostForm
				for k, v := range r.URL.Query() {
					params[k] = append(params[k], v...)
				}
			}
		default:
			params = r.URL.Query()
		}
		req := &proxmoxsdk.Request{Method: r.Method, Path: strings.TrimPrefix(p, prefix), Params: params, Header: r.Header}
		writeResp(w, m.serve(req, true))
	})
}

func writeResp(w http.ResponseWriter, resp *proxmoxsdk.Response) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "max-age=0")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// serve answers one request.
func (m *Mock) serve(req *proxmoxsdk.Request, requireAuth bool) *proxmoxsdk.Response {
	segs := proxmoxsdk.SplitPath(req.Path)
	if req.Method == http.MethodPost && len(segs) == 2 && segs[0] == "access" && segs[1] == "ticket" {
		m.count("POST /access/ticket")
		return m.ticket(req.Params)
	}
	if requireAuth {
		if resp := m.authorize(req); resp != nil {
			return resp
		}
	}
	return m.route(req, segs)
}

// authorize checks token or ticket credentials; nil means allowed.
func (m *Mock) authorize(req *proxmoxsdk.Request) *proxmoxsdk.Response {
	if h := req.Header.Get("Authorization"); h != "" {
		v, ok := strings.CutPrefix(h, "PVEAPIToken=")
		if !ok {
			return errResp(http.StatusUnauthorized, "authentication failure", nil)
		}
		id, secret, ok := strings.Cut(v, "=")
		ti, found := m.tokens[id]
		if !ok || !found || !hmac.Equal([]byte(secret), []byte(ti.secret)) {
			return errResp(http.StatusUnauthorized, "authentication failure", nil)
		}
		if ti.readOnly && req.Method != http.MethodGet {
			return errResp(http.StatusForbidden, "Permission check failed ("+req.Path+", Sys.Modify)", nil)
		}
		return nil
	}
	ticket := ""
	for _, c := range (&http.Request{Header: http.Header{"Cookie": req.Header.Values("Cookie")}}).Cookies() {
		if c.Name == "PVEAuthCookie" {
			ticket = c.Value
		}
	}
	if ticket == "" {
		return errResp(http.StatusUnauthorized, "No ticket", nil)
	}
	user, ok := m.checkTicket(ticket, false)
	if !ok {
		return errResp(http.StatusUnauthorized, "permission denied - invalid PVE ticket", nil)
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		if !m.checkCSRF(req.Header.Get("CSRFPreventionToken"), user) {
			return errResp(http.StatusUnauthorized, "Permission denied - invalid csrf token", nil)
		}
	}
	return nil
}

func (m *Mock) sign(s string) string {
	mac := hmac.New(sha256.New, m.authKey)
	mac.Write([]byte(s))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

func okResp(data any) *proxmoxsdk.Response {
	b, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		return errResp(http.StatusInternalServerError, "mock: "+err.Error(), nil)
	}
	return &proxmoxsdk.Response{StatusCode: http.StatusOK, Body: b, Header: http.Header{}}
}

// errResp answers like pveproxy: the message (which PVE puts in the reason
// phrase) is also in the body, with the errors map for 400.
func errResp(code int, msg string, errs map[string]string) *proxmoxsdk.Response {
	env := map[string]any{"data": nil, "message": msg + "\n"}
	if errs != nil {
		env["errors"] = errs
	}
	b, _ := json.Marshal(env)
	return &proxmoxsdk.Response{StatusCode: code, Status: msg, Body: b, Header: http.Header{}}
}

func notExist(format string, a ...any) *proxmoxsdk.Response {
	return errResp(http.StatusInternalServerError, fmt.Sprintf(format, a...), nil)
}
