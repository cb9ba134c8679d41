// Package connector implements proxbox.Connector from the store: it builds
// netboxsdk and proxmoxsdk clients from the endpoint rows, caches them until
// a row changes, and dials only addresses the SSRF policy allows.
package connector

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// ErrNoNetBox is returned when no NetBox endpoint is stored.
var ErrNoNetBox = errors.New("no NetBox endpoint configured: the plugin pushes it with POST /netbox/endpoint")

// ErrNoProxmox is returned when no Proxmox endpoint matches.
var ErrNoProxmox = errors.New("no Proxmox endpoint configured")

// Store is the part of the sqlite store the connector reads.
type Store interface {
	ListNetBoxEndpoints(ctx context.Context) ([]proxbox.NetBoxEndpoint, error)
	ListProxmoxEndpoints(ctx context.Context) ([]proxbox.ProxmoxEndpoint, error)
	Generation() int64
}

// Options tune the clients.
type Options struct {
	Logger *slog.Logger
	// Policy returns the current SSRF policy (it follows the plugin settings).
	Policy func(ctx context.Context) Policy
	// NetBoxOptions are appended to every netboxsdk.New call.
	NetBoxOptions []netboxsdk.Option
	// CountNetBox and CountProxmox observe every outgoing request (metrics).
	CountNetBox  func(method string, status int, err error)
	CountProxmox func(method, path string, err error)
	// Timeout per request (default 60 s).
	Timeout time.Duration
}

// Connector is safe for concurrent use.
type Connector struct {
	st   Store
	opts Options

	mu     sync.Mutex
	gen    int64
	nb     *netboxsdk.Client
	px     map[int]proxbox.ProxmoxTarget
	pxKey  map[int]string
	pol    Policy
	polSet bool
}

// New returns a Connector over st.
func New(st Store, opts Options) *Connector {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	return &Connector{st: st, opts: opts, gen: -1, px: map[int]proxbox.ProxmoxTarget{}, pxKey: map[int]string{}}
}

// Invalidate drops every cached client (/clear-cache).
func (c *Connector) Invalidate() {
	c.mu.Lock()
	c.gen = -1
	c.nb = nil
	c.px = map[int]proxbox.ProxmoxTarget{}
	c.pxKey = map[int]string{}
	c.polSet = false
	c.mu.Unlock()
}

func (c *Connector) policy(ctx context.Context) Policy {
	if c.opts.Policy == nil {
		return DefaultPolicy()
	}
	return c.opts.Policy(ctx)
}

// refresh drops cached clients when the store or the policy changed. Called
// with c.mu held.
func (c *Connector) refresh(pol Policy) {
	g := c.st.Generation()
	if g != c.gen || !c.polSet || fmt.Sprint(pol) != fmt.Sprint(c.pol) {
		c.gen = g
		c.nb = nil
		c.px = map[int]proxbox.ProxmoxTarget{}
		c.pxKey = map[int]string{}
		c.pol, c.polSet = pol, true
	}
}

func (c *Connector) httpClient(pol Policy, skipVerify bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: pol.Control}
	tr := &http.Transport{
		Proxy:                 nil, // never route endpoint traffic through an env proxy: it would bypass the SSRF dial check
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}, //nolint:gosec // per-endpoint verify_ssl=false
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	var rt http.RoundTripper = tr
	if c.opts.CountNetBox != nil {
		rt = countingRT{next: tr, count: c.opts.CountNetBox}
	}
	return &http.Client{Transport: rt, Timeout: c.opts.Timeout}
}

type countingRT struct {
	next  http.RoundTripper
	count func(method string, status int, err error)
}

func (r countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	st := 0
	if resp != nil {
		st = resp.StatusCode
	}
	r.count(req.Method, st, err)
	return resp, err
}

// HostOf strips a prefix length and brackets from an address column.
func HostOf(ip string) string {
	ip = strings.TrimSpace(ip)
	if i := strings.IndexByte(ip, '/'); i >= 0 {
		ip = ip[:i]
	}
	return strings.Trim(ip, "[]")
}

