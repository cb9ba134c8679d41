package http_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// TestCacheMetricsAreHonest: proxboxd keeps no NetBox GET cache, so /cache
// reports it disabled with zero limits (not a made-up capacity), and the
// Prometheus form uses the Python backend's gauge names, not the JSON keys.
func TestCacheMetricsAreHonest(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	code, b := e.do("GET", "/cache/metrics", nil, nil)
	require.Equal(t, 200, code, string(b))
	m := mustJSON[map[string]any](t, b)
	assert.Equal(t, false, m["enabled"])
	assert.Equal(t, 0.0, m["max_entries"])
	assert.Equal(t, 0.0, m["max_bytes"])
	assert.Equal(t, 0.0, m["hits"])

	_, text := e.do("GET", "/cache/metrics/prometheus", nil, nil)
	assert.NotContains(t, string(text), "current_entries")
	assert.NotContains(t, string(text), "oldest_entry_age")
}
