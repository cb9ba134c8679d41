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
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"golang.org/x/time/rate"
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

// keyAuth enforces X-Proxbox-API-Key with lockout (contract §5.1) through
// echo's KeyAuth: the skipper lets OPTIONS and the exempt routes through,
// the validator runs authenticate (constant-time compare, failure count,
// lockout), and the error handler renders the failure. Every failure detail
// contains "API key" so the plugin's 401 auto-registration retry (§1.5)
// triggers. Only the first header value counts, as before.
func (s *Server) keyAuth() echo.MiddlewareFunc {
	const failureKey = "proxboxd.auth_failure"
	return middleware.KeyAuthWithConfig(middleware.KeyAuthConfig{
		KeyLookup: "header:" + HeaderAPIKey,
		Skipper: func(c echo.Context) bool {
			return c.Request().Method == http.MethodOptions || s.isExempt(c)
		},
		Validator: func(key string, c echo.Context) (bool, error) {
			if c.Get(failureKey) != nil || key != c.Request().Header.Get(HeaderAPIKey) {
				return false, nil // a repeated header is not a second attempt
			}
			if f := s.authenticate(c, s.clientIP(c), key); f != nil {
				c.Set(failureKey, f)
				return false, f
			}
			return true, nil
		},
		ErrorHandler: func(_ error, c echo.Context) error {
			f, _ := c.Get(failureKey).(*authFailure)
			if f == nil { // no header at all
				if f = s.authenticate(c, s.clientIP(c), ""); f == nil {
					return errors.New("auth: empty key accepted") // unreachable: "" never matches
				}
			}
			if f.retryAfter > 0 {
				c.Response().Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			}
			return jsonError(c, f.code, f.detail)
		},
	})
}

type authFailure struct {
	code       int
	detail     string
	retryAfter int
}

func (f *authFailure) Error() string { return f.detail }

// authenticate checks key for client; it records failures and lockouts. It
// is shared by the HTTP middleware and the WebSocket handshake.
func (s *Server) authenticate(c echo.Context, client, key string) *authFailure {
	ctx := c.Request().Context()
	now := time.Now()
	if l, ok := s.d.Store.GetLockout(client); ok && l.Attempts >= s.cfg.LockoutAttempts {
		if rem := s.cfg.LockoutWindow - now.Sub(l.First); rem > 0 {
			s.d.Metrics.authLockouts.Inc()
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
		s.d.Metrics.authFailures.Inc()
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

// ---- rate limit ----

// rateLimiter is echo's RateLimiter with its in-memory token-bucket store,
// keyed by ClientIP (X-Forwarded-For only from trusted proxies). "/" and
// /health (keepalive and readiness probes) are never throttled. nil when the
// limit is off.
func (s *Server) rateLimiter() echo.MiddlewareFunc {
	if s.cfg.RateLimit < 0 {
		return nil
	}
	perSec := float64(s.cfg.RateLimit) / 60
	retryAfter := strconv.Itoa(max(1, int(math.Ceil(1/perSec)))) // one token's refill time
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool { return c.Path() == "/" || c.Path() == "/health" },
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSec), Burst: s.cfg.RateBurst, ExpiresIn: 10 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return s.clientIP(c), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			s.d.Metrics.rateLimited.Inc()
			c.Response().Header().Set("Retry-After", retryAfter)
			return jsonError(c, http.StatusTooManyRequests, "Rate limit exceeded. Please try again later.")
		},
	})
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
	if errors.Is(err, proxbox.ErrConflict) {
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
	if err := s.d.Store.DeleteKey(c.Request().Context(), id); errors.Is(err, proxbox.ErrNotFound) {
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
		if errors.Is(err, proxbox.ErrNotFound) {
			return jsonError(c, http.StatusNotFound, "API key not found.")
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, k)
	}
}
