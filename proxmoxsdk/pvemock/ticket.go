package pvemock

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

const tfaMarker = "!tfa!"

// tfaChallenge is the (URL-encoded) challenge in a half-authenticated ticket.
var tfaChallenge = url.QueryEscape(`{"totp":true}`)

func (m *Mock) user(name string) (User, bool) {
	for _, u := range m.sc.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// makeTicket: PVE:<user>:<hex time>::<sig>; half-authenticated tickets
// (waiting for the second factor) carry "!tfa!<challenge>" before the user.
func (m *Mock) makeTicket(user string, tfa bool) string {
	body := fmt.Sprintf("PVE:%s:%08X", user, m.sc.Clock().Unix())
	if tfa {
		body = fmt.Sprintf("PVE:%s%s:%s:%08X", tfaMarker, tfaChallenge, user, m.sc.Clock().Unix())
	}
	return body + "::" + m.sign(body)
}

// checkTicket verifies signature and age; returns the user.
func (m *Mock) checkTicket(t string, wantTFA bool) (string, bool) {
	body, sig, ok := strings.Cut(t, "::")
	if !ok || !hmac.Equal([]byte(sig), []byte(m.sign(body))) {
		return "", false
	}
	parts := strings.Split(body, ":")
	isTFA := len(parts) == 4 && strings.HasPrefix(parts[1], tfaMarker)
	if isTFA != wantTFA || (len(parts) != 3 && !isTFA) {
		return "", false
	}
	user, ts := parts[1], parts[2]
	if isTFA {
		user, ts = parts[2], parts[3]
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil {
		return "", false
	}
	age := m.sc.Clock().Sub(time.Unix(sec, 0))
	lifetime := m.sc.TicketLifetime
	if isTFA {
		lifetime = 2 * time.Minute
	}
	if age < -5*time.Minute || age >= lifetime {
		return "", false
	}
	return user, true
}

func (m *Mock) csrf(user string) string {
	ts := fmt.Sprintf("%08X", m.sc.Clock().Unix())
	return ts + ":" + m.sign("csrf:"+user+":"+ts)
}

func (m *Mock) checkCSRF(tok, user string) bool {
	ts, sig, ok := strings.Cut(tok, ":")
	return ok && hmac.Equal([]byte(sig), []byte(m.sign("csrf:"+user+":"+ts)))
}

// ticket implements POST /access/ticket: password login, renewal with the
// current ticket as password, and the TOTP step (tfa-challenge +
// password "totp:<code>").
func (m *Mock) ticket(p url.Values) *proxmoxsdk.Response {
	name := p.Get("username")
	if r := p.Get("realm"); r != "" && !strings.Contains(name, "@") {
		name += "@" + r
	}
	fail := errResp(http.StatusUnauthorized, "authentication failure", nil)
	u, ok := m.user(name)
	if !ok {
		return fail
	}
	pw := p.Get("password")
	full := func() *proxmoxsdk.Response {
		return okResp(map[string]any{"username": name, "ticket": m.makeTicket(name, false), "CSRFPreventionToken": m.csrf(name), "cap": map[string]any{}})
	}
	if ch := p.Get("tfa-challenge"); ch != "" {
		if who, ok := m.checkTicket(ch, true); !ok || who != name {
			return fail
		}
		code, ok := strings.CutPrefix(pw, "totp:")
		if !ok || !m.totpValid(u.TOTPSecret, code) {
			return fail
		}
		return full()
	}
	if strings.HasPrefix(pw, "PVE:") {
		if who, ok := m.checkTicket(pw, false); ok && who == name {
			return full() // renewal: no second factor
		}
		return fail
	}
	if !hmac.Equal([]byte(pw), []byte(u.Password)) {
		return fail
	}
	if u.TOTPSecret != "" {
		return okResp(map[string]any{"username": name, "ticket": m.makeTicket(name, true), "CSRFPreventionToken": m.csrf(name), "NeedTFA": 1})
	}
	return full()
}

func (m *Mock) totpValid(secret, code string) bool {
	if secret == "" {
		return false
	}
	now := m.sc.Clock()
	for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
		if c, err := proxmoxsdk.TOTPCode(secret, now.Add(d)); err == nil && hmac.Equal([]byte(c), []byte(code)) {
			return true
		}
	}
	return false
}
