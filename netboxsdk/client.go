package netboxsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Version is the SDK version sent in the default User-Agent.
const Version = "0.1.0"

// Client is a NetBox REST API client. It is safe for concurrent use.
// Objects reaches any collection untyped; the typed collections of an app are
// in its generated package (virtualization.New(nb).VirtualMachines, see
// gen/<app>), all apps at once in package typed (nb.DCIM.Devices, ...).
// Client imports no generated package: a program pays only for the apps it imports.
type Client struct {
	base     *url.URL // scheme://host[/base-path], no trailing slash
	hc       *http.Client
	auth     string
	red      redactor
	cfg      config
	retry    RetryPolicy
	lim      limiter
	cache    *getCache
	log      *slog.Logger
	requests atomic.Int64

	apiVersion atomic.Value // string from the API-Version header
	statusMu   sync.Mutex
	status     *Status
}

// New returns a client for the NetBox at baseURL (for example
// "https://netbox.example.com" or "http://127.0.0.1:8000/netbox"; a trailing
// "/api" is accepted). An empty baseURL reads NETBOX_URL; without WithToken the
// token is read from NETBOX_TOKEN.
//
// In mock mode (WithMock, WithAPIMode(ModeMock) or NETBOX_API_MODE=mock) every
// request is served in process by netboxtest (seeded from NETBOX_MOCK_DATA), with
// the mock's token; the base URL may be empty. It needs the mock linked in (see
// RegisterMock).
func New(baseURL string, opts ...Option) (*Client, error) {
	cfg := config{
		timeout:   60 * time.Second,
		userAgent: "proxbox-netboxsdk/" + Version,
		retry:     DefaultRetryPolicy(),
		pageSize:  DefaultPageSize,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.mode == "" {
		m, err := Mode()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAPIMode, err)
		}
		cfg.mode = m
	}
	if cfg.mode == ModeMock {
		if err := cfg.applyMock(); err != nil {
			return nil, err
		}
		if baseURL == "" && os.Getenv("NETBOX_URL") == "" {
			baseURL = mockBaseURL
		}
	}
	if baseURL == "" {
		baseURL = os.Getenv("NETBOX_URL")
	}
	if baseURL == "" {
		return nil, errors.New("netboxsdk: no base URL (argument or NETBOX_URL)")
	}
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("netboxsdk: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("netboxsdk: base URL %q: need http(s)://host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("netboxsdk: base URL must not have a query or fragment")
	}
	u.User = nil
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api")
	u.RawPath = ""
	if !cfg.tokenSet {
		cfg.token = os.Getenv("NETBOX_TOKEN")
	}
	cfg.token = cleanToken(cfg.token)
	hc, err := cfg.buildHTTPClient()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:  u,
		hc:    hc,
		auth:  authHeader(cfg.token),
		red:   newRedactor(cfg.token),
		cfg:   cfg,
		retry: cfg.retry.normalized(),
		lim:   newLimiter(cfg.maxConcurrency),
		cache: newGetCache(cfg.cacheTTL),
		log:   cfg.logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// BaseURL returns the NetBox base URL (without /api).
func (c *Client) BaseURL() string { return c.base.String() }

// RequestCount returns the number of HTTP requests sent (attempts, cache hits excluded).
func (c *Client) RequestCount() int64 { return c.requests.Load() }

// ClearCache empties the GET cache (no-op without WithCache).
func (c *Client) ClearCache() { c.cache.clear() }

// Objects returns an untyped collection for path, e.g. "/api/dcim/devices/" or
// "/api/plugins/proxbox/storage/".
func (c *Client) Objects(path string) *Collection[Object, Object, Object] {
	return NewCollection[Object, Object, Object](c, path)
}

// Status returns /api/status/ (NetBox, Django and plugin versions). The result is
// remembered and used to pick the pagination mode.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	if _, err := c.Do(ctx, http.MethodGet, "/api/status/", nil, nil, &st); err != nil {
		return nil, err
	}
	c.statusMu.Lock()
	c.status = &st
	c.statusMu.Unlock()
	return &st, nil
}

// APIVersion returns the NetBox API version ("4.7") seen in the API-Version header
// of the last response, or "" before the first response.
func (c *Client) APIVersion() string {
	v, _ := c.apiVersion.Load().(string)
	return v
}

