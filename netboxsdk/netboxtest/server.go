// Package netboxtest is an in-memory NetBox REST API for tests: CRUD on every
// collection, bulk operations with NetBox's all-or-nothing semantics, offset and
// cursor pagination, the common filters, custom fields and tags stored as NetBox
// stores them, uniqueness where NetBox enforces it, token auth, the proxbox plugin
// endpoints, and a request log tests can assert on.
//
//	srv := netboxtest.NewServer()
//	defer srv.Close()
//	nb, _ := srv.Client()
//	nb.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
//	srv.Counts()["POST /api/dcim/sites/"] // 1
package netboxtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// Default credentials accepted by a NetBox built without options.
const (
	DefaultToken   = "0123456789abcdef0123456789abcdef01234567"
	DefaultTokenV2 = "nbt_proxboxtestkey.0123456789abcdef0123456789abcdef"
	DefaultVersion = "4.7.3"
)

// Request is one logged request.
type Request struct {
	Method string
	Path   string // URL path, no query
	Query  string
	Status int
	Time   time.Time
}

// Option configures a NetBox.
type Option func(*NetBox)

// WithToken replaces the accepted v1 token (WithToken("") accepts no v1 token).
func WithToken(t string) Option { return func(n *NetBox) { n.tokens[0] = t } }

// WithTokenV2 replaces the accepted v2 token (nbt_<key>.<secret>).
func WithTokenV2(t string) Option { return func(n *NetBox) { n.tokens[1] = t } }

// WithVersion sets the NetBox version reported by /api/status/ and API-Version.
// Versions before 4.6 do not support cursor pagination (start= is ignored).
func WithVersion(v string) Option { return func(n *NetBox) { n.version = v } }

// WithPageSizes sets PAGINATE_COUNT (default 50) and MAX_PAGE_SIZE (default 1000).
func WithPageSizes(def, max int) Option {
	return func(n *NetBox) { n.defPage, n.maxPage = def, max }
}

// WithLatency delays every response by d (to make benchmarks realistic).
func WithLatency(d time.Duration) Option { return func(n *NetBox) { n.latency = d } }

// WithClock replaces the clock (default time.Now). One clock stamps
// everything: created and last_updated, the change log's time, the Date
// response header and the request log, so a test can move time forward.
// now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(n *NetBox) {
		if now != nil {
			n.now = now
		}
	}
}

// WithCollections restricts the served collections to the given list paths plus
// the built-in ones (default: any /api/<app>/<model>/ of a NetBox app and any
// plugin path).
func WithCollections(paths ...string) Option {
	return func(n *NetBox) {
		if n.allowed == nil {
			n.allowed = map[string]bool{}
		}
		for _, p := range paths {
			n.allowed[p] = true
		}
	}
}

// NetBox is the in-memory server; it is an http.Handler.
type NetBox struct {
	mu      sync.Mutex
	tokens  [2]string
	version string
	defPage int
	maxPage int
	latency time.Duration
	allowed map[string]bool
	models  map[string]*model
	colls   map[string]*coll
	log     []Request
	faults  []*fault
	reqSeq  int
	now     func() time.Time
}

type coll struct {
	m      *model
	objs   map[int]map[string]any
	nextID int
	uidx   []map[string][]int // per unique set: key -> ids
}

type fault struct {
	method, prefix string
	status, left   int
	header         http.Header
}

// New returns an empty NetBox (with the plugin settings singleton).
func New(opts ...Option) *NetBox {
	n := &NetBox{
		tokens:  [2]string{DefaultToken, DefaultTokenV2},
		version: DefaultVersion,
		defPage: 50,
		maxPage: 1000,
		models:  map[string]*model{},
		now:     time.Now,
	}
	for _, o := range opts {
		o(n)
	}
	for _, m := range builtinModels() {
		n.models[m.path] = m
	}
	n.wipe()
	return n
}

// Server is a NetBox served over HTTP by httptest.
type Server struct {
	*httptest.Server
	*NetBox
}

// NewServer starts a NetBox on a loopback httptest server. Close it when done.
func NewServer(opts ...Option) *Server {
	nb := New(opts...)
	return &Server{Server: httptest.NewServer(nb), NetBox: nb}
}

