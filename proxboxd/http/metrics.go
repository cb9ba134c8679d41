package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds proxboxd's Prometheus collectors in their own registry,
// together with the Go runtime and process collectors. The family names are
// the ones scrapers use today (listed in README.md); do not rename them.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	httpRequests   *prometheus.CounterVec   // method, route, code
	httpDuration   *prometheus.HistogramVec // route
	syncRuns       *prometheus.CounterVec   // stage, ok
	stageDuration  *prometheus.HistogramVec // stage
	netboxRequests *prometheus.CounterVec   // method, code
	netboxErrors   *prometheus.CounterVec   // method
	proxmoxCalls   *prometheus.CounterVec   // method
	proxmoxErrors  *prometheus.CounterVec   // method
	authFailures   prometheus.Counter
	authLockouts   prometheus.Counter
	rateLimited    prometheus.Counter
	streamsActive  prometheus.Gauge
}

// stageBuckets span a quick per-VM stage to a long full update.
var stageBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// NewMetrics registers every proxboxd family plus the Go and process
// collectors in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_http_requests_total",
			Help: "HTTP requests by method, route and status code."}, []string{"method", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "proxboxd_http_request_duration_seconds",
			Help: "HTTP request duration by route (streams last as long as their stage).", Buckets: prometheus.DefBuckets}, []string{"route"}),
		syncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_sync_runs_total",
			Help: "Stage streams and full updates by stage and outcome."}, []string{"stage", "ok"}),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "proxboxd_stage_duration_seconds",
			Help: "Stage run time.", Buckets: stageBuckets}, []string{"stage"}),
		netboxRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_netbox_requests_total",
			Help: "Requests sent to NetBox by method and status code."}, []string{"method", "code"}),
		netboxErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_netbox_errors_total",
			Help: "NetBox requests that failed (transport error or status >= 400)."}, []string{"method"}),
		proxmoxCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_proxmox_calls_total",
			Help: "Calls sent to Proxmox VE by method."}, []string{"method"}),
		proxmoxErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "proxboxd_proxmox_errors_total",
			Help: "Proxmox VE calls that failed."}, []string{"method"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "proxboxd_auth_failures_total", Help: "Rejected API keys."}),
		authLockouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "proxboxd_auth_lockouts_total",
			Help: "Requests refused because the client is locked out."}),
		rateLimited:   prometheus.NewCounter(prometheus.CounterOpts{Name: "proxboxd_rate_limited_total", Help: "Requests refused by the rate limit."}),
		streamsActive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "proxboxd_streams_active", Help: "SSE streams currently open."}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.syncRuns, m.stageDuration, m.netboxRequests, m.netboxErrors,
		m.proxmoxCalls, m.proxmoxErrors, m.authFailures, m.authLockouts, m.rateLimited, m.streamsActive)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// Registry is the registry /metrics serves (tests, extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CountNetBox is the connector hook for NetBox requests.
func (m *Metrics) CountNetBox(method string, status int, err error) {
	m.netboxRequests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	if err != nil || status >= 400 {
		m.netboxErrors.WithLabelValues(method).Inc()
	}
}

// CountProxmox is the connector hook for Proxmox calls.
func (m *Metrics) CountProxmox(method, _ string, err error) {
	m.proxmoxCalls.WithLabelValues(method).Inc()
	if err != nil {
		m.proxmoxErrors.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) observeStage(stage string, d time.Duration) {
	m.stageDuration.WithLabelValues(stage).Observe(d.Seconds())
}

func (s *Server) metricsMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		code := c.Response().Status
		if err != nil && !c.Response().Committed {
			code = http.StatusInternalServerError
			if he, ok := err.(*echo.HTTPError); ok {
				code = he.Code
			}
		}
		s.d.Metrics.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		s.d.Metrics.httpRequests.WithLabelValues(c.Request().Method, route, strconv.Itoa(code)).Inc()
		return err
	}
}

func (s *Server) metricsHandler(c echo.Context) error {
	s.d.Metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}