// Do sends one request. path is an API path ("/api/dcim/sites/", with or without a
// query) or an absolute URL on the same host (a "next" link). body may be nil,
// []byte / json.RawMessage (sent as is), an io.Reader, or any value (JSON-encoded).
// out may be nil, *[]byte / *json.RawMessage (raw body), or a pointer to decode into.
// A non-2xx status returns an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	u, err := c.resolve(path, query)
	if err != nil {
		return nil, err
	}
	payload, err := encodeBody(body)
	if err != nil {
		return nil, err
	}
	resp, raw, err := c.roundTrip(ctx, method, u, payload)
	if err != nil {
		return resp, err
	}
	if len(raw) > 0 && raw[0] == '{' && bytes.HasPrefix(raw, []byte(`{"count":`)) {
		var env struct {
			Count    *int    `json:"count"`
			Next     *string `json:"next"`
			Previous *string `json:"previous"`
		}
		if json.Unmarshal(raw, &env) == nil {
			fillPageInfo(resp, env.Count, env.Next, env.Previous)
		}
	}
	return resp, decodeOut(raw, out, method, u)
}

func fillPageInfo(r *Response, count *int, next, prev *string) {
	r.Count = -1
	if count != nil {
		r.Count = *count
	}
	if next != nil {
		r.Next = *next
	}
	if prev != nil {
		r.Previous = *prev
	}
}

func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	case string:
		return []byte(b), nil
	case io.Reader:
		return io.ReadAll(b)
	default:
		p, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("netboxsdk: encode body: %w", err)
		}
		return p, nil
	}
}

func decodeOut(raw []byte, out any, method string, u *url.URL) error {
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = raw
		return nil
	case *json.RawMessage:
		*o = raw
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("netboxsdk: decode %s %s: %w", method, u.Path, err)
	}
	return nil
}

// resolve builds the request URL for an API path or a same-host absolute URL.
func (c *Client) resolve(path string, query url.Values) (*url.URL, error) {
	var rel *url.URL
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		p, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("netboxsdk: bad URL: %w", err)
		}
		// NetBox behind a proxy may build next links with another scheme or host:
		// keep only path and query, and only below the base path.
		rel = &url.URL{Path: p.Path, RawQuery: p.RawQuery}
		if c.base.Path != "" {
			if !strings.HasPrefix(rel.Path, c.base.Path+"/") {
				return nil, fmt.Errorf("netboxsdk: URL %q is outside %s", p.Path, c.base.Path)
			}
			rel.Path = strings.TrimPrefix(rel.Path, c.base.Path)
		}
	} else {
		if path == "" || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.Contains(path, "#") {
			return nil, fmt.Errorf("netboxsdk: invalid API path %q", path)
		}
		p, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("netboxsdk: bad path: %w", err)
		}
		rel = p
	}
	if strings.Contains(rel.Path, "/../") || strings.HasSuffix(rel.Path, "/..") {
		return nil, fmt.Errorf("netboxsdk: invalid API path %q", rel.Path)
	}
	u := *c.base
	u.Path = c.base.Path + rel.Path
	q := rel.Query()
	for k, vs := range query {
		q[k] = append(q[k], vs...)
	}
	u.RawQuery = q.Encode()
	return &u, nil
}

// roundTrip sends the request with retries, limiter and cache, and returns the body.
func (c *Client) roundTrip(ctx context.Context, method string, u *url.URL, payload []byte) (*Response, []byte, error) {
	key := ""
	if c.cache != nil && method == http.MethodGet {
		key = u.RequestURI()
		if e, ok := c.cache.get(key); ok {
			return &Response{StatusCode: e.status, Header: e.header, RequestID: e.header.Get("X-Request-Id"), Count: -1, FromCache: true}, e.body, nil
		}
	}
	var (
		resp    *Response
		body    []byte
		err     error
		status  int
		attempt int
	)
	// Each attempt either ends the request (its outcome is kept in resp, body,
	// err and nil is returned to Retry) or asks for another one.
	_, rerr := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		resp, body, err = c.attempt(ctx, method, u, payload, attempt)
		status = 0
		var hdr http.Header
		if resp != nil {
			status, hdr = resp.StatusCode, resp.Header
		}
		if ctx.Err() == nil && c.retry.shouldRetry(method, attempt, status, err) {
			return struct{}{}, c.retry.retryErr(status, hdr, err)
		}
		return struct{}{}, nil
	}, backoff.WithBackOff(c.retry.backOff()), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(_ error, wait time.Duration) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "netbox request retry",
			slog.String("method", method), slog.String("path", u.Path),
			slog.Int("status", status), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", errString(c.red, err)))
	}))
	if rerr != nil { // the context ended during a wait
		return resp, nil, rerr
	}
	if err != nil {
		return resp, nil, err
	}
	if status < 200 || status > 299 {
		apiErr := &APIError{Method: method, URL: u.String(), StatusCode: status, RequestID: resp.RequestID, Body: c.red.bytes(body)}
		apiErr.parseErrorBody(apiErr.Body)
		apiErr.sizeItems(bulkItems(ctx))
		apiErr.Detail = c.red.string(apiErr.Detail)
		return resp, nil, apiErr
	}
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions {
		c.cache.invalidate(u.Path)
	} else if key != "" {
		c.cache.put(key, u.Path, status, resp.Header, body)
	}
	return resp, body, nil
}