// Client returns a netboxsdk client for the server with the default v1 token
// (options may override it).
func (s *Server) Client(opts ...netboxsdk.Option) (*netboxsdk.Client, error) {
	all := append([]netboxsdk.Option{netboxsdk.WithToken(s.Token()), netboxsdk.WithHTTPClient(s.Server.Client())}, opts...)
	return netboxsdk.New(s.URL, all...)
}

// Close stops the HTTP server.
func (s *Server) Close() { s.Server.Close() }

// Token returns the accepted v1 token.
func (n *NetBox) Token() string { return n.tokens[0] }

// TokenV2 returns the accepted v2 token.
func (n *NetBox) TokenV2() string { return n.tokens[1] }

// Requests returns a copy of the request log.
func (n *NetBox) Requests() []Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.log)
}

// Counts returns the number of requests by "METHOD /path/" (detail ids kept).
func (n *NetBox) Counts() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]int{}
	for _, r := range n.log {
		out[r.Method+" "+r.Path]++
	}
	return out
}

// CountsByCollection returns the number of requests by "METHOD /collection/"
// (detail and action requests counted on their collection).
func (n *NetBox) CountsByCollection() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]int{}
	for _, r := range n.log {
		out[r.Method+" "+collectionPath(r.Path)]++
	}
	return out
}

// Total returns the number of logged requests.
func (n *NetBox) Total() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.log)
}

// Reset clears the request log (the data stays).
func (n *NetBox) Reset() {
	n.mu.Lock()
	n.log = nil
	n.mu.Unlock()
}

// Wipe deletes every object (and clears the log).
func (n *NetBox) Wipe() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wipe()
	n.log = nil
}

func (n *NetBox) wipe() {
	n.colls = map[string]*coll{}
	for p, m := range n.models {
		n.colls[p] = &coll{m: m, objs: map[int]map[string]any{}, nextID: 1}
	}
	s := n.colls[pPlugin+"settings/"]
	s.objs[1] = map[string]any{"id": 1, "singleton_key": "default",
		"use_guest_agent_interface_name": true, "proxbox_fetch_max_concurrency": 8,
		"ignore_ipv6_link_local_addresses": true, "primary_ip_preference": "ipv4",
		"netbox_max_concurrent": 1, "netbox_max_retries": 5, "netbox_retry_delay": "2.00",
		"netbox_get_cache_ttl": "60.00", "bulk_batch_size": 50, "bulk_batch_delay_ms": 500,
		"vm_sync_max_concurrency": 4, "custom_fields_request_delay": "0.00",
		"backend_log_file_path": "/var/log/proxbox.log", "ssrf_protection_enabled": true,
		"allow_private_ips": true, "additional_allowed_ip_ranges": "", "explicitly_blocked_ip_ranges": "",
		"encryption_key": "", "tags": []int{}, "custom_fields": map[string]any{},
		"created": n.stamp(), "last_updated": n.stamp()}
	s.nextID = 2
}

// FailNext makes the next times requests whose method matches (""=any) and whose
// path starts with prefix fail with status (and Retry-After retryAfter when not "").
func (n *NetBox) FailNext(method, prefix string, status, times int, retryAfter string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	n.faults = append(n.faults, &fault{method: method, prefix: prefix, status: status, left: times, header: h})
}

// Seed stores objects directly (validated like a POST) and returns them
// rendered. Seeded objects have no change log entries: they predate the test.
func (n *NetBox) Seed(path string, objs ...map[string]any) ([]map[string]any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.coll(path)
	if c == nil {
		return nil, fmt.Errorf("netboxtest: unknown collection %s", path)
	}
	rc := &reqCtx{n: n, base: "http://netbox.invalid"}
	var out []map[string]any
	for i, in := range objs {
		o, errs := rc.apply(c, nil, in)
		if errs != nil {
			return out, fmt.Errorf("netboxtest: seed %s[%d]: %v", path, i, errs)
		}
		id := rc.insert(c, o)
		out = append(out, rc.render(c, c.objs[id], renderOpts{}))
	}
	return out, nil
}

// Len returns the number of objects in a collection.
func (n *NetBox) Len(path string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.coll(path); c != nil {
		return len(c.objs)
	}
	return 0
}

func (n *NetBox) stamp() string {
	return n.now().UTC().Format("2006-01-02T15:04:05.000000Z")
}

var netboxApps = map[string]bool{"circuits": true, "core": true, "dcim": true, "extras": true, "ipam": true,
	"tenancy": true, "users": true, "virtualization": true, "vpn": true, "wireless": true}

