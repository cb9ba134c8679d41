package http

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) root(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{
		"message": "Proxbox Backend (proxboxd, Go)",
		"proxbox": map[string]string{"github": "https://github.com/emersonfelipesp/netbox-proxbox", "docs": "/openapi.json"},
		"version": Version,
	})
}

// GET /health: always 200 while the process serves (the plugin polls it
// before every stage and accepts any 200).
func (s *Server) health(c echo.Context) error {
	status := "ready"
	if s.baseCtx.Err() != nil {
		status = "shutting_down"
	}
	src, err := s.d.Settings.Source()
	out := map[string]any{"status": status, "init_ok": true, "settings_source": src}
	if err != nil {
		out["settings_error"] = "plugin settings unavailable"
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) version(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"version": Version, "backend": "proxboxd"})
}

type cacheClearer interface{ Invalidate() }

func (s *Server) cacheInfo(c echo.Context) error {
	s.sess.mu.Lock()
	n := len(s.sess.m)
	s.sess.mu.Unlock()
	return c.JSON(http.StatusOK, map[string]any{
		"proxbox_cache":            map[string]any{"proxmox_sessions": n, "ttl_seconds": s.sess.ttl.Seconds()},
		"netbox_get_cache_metrics": s.cacheMetricsMap(),
		"netbox_get_cache_sample":  []any{},
	})
}

// cacheMetricsMap answers the Python backend's NetBox GET-cache metrics in
// their shape. proxboxd keeps no such cache (each sync reads its own snapshot
// of the NetBox tables it needs), so every counter and limit is 0 and
// "enabled" says so; ttl_seconds echoes the netbox_get_cache_ttl setting.
func (s *Server) cacheMetricsMap() map[string]any {
	st := s.d.Settings.Get(context.Background())
	return map[string]any{"enabled": false, "hits": 0, "misses": 0, "hit_rate": 0.0, "invalidations": 0, "evictions_ttl": 0,
		"evictions_size": 0, "evictions_bytes": 0, "current_entries": 0, "current_bytes": 0, "max_entries": 0, "max_bytes": 0,
		"ttl_seconds": st.NetBoxGetCacheTTL, "oldest_entry_age_seconds": 0}
}

func (s *Server) cacheMetrics(c echo.Context) error {
	return c.JSON(http.StatusOK, s.cacheMetricsMap())
}

// cachePromNames are the Python backend's gauge names where they differ from
// the JSON keys (proxbox-api-contract: /cache/metrics/prometheus).
var cachePromNames = map[string]string{"current_entries": "entries", "current_bytes": "bytes", "oldest_entry_age_seconds": "oldest_age_seconds"}

func (s *Server) cacheMetricsProm(c echo.Context) error {
	reg := prometheus.NewRegistry()
	for k, v := range s.cacheMetricsMap() {
		if n, ok := cachePromNames[k]; ok {
			k = n
		}
		var f float64
		switch n := v.(type) {
		case int:
			f = float64(n)
		case float64:
			f = n
		default:
			continue // "enabled" is a bool
		}
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "proxbox_cache_" + k, Help: "NetBox GET cache " + k + " (proxboxd keeps no such cache)."})
		g.Set(f)
		if err := reg.Register(g); err != nil {
			return fmt.Errorf("cache metrics: %w", err)
		}
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}

func (s *Server) clearCache(c echo.Context) error {
	s.sess.clear()
	if cc, ok := s.d.Connector.(cacheClearer); ok {
		cc.Invalidate()
	}
	s.d.Settings.Invalidate()
	return c.JSON(http.StatusOK, map[string]string{"message": "All caches cleared"})
}

// GET /netbox/status: NetBox /api/status/ passthrough.
func (s *Server) netboxStatus(c echo.Context) error {
	nb, err := s.d.Connector.NetBox(c.Request().Context())
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 15*time.Second)
	defer cancel()
	var out map[string]any
	if _, err := nb.Do(ctx, http.MethodGet, "/api/status/", nil, nil, &out); err != nil {
		return jsonError(c, http.StatusBadGateway, "NetBox status failed: "+err.Error())
	}
	return c.JSON(http.StatusOK, out)
}
