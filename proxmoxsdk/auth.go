package proxmoxsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// authenticator adds credentials to requests. apply returns a generation
// number; unauthorized(gen) re-logs in once unless another caller already
// did so after gen.
type authenticator interface {
	apply(ctx context.Context, c *Client, req *Request) (gen uint64, err error)
	unauthorized(ctx context.Context, c *Client, gen uint64) (retry bool, err error)
}

// tokenAuth sends Authorization: PVEAPIToken=user@realm!id=secret.
type tokenAuth struct{ header string }

func (t *tokenAuth) apply(_ context.Context, _ *Client, req *Request) (uint64, error) {
	req.Header.Set("Authorization", t.header)
	return 0, nil
}

func (t *tokenAuth) unauthorized(context.Context, *Client, uint64) (bool, error) { return false, nil }

// TOTPFunc returns the current TOTP code for a second-factor login.
type TOTPFunc func(ctx context.Context) (string, error)

// ticketAuth logs in through POST /access/ticket and sends the
// PVEAuthCookie (and CSRFPreventionToken on writes).
type ticketAuth struct {
	user, password string
	totp           TOTPFunc
	renewAfter     time.Duration

	mu     sync.Mutex
	ticket string
	csrf   string
	issued time.Time
	gen    uint64
}

// ticketData is the answer of POST /access/ticket.
type ticketData struct {
	Username string          `json:"username"`
	Ticket   string          `json:"ticket"`
	CSRF     string          `json:"CSRFPreventionToken"`
	NeedTFA  json.RawMessage `json:"NeedTFA"`
}

func (t *ticketAuth) apply(ctx context.Context, c *Client, req *Request) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := c.now()
	switch {
	case t.ticket == "":
		if err := t.login(ctx, c); err != nil {
			return 0, err
		}
	case now.Sub(t.issued) >= t.renewAfter:
		if err := t.renew(ctx, c); err != nil {
			c.log.InfoContext(ctx, "proxmox ticket renewal failed, logging in again", "user", t.user, "error", err)
			if err := t.login(ctx, c); err != nil {
				return 0, err
			}
		}
	}
	req.Header.Set("Cookie", "PVEAuthCookie="+t.ticket)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		req.Header.Set("CSRFPreventionToken", t.csrf)
	}
	return t.gen, nil
}

func (t *ticketAuth) unauthorized(ctx context.Context, c *Client, gen uint64) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen {
		return true, nil // someone else logged in meanwhile
	}
	if err := t.login(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}

// login performs the full password (and second factor) login.
func (t *ticketAuth) login(ctx context.Context, c *Client) error {
	d, err := t.post(ctx, c, url.Values{"username": {t.user}, "password": {t.password}, "new-format": {"1"}}, "")
	if err != nil {
		return err
	}
	if needsTFA(d) {
		if t.totp == nil {
			return fmt.Errorf("proxmox: login as %s: %w", t.user, ErrTFARequired)
		}
		code, err := t.totp(ctx)
		if err != nil {
			return fmt.Errorf("proxmox: login as %s: totp: %w", t.user, err)
		}
		if !strings.Contains(code, ":") {
			code = "totp:" + code
		}
		d, err = t.post(ctx, c, url.Values{"username": {t.user}, "tfa-challenge": {d.Ticket}, "password": {code}, "new-format": {"1"}}, d.CSRF)
		if err != nil {
			return err
		}
		if needsTFA(d) {
			return fmt.Errorf("proxmox: login as %s: second factor not accepted: %w", t.user, ErrAuth)
		}
	}
	t.set(c, d)
	return nil
}

// renew exchanges the current ticket for a fresh one (no second factor).
func (t *ticketAuth) renew(ctx context.Context, c *Client) error {
	d, err := t.post(ctx, c, url.Values{"username": {t.user}, "password": {t.ticket}, "new-format": {"1"}}, "")
	if err != nil {
		return err
	}
	if needsTFA(d) {
		return fmt.Errorf("proxmox: renew ticket: %w", ErrTFARequired)
	}
	t.set(c, d)
	return nil
}

func (t *ticketAuth) set(c *Client, d *ticketData) {
	t.ticket, t.csrf, t.issued = d.Ticket, d.CSRF, c.now()
	t.gen++
}

func (t *ticketAuth) post(ctx context.Context, c *Client, form url.Values, csrf string) (*ticketData, error) {
	req := &Request{Method: http.MethodPost, Path: "/access/ticket", Params: form, Header: http.Header{}}
	if csrf != "" {
		req.Header.Set("CSRFPreventionToken", csrf)
	}
	resp, err := c.transport.RoundTrip(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("proxmox: login as %s: %w", t.user, err)
	}
	raw, err := DecodeEnvelope(req.Method, req.Path, resp)
	if err != nil {
		if ae, ok := err.(*APIError); ok && ae.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("proxmox: login as %s: %w", t.user, ae)
		}
		return nil, fmt.Errorf("proxmox: login as %s: %w", t.user, err)
	}
	var d ticketData
	if err := json.Unmarshal(raw, &d); err != nil || d.Ticket == "" {
		return nil, fmt.Errorf("proxmox: login as %s: no ticket in answer: %w", t.user, ErrAuth)
	}
	return &d, nil
}

// needsTFA: PVE ≥ 7 answers a password login of a TFA user with NeedTFA: 1
// and a half-authenticated "!tfa!" ticket.
func needsTFA(d *ticketData) bool {
	switch strings.Trim(string(d.NeedTFA), `" `) {
	case "", "0", "false", "null":
	default:
		return true
	}
	return strings.Contains(d.Ticket, "!tfa!")
}