// coll returns (creating on first use) the collection at list path p, or nil.
func (n *NetBox) coll(p string) *coll {
	if c, ok := n.colls[p]; ok {
		return c
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(p, "/api/"), "/"), "/")
	ok := len(segs) == 2 && netboxApps[segs[0]] || (len(segs) == 3 || len(segs) == 4) && segs[0] == "plugins"
	if !ok {
		return nil
	}
	if n.allowed != nil && !n.allowed[p] {
		return nil
	}
	m := &model{path: p, objType: objTypeFromPath(p), fields: map[string]field{}}
	n.models[p] = m
	c := &coll{m: m, objs: map[int]map[string]any{}, nextID: 1}
	n.colls[p] = c
	return c
}

// collectionPath maps a request path to its collection path (ids and actions dropped).
func collectionPath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		if _, err := strconv.Atoi(s); err == nil && i > 0 {
			return "/" + strings.Join(segs[:i], "/") + "/"
		}
	}
	return "/" + strings.Join(segs, "/") + "/"
}

var idSeg = regexp.MustCompile(`^[0-9]+$`)

// ServeHTTP implements http.Handler.
func (n *NetBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.latency > 0 {
		time.Sleep(n.latency)
	}
	rw := &statusWriter{ResponseWriter: w, now: n.now}
	n.serve(rw, r)
	n.mu.Lock()
	n.log = append(n.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rw.status, Time: n.now()})
	n.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	now    func() time.Time
}

// WriteHeader sets the Date header from the NetBox's clock (net/http would
// use time.Now), so that it agrees with the change log's time.
func (s *statusWriter) WriteHeader(code int) {
	if s.status != 0 {
		return
	}
	s.status = code
	if s.Header().Get("Date") == "" {
		s.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (n *NetBox) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.reqSeq++
	reqID := fmt.Sprintf("00000000-0000-4000-8000-%012d", n.reqSeq)
	mj, mi := versionMajorMinor(n.version)
	n.mu.Unlock()
	w.Header().Set("API-Version", fmt.Sprintf("%d.%d", mj, mi))
	w.Header().Set("X-Request-Id", reqID)
	if !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api" {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
		return
	}
	if f := n.takeFault(r); f != nil {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		writeJSON(w, f.status, map[string]any{"detail": http.StatusText(f.status)})
		return
	}
	if status, detail := n.authenticate(r); status != 0 {
		w.Header().Set("WWW-Authenticate", "Token")
		writeJSON(w, status, map[string]any{"detail": detail})
		return
	}
	var body any
	if r.Body != nil && r.Method != http.MethodGet {
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil && err.Error() != "EOF" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
			return
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	rc := &reqCtx{n: n, base: "http://" + r.Host, r: r, reqID: reqID}
	status, out := rc.route(r.Method, r.URL.Path, body)
	if status >= 200 && status <= 299 {
		rc.commitChanges() // a failed request changed nothing (NetBox rolls back)
	}
	if rc.allow != "" {
		w.Header().Set("Allow", rc.allow)
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

func (n *NetBox) takeFault(r *http.Request) *fault {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, f := range n.faults {
		if (f.method == "" || f.method == r.Method) && strings.HasPrefix(r.URL.Path, f.prefix) {
			f.left--
			if f.left <= 0 {
				n.faults = slices.Delete(n.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

func (n *NetBox) authenticate(r *http.Request) (int, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return http.StatusForbidden, "Authentication credentials were not provided."
	}
	kind, tok, _ := strings.Cut(h, " ")
	switch kind {
	case "Token":
		if n.tokens[0] != "" && tok == n.tokens[0] {
			return 0, ""
		}
		return http.StatusForbidden, "Invalid v1 token"
	case "Bearer":
		if n.tokens[1] != "" && tok == n.tokens[1] {
			return 0, ""
		}
		return http.StatusForbidden, "Invalid v2 token"
	}
	return http.StatusForbidden, "Invalid token header."
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encode failure"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func versionMajorMinor(v string) (int, int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	a, _ := strconv.Atoi(parts[0])
	b, _ := strconv.Atoi(parts[1])
	return a, b
}

func sortedIDs(c *coll) []int {
	ids := make([]int, 0, len(c.objs))
	for id := range c.objs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
