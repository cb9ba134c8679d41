package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/settings"
)

// Version is reported by /version. It must stay >= 0.0.15 (plugin HEAD
// advisories) and be bumped whenever routes change: the plugin caches the
// OpenAPI document by this value.
const Version = "0.2.0"

// Config holds the service knobs (flags/env, see cmd/proxboxd).
type Config struct {
	// RateLimit is requests per minute per client (token bucket); 0 = default
	// 1200, negative = off. The plugin is chatty (dashboard renders push every
	// endpoint; jobs poll /health), so the default is 20x the Python
	// backend's 60/min.
	RateLimit int
	// RateBurst is the bucket size (default RateLimit/2, at least 50).
	RateBurst int
	// TrustedProxies may set X-Forwarded-For; from anyone else it is ignored.
	TrustedProxies []netip.Prefix
	// CORSOrigins are allowed browser origins for /admin/logs*; "*" allows any.
	CORSOrigins []string
	// AllowWrites lets /proxmox/api2/... pass POST/PUT/DELETE through.
	AllowWrites bool
	// AllowLinkLocal permits endpoints on link-local/metadata addresses.
	AllowLinkLocal bool
	// PublicLogs exempts /admin/logs and /admin/logs/stream from the API key
	// (default true: the plugin's log page calls them from the browser).
	PublicLogs bool
	// PublicAdmin exempts the operator view from the API key: the /admin page
	// and what it reads (/admin/api/overview, /admin/api/health,
	// /admin/events, /admin/runs/{id}/events). The demo turns it on.
	PublicAdmin bool
	// MaxBodyBytes limits request bodies (default 1 MiB).
	MaxBodyBytes int64
	// KeepAlive is the SSE silence after which ": keepalive" is sent (15 s).
	KeepAlive time.Duration
	// LockoutAttempts and LockoutWindow: 5 failures -> 300 s of 429.
	LockoutAttempts int
	LockoutWindow   time.Duration
	// ExposeInternalErrors puts error text into 500 bodies.
	ExposeInternalErrors bool
}

func (c *Config) defaults() {
	if c.RateLimit == 0 {
		c.RateLimit = 1200
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(c.RateLimit/2, 50)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 15 * time.Second
	}
	if c.LockoutAttempts <= 0 {
		c.LockoutAttempts = 5
	}
	if c.LockoutWindow <= 0 {
		c.LockoutWindow = 300 * time.Second
	}
}

// Deps are the collaborators of the server.
type Deps struct {
	Store     proxbox.Store  // endpoints, keys and lockouts, run history
	Syncer    proxbox.Syncer // nil: stage routes complete with ok:false
	Connector proxbox.Connector
	Settings  *settings.Provider
	Logger    *slog.Logger
	Logs      *LogBuffer
	Metrics   *Metrics
}

// RouteInfo describes one registered route (OpenAPI, route-walk tests).
type RouteInfo struct {
	Method, Path string // echo path syntax (":id", "*")
	Summary, Tag string
	Exempt       bool // no API key needed
	Stream       bool // text/event-stream
	Query        []string
}

// Server is proxboxd's HTTP API.
type Server struct {
	cfg  Config
	d    Deps
	e    *echo.Echo
	log  *slog.Logger
	sess *sessionCache
	runs *runEvents
	live *liveStreams

	stopLogs func() // ends the log streams' subscription to d.Logs

	baseCtx    context.Context
	baseCancel context.CancelFunc
	streams    sync.WaitGroup

	routes []RouteInfo
	exempt map[string]bool // "METHOD path"
}

// New builds the server and registers every route.
func New(cfg Config, d Deps) *Server {
	cfg.defaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	if d.Logs == nil {
		d.Logs = NewLogBuffer(10000)
	}
	if d.Settings == nil {
		d.Settings = settings.NewProvider(nil, 0, nil, nil, d.Logger)
	}
	ctx, cancel := context.WithCancel(context.Background())
	live := newLiveStreams()
	s := &Server{cfg: cfg, d: d, log: d.Logger, baseCtx: ctx, baseCancel: cancel, exempt: map[string]bool{},
		sess: newSessionCache(30 * time.Second), runs: newRunEvents(runEventsKept, live.notify), live: live}
	s.stopLogs = d.Logs.Subscribe(live.publishLog)
	go s.keepAlive(ctx, cfg.KeepAlive)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	s.middlewares(e)
	s.e = e
	s.registerRoutes()
	return s
}