// NetBoxURL derives the NetBox base URL: https when the port is 443 or
// verify_ssl is on, else http (contract §6); host is the domain, else the IP.
func NetBoxURL(e proxbox.NetBoxEndpoint) string {
	scheme := "http"
	if e.Port == 443 || e.VerifySSL {
		scheme = "https"
	}
	host := strings.TrimSpace(e.Domain)
	if host == "" {
		host = HostOf(e.IPAddress)
	}
	port := e.Port
	if port == 0 {
		port = 443
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// ProxmoxURL derives https://host:port for a Proxmox endpoint.
func ProxmoxURL(e proxbox.ProxmoxEndpoint) string {
	host := strings.TrimSpace(e.Domain)
	if host == "" {
		host = HostOf(e.IPAddress)
	}
	port := e.Port
	if port == 0 {
		port = 8006
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// NetBoxToken renders the token for netboxsdk.WithToken: v2 becomes
// nbt_<key>.<secret>, v1 is the token itself.
func NetBoxToken(e proxbox.NetBoxEndpoint) string {
	if e.TokenVersion == "v2" {
		k := e.TokenKey
		if !strings.HasPrefix(k, "nbt_") {
			k = "nbt_" + k
		}
		return k + "." + e.Token
	}
	return e.Token
}

// NetBox opens the stored NetBox endpoint.
func (c *Connector) NetBox(ctx context.Context) (*netboxsdk.Client, error) {
	pol := c.policy(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(pol)
	if c.nb != nil {
		return c.nb, nil
	}
	eps, err := c.st.ListNetBoxEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return nil, ErrNoNetBox
	}
	e := eps[0]
	// A sync is a long series of reads: one 500 on a GET (a worker restarted
	// by gunicorn's max-requests, a database hiccup) should cost a retry, not
	// the stage. POST and PATCH are still not retried on a 500 (not idempotent).
	retry := netboxsdk.DefaultRetryPolicy()
	retry.Statuses = append(retry.Statuses, http.StatusInternalServerError)
	opts := []netboxsdk.Option{
		netboxsdk.WithToken(NetBoxToken(e)),
		netboxsdk.WithRetry(retry),
		netboxsdk.WithHTTPClient(c.httpClient(pol, !e.VerifySSL)),
		netboxsdk.WithLogger(c.opts.Logger.With("component", "netboxsdk")),
	}
	opts = append(opts, c.opts.NetBoxOptions...)
	nb, err := netboxsdk.New(NetBoxURL(e), opts...)
	if err != nil {
		return nil, fmt.Errorf("netbox endpoint %q: %w", e.Name, err)
	}
	c.nb = nb
	return nb, nil
}

var pkRe = regexp.MustCompile(`\(nb:(\d+)\)\s*$`)

// PluginPK extracts <pk> from a "<name> (nb:<pk>)" endpoint name.
func PluginPK(name string) (int, bool) {
	m := pkRe.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// OpenProxmox builds a client for one endpoint (no network I/O for tokens).
func (c *Connector) OpenProxmox(e proxbox.ProxmoxEndpoint, pol Policy) (*proxmoxsdk.Client, error) {
	var auth proxmoxsdk.Option
	user := strings.TrimSpace(e.Username)
	if user == "" {
		user = "root@pam"
	}
	switch {
	case e.TokenName != "" && e.TokenValue != "":
		id := e.TokenName
		if !strings.Contains(id, "!") {
			id = user + "!" + id
		}
		auth = proxmoxsdk.WithAPIToken(id, e.TokenValue)
	case e.Password != "":
		auth = proxmoxsdk.WithTicket(user, e.Password)
	default:
		return nil, fmt.Errorf("proxmox endpoint %q has neither a password nor an API token", e.Name)
	}
	tr, err := proxmoxsdk.NewHTTPSTransport(ProxmoxURL(e), proxmoxsdk.WithHTTPClient(plainClient(c.httpClient(pol, !e.VerifySSL))))
	if err != nil {
		return nil, fmt.Errorf("proxmox endpoint %q: %w", e.Name, err)
	}
	var t proxmoxsdk.Transport = tr
	if count := c.opts.CountProxmox; count != nil {
		t = proxmoxsdk.TransportFunc(func(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
			resp, err := tr.RoundTrip(ctx, req)
			cerr := err
			if cerr == nil && resp != nil && resp.StatusCode >= 400 {
				cerr = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			count(req.Method, req.Path, cerr)
			return resp, err
		})
	}
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(t), auth,
		proxmoxsdk.WithLogger(c.opts.Logger.With("component", "proxmoxsdk", "endpoint", e.Name)))
	if err != nil {
		return nil, fmt.Errorf("proxmox endpoint %q: %w", e.Name, err)
	}
	return px, nil
}

// plainClient strips the NetBox counting wrapper from a client built by
// httpClient (Proxmox calls are counted at the proxmoxsdk transport level).
func plainClient(hc *http.Client) *http.Client {
	if rt, ok := hc.Transport.(countingRT); ok {
		return &http.Client{Transport: rt.next, Timeout: hc.Timeout}
	}
	return hc
}

// Proxmox opens the stored Proxmox endpoints, restricted to ids when given.
//
// Which ids the plugin sends depends on its release: netbox-proxbox 0.0.24
// and later translate its ProxmoxEndpoint PKs into this backend's endpoint
// ids (resolve_backend_endpoint_ids, matching the "(nb:<pk>)" names of
// GET /proxmox/endpoints); earlier releases sent the plugin PKs themselves.
// Backend ids are tried first; when none of the ids names a stored endpoint,
// they are read as plugin PKs.
func (c *Connector) Proxmox(ctx context.Context, ids []int) ([]proxbox.ProxmoxTarget, error) {
	pol := c.policy(ctx)
	eps, err := c.st.ListProxmoxEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	want := map[int]bool{}
	for _, id := range ids {
		want[id] = true
	}
	byBackendID := false
	for _, e := range eps {
		if want[e.ID] {
			byBackendID = true
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(pol)
	var out []proxbox.ProxmoxTarget
	var errs []error
	for _, e := range eps {
		if len(want) > 0 {
			if byBackendID {
				if !want[e.ID] {
					continue
				}
			} else if pk, ok := PluginPK(e.Name); !ok || !want[pk] {
				continue
			}
		}
		if t, ok := c.px[e.ID]; ok {
			out = append(out, t)
			continue
		}
		cl, err := c.OpenProxmox(e, pol)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t := proxbox.ProxmoxTarget{Endpoint: e, Client: cl}
		c.px[e.ID] = t
		out = append(out, t)
	}
	if len(out) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, ErrNoProxmox
	}
	return out, nil
}

var _ proxbox.Connector = (*Connector)(nil)
