package http_test

import (
	"strings"
	"testing"

	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// TestCacheMetricsAreHonest: proxboxd keeps no NetBox GET cache, so /cache
// reports it disabled with zero limits (not a made-up capacity), and the
// Prometheus form uses the Python backend's gauge names.
func TestCacheMetricsAreHonest(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	code, b := e.do("GET", "/cache/metrics", nil, nil)
	m := mustJSON[map[string]any](t, b)
	if code != 200 || m["enabled"] != false || m["max_entries"] != 0.0 || m["max_bytes"] != 0.0 || m["hits"] != 0.0 {
		t.Fatalf("/cache/metrics = %d %s", code, b)
	}
	code, b = e.do("GET", "/cache/metrics/prometheus", nil, nil)
	text := string(b)
	for _, name := range []string{"proxbox_cache_entries", "proxbox_cache_bytes", "proxbox_cache_oldest_age_seconds", "proxbox_cache_max_entries", "proxbox_cache_ttl_seconds"} {
		if code != 200 || !strings.Contains(text, name+" ") && !strings.Contains(text, name+"{") {
			t.Errorf("prometheus text lacks %s (%d):\n%s", name, code, text)
		}
	}
	if strings.Contains(text, "current_entries") || strings.Contains(text, "oldest_entry_age") {
		t.Errorf("prometheus text uses the JSON names:\n%s", text)
	}
}
