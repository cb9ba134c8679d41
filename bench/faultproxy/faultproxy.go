// Package faultproxy is a loopback reverse proxy that injects faults into the
// traffic between proxboxd and its upstreams (the real NetBox, the PVE mock):
// 5xx answers, 429 with Retry-After, connection resets, slow answers and
// held requests that time out. At zero rates it is a counting proxy: the
// benchmarks use it to count requests by method and path.
//
// Fault decisions are deterministic for a seed: the decision for a request is
// a hash of (seed, method, path, query, body, n) where n counts earlier
// requests with the same identity, so the same request sequence per identity
// gets the same faults regardless of how concurrent requests interleave.
package faultproxy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is a kind of injected fault.
type Kind string

// The fault kinds, in the order they are drawn.
const (
	Kind5xx     Kind = "5xx"     // answer 500/502/503/504 without forwarding
	Kind429     Kind = "429"     // answer 429 with Retry-After without forwarding
	KindReset   Kind = "reset"   // close the client connection (RST) without forwarding
	KindSlow    Kind = "slow"    // wait SlowDelay, then forward
	KindTimeout Kind = "timeout" // hold the request until the client gives up (or HoldMax), never forward
	// KindLostReply forwards the request, lets the upstream apply it, then
	// resets the client connection instead of answering: the client does not
	// know whether its write happened. The nastiest fault for idempotency.
	KindLostReply Kind = "lost_reply"
)

// Kinds lists every fault kind in draw order.
var Kinds = []Kind{Kind5xx, Kind429, KindReset, KindSlow, KindTimeout, KindLostReply}

// Rates are the probabilities (0..1) of each kind per request. Their sum must
// not exceed 1.
type Rates map[Kind]float64

// Total is the sum of the rates.
func (r Rates) Total() float64 {
	var t float64
	for _, v := range r {
		t += v
	}
	return t
}

// Validate reports unknown kinds, negative rates and sums above 1.
func (r Rates) Validate() error {
	known := map[Kind]bool{}
	for _, k := range Kinds {
		known[k] = true
	}
	for k, v := range r {
		if !known[k] {
			return fmt.Errorf("faultproxy: unknown fault kind %q", k)
		}
		if v < 0 || v > 1 {
			return fmt.Errorf("faultproxy: rate of %s out of range: %v", k, v)
		}
	}
	if t := r.Total(); t > 1+1e-9 {
		return fmt.Errorf("faultproxy: rates sum to %v > 1", t)
	}
	return nil
}

// Spread returns rates that split total evenly among kinds (default: every
// kind except lost_reply).
func Spread(total float64, kinds ...Kind) Rates {
	if len(kinds) == 0 {
		kinds = []Kind{Kind5xx, Kind429, KindReset, KindSlow, KindTimeout}
	}
	r := Rates{}
	for _, k := range kinds {
		r[k] = total / float64(len(kinds))
	}
	return r
}

// ParseRates parses "5xx=0.02,429=0.02,reset=0.01" or a bare number, which is
// spread evenly over the default kinds.
func ParseRates(s string) (Rates, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Rates{}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		r := Spread(f)
		return r, r.Validate()
	}
	r := Rates{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("faultproxy: bad rate %q (want kind=fraction)", part)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("faultproxy: bad rate %q: %w", part, err)
		}
		r[Kind(strings.TrimSpace(k))] = f
	}
	return r, r.Validate()
}

// Config configures a Proxy.
type Config struct {
	// Upstream is the base URL requests are forwarded to (http or https).
	Upstream string
	// UpstreamInsecure skips certificate checks towards the upstream (the
	// PVE mock's self-signed certificate).
	UpstreamInsecure bool
	// Seed makes fault decisions reproducible.
	Seed int64
	// Rates per fault kind; nil or empty means counting only.
	Rates Rates
	// Status5xx are the codes Kind5xx draws from (default 500, 502, 503, 504).
	Status5xx []int
	// RetryAfter is the Retry-After of Kind429 (default 1 s, sent in whole seconds).
	RetryAfter time.Duration
	// SlowDelay is the delay of KindSlow (default 2 s).
	SlowDelay time.Duration
	// HoldMax bounds KindTimeout: after it the connection is closed (default 30 s).
	HoldMax time.Duration
	// Skip, when it returns true, exempts a request from faults (it is still counted).
	Skip func(*http.Request) bool
	// RewriteHost sends the upstream's host as Host. By default the client's
	// Host is kept, so absolute URLs the upstream builds (NetBox's "next"
	// links) point back at the proxy and paging stays counted and faulted.
	RewriteHost bool
	// MaxBody bounds the request body buffered for hashing (default 32 MiB).
	MaxBody int64
	Logger  *slog.Logger
}

