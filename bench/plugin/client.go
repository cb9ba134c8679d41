package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Call is one backend call the client made.
type Call struct {
	Method, Path string
	Status       int // 0 when there was no HTTP answer
	Err          string
}

// Client talks to proxboxd like the plugin does.
type Client struct {
	BaseURL string // http://127.0.0.1:8800
	APIKey  string
	HTTP    *http.Client
	// RetryDelay between stage attempts (the plugin waits 8 s).
	RetryDelay time.Duration
	// Attempts per stage path (the plugin makes 3).
	Attempts int
	// HealthTries bounds wait_for_backend_ready (the plugin tries 30 times).
	HealthTries int
	// OnFrame, when set, sees every frame of every stream.
	OnFrame func(stage string, f Frame)

	mu    sync.Mutex
	calls []Call
}

// NewClient returns a client with the plugin's retry policy.
func NewClient(baseURL, apiKey string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey,
		HTTP:       &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 0, MaxIdleConnsPerHost: 4}},
		RetryDelay: 8 * time.Second, Attempts: 3, HealthTries: 30,
	}
}

// NewAPIKey returns a key like secrets.token_urlsafe(48): 64 URL-safe characters.
func NewAPIKey() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Calls returns every backend call made so far.
func (c *Client) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// NotServed returns the calls answered 404 or 405: calls the real plugin
// would make that proxboxd does not serve.
func (c *Client) NotServed() []Call {
	var out []Call
	for _, k := range c.Calls() {
		if k.Status == http.StatusNotFound || k.Status == http.StatusMethodNotAllowed {
			out = append(out, k)
		}
	}
	return out
}

