package http

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// HeaderAPIKey is the only auth header the plugin sends.
const HeaderAPIKey = "X-Proxbox-API-Key"

// MinKeyLength is the shortest key register-key accepts.
const MinKeyLength = 32

// HashKey returns the stored form of a key: hex SHA-256. Keys are random
// (the plugin sends secrets.token_urlsafe(48)), so a fast hash is adequate
// and avoids the Python backend's bcrypt-per-request cost.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ClientIP returns the client address of r: the peer, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer.String()
	}
	xff := r.Header.Values("X-Forwarded-For")
	var hops []string
	for _, v := range xff {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // garbage: stop at the last address we can vouch for
		}
		a = a.Unmap()
		if !isTrusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) clientIP(c echo.Context) string { return ClientIP(c.Request(), s.cfg.TrustedProxies) }

// authMW enforces X-Proxbox-API-Key with lockout (contract §5.1). Every
// failure detail contains "API key" so the plugin's 401 auto-registration
// retry (§1.5) triggers.
func (s *Server) authMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions || s.isExempt(c) {
			return next(c)
		}
		ok, err := s.checkKey(c, c.Request().Header.Get(HeaderAPIKey))
		if !ok {
			return err
		}
		return next(c)
	}
}

type authFailure struct {
	code       int
	detail     string
	retryAfter int
}

// authenticate checks key for client; it records failures and lockouts. It
// is shared by the HTTP middleware and the WebSocket handshake.
func (s *Server) authenticate(c echo.Context, client, key string) *authFailure {
	ctx := c.Request().Context()
	now := time.Now()
	if l, ok := s.d.Store.GetLockout(client); ok && l.Attempts >= s.cfg.LockoutAttempts {
		if rem := s.cfg.LockoutWindow - now.Sub(l.First); rem > 0 {
			s.d.Metrics.Inc("proxboxd_auth_lockouts_total", nil)
			return &authFailure{code: http.StatusTooManyRequests, detail: "Too many failed API key attempts. Please try again later.",
				retryAfter: int(math.Ceil(rem.Seconds()))}
		}
	}
	keys, err := s.d.Store.ActiveKeyHashes(ctx)
	if err != nil {
		return &authFailure{code: http.StatusInternalServerError, detail: "API key check failed"}
	}
	if len(keys) == 0 {
		return &authFailure{code: http.StatusUnauthorized, detail: "No API key configured. Register a key via POST /auth/register-key or use an existing key."}
	}
	fail := func(what string) *authFailure {
		l := s.d.Store.RecordFailure(ctx, client, now, s.cfg.LockoutWindow)
		s.d.Metrics.Inc("proxboxd_auth_failures_total", nil)
		s.log.Warn("API key rejected", "client", client, "reason", what, "attempts", l.Attempts)
		rem := s.cfg.LockoutAttempts - l.Attempts
		d := "Invalid API key."
		if what == "missing" {
			d = "API key required."
		}
		if rem > 0 {
			d = strings.TrimSuffix(d, ".") + ". " + strconv.Itoa(rem) + " attempts remaining."
		}
		return &authFailure{code: http.StatusUnauthorized, detail: d}
	}
	if key == "" {
		return fail("missing")
	}
	h := []byte(HashKey(key))
	match := 0
	for _, k := range keys {
		match |= subtle.ConstantTimeCompare(h, []byte(k.Hash))
	}
	if match != 1 {
		return fail("invalid")
	}
	s.d.Store.ClearLockout(ctx, client)
	return nil
}

func (s *Server) checkKey(c echo.Context, key string) (bool, error) {
	f := s.authenticate(c, s.clientIP(c), key)
	if f == nil {
		return true, nil
	}
	if f.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	return false, jsonError(c, f.code, f.detail)
}

// ---- rate limit ----

type bucket struct {
	tokens float64
	last   time.Time
}

type rateLimiter struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	buckets map[string]*bucket
	sweep   time.Time
}

func newRateLimiter(perMinute, burst int) *rateLimiter {
	if perMinute < 0 {
		return nil
	}
	return &rateLimiter{perSec: float64(perMinute) / 60, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes one token for client; when empty it returns the wait.
func (r *rateLimiter) allow(client string, now time.Time) (bool, time.Duration) {
	if r == nil {
		return true, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.sweep) > time.Minute || len(r.buckets) > 100000 {
		for k, b := range r.buckets {
			if now.Sub(b.last) > 10*time.Minute || len(r.buckets) > 100000 {
				delete(r.buckets, k)
			}
		}
		r.sweep = now
	}
	b := r.buckets[client]
	if b == nil {
		b = &bucket{tokens: r.burst, last: now}
		r.buckets[client] = b
	}
	b.tokens = math.Min(r.burst, b.tokens+now.Sub(b.last).Seconds()*r.perSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / r.perSec * float64(time.Second))
}

func (s *Server) rateLimitMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Path() {
		case "/", "/health":
			return next(c) // keepalive and readiness probes are never throttled
		}
		ok, wait := s.rl.allow(s.clientIP(c), time.Now())
		if !ok {
			s.d.Metrics.Inc("proxboxd_rate_limited_total", nil)
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			return jsonError(c, http.StatusTooManyRequests, "Rate limit exceeded. Please try again later.")
		}
		return next(c)
	}
}

// ---- /auth routes ----

type registerKeyBody struct {
	APIKey string `json:"api_key"`
	Label  string `json:"label"`
}

func (s *Server) bootstrapStatus(c echo.Context) error {
	keys, err := s.d.Store.ActiveKeyHashes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"needs_bootstrap": len(keys) == 0, "has_db_keys": len(keys) > 0})
}

func (s *Server) registerKey(c echo.Context) error {
	var b registerKeyBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if len(b.APIKey) < MinKeyLength {
		return jsonError(c, http.StatusBadRequest, "API key must be at least 32 characters.")
	}
	if len(b.APIKey) > 512 || len(b.Label) > 255 {
		return jsonError(c, http.StatusBadRequest, "API key or label too long.")
	}
	_, err := s.d.Store.RegisterFirstKey(c.Request().Context(), HashKey(b.APIKey), b.Label)
	if errors.Is(err, sqlite.ErrConflict) {
		return jsonError(c, http.StatusConflict, "An API key is already configured.")
	}
	if err != nil {
		return err
	}
	s.log.Info("API key registered", "label", b.Label)
	return c.JSON(http.StatusCreated, map[string]string{"detail": "API key registered."})
}

func (s *Server) listKeys(c echo.Context) error {
	keys, err := s.d.Store.ListKeys(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": keys})
}

func (s *Server) createKey(c echo.Context) error {
	var b struct {
		Label string `json:"label"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &b); err != nil {
			return err
		}
	}
	if len(b.Label) > 255 {
		return jsonError(c, http.StatusBadRequest, "label too long")
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	key := base64.RawURLEncoding.EncodeToString(raw)
	k, err := s.d.Store.CreateKey(c.Request().Context(), HashKey(key), b.Label)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": k.ID, "label": k.Label, "is_active": k.IsActive, "created_at": k.CreatedAt, "raw_key": key})
}

func (s *Server) deleteKey(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteKey(c.Request().Context(), id); errors.Is(err, sqlite.ErrNotFound) {
		return jsonError(c, http.StatusNotFound, "API key not found.")
	} else if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) setKeyActive(active bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathInt(c, "id")
		if err != nil {
			return err
		}
		k, err := s.d.Store.SetKeyActive(c.Request().Context(), id, active)
		if errors.Is(err, sqlite.ErrNotFound) {
			return jsonError(c, http.StatusNotFound, "API key not found.")
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, k)
	}
}