// Counters is a snapshot of what the proxy saw.
type Counters struct {
	Requests  int            `json:"requests"`             // every proxied request (faulted or not)
	Forwarded int            `json:"forwarded"`            // requests that reached the upstream
	ByMethod  map[string]int `json:"by_method"`            // every request by method
	Faults    map[Kind]int   `json:"faults"`               // injected faults by kind
	Retries   int            `json:"retries"`              // requests repeating one that was faulted
	Upstream  map[int]int    `json:"upstream_status"`      // upstream answers by status code
	ByRoute   map[string]int `json:"by_route"`             // "METHOD /path/{id}/" -> count
	NotServed map[string]int `json:"not_served,omitempty"` // routes the upstream answered 404/405
	Errors    int            `json:"upstream_errors"`      // upstream unreachable / transport errors
}

// FaultTotal is the number of injected faults of every kind.
func (c Counters) FaultTotal() int {
	n := 0
	for _, v := range c.Faults {
		n += v
	}
	return n
}

// Writes is the number of POST, PUT, PATCH and DELETE requests.
func (c Counters) Writes() int {
	return c.ByMethod[http.MethodPost] + c.ByMethod[http.MethodPut] + c.ByMethod[http.MethodPatch] + c.ByMethod[http.MethodDelete]
}

// Sub returns c minus an earlier snapshot (for per-phase numbers).
func (c Counters) Sub(old Counters) Counters {
	d := Counters{
		Requests:  c.Requests - old.Requests,
		Forwarded: c.Forwarded - old.Forwarded,
		Retries:   c.Retries - old.Retries,
		Errors:    c.Errors - old.Errors,
		ByMethod:  subMap(c.ByMethod, old.ByMethod),
		Faults:    subMap(c.Faults, old.Faults),
		Upstream:  subMap(c.Upstream, old.Upstream),
		ByRoute:   subMap(c.ByRoute, old.ByRoute),
		NotServed: subMap(c.NotServed, old.NotServed),
	}
	return d
}

// Add returns the sum of two proxies' counters (several Proxmox endpoints).
func (c Counters) Add(o Counters) Counters {
	return Counters{
		Requests:  c.Requests + o.Requests,
		Forwarded: c.Forwarded + o.Forwarded,
		Retries:   c.Retries + o.Retries,
		Errors:    c.Errors + o.Errors,
		ByMethod:  addMap(c.ByMethod, o.ByMethod),
		Faults:    addMap(c.Faults, o.Faults),
		Upstream:  addMap(c.Upstream, o.Upstream),
		ByRoute:   addMap(c.ByRoute, o.ByRoute),
		NotServed: addMap(c.NotServed, o.NotServed),
	}
}