func errString(r redactor, err error) string {
	if err == nil {
		return ""
	}
	return r.string(err.Error())
}

func (c *Client) attempt(ctx context.Context, method string, u *url.URL, payload []byte, attempt int) (*Response, []byte, error) {
	if err := c.lim.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer c.lim.release()
	actx, cancel := ctx, context.CancelFunc(func() {})
	if d := attemptTimeoutFor(ctx, c.cfg.timeout); d > 0 {
		actx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("netboxsdk: build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.userAgent != "" {
		req.Header.Set("User-Agent", c.cfg.userAgent)
	}
	for k, vs := range c.cfg.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	// wrote records whether any of the request reached the connection: a failure
	// before that (dial, TLS handshake, proxy) is safe to retry for every method.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
		WroteHeaders:     func() { wrote.Store(true) },
	}))
	start := time.Now()
	c.requests.Add(1)
	hr, err := c.hc.Do(req)
	if err != nil {
		// Never let a URL with credentials or the token reach the caller.
		err = c.wrapTransportErr(ctx, method, u, err)
		if te, ok := err.(*TransportError); ok {
			te.NotSent = !wrote.Load()
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "netbox request failed",
			slog.String("method", method), slog.String("path", u.Path), slog.Int("attempt", attempt),
			slog.Duration("duration", time.Since(start)), slog.String("error", errString(c.red, err)))
		return nil, nil, err
	}
	body, rerr := io.ReadAll(hr.Body)
	hr.Body.Close()
	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header, RequestID: hr.Header.Get("X-Request-Id"), Count: -1}
	observe(ctx, resp) // WithResponseObserver: every response, errors and retried attempts included
	if v := hr.Header.Get("API-Version"); v != "" {
		if old, _ := c.apiVersion.Load().(string); old != v {
			c.apiVersion.Store(v)
		}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "netbox request",
		slog.String("method", method), slog.String("path", u.Path), slog.String("query", c.red.string(u.RawQuery)),
		slog.Int("status", hr.StatusCode), slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)), slog.Int("bytes", len(body)))
	if rerr != nil {
		return resp, nil, c.wrapTransportErr(ctx, method, u, rerr)
	}
	return resp, body, nil
}

// TransportError is a request that got no complete HTTP response
// (connection refused or reset, TLS failure, per-attempt timeout, …).
type TransportError struct {
	Method, URL string
	Err         error
	// NotSent is true when the request never reached the connection (dial or
	// TLS failure, …): the server cannot have processed it.
	NotSent bool
	red     redactor
}

func (e *TransportError) Error() string {
	return e.red.string(fmt.Sprintf("netbox: %s %s: %v", e.Method, e.URL, e.Err))
}
func (e *TransportError) Unwrap() error { return e.Err }

func (c *Client) wrapTransportErr(ctx context.Context, method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop url.Error's URL; we report our own
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// the per-attempt timeout fired, not the caller's context
		err = &attemptTimeout{d: attemptTimeoutFor(ctx, c.cfg.timeout)}
	}
	return &TransportError{Method: method, URL: u.String(), Err: err, red: c.red}
}

type bulkItemsKey struct{}

// withBulkItems marks ctx as carrying a bulk request of n objects.
func withBulkItems(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, bulkItemsKey{}, n)
}

// bulkItemsPerTimeout is how many objects of a bulk request one per-attempt
// timeout covers: NetBox takes ~0.05-0.2 s per object (validation, change log),
// so 500 VMs can exceed a 60 s timeout on a busy server.
const bulkItemsPerTimeout = 100

// bulkItems is the object count withBulkItems recorded in ctx (0 if none).
func bulkItems(ctx context.Context) int {
	n, _ := ctx.Value(bulkItemsKey{}).(int)
	return n
}

// attemptTimeoutFor scales the per-attempt timeout d for bulk requests: one d
// per started bulkItemsPerTimeout objects.
func attemptTimeoutFor(ctx context.Context, d time.Duration) time.Duration {
	n := bulkItems(ctx)
	if d <= 0 || n <= bulkItemsPerTimeout {
		return d
	}
	return d * time.Duration((n+bulkItemsPerTimeout-1)/bulkItemsPerTimeout)
}

type attemptTimeout struct{ d time.Duration }

func (e *attemptTimeout) Error() string   { return fmt.Sprintf("timeout after %s", e.d) }
func (e *attemptTimeout) Timeout() bool   { return true }
func (e *attemptTimeout) Temporary() bool { return true }
