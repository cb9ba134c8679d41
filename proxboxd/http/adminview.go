package http

import (
	"embed"
	"encoding/json"
	"net/http"
	"path"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// The operator view: hand-written HTML, CSS and JavaScript embedded in the
// binary (no build step, no CDN). The page reads /admin/api/overview and
// /admin/api/health, follows /admin/events (a `run` frame when a sync run
// starts, `finished` when it ends) and watches each running run on
// /admin/runs/{id}/events, where a page opened mid-run first gets the run so
// far.
//
//go:embed adminui
var adminUI embed.FS

// adminCSP allows the page its own script, style and API, nothing else.
const adminCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// GET /admin: the operator view.
func (s *Server) adminPage(c echo.Context) error {
	b, err := adminUI.ReadFile("adminui/index.html")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", adminCSP)
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, b)
}

// adminAssets are the files /admin/assets/{file} serves.
var adminAssets = map[string]string{"admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}

// GET /admin/assets/:file: the page's stylesheet and script (code only, no
// data: served without the API key).
func (s *Server) adminAsset(c echo.Context) error {
	name := path.Base(c.Param("file"))
	ct, ok := adminAssets[name]
	if !ok {
		return echo.ErrNotFound
	}
	b, err := adminUI.ReadFile("adminui/" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Content-Security-Policy", adminCSP)
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, ct, b)
}

// GET /admin/api/health: every endpoint with its health (up to 4 s).
func (s *Server) adminHealth(c echo.Context) error {
	h := s.endpointHealth(c.Request().Context())
	sort.Slice(h, func(i, j int) bool {
		if h[i].Kind != h[j].Kind {
			return h[i].Kind > h[j].Kind // NetBox first
		}
		return h[i].Name < h[j].Name
	})
	if h == nil {
		h = []endpointHealth{}
	}
	return c.JSON(http.StatusOK, map[string]any{"endpoints": h})
}

// adminRun is one sync run as the operator view shows it. Counts are the
// run's totals over object types (each object once per run).
type adminRun struct {
	ID        int            `json:"id"`
	Kind      string         `json:"kind"`
	Stage     string         `json:"stage"`
	StartedAt time.Time      `json:"started_at"`
	DurationS float64        `json:"duration_s"`
	Status    string         `json:"status"` // running, complete, failed, unfinished (the process ended during the run)
	Partial   bool           `json:"partial"`
	Message   string         `json:"message"`
	Counts    proxbox.Counts `json:"counts"`
	// DryRun: the run planned changes and wrote nothing (a dry run that
	// found nothing to change cannot be told from a sync that did not).
	DryRun bool `json:"dry_run,omitempty"`
	// ByType are the counts per object type (the board's newest runs only).
	ByType map[string]proxbox.Counts `json:"by_type,omitempty"`
}

// adminError is one error of the last run, naming its object.
type adminError struct {
	RunID      int    `json:"run_id"`
	Stage      string `json:"stage"`
	ObjectType string `json:"object_type"`
	Name       string `json:"name"`
	Detail     string `json:"detail"`
}

// adminPlanGroup is the planned changes to one object type.
type adminPlanGroup struct {
	ObjectType string           `json:"object_type"`
	Total      int              `json:"total"`
	Actions    map[string]int   `json:"actions"`
	Changes    []proxbox.Change `json:"changes"` // at most planPerType
}

type adminPlan struct {
	RunID     int              `json:"run_id"`
	Kind      string           `json:"kind"`
	Stage     string           `json:"stage"`
	StartedAt time.Time        `json:"started_at"`
	Total     int              `json:"total"`
	Groups    []adminPlanGroup `json:"groups"`
}

// adminOverview is GET /admin/api/overview.
type adminOverview struct {
	Version string   `json:"version"`
	Now     string   `json:"now"`
	Stages  []string `json:"stages"` // the board's rows: the 12 stages, then full-update
	// Latest is the newest run of each row; Active the runs going on now.
	Latest map[string]adminRun `json:"latest"`
	Active []adminRun          `json:"active"`
	// History is the last runs of each row, oldest first (the chart).
	History map[string][]adminRun `json:"history"`
	// Errors are those of the last run: the newest run of each row.
	Errors []adminError `json:"errors"`
	// Plan is the newest dry run's plan, grouped by object type.
	Plan *adminPlan `json:"plan"`
}

const (
	overviewRuns = 400 // runs read for the overview
	historyRuns  = 10  // runs per row in the chart
	planPerType  = 100 // planned changes listed per object type
	errorsShown  = 200
)

// runResult is what the overview reads of a run record's result: a stage
// run's CompleteFromResult map, or a full update's, which holds one such map
// per stage under its fullUpdateKeys key.
type runResult struct {
	Counts   map[string]proxbox.Counts `json:"counts"`
	Partial  bool                      `json:"partial"`
	Failures []proxbox.ItemFailure     `json:"failures"`
	Plan     []proxbox.Change          `json:"plan"`
}

func decodeResult(raw json.RawMessage) (runResult, map[proxbox.Stage]runResult) {
	var r runResult
	if len(raw) == 0 || json.Unmarshal(raw, &r) != nil {
		return runResult{}, nil
	}
	var parts map[string]json.RawMessage
	if json.Unmarshal(raw, &parts) != nil {
		return r, nil
	}
	stages := map[proxbox.Stage]runResult{}
	for _, st := range proxbox.Stages {
		if p, ok := parts[fullUpdateKeys[st]]; ok {
			var sr runResult
			if json.Unmarshal(p, &sr) == nil {
				stages[st] = sr
			}
		}
	}
	return r, stages
}

func totals(m map[string]proxbox.Counts) proxbox.Counts {
	var t proxbox.Counts
	for _, c := range m {
		t.Created += c.Created
		t.Updated += c.Updated
		t.Deleted += c.Deleted
		t.Unchanged += c.Unchanged
		t.Failed += c.Failed
		t.Skipped += c.Skipped
	}
	return t
}

func (s *Server) viewRun(r proxbox.SyncRun, res runResult, live map[int]bool) adminRun {
	v := adminRun{ID: r.ID, Kind: r.Kind, Stage: r.Stage, StartedAt: r.StartedAt.UTC(), DurationS: r.DurationS,
		Message: r.Message, Partial: res.Partial, Counts: totals(res.Counts)}
	switch {
	case r.OK == nil && live[r.ID]:
		v.Status = "running"
		v.DurationS = time.Since(r.StartedAt).Seconds()
	case r.OK == nil:
		v.Status = "unfinished"
	case *r.OK:
		v.Status = "complete"
	default:
		v.Status = "failed"
	}
	return v
}

// rowKey is the board row of a run ("" for runs the board does not show).
func rowKey(r proxbox.SyncRun) string {
	switch r.Kind {
	case "stage":
		return r.Stage
	case "full-update":
		return "full-update"
	}
	return ""
}

// GET /admin/api/overview
func (s *Server) adminOverviewHandler(c echo.Context) error {
	runs, err := s.d.Store.ListRuns(c.Request().Context(), overviewRuns) // newest first
	if err != nil {
		return err
	}
	live := map[int]bool{}
	for _, id := range s.runs.liveIDs() {
		live[id] = true
	}
	ov := adminOverview{Version: Version, Now: time.Now().UTC().Format(time.RFC3339), Latest: map[string]adminRun{},
		Active: []adminRun{}, History: map[string][]adminRun{}, Errors: []adminError{}}
	for _, st := range proxbox.Stages {
		ov.Stages = append(ov.Stages, string(st))
	}
	ov.Stages = append(ov.Stages, "full-update")
	var lastRuns []proxbox.SyncRun // the newest run of each row
	for _, r := range runs {
		key := rowKey(r)
		res, perStage := decodeResult(r.Result)
		v := s.viewRun(r, res, live)
		if v.Status == "running" {
			ov.Active = append(ov.Active, v)
		}
		plan := planOf(r, res, perStage)
		v.DryRun = plan != nil
		if ov.Plan == nil && r.OK != nil {
			ov.Plan = plan
		}
		if key == "" {
			continue
		}
		if _, seen := ov.Latest[key]; !seen {
			v.ByType = res.Counts
			ov.Latest[key] = v
			v.ByType = nil
			lastRuns = append(lastRuns, r)
		}
		if len(ov.History[key]) < historyRuns && v.Status != "running" {
			ov.History[key] = append(ov.History[key], v)
		}
	}
	for k, h := range ov.History {
		for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
			h[i], h[j] = h[j], h[i]
		}
		ov.History[k] = h
	}
	sort.Slice(ov.Active, func(i, j int) bool { return ov.Active[i].ID < ov.Active[j].ID })
	sort.Slice(lastRuns, func(i, j int) bool { return lastRuns[i].ID < lastRuns[j].ID })
	for _, r := range lastRuns {
		ov.Errors = append(ov.Errors, errorsOf(r)...)
	}
	if len(ov.Errors) > errorsShown {
		ov.Errors = ov.Errors[:errorsShown]
	}
	return c.JSON(http.StatusOK, ov)
}

