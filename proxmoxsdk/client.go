package proxmoxsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// Client calls the PVE API through a Transport. It is safe for concurrent
// use. The generated navigator (nav_gen.go) hangs off it:
// px.Nodes("pve1").Qemu(100).Config().Get(ctx, nil).
type Client struct {
	transport Transport
	auth      authenticator
	log       *slog.Logger
	retry     RetryPolicy
	now       func() time.Time
}

type config struct {
	transport  Transport
	httpsURL   string
	httpsOpts  []HTTPSOption
	auth       authenticator
	log        *slog.Logger
	retry      *RetryPolicy
	now        func() time.Time
	renewAfter time.Duration
	totp       TOTPFunc
	// mode is "" (read PROXMOX_API_MODE), ModeReal or ModeMock.
	mode         string
	mockScenario string
}

// Option configures a Client.
type Option func(*config) error

// WithHTTPS selects the HTTPS transport (the default way to reach PVE).
// baseURL is "https://host:8006" (the /api2/json suffix is optional).
func WithHTTPS(baseURL string, opts ...HTTPSOption) Option {
	return func(c *config) error {
		c.httpsURL = baseURL
		c.httpsOpts = opts
		return nil
	}
}

// WithTransport selects any Transport (SSH, local pvesh, pvemock…).
func WithTransport(t Transport) Option {
	return func(c *config) error {
		if t == nil {
			return errors.New("proxmox: nil transport")
		}
		c.transport = t
		return nil
	}
}

// WithAPIToken authenticates with an API token: tokenID is
// "user@realm!tokenname", secret the token UUID. Tokens need no ticket and
// no CSRF token.
func WithAPIToken(tokenID, secret string) Option {
	return func(c *config) error {
		if !strings.Contains(tokenID, "!") || !strings.Contains(tokenID, "@") {
			return fmt.Errorf("proxmox: token id %q: want user@realm!tokenname", tokenID)
		}
		if secret == "" {
			return errors.New("proxmox: empty token secret")
		}
		c.auth = &tokenAuth{header: "PVEAPIToken=" + tokenID + "=" + secret}
		return nil
	}
}

// WithTicket authenticates with user and password through POST
// /access/ticket. user may carry its realm ("root@pam"); otherwise realm
// (default "pam") is appended.
func WithTicket(user, password string, realm ...string) Option {
	return func(c *config) error {
		if user == "" {
			return errors.New("proxmox: empty user")
		}
		if !strings.Contains(user, "@") {
			r := "pam"
			if len(realm) > 0 && realm[0] != "" {
				r = realm[0]
			}
			user += "@" + r
		}
		c.auth = &ticketAuth{user: user, password: password}
		return nil
	}
}

// WithTOTP answers a TOTP second factor with codes computed from the
// base32 secret (RFC 6238, SHA-1, 30 s, 6 digits).
func WithTOTP(secret string) Option {
	return func(c *config) error {
		if _, err := TOTPCode(secret, time.Unix(0, 0)); err != nil {
			return err
		}
		c.totp = func(context.Context) (string, error) {
			now := time.Now
			if c.now != nil {
				now = c.now
			}
			return TOTPCode(secret, now())
		}
		return nil
	}
}

// WithTOTPFunc answers a second factor with codes from f (an authenticator
// prompt, a secret store…).
func WithTOTPFunc(f TOTPFunc) Option {
	return func(c *config) error { c.totp = f; return nil }
}

// WithLogger sets the logger (default: discard). Secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.log = l; return nil }
}

// WithRetry sets the retry policy for idempotent calls.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error { c.retry = &p; return nil }
}

// WithClock sets the clock used for ticket renewal and TOTP (tests).
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// WithTicketRenewal sets the ticket age after which it is renewed before
// the next call (default 1 h; PVE tickets expire after 2 h).
func WithTicketRenewal(d time.Duration) Option {
	return func(c *config) error { c.renewAfter = d; return nil }
}