func addMap[K comparable](a, b map[K]int) map[K]int {
	out := map[K]int{}
	for _, m := range []map[K]int{a, b} {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}

func subMap[K comparable](a, b map[K]int) map[K]int {
	out := map[K]int{}
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// String renders the counters for a log line or the exit summary.
func (c Counters) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests=%d forwarded=%d retries=%d upstream_errors=%d", c.Requests, c.Forwarded, c.Retries, c.Errors)
	fmt.Fprintf(&b, " methods=%s faults=%s", fmtMap(c.ByMethod), fmtMap(c.Faults))
	if len(c.NotServed) > 0 {
		fmt.Fprintf(&b, " not_served=%s", fmtMap(c.NotServed))
	}
	return b.String()
}

func fmtMap[K ~string](m map[K]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[K(k)]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Proxy is the fault-injecting reverse proxy; it is an http.Handler.
type Proxy struct {
	cfg    Config
	target *url.URL
	rp     *httputil.ReverseProxy
	log    *slog.Logger

	mu      sync.Mutex
	rates   Rates
	seen    map[uint64]int  // identity -> occurrences
	faulted map[uint64]bool // identities whose last occurrence was faulted
	c       Counters
}

// New returns a proxy to cfg.Upstream.
func New(cfg Config) (*Proxy, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q: want http(s)://host:port", cfg.Upstream)
	}
	if err := cfg.Rates.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Status5xx) == 0 {
		cfg.Status5xx = []int{500, 502, 503, 504}
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 2 * time.Second
	}
	if cfg.HoldMax <= 0 {
		cfg.HoldMax = 30 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg, target: u, log: cfg.Logger, seen: map[uint64]int{}, faulted: map[uint64]bool{}}
	p.setRatesLocked(cfg.Rates)
	p.resetLocked()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if u.Scheme == "https" {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.UpstreamInsecure} //nolint:gosec // loopback test upstream with a self-signed cert, opt-in
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			if !cfg.RewriteHost {
				pr.Out.Host = pr.In.Host
			}
			pr.SetXForwarded()
		},
		Transport:     tr,
		FlushInterval: -1, // stream (SSE) answers straight through
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			p.mu.Lock()
			p.c.Errors++
			p.mu.Unlock()
			p.log.Debug("faultproxy: upstream error", "method", r.Method, "path", r.URL.Path, "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			p.c.Upstream[resp.StatusCode]++
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				p.c.NotServed[fmt.Sprintf("%d %s", resp.StatusCode, Route(resp.Request.Method, resp.Request.URL.Path))]++
			}
			p.mu.Unlock()
			return nil
		},
	}
	return p, nil
}

// SetRates replaces the fault rates (e.g. 0 while a test sets up, 10% for the run).
func (p *Proxy) SetRates(r Rates) error {
	if err := r.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setRatesLocked(r)
	return nil
}

func (p *Proxy) setRatesLocked(r Rates) {
	p.rates = Rates{}
	for k, v := range r {
		p.rates[k] = v
	}
}

// Rates returns the current rates.
func (p *Proxy) Rates() Rates {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := Rates{}
	for k, v := range p.rates {
		out[k] = v
	}
	return out
}

// Counters returns a snapshot of the counters.
func (p *Proxy) Counters() Counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	c.ByMethod = copyMap(p.c.ByMethod)
	c.Faults = copyMap(p.c.Faults)
	c.Upstream = copyMap(p.c.Upstream)
	c.ByRoute = copyMap(p.c.ByRoute)
	c.NotServed = copyMap(p.c.NotServed)
	return c
}

func copyMap[K comparable](m map[K]int) map[K]int {
	out := make(map[K]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Reset zeroes the counters and the occurrence memory.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
}

func (p *Proxy) resetLocked() {
	p.c = Counters{ByMethod: map[string]int{}, Faults: map[Kind]int{}, Upstream: map[int]int{}, ByRoute: map[string]int{}, NotServed: map[string]int{}}
	p.seen = map[uint64]int{}
	p.faulted = map[uint64]bool{}
}

// AdminPath is answered by the proxy itself: GET returns the counters and the
// rates as JSON; POST with {"rates": {...}} sets the rates; ?reset=1 resets.
const AdminPath = "/_faults"

// ServeHTTP proxies one request, maybe injecting a fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == AdminPath {
		p.serveAdmin(w, r)
		return
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, p.cfg.MaxBody+1))
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, "faultproxy: reading body: "+err.Error(), http.StatusBadGateway)
			return
		}
		if int64(len(b)) > p.cfg.MaxBody {
			http.Error(w, "faultproxy: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	kind := p.decide(r, body)
	switch kind {
	case Kind5xx:
		code := p.cfg.Status5xx[int(p.draw(r, body, 1)*float64(len(p.cfg.Status5xx)))%len(p.cfg.Status5xx)]
		writeJSON(w, code, map[string]string{"detail": fmt.Sprintf("faultproxy: injected %d", code)})
		return
	case Kind429:
		secs := int((p.cfg.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"detail": "faultproxy: injected 429"})
		return
	case KindReset:
		reset(w)
		return
	case KindTimeout:
		t := time.NewTimer(p.cfg.HoldMax)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		reset(w)
		return
	case KindSlow:
		t := time.NewTimer(p.cfg.SlowDelay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	case KindLostReply:
		rec := &discardWriter{h: http.Header{}}
		p.forward(rec, r)
		reset(w)
		return
	}
	p.forward(w, r)
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.c.Forwarded++
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r)
}

// decide counts the request and returns the fault to inject ("" for none).
func (p *Proxy) decide(r *http.Request, body []byte) Kind {
	id := identity(r, body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c.Requests++
	p.c.ByMethod[r.Method]++
	p.c.ByRoute[Route(r.Method, r.URL.Path)]++
	if p.faulted[id] {
		p.c.Retries++
		delete(p.faulted, id)
	}
	n := p.seen[id]
	p.seen[id] = n + 1
	if len(p.rates) == 0 || (p.cfg.Skip != nil && p.cfg.Skip(r)) {
		return ""
	}
	u := unit(p.cfg.Seed, id, uint64(n), 0)
	var acc float64
	for _, k := range Kinds {
		acc += p.rates[k]
		if u < acc {
			p.c.Faults[k]++
			if k != KindSlow {
				p.faulted[id] = true
			}
			return k
		}
	}
	return ""
}

// draw is a second deterministic number for the same request (the 5xx code).
func (p *Proxy) draw(r *http.Request, body []byte, salt uint64) float64 {
	id := identity(r, body)
	p.mu.Lock()
	n := p.seen[id]
	p.mu.Unlock()
	return unit(p.cfg.Seed, id, uint64(n), salt)
}

func identity(r *http.Request, body []byte) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, r.Method)
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, r.URL.Path)
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, r.URL.RawQuery)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(body)
	return h.Sum64()
}