// errorsOf lists the errors of a finished run, each naming its object: the
// item failures of its stages, and the run's own message when it failed.
func errorsOf(r proxbox.SyncRun) []adminError {
	if r.OK == nil {
		return nil
	}
	res, perStage := decodeResult(r.Result)
	var out []adminError
	add := func(stage string, fs []proxbox.ItemFailure) {
		for _, f := range fs {
			out = append(out, adminError{RunID: r.ID, Stage: stage, ObjectType: f.ObjectType, Name: f.Name, Detail: f.Detail})
		}
	}
	if r.Kind == "full-update" {
		for _, st := range proxbox.Stages {
			add(string(st), perStage[st].Failures)
		}
	} else {
		add(r.Stage, res.Failures)
	}
	if !*r.OK && len(out) == 0 {
		out = append(out, adminError{RunID: r.ID, Stage: r.Stage, ObjectType: "run", Name: r.Kind + " " + r.Stage, Detail: r.Message})
	}
	return out
}

// planOf groups the plan of a dry run by object type (nil when r has none).
func planOf(r proxbox.SyncRun, res runResult, perStage map[proxbox.Stage]runResult) *adminPlan {
	changes := res.Plan
	if r.Kind == "full-update" {
		changes = nil
		for _, st := range proxbox.Stages {
			changes = append(changes, perStage[st].Plan...)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	p := &adminPlan{RunID: r.ID, Kind: r.Kind, Stage: r.Stage, StartedAt: r.StartedAt.UTC(), Total: len(changes)}
	idx := map[string]int{}
	for _, ch := range changes {
		i, ok := idx[ch.ObjectType]
		if !ok {
			i = len(p.Groups)
			idx[ch.ObjectType] = i
			p.Groups = append(p.Groups, adminPlanGroup{ObjectType: ch.ObjectType, Actions: map[string]int{}})
		}
		g := &p.Groups[i]
		g.Total++
		g.Actions[ch.Action]++
		if len(g.Changes) < planPerType {
			g.Changes = append(g.Changes, ch)
		}
	}
	sort.SliceStable(p.Groups, func(i, j int) bool { return p.Groups[i].ObjectType < p.Groups[j].ObjectType })
	return p
}