// New builds a Client. One of WithHTTPS or WithTransport is required, except
// in mock mode (WithMock, WithAPIMode(ModeMock) or PROXMOX_API_MODE=mock),
// where the transport is an in-process pvemock (PROXMOX_MOCK_SCENARIO picks
// the scenario) and the configured transport and credentials are ignored:
// the same program runs unchanged against the mock. Mock mode needs the mock
// linked in (see RegisterMock).
func New(opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
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
		t, err := mockTransport(cfg.mockScenario)
		if err != nil {
			return nil, err
		}
		cfg.transport, cfg.httpsURL, cfg.auth = t, "", nil
	}
	c := &Client{transport: cfg.transport, auth: cfg.auth, log: cfg.log, now: cfg.now}
	if cfg.httpsURL != "" {
		if c.transport != nil {
			return nil, errors.New("proxmox: WithHTTPS and WithTransport are exclusive")
		}
		t, err := NewHTTPSTransport(cfg.httpsURL, cfg.httpsOpts...)
		if err != nil {
			return nil, err
		}
		c.transport = t
	}
	if c.transport == nil {
		return nil, errors.New("proxmox: no transport: use WithHTTPS or WithTransport")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.retry = DefaultRetryPolicy()
	if cfg.retry != nil {
		c.retry = *cfg.retry
	}
	if t, ok := c.auth.(*ticketAuth); ok {
		t.totp = cfg.totp
		t.renewAfter = cfg.renewAfter
		if t.renewAfter <= 0 {
			t.renewAfter = time.Hour
		}
	}
	return c, nil
}

// Transport returns the client's transport.
func (c *Client) Transport() Transport { return c.transport }

// Call performs one API call and decodes the envelope's "data" into out
// (out may be nil). params: see EncodeParams.
func (c *Client) Call(ctx context.Context, method, path string, params any, out any) error {
	raw, err := c.CallRaw(ctx, method, path, params)
	if err != nil {
		return err
	}
	if out == nil || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("proxmox: %s %s: decode data: %w", method, path, err)
	}
	return nil
}

// CallRaw performs one API call and returns the undecoded "data".
func (c *Client) CallRaw(ctx context.Context, method, path string, params any) (json.RawMessage, error) {
	method = strings.ToUpper(method)
	vals, err := EncodeParams(params)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req := &Request{Method: method, Path: path, Params: vals}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return DecodeEnvelope(method, path, resp)
}

// do runs the request with authentication and retries (see RetryPolicy).
func (c *Client) do(ctx context.Context, req *Request) (*Response, error) {
	attempts := max(c.retry.MaxAttempts, 1)
	idem := isIdempotent(req.Method)
	var (
		resp     *Response
		final    error // the error the call ends with
		retryErr error // the failure of the attempt being retried
		attempt  int
	)
	// Each attempt either ends the call (resp or final is set and nil is
	// returned to Retry) or asks for another one.
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		start := c.now()
		r, err := c.doAuth(ctx, req)
		more := attempt < attempts
		if err != nil {
			if !more || !idem || !retryableErr(ctx, err) {
				final = err
				return struct{}{}, nil
			}
			retryErr = err
			return struct{}{}, err
		}
		if more && retryStatus(req.Method, r.StatusCode) && ctx.Err() == nil {
			if apiErr := apiErrorFrom(req.Method, req.Path, r); apiErr.Temporary() {
				retryErr = apiErr
				return struct{}{}, c.retry.retryErr(apiErr, r.Header)
			}
		}
		c.log.DebugContext(ctx, "proxmox call", "method", req.Method, "path", req.Path, "status", r.StatusCode, "duration", c.now().Sub(start))
		resp = r
		return struct{}{}, nil
	}, backoff.WithBackOff(c.retry.backOff()), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(_ error, wait time.Duration) {
		c.log.DebugContext(ctx, "proxmox retry", "method", req.Method, "path", req.Path, "error", retryErr, "attempt", attempt, "wait", wait)
	}))
	if err != nil { // the caller's context ended during a wait
		return nil, errors.Join(err, retryErr)
	}
	if final != nil {
		return nil, final
	}
	return resp, nil
}

func (c *Client) doAuth(ctx context.Context, req *Request) (*Response, error) {
	if c.auth == nil {
		return c.transport.RoundTrip(ctx, req)
	}
	r := *req
	r.Header = make(http.Header, 3)
	gen, err := c.auth.apply(ctx, c, &r)
	if err != nil {
		return nil, err
	}
	resp, err := c.transport.RoundTrip(ctx, &r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// One re-login on 401 (an expired or revoked ticket).
	again, err := c.auth.unauthorized(ctx, c, gen)
	if err != nil || !again {
		if err != nil {
			c.log.WarnContext(ctx, "proxmox re-login failed", "error", err)
		}
		return resp, nil
	}
	r.Header = make(http.Header, 3)
	if _, err := c.auth.apply(ctx, c, &r); err != nil {
		return nil, err
	}
	return c.transport.RoundTrip(ctx, &r)
}

// envelope is PVE's response wrapper.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Errors  json.RawMessage `json:"errors"`
	Message string          `json:"message"`
}

