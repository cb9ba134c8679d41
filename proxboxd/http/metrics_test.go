package http_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// proxboxdFamilies are the names scrapers use (README.md "Metrics").
var proxboxdFamilies = map[string]dto.MetricType{
	"proxboxd_http_requests_total":           dto.MetricType_COUNTER,
	"proxboxd_http_request_duration_seconds": dto.MetricType_HISTOGRAM,
	"proxboxd_sync_runs_total":               dto.MetricType_COUNTER,
	"proxboxd_stage_duration_seconds":        dto.MetricType_HISTOGRAM,
	"proxboxd_netbox_requests_total":         dto.MetricType_COUNTER,
	"proxboxd_netbox_errors_total":           dto.MetricType_COUNTER,
	"proxboxd_proxmox_calls_total":           dto.MetricType_COUNTER,
	"proxboxd_proxmox_errors_total":          dto.MetricType_COUNTER,
	"proxboxd_auth_failures_total":           dto.MetricType_COUNTER,
	"proxboxd_auth_lockouts_total":           dto.MetricType_COUNTER,
	"proxboxd_rate_limited_total":            dto.MetricType_COUNTER,
	"proxboxd_streams_active":                dto.MetricType_GAUGE,
}

// scrape GETs path and parses it with the Prometheus text parser; any
// malformed family fails the test.
func scrape(t *testing.T, e *env, path string) map[string]*dto.MetricFamily {
	t.Helper()
	code, h, body := e.send("GET", path, nil, nil)
	require.Equal(t, 200, code, body)
	assert.Contains(t, h.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "malformed exposition:\n%s", body)
	for name, f := range fams {
		require.NotEmpty(t, f.GetMetric(), "family %s has no samples", name)
		require.NotEqual(t, dto.MetricType_UNTYPED, f.GetType(), "family %s is untyped", name)
	}
	return fams
}

// TestMetricsExposition: /metrics is client_golang's exposition with the Go
// and process collectors and every proxboxd family under its old name, and
// label values with quotes, backslashes and newlines stay parseable.
func TestMetricsExposition(t *testing.T) {
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	m := pbhttp.NewMetrics()
	e := newEnvFrom(t, st, pbhttp.Config{RateLimit: 60, RateBurst: 50, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		func(d *pbhttp.Deps) { d.Metrics = m })
	code, _, _ := e.send("POST", "/auth/register-key", strings.NewReader(`{"api_key":"`+testKey+`"}`), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 201, code)

	m.CountNetBox("GET", 200, nil)
	m.CountNetBox("PATCH", 400, errors.New("bad request"))
	m.CountProxmox("GET \"odd\"\\\nmethod", "/nodes", errors.New("down")) // escaping the old writer got wrong
	// a stage stream: sync_runs, stage_duration, streams_active
	e.key = testKey
	code, _, _ = e.send("GET", stagePath(proxbox.StageDevices), nil, nil)
	require.Equal(t, 200, code)
	// auth failures up to a lockout, then the rate limit, for a client behind the trusted proxy
	other := map[string]string{pbhttp.HeaderAPIKey: "wrong", "X-Forwarded-For": "192.0.2.7"}
	for range 6 {
		e.send("GET", "/auth/keys", nil, other)
	}
	for range 60 {
		e.send("GET", "/version", nil, other)
	}

	fams := scrape(t, e, "/metrics")
	for name, typ := range proxboxdFamilies {
		f, ok := fams[name]
		if assert.True(t, ok, "family %s missing", name) {
			assert.Equal(t, typ, f.GetType(), name)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		assert.Contains(t, fams, name)
	}
	assert.GreaterOrEqual(t, fams["proxboxd_rate_limited_total"].GetMetric()[0].GetCounter().GetValue(), 1.0)
	var odd bool
	for _, mt := range fams["proxboxd_proxmox_errors_total"].GetMetric() {
		for _, l := range mt.GetLabel() {
			odd = odd || l.GetValue() == "GET \"odd\"\\\nmethod"
		}
	}
	assert.True(t, odd, "label value did not round-trip")
	runs := fams["proxboxd_sync_runs_total"].GetMetric()
	require.NotEmpty(t, runs)
	assert.Equal(t, 1.0, runs[0].GetCounter().GetValue())
	assert.GreaterOrEqual(t, fams["proxboxd_auth_failures_total"].GetMetric()[0].GetCounter().GetValue(), 5.0)
	assert.GreaterOrEqual(t, fams["proxboxd_auth_lockouts_total"].GetMetric()[0].GetCounter().GetValue(), 1.0)
}

// TestCacheMetricsExposition: /cache/metrics/prometheus parses too and has
// the Python backend's gauge names.
func TestCacheMetricsExposition(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	fams := scrape(t, e, "/cache/metrics/prometheus")
	for _, name := range []string{"proxbox_cache_entries", "proxbox_cache_bytes", "proxbox_cache_oldest_age_seconds", "proxbox_cache_max_entries", "proxbox_cache_ttl_seconds"} {
		if assert.Contains(t, fams, name) {
			assert.Equal(t, dto.MetricType_GAUGE, fams[name].GetType())
		}
	}
}

// TestMetricsDocumented: every family is in README.md's table, so a rename
// cannot slip past the people who scrape it.
func TestMetricsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for name := range proxboxdFamilies {
		assert.Contains(t, string(readme), "`"+name+"`")
	}
}