func (c *Client) record(method, path string, status int, err error) {
	k := Call{Method: method, Path: path, Status: status}
	if err != nil {
		k.Err = err.Error()
	}
	c.mu.Lock()
	c.calls = append(c.calls, k)
	c.mu.Unlock()
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, truncate(e.Body, 300))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// do sends one JSON request; auth adds X-Proxbox-API-Key. It returns the
// status and body of any HTTP answer.
func (c *Client) do(ctx context.Context, timeout time.Duration, method, path string, auth bool, body any) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("plugin: marshal %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("plugin: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "python-requests/2.33.0")
	if auth && c.APIKey != "" {
		req.Header.Set("X-Proxbox-API-Key", c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.record(method, path, 0, err)
		return 0, nil, fmt.Errorf("plugin: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	c.record(method, path, resp.StatusCode, err)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("plugin: %s %s: reading body: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// Root is the FastAPI keepalive K1: GET / without auth, any 2xx.
func (c *Client) Root(ctx context.Context) error {
	st, b, err := c.do(ctx, 5*time.Second, http.MethodGet, "/", false, nil)
	if err != nil {
		return err
	}
	if st/100 != 2 {
		return &StatusError{"GET", "/", st, string(b)}
	}
	return nil
}

// BootstrapStatus is A1.
func (c *Client) BootstrapStatus(ctx context.Context) (needs bool, err error) {
	st, b, err := c.do(ctx, 5*time.Second, http.MethodGet, "/auth/bootstrap-status", false, nil)
	if err != nil {
		return false, err
	}
	if st != http.StatusOK {
		return false, &StatusError{"GET", "/auth/bootstrap-status", st, string(b)}
	}
	var v struct {
		NeedsBootstrap *bool `json:"needs_bootstrap"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return false, fmt.Errorf("plugin: bootstrap-status: %w", err)
	}
	if v.NeedsBootstrap == nil {
		return false, errors.New("plugin: bootstrap-status: no needs_bootstrap")
	}
	return *v.NeedsBootstrap, nil
}

// RegisterKey is A2 with the current APIKey; 201 and 409 count as success.
func (c *Client) RegisterKey(ctx context.Context, label string) (int, error) {
	st, b, err := c.do(ctx, 10*time.Second, http.MethodPost, "/auth/register-key", false, map[string]string{"api_key": c.APIKey, "label": label})
	if err != nil {
		return st, err
	}
	if st != http.StatusCreated && st != http.StatusConflict {
		return st, &StatusError{"POST", "/auth/register-key", st, string(b)}
	}
	return st, nil
}

// EnsureKeyRegistered is ensure_backend_key_registered: A1, then A2 when needed.
func (c *Client) EnsureKeyRegistered(ctx context.Context, label string) error {
	needs, err := c.BootstrapStatus(ctx)
	if err != nil {
		return err
	}
	if !needs {
		return nil
	}
	_, err = c.RegisterKey(ctx, label)
	return err
}

// NetBoxEndpoint is the N2/N3 body.
type NetBoxEndpoint struct {
	Name         string `json:"name"`
	IPAddress    string `json:"ip_address"`
	Domain       string `json:"domain"`
	Port         int    `json:"port"`
	VerifySSL    bool   `json:"verify_ssl"`
	TokenVersion string `json:"token_version"`
	Token        string `json:"token"`
	TokenKey     string `json:"token_key,omitempty"` // v2 only
}

// NetBoxEndpointFor derives the body the plugin would push for a NetBox at
// rawURL (the backend rebuilds https when port 443 or verify_ssl, else http).
func NetBoxEndpointFor(name, rawURL, token string) (NetBoxEndpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return NetBoxEndpoint{}, fmt.Errorf("plugin: NetBox URL: %w", err)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if _, err := fmt.Sscan(p, &port); err != nil {
			return NetBoxEndpoint{}, fmt.Errorf("plugin: NetBox URL port: %w", err)
		}
	}
	ep := NetBoxEndpoint{Name: name, IPAddress: "127.0.0.1", Port: port, TokenVersion: "v1", Token: token}
	if ip := u.Hostname(); isIP(ip) {
		ep.IPAddress = ip
	} else {
		ep.Domain = ip
	}
	ep.VerifySSL = u.Scheme == "https" && port != 443
	return ep, nil
}

func isIP(s string) bool {
	return strings.Count(s, ".") == 3 && strings.Trim(s, "0123456789.") == "" || strings.Contains(s, ":")
}

// PushNetBox is N1–N3: GET the list, PUT the first row or POST a new one.
func (c *Client) PushNetBox(ctx context.Context, ep NetBoxEndpoint) error {
	st, b, err := c.do(ctx, 10*time.Second, http.MethodGet, "/netbox/endpoint", true, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return &StatusError{"GET", "/netbox/endpoint", st, string(b)}
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("plugin: GET /netbox/endpoint: not a JSON list: %w", err)
	}
	method, path := http.MethodPost, "/netbox/endpoint"
	if len(list) > 0 {
		id, ok := list[0]["id"]
		if !ok {
			return errors.New("plugin: GET /netbox/endpoint: first element has no id")
		}
		method, path = http.MethodPut, fmt.Sprintf("/netbox/endpoint/%v", jsonNum(id))
	}
	st, b, err = c.do(ctx, 10*time.Second, method, path, true, ep)
	if err != nil {
		return err
	}
	if st != http.StatusOK && st != http.StatusCreated {
		return &StatusError{method, path, st, string(b)}
	}
	return nil
}

func jsonNum(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprint(v)
}

// ProxmoxEndpoint is the P2/P3 body.
type ProxmoxEndpoint struct {
	Name       string  `json:"name"` // "<name> (nb:<pk>)"
	IPAddress  string  `json:"ip_address"`
	Domain     *string `json:"domain"`
	Port       int     `json:"port"`
	Username   string  `json:"username"`
	Password   *string `json:"password"`
	VerifySSL  bool    `json:"verify_ssl"`
	TokenName  *string `json:"token_name"`
	TokenValue *string `json:"token_value"`
}

// BackendName is the plugin's join key "<name> (nb:<pk>)".
func BackendName(name string, pk int) string {
	if name == "" {
		name = "Proxmox Endpoint"
	}
	return fmt.Sprintf("%s (nb:%d)", name, pk)
}

// PushProxmox is P1–P3 for one endpoint: find by name, PUT or POST. It
// returns the backend id.
func (c *Client) PushProxmox(ctx context.Context, ep ProxmoxEndpoint) (int, error) {
	st, b, err := c.do(ctx, 15*time.Second, http.MethodGet, "/proxmox/endpoints", true, nil)
	if err != nil {
		return 0, err
	}
	if st/100 != 2 {
		return 0, &StatusError{"GET", "/proxmox/endpoints", st, string(b)}
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		return 0, fmt.Errorf("plugin: GET /proxmox/endpoints: not a JSON list: %w", err)
	}
	method, path := http.MethodPost, "/proxmox/endpoints"
	for _, it := range list {
		if it["name"] == ep.Name {
			if id, ok := it["id"]; ok && id != nil {
				method, path = http.MethodPut, "/proxmox/endpoints/"+jsonNum(id)
			}
			break
		}
	}
	st, b, err = c.do(ctx, 15*time.Second, method, path, true, ep)
	if err != nil {
		return 0, err
	}
	if st/100 != 2 {
		return 0, &StatusError{method, path, st, string(b)}
	}
	var out struct {
		ID int `json:"id"`
	}
	_ = json.Unmarshal(b, &out)
	return out.ID, nil
}

// WaitReady is wait_for_backend_ready: GET /health with the key until a 200,
// backing off 1 s × 1.5 capped at 30 s, at most HealthTries times.
func (c *Client) WaitReady(ctx context.Context) error {
	delay := time.Second
	var last error
	for i := 0; i < max(1, c.HealthTries); i++ {
		st, b, err := c.do(ctx, 5*time.Second, http.MethodGet, "/health", true, nil)
		if err == nil && st == http.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = &StatusError{"GET", "/health", st, string(b)}
		}
		if i == max(1, c.HealthTries)-1 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(time.Duration(float64(delay)*1.5), 30*time.Second)
	}
	return fmt.Errorf("plugin: backend not ready: %w", last)
}
