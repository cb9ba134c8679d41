package http

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Metrics is a minimal Prometheus registry (counters, gauges, summaries as
// _sum/_count) rendered in the text exposition format.
type Metrics struct {
	mu    sync.Mutex
	vals  map[string]map[string]float64 // name -> labels -> value
	sums  map[string]map[string][2]float64
	help  map[string]string
	kinds map[string]string
}

// NewMetrics returns an empty registry with proxboxd's metric help texts.
func NewMetrics() *Metrics {
	m := &Metrics{vals: map[string]map[string]float64{}, sums: map[string]map[string][2]float64{}, help: map[string]string{}, kinds: map[string]string{}}
	for name, h := range map[string][2]string{
		"proxboxd_http_requests_total":    {"counter", "HTTP requests by method, route and status code."},
		"proxboxd_sync_runs_total":        {"counter", "Stage streams and full updates by stage and outcome."},
		"proxboxd_stage_duration_seconds": {"summary", "Stage run time."},
		"proxboxd_netbox_requests_total":  {"counter", "Requests sent to NetBox by method and status code."},
		"proxboxd_netbox_errors_total":    {"counter", "NetBox requests that failed (transport error or status >= 400)."},
		"proxboxd_proxmox_calls_total":    {"counter", "Calls sent to Proxmox VE by method."},
		"proxboxd_proxmox_errors_total":   {"counter", "Proxmox VE calls that failed."},
		"proxboxd_auth_failures_total":    {"counter", "Rejected API keys."},
		"proxboxd_auth_lockouts_total":    {"counter", "Requests refused because the client is locked out."},
		"proxboxd_rate_limited_total":     {"counter", "Requests refused by the rate limit."},
		"proxboxd_streams_active":         {"gauge", "SSE streams currently open."},
	} {
		m.kinds[name], m.help[name] = h[0], h[1]
	}
	return m
}

func labelKey(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Add adds v to a counter or gauge.
func (m *Metrics) Add(name string, labels map[string]string, v float64) {
	k := labelKey(labels)
	m.mu.Lock()
	if m.vals[name] == nil {
		m.vals[name] = map[string]float64{}
	}
	m.vals[name][k] += v
	m.mu.Unlock()
}

// Inc adds 1.
func (m *Metrics) Inc(name string, labels map[string]string) { m.Add(name, labels, 1) }

// Observe records one sample of a summary.
func (m *Metrics) Observe(name string, labels map[string]string, v float64) {
	k := labelKey(labels)
	m.mu.Lock()
	if m.sums[name] == nil {
		m.sums[name] = map[string][2]float64{}
	}
	s := m.sums[name][k]
	s[0] += v
	s[1]++
	m.sums[name][k] = s
	m.mu.Unlock()
}

// Value returns a counter value (tests).
func (m *Metrics) Value(name string, labels map[string]string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.vals[name][labelKey(labels)]
}

// CountNetBox is the connector hook for NetBox requests.
func (m *Metrics) CountNetBox(method string, status int, err error) {
	m.Inc("proxboxd_netbox_requests_total", map[string]string{"method": method, "code": strconv.Itoa(status)})
	if err != nil || status >= 400 {
		m.Inc("proxboxd_netbox_errors_total", map[string]string{"method": method})
	}
}

// CountProxmox is the connector hook for Proxmox calls.
func (m *Metrics) CountProxmox(method, _ string, err error) {
	m.Inc("proxboxd_proxmox_calls_total", map[string]string{"method": method})
	if err != nil {
		m.Inc("proxboxd_proxmox_errors_total", map[string]string{"method": method})
	}
}

// WriteTo renders the exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := map[string]bool{}
	for n := range m.vals {
		names[n] = true
	}
	for n := range m.sums {
		names[n] = true
	}
	for n := range m.help {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var b strings.Builder
	for _, n := range sorted {
		kind := m.kinds[n]
		if kind == "" {
			kind = "untyped"
		}
		if h := m.help[n]; h != "" {
			fmt.Fprintf(&b, "# HELP %s %s\n", n, h)
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", n, kind)
		for _, k := range sortedKeys(m.vals[n]) {
			fmt.Fprintf(&b, "%s%s %s\n", n, k, strconv.FormatFloat(m.vals[n][k], 'g', -1, 64))
		}
		sums := m.sums[n]
		keys := make([]string, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %s\n", n, k, strconv.FormatFloat(sums[k][0], 'g', -1, 64), n, k, strconv.FormatFloat(sums[k][1], 'g', -1, 64))
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
		s.d.Metrics.Observe("proxboxd_http_request_duration_seconds", map[string]string{"route": route}, time.Since(start).Seconds())
		s.d.Metrics.Inc("proxboxd_http_requests_total", map[string]string{"method": c.Request().Method, "route": route, "code": strconv.Itoa(code)})
		return err
	}
}

func (s *Server) metricsHandler(c echo.Context) error {
	c.Response().Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, err := s.d.Metrics.WriteTo(c.Response())
	return err
}