// Handler returns the http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the router (tests).
func (s *Server) Echo() *echo.Echo { return s.e }

// Routes lists the registered routes, sorted.
func (s *Server) Routes() []RouteInfo {
	out := append([]RouteInfo(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Shutdown ends running streams (each gets its `complete` frame) and run
// watchers, then waits for them up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.baseCancel()
	s.stopLogs()
	defer s.live.srv.Close()
	defer s.runs.close() // lets run watchers go
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: streams still running: %w", ctx.Err())
	}
}

type routeOpt func(*RouteInfo)

func exempt() routeOpt           { return func(r *RouteInfo) { r.Exempt = true } }
func streamRoute() routeOpt      { return func(r *RouteInfo) { r.Stream = true } }
func query(q ...string) routeOpt { return func(r *RouteInfo) { r.Query = append(r.Query, q...) } }

func (s *Server) add(method, path, tag, summary string, h echo.HandlerFunc, opts ...routeOpt) {
	ri := RouteInfo{Method: method, Path: path, Summary: summary, Tag: tag}
	for _, o := range opts {
		o(&ri)
	}
	s.routes = append(s.routes, ri)
	if ri.Exempt {
		s.exempt[method+" "+path] = true
	}
	s.e.Add(method, path, h)
}

// ---- errors ----

// apiError is the error envelope: the plugin reads detail, then message.
type apiError struct {
	Detail  string `json:"detail"`
	Message string `json:"message,omitempty"`
}

func jsonError(c echo.Context, code int, detail string) error {
	return c.JSON(code, apiError{Detail: detail})
}

func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	detail := "An unexpected error occurred."
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		code, detail = http.StatusRequestEntityTooLarge, "request body too large"
	case errors.As(err, &he):
		code = he.Code
		detail = fmt.Sprint(he.Message)
		if code == http.StatusNotFound {
			detail = "Not Found"
		}
		if code == http.StatusMethodNotAllowed {
			detail = "Method Not Allowed"
		}
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "error", err.Error())
		if s.cfg.ExposeInternalErrors {
			detail = err.Error()
		}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, apiError{Detail: detail})
}

// ---- middleware ----

// middlewares wires echo's middleware: Pre (before routing) recovers panics,
// counts requests, sets security headers and answers CORS preflights, so a
// preflight never needs the key (fixes the Python backend's CORS-innermost
// QUIRK); Use (after routing, c.Path() known) rate-limits per client, checks
// the key and limits bodies.
func (s *Server) middlewares(e *echo.Echo) {
	e.Pre(
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisablePrintStack:   true,
			DisableErrorHandler: true, // the error reaches metricsMW and errorHandler
			LogErrorFunc: func(c echo.Context, err error, _ []byte) error {
				s.log.Error("panic in handler", "path", c.Request().URL.Path, "panic", err.Error())
				return errors.New("internal error")
			},
		}),
		s.metricsMW,
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff: "nosniff",
			XFrameOptions:      "DENY",
			ReferrerPolicy:     "strict-origin-when-cross-origin",
		}),
		// the admin page has inline script and style; everything else is JSON or SSE
		middleware.SecureWithConfig(middleware.SecureConfig{
			Skipper:               func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/admin") },
			ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
		}),
		permissionsPolicy, // echo's Secure has no Permissions-Policy field
		middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOriginFunc: func(origin string) (bool, error) { return s.originAllowed(origin), nil },
			AllowMethods:    []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions},
			AllowHeaders:    []string{"Accept", "Accept-Language", "Content-Type", HeaderAPIKey, "X-Requested-With", "Last-Event-ID"},
			MaxAge:          600,
		}),
	)
	if rl := s.rateLimiter(); rl != nil {
		e.Use(rl)
	}
	e.Use(s.keyAuth(), middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.FormatInt(s.cfg.MaxBodyBytes, 10) + "B"}))
}

func permissionsPolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
		return next(c)
	}
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// isExempt reports whether the matched route needs no API key.
func (s *Server) isExempt(c echo.Context) bool {
	key := c.Request().Method + " " + c.Path()
	if s.exempt[key] {
		return true
	}
	if c.Request().Method == http.MethodHead && s.exempt["GET "+c.Path()] {
		return true
	}
	switch c.Path() {
	case "/admin/logs", "/admin/logs/stream":
		return s.cfg.PublicLogs
	case "/admin", "/admin/", "/admin/api/overview", "/admin/api/health", "/admin/events", "/admin/runs/:id/events":
		return s.cfg.PublicAdmin
	}
	return false
}
