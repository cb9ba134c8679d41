package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/proxbox-go/proxbox/proxboxd/connector"
)

func parseLogFilter(c echo.Context) (LogFilter, error) {
	var f LogFilter
	q := c.QueryParams()
	if v := strings.ToUpper(strings.TrimSpace(q.Get("level"))); v != "" {
		if v == "WARN" {
			v = "WARNING"
		}
		if _, ok := levelRank[v]; !ok {
			return f, fail(c, http.StatusUnprocessableEntity, "level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
		}
		f.Level = v
	}
	if v := q.Get("errors_only"); v != "" {
		b, err := ParseBool(v)
		if err != nil {
			return f, fail(c, http.StatusUnprocessableEntity, "errors_only must be a boolean")
		}
		f.ErrorsOnly = b
	}
	f.OperationID = q.Get("operation_id")
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04:05", v) // naive -> UTC
			if err != nil {
				return f, fail(c, http.StatusUnprocessableEntity, "since must be an ISO 8601 time")
			}
		}
		f.Since = t.UTC()
	}
	for name, dst := range map[string]*int64{"newer_than_id": &f.NewerThan, "older_than_id": &f.OlderThan} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, fail(c, http.StatusUnprocessableEntity, name+" must be a non-negative integer")
			}
			*dst = n
		}
	}
	return f, nil
}

// GET /admin/logs
func (s *Server) adminLogs(c echo.Context) error {
	f, err := parseLogFilter(c)
	if err != nil {
		return err
	}
	limit, offset := 200, 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			return jsonError(c, http.StatusUnprocessableEntity, "limit must be 1-5000")
		}
		limit = n
	}
	if v := c.QueryParam("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return jsonError(c, http.StatusUnprocessableEntity, "offset must be >= 0")
		}
		offset = n
	}
	logs, total, more := s.d.Logs.Query(f, offset, limit)
	af := map[string]any{"level": nilIfEmpty(f.Level), "errors_only": f.ErrorsOnly, "newer_than_id": nilIfZero(f.NewerThan),
		"older_than_id": nilIfZero(f.OlderThan), "operation_id": nilIfEmpty(f.OperationID), "since": nil}
	if !f.Since.IsZero() {
		af["since"] = f.Since.Format(time.RFC3339)
	}
	return c.JSON(http.StatusOK, map[string]any{"logs": logs, "total": total, "has_more": more, "active_filters": af})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nilIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// GET /admin/runs: the sync-run history.
func (s *Server) adminRuns(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	runs, err := s.d.Store.ListRuns(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": runs})
}

type endpointHealth struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	Status string `json:"status"` // ok, error
	Detail string `json:"detail"`
}

func (s *Server) endpointHealth(ctx context.Context) []endpointHealth {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	var out []endpointHealth
	var mu sync.Mutex
	var wg sync.WaitGroup
	if eps, err := s.d.Store.ListNetBoxEndpoints(ctx); err == nil {
		for _, e := range eps {
			h := endpointHealth{Kind: "NetBox", Name: e.Name, URL: connector.NetBoxURL(e)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.Status = "ok"
				nb, err := s.d.Connector.NetBox(ctx)
				if err == nil {
					_, err = nb.Status(ctx)
				}
				if err != nil {
					h.Status, h.Detail = "error", err.Error()
				}
				mu.Lock()
				out = append(out, h)
				mu.Unlock()
			}()
		}
	}
	if ts, err := s.d.Connector.Proxmox(ctx, nil); err == nil {
		for _, t := range ts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := endpointHealth{Kind: "Proxmox", Name: t.Endpoint.Name, URL: connector.ProxmoxURL(t.Endpoint), Status: "ok"}
				ss := s.open(ctx, t)
				if ss.err != nil {
					h.Status, h.Detail = "error", ss.err.Error()
				} else {
					v, _ := ss.Version["version"].(string)
					h.Detail = ss.Mode + " " + ss.Name + " PVE " + v
				}
				mu.Lock()
				out = append(out, h)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}