// unit maps (seed, id, n, salt) to [0, 1).
func unit(seed int64, id, n, salt uint64) float64 {
	h := fnv.New64a()
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], id)
	binary.LittleEndian.PutUint64(b[16:], n)
	binary.LittleEndian.PutUint64(b[24:], salt)
	_, _ = h.Write(b[:])
	x := h.Sum64()
	// fnv's low bits mix poorly for near-equal inputs; finish with splitmix64.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

// Route normalises a path for counting: numeric segments become {id}, and
// PVE VMIDs too, so "/api/dcim/devices/12/" is "GET /api/dcim/devices/{id}/".
func Route(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == "" {
			continue
		}
		if _, err := strconv.Atoi(s); err == nil {
			segs[i] = "{id}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// reset closes the client connection abruptly (RST where possible).
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (a recorder): the closest we can do is an empty 502.
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	c := conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type adminView struct {
	Upstream string   `json:"upstream"`
	Seed     int64    `json:"seed"`
	Rates    Rates    `json:"rates"`
	Counters Counters `json:"counters"`
}

func (p *Proxy) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost, http.MethodPut:
		var in struct {
			Rates *Rates `json:"rates"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "bad JSON: " + err.Error()})
			return
		}
		if in.Rates != nil {
			if err := p.SetRates(*in.Rates); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"detail": err.Error()})
				return
			}
		}
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "GET or POST"})
		return
	}
	if r.URL.Query().Get("reset") != "" {
		p.Reset()
	}
	writeJSON(w, http.StatusOK, adminView{Upstream: p.target.String(), Seed: p.cfg.Seed, Rates: p.Rates(), Counters: p.Counters()})
}

// Server is a running proxy on a loopback listener.
type Server struct {
	*Proxy
	URL string // http(s)://127.0.0.1:PORT
	srv *http.Server
	ln  net.Listener
}

// Listen starts p on addr, which must be a loopback address ("127.0.0.1:0"
// picks a port). With serveTLS the proxy answers HTTPS with a fresh
// self-signed certificate (clients must skip verification, as proxboxd does
// for a Proxmox endpoint with verify_ssl false).
func Listen(p *Proxy, addr string, serveTLS bool) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	s := &Server{Proxy: p, ln: ln, srv: &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: resets need Hijack.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     nil,
	}}
	scheme := "http"
	if serveTLS {
		cert, err := SelfSigned()
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		s.ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(s.ln) }()
	return s, nil
}

// Close stops the listener and drops open connections.
func (s *Server) Close() error { return s.srv.Close() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// CheckLoopback refuses listen addresses that are not loopback: fault and
// load tests stay on this machine.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("faultproxy: listen address %q is not loopback", addr)
	}
	return nil
}

// SelfSigned makes an ECDSA certificate for 127.0.0.1, ::1 and localhost.
func SelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("faultproxy: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("faultproxy: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "faultproxy"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("faultproxy: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
