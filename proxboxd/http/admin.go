package http

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
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

// GET /admin/logs/stream: SSE event `log`, chronological, with keep-alives.
// It ends with a `complete` frame on shutdown like every other stream.
func (s *Server) adminLogsStream(c echo.Context) error {
	f, err := parseLogFilter(c)
	if err != nil {
		return err
	}
	s.streams.Add(1)
	defer s.streams.Done()
	// newer_than_id given (even 0): replay from there; absent: only new lines.
	last := f.NewerThan
	if !c.QueryParams().Has("newer_than_id") {
		last = s.d.Logs.LastID()
	}
	f.NewerThan = 0
	sse := NewSSE(c.Response())
	go sse.KeepAlive(s.cfg.KeepAlive)
	defer sse.Stop()
	ctx := c.Request().Context()
	for {
		wait := s.d.Logs.Wait()
		for _, e := range s.d.Logs.After(last, f) {
			if err := sse.Event("log", e); err != nil {
				return nil
			}
			last = e.ID
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.baseCtx.Done():
			_ = sse.Complete(CompletePayload{OK: true, Message: "Server shutdown."})
			return nil
		case <-wait:
		}
	}
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
	Kind, Name, URL, Status, Detail string
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

type runView struct {
	proxbox.SyncRun
	Counts string
}

// GET /admin: endpoints with health, the last run per stage with results,
// and the live log.
func (s *Server) adminPage(c echo.Context) error {
	ctx := c.Request().Context()
	last, err := s.d.Store.LastRunPerStage(ctx)
	if err != nil {
		return err
	}
	views := make([]runView, 0, len(last))
	for _, r := range last {
		v := runView{SyncRun: r}
		var res struct {
			Counts map[string]map[string]int `json:"counts"`
		}
		if json.Unmarshal(r.Result, &res) == nil {
			var parts []string
			for ot, cn := range res.Counts {
				parts = append(parts, ot+": +"+strconv.Itoa(cn["created"])+" ~"+strconv.Itoa(cn["updated"])+" -"+strconv.Itoa(cn["deleted"])+" ="+strconv.Itoa(cn["unchanged"])+" !"+strconv.Itoa(cn["failed"]))
			}
			v.Counts = strings.Join(parts, "; ")
		}
		views = append(views, v)
	}
	data := map[string]any{"Version": Version, "Health": s.endpointHealth(ctx), "Runs": views, "Now": time.Now().UTC().Format(time.RFC3339)}
	c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return adminTmpl.Execute(c.Response(), data)
}

var adminTmpl = template.Must(template.New("admin").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>proxboxd admin</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;font-size:.9em}
.ok{color:#070}.error,.false{color:#b00}#log{font-family:monospace;font-size:.8em;height:22em;overflow:auto;border:1px solid #ccc;padding:.5em;white-space:pre-wrap}</style></head>
<body><h1>proxboxd {{.Version}}</h1><p>Rendered {{.Now}}</p>
<h2>Endpoints</h2><table><tr><th>Kind</th><th>Name</th><th>URL</th><th>Health</th><th>Detail</th></tr>
{{range .Health}}<tr><td>{{.Kind}}</td><td>{{.Name}}</td><td>{{.URL}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{.Detail}}</td></tr>{{else}}<tr><td colspan="5">no endpoints registered</td></tr>{{end}}</table>
<h2>Last runs</h2><table><tr><th>Kind</th><th>Stage</th><th>Started</th><th>Duration (s)</th><th>OK</th><th>Message</th><th>Results (+created ~updated -deleted =unchanged !failed)</th></tr>
{{range .Runs}}<tr><td>{{.Kind}}</td><td>{{.Stage}}</td><td>{{.StartedAt.Format "2006-01-02 15:04:05"}}</td><td>{{printf "%.2f" .DurationS}}</td><td>{{if .OK}}<span class="{{.OK}}">{{.OK}}</span>{{else}}running{{end}}</td><td>{{.Message}}</td><td>{{.Counts}}</td></tr>{{else}}<tr><td colspan="7">no runs yet</td></tr>{{end}}</table>
<h2>Live log</h2><div id="log"></div>
<script>
(function(){var el=document.getElementById('log');
function add(e){var d=document.createElement('div');d.textContent=e.timestamp+' '+e.level+' ['+(e.module||'')+'] '+e.message+(e.attrs?' '+JSON.stringify(e.attrs):'');el.appendChild(d);el.scrollTop=el.scrollHeight;}
fetch('/admin/logs?limit=100').then(function(r){return r.json()}).then(function(j){(j.logs||[]).reverse().forEach(add);}).catch(function(){});
if(window.EventSource){var es=new EventSource('/admin/logs/stream');es.addEventListener('log',function(m){try{add(JSON.parse(m.data))}catch(x){}});}
})();
</script></body></html>`))