// DecodeEnvelope checks the status of resp and returns its "data". A non-2xx
// status becomes an *APIError.
func DecodeEnvelope(method, path string, resp *Response) (json.RawMessage, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, apiErrorFrom(method, path, resp)
	}
	body := bytes.TrimSpace(resp.Body)
	if len(body) == 0 {
		return json.RawMessage("null"), nil
	}
	// Fast path: PVE writes {"data":…} and nothing else; one validating
	// scan, no copy.
	const prefix = `{"data":`
	if len(body) > len(prefix) && string(body[:len(prefix)]) == prefix && body[len(body)-1] == '}' {
		if inner := bytes.TrimSpace(body[len(prefix) : len(body)-1]); len(inner) > 0 && json.Valid(inner) {
			return inner, nil
		}
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("proxmox: %s %s: decode envelope: %w", method, path, err)
	}
	if len(env.Data) == 0 {
		return json.RawMessage("null"), nil
	}
	return env.Data, nil
}

func apiErrorFrom(method, path string, resp *Response) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: resp.Body}
	msg := strings.TrimSpace(resp.Status)
	if msg == http.StatusText(resp.StatusCode) {
		msg = ""
	}
	var env envelope
	if json.Unmarshal(resp.Body, &env) == nil {
		if msg == "" {
			msg = strings.TrimSpace(env.Message)
		}
		e.Errors = decodeErrorsMap(env.Errors)
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = msg
	return e
}

func decodeErrorsMap(raw json.RawMessage) map[string]string {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = strings.TrimSpace(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// ItemError reports one list item that did not decode.
type ItemError struct {
	Index int
	Raw   json.RawMessage
	Err   error
}

func (e *ItemError) Error() string { return fmt.Sprintf("proxmox: list item %d: %v", e.Index, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// GetList GETs a collection and decodes it item by item: an item that does
// not decode into T is reported as an *ItemError and skipped, the others
// are returned. A failed call returns (nil, []error{err}).
func GetList[T any](ctx context.Context, c *Client, path string, params any) ([]T, []error) {
	raw, err := c.CallRaw(ctx, http.MethodGet, path, params)
	if err != nil {
		return nil, []error{err}
	}
	return DecodeList[T](raw)
}

// DecodeList decodes a JSON array item by item (see GetList).
func DecodeList[T any](raw json.RawMessage) ([]T, []error) {
	if isNull(raw) {
		return nil, nil
	}
	// Fast path: the whole list decodes at once (the common case).
	var all []T
	if err := json.Unmarshal(raw, &all); err == nil {
		return all, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, []error{fmt.Errorf("proxmox: data is not a list: %w", err)}
	}
	out := make([]T, 0, len(items))
	var errs []error
	for i, it := range items {
		var v T
		if err := json.Unmarshal(it, &v); err != nil {
			errs = append(errs, &ItemError{Index: i, Raw: it, Err: err})
			continue
		}
		out = append(out, v)
	}
	return out, errs
}

// DecodeListInto decodes a JSON array into out (a pointer to a slice) the
// way GetList does: the whole list at once when it decodes cleanly,
// otherwise item by item, returning the bad items as errors.Join of
// *ItemError. Items of generated models (gen/pve) are decoded with
// pvetypes.Unmarshal: keys without a field go to their Extra, and an item
// whose fields do not all decode is kept (the fields raw in Extra, each
// reported as a *pvetypes.FieldError in its *ItemError); other bad items
// are skipped. null leaves out unchanged.
func DecodeListInto(raw json.RawMessage, out any) error {
	if isNull(raw) {
		return nil
	}
	pv := reflect.ValueOf(out)
	if pv.Kind() != reflect.Pointer || pv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("proxmox: DecodeListInto needs a pointer to a slice, got %T", out)
	}
	fresh := reflect.New(pv.Elem().Type())
	if err := json.Unmarshal(raw, fresh.Interface()); err == nil {
		pv.Elem().Set(fresh.Elem())
		pvetypes.CaptureExtra(raw, out)
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("proxmox: data is not a list: %w", err)
	}
	st := pv.Elem().Type()
	s := reflect.MakeSlice(st, 0, len(items))
	var errs []error
	for i, it := range items {
		v := reflect.New(st.Elem())
		if err := pvetypes.Unmarshal(it, v.Interface()); err != nil {
			errs = append(errs, &ItemError{Index: i, Raw: it, Err: err})
			if !keepItem(err) {
				continue
			}
		}
		s = reflect.Append(s, v.Elem())
	}
	pv.Elem().Set(s)
	return errors.Join(errs...)
}

// keepItem reports whether an item whose decode failed with err still holds
// its data: true when every error is a *pvetypes.FieldError below the item
// (the item is an object; the field is kept raw in its Extra).
func keepItem(err error) bool {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		fe, ok := e.(*pvetypes.FieldError)
		if !ok || fe.Path == "" {
			return false
		}
	}
	return true
}
