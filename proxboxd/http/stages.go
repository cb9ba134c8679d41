package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// fullUpdateKeys are the JSON /full-update result keys per stage.
var fullUpdateKeys = map[proxbox.Stage]string{
	proxbox.StageDevices: "devices", proxbox.StageStorage: "storage", proxbox.StageVirtualMachines: "virtual_machines",
	proxbox.StageTaskHistory: "task_history", proxbox.StageVMDisks: "virtual_disks", proxbox.StageVMBackups: "backups",
	proxbox.StageVMSnapshots: "snapshots", proxbox.StageNetworkInterfaces: "node_interfaces",
	proxbox.StageVMInterfaces: "vm_interfaces", proxbox.StageIPAddresses: "vm_ip_addresses",
	proxbox.StageReplications: "replications", proxbox.StageBackupRoutines: "backup_routines",
}

func newOperationID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// resultCount is the number of objects a stage left in sync.
func resultCount(r *proxbox.StageResult) int {
	n := 0
	for _, c := range r.Counts {
		if c != nil {
			n += c.Created + c.Updated + c.Unchanged
		}
	}
	return n
}

// CompleteFromResult builds the `complete` payload of a stage.
func CompleteFromResult(stage proxbox.Stage, r *proxbox.StageResult) CompletePayload {
	if r == nil {
		return CompletePayload{OK: false, Message: string(stage) + " sync failed.", Errors: []ErrorItem{{Detail: "the sync engine returned no result"}}}
	}
	counts := r.Counts
	if counts == nil {
		counts = map[string]*proxbox.Counts{}
	}
	res := map[string]any{"stage": string(stage), "count": resultCount(r), "counts": counts, "partial": r.Partial}
	if len(r.Plan) > 0 {
		res["plan"] = r.Plan
	}
	if len(r.Failures) > 0 {
		res["failures"] = r.Failures
	}
	if len(r.Skipped) > 0 {
		res["skipped"] = r.Skipped
	}
	if len(r.Requests) > 0 {
		res["requests"] = r.Requests
	}
	p := CompletePayload{OK: r.OK, Message: r.Message, Result: res}
	if p.Message == "" {
		if r.OK {
			p.Message = string(stage) + " sync completed."
		} else {
			p.Message = string(stage) + " sync failed."
		}
	}
	if !r.OK {
		p.Errors = append(p.Errors, ErrorItem{Detail: p.Message})
	}
	for _, f := range r.Failures {
		p.Errors = append(p.Errors, ErrorItem{Detail: f.Detail, Extra: map[string]any{"object_type": f.ObjectType, "name": f.Name}})
	}
	return p
}

type streamJob func(ctx context.Context, emit proxbox.Emitter) (CompletePayload, error)

// runStream is the one place that turns work into an SSE stream: headers,
// keep-alives, cancellation on client disconnect or shutdown, run history,
// metrics, and exactly one `complete` frame.
func (s *Server) runStream(c echo.Context, kind, stage string, job streamJob) error {
	s.streams.Add(1)
	defer s.streams.Done()
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	stopAfter := context.AfterFunc(s.baseCtx, cancel)
	defer stopAfter()

	opID := newOperationID()
	log := s.log.With("operation_id", opID, "stage", stage)
	start := time.Now()
	run := proxbox.SyncRun{OperationID: opID, Kind: kind, Stage: stage, Path: c.Request().URL.Path, StartedAt: start}
	runID, _ := s.d.Store.StartRun(context.WithoutCancel(ctx), run)
	s.runs.start(runID, run)
	s.d.Metrics.streamsActive.Inc()
	defer s.d.Metrics.streamsActive.Dec()

	sse := NewSSE(c.Response())
	go sse.KeepAlive(s.cfg.KeepAlive)
	defer sse.Stop()
	log.Info("stream started", "path", c.Request().URL.Path)

	emit := func(ev proxbox.Event) {
		if ev.Name == "complete" || ev.Name == "" {
			return // the stream's complete is written here, once
		}
		data := ev.Data
		if data == nil {
			data = map[string]any{}
		}
		_ = sse.Event(ev.Name, data)
		s.runs.publish(runID, ev.Name, data)
	}
	var p CompletePayload
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error in %s: %v", stage, r)
				log.Error("stage panicked", "panic", fmt.Sprint(r))
			}
		}()
		p, err = job(ctx, emit)
	}()
	if ctx.Err() != nil && err == nil && !p.OK {
		err = ctx.Err()
	}
	if err != nil {
		msg := err.Error()
		if ctx.Err() != nil {
			msg = "Server shutdown or request cancelled."
		}
		errFrame := map[string]any{"step": stage, "status": "failed", "error": msg, "detail": msg}
		_ = sse.Event("error", errFrame)
		s.runs.publish(runID, "error", errFrame)
		p = CompletePayload{OK: false, Message: stage + " sync failed.", Errors: append([]ErrorItem{{Detail: msg}}, p.Errors...)}
	}
	_ = sse.Complete(p)
	dur := time.Since(start)
	s.d.Store.FinishRun(context.WithoutCancel(ctx), runID, p.OK, p.Message, dur, p.Result) //nolint:errcheck // history is best effort
	s.runs.finish(runID, p, dur)
	s.d.Metrics.syncRuns.WithLabelValues(stage, strconv.FormatBool(p.OK)).Inc()
	s.d.Metrics.observeStage(stage, dur)
	log.Info("stream finished", "ok", p.OK, "message", p.Message, "duration_s", dur.Seconds(), "client_gone", sse.Err() != nil)
	return nil
}

func (s *Server) stageHandler(stage proxbox.Stage, perVM bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		params, err := contract.ParseStageParams(c.QueryParams())
		if err != nil {
			return jsonError(c, http.StatusUnprocessableEntity, err.Error())
		}
		req := proxbox.StageRequest{Stage: stage, Params: params}
		if perVM {
			if req.VMID, err = pathInt(c, "id"); err != nil {
				return err
			}
			if req.VMID == 0 {
				return jsonError(c, http.StatusUnprocessableEntity, "VM id must be positive")
			}
		}
		return s.runStream(c, "stage", string(stage), func(ctx context.Context, emit proxbox.Emitter) (CompletePayload, error) {
			if s.d.Syncer == nil {
				return CompletePayload{}, errors.New("the sync engine is not available in this build")
			}
			res, err := s.d.Syncer.RunStage(ctx, req, emit)
			if err != nil {
				if res != nil {
					return CompleteFromResult(stage, res), err
				}
				return CompletePayload{}, err
			}
			return CompleteFromResult(stage, res), nil
		})
	}
}

// allParams are the parameters of stage st in an "all" run over base.
func allParams(base proxbox.StageParams, st proxbox.Stage) proxbox.StageParams {
	d, _ := contract.Lookup(st)
	return d.AllParams(base)
}

func (s *Server) fullUpdate(ctx context.Context, params proxbox.StageParams, emit proxbox.Emitter) (results []*proxbox.StageResult, failed proxbox.Stage, err error) {
	if fs, ok := s.d.Syncer.(proxbox.FullSyncer); ok && params.DryRun {
		// one run, so the plan of each stage builds on the earlier stages' plans
		results, err := fs.RunAll(ctx, params, emit)
		for i, r := range results {
			if r != nil && r.Stage == "" && i < len(proxbox.Stages) {
				r.Stage = proxbox.Stages[i]
			}
		}
		if err != nil {
			return results, proxbox.Stages[min(len(results), len(proxbox.Stages)-1)], err
		}
		for _, r := range results {
			if r == nil {
				return results, "", errors.New("no result")
			}
			if !r.OK {
				return results, r.Stage, nil
			}
		}
		return results, "", ctx.Err()
	}
	for _, st := range proxbox.Stages {
		if s.d.Syncer == nil {
			return results, st, errors.New("the sync engine is not available in this build")
		}
		begin := time.Now()
		res, err := s.d.Syncer.RunStage(ctx, proxbox.StageRequest{Stage: st, Params: allParams(params, st)}, emit)
		s.d.Metrics.observeStage(string(st), time.Since(begin))
		if err != nil {
			return results, st, err
		}
		if res == nil {
			return results, st, errors.New("no result")
		}
		if res.Stage == "" {
			res.Stage = st
		}
		results = append(results, res)
		if !res.OK {
			return results, st, nil
		}
		if ctx.Err() != nil {
			return results, st, ctx.Err()
		}
	}
	return results, "", nil
}

// GET /full-update/stream
func (s *Server) fullUpdateStream(c echo.Context) error {
	params, err := contract.ParseStageParams(c.QueryParams())
	if err != nil {
		return jsonError(c, http.StatusUnprocessableEntity, err.Error())
	}
	return s.runStream(c, "full-update", "full-update", func(ctx context.Context, emit proxbox.Emitter) (CompletePayload, error) {
		items := make([]map[string]any, 0, len(proxbox.Stages))
		for _, st := range proxbox.Stages {
			items = append(items, map[string]any{"name": string(st), "type": "stage"})
		}
		emit(proxbox.Event{Name: "step", Data: map[string]any{"step": "stream", "status": "started", "message": "Full update stream connected"}})
		emit(proxbox.Event{Name: "discovery", Data: map[string]any{"event": "discovery", "phase": "full-update", "status": "discovered",
			"message": fmt.Sprintf("Discovered %d sync stage(s) for full update", len(items)), "count": len(items), "items": items,
			"progress": map[string]any{"current": 0, "total": len(items), "percent": 0}}})
		results, failed, err := s.fullUpdate(ctx, params, emit)
		if err != nil {
			return CompletePayload{}, fmt.Errorf("%s: %w", failed, err)
		}
		res := fullResult(results)
		if failed != "" {
			last := CompleteFromResult(failed, results[len(results)-1])
			return CompletePayload{OK: false, Message: "Full update sync failed at " + string(failed) + ".", Result: res, Errors: last.Errors}, nil
		}
		return CompletePayload{OK: true, Message: "Full update sync completed.", Result: res}, nil
	})
}

func fullResult(results []*proxbox.StageResult) map[string]any {
	res := map[string]any{}
	stages := []map[string]any{}
	for _, r := range results {
		key := fullUpdateKeys[r.Stage]
		cp := CompleteFromResult(r.Stage, r)
		if key != "" {
			res[key] = cp.Result
			res[key+"_count"] = resultCount(r)
		}
		stages = append(stages, map[string]any{"stage": string(r.Stage), "ok": r.OK, "message": cp.Message})
	}
	res["stages"] = stages
	res["counts"] = proxbox.RunTally(results).Counts() // each object once per run, whatever number of stages touched it
	return res
}

// GET /full-update (JSON; the plugin's CLI)
func (s *Server) fullUpdateJSON(c echo.Context) error {
	params, err := contract.ParseStageParams(c.QueryParams())
	if err != nil {
		return jsonError(c, http.StatusUnprocessableEntity, err.Error())
	}
	s.streams.Add(1)
	defer s.streams.Done()
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	defer context.AfterFunc(s.baseCtx, cancel)()
	start := time.Now()
	run := proxbox.SyncRun{OperationID: newOperationID(), Kind: "full-update", Stage: "full-update", Path: c.Request().URL.Path, StartedAt: start}
	runID, _ := s.d.Store.StartRun(ctx, run)
	s.runs.start(runID, run)
	results, failed, err := s.fullUpdate(ctx, params, func(ev proxbox.Event) {
		if ev.Name != "complete" && ev.Name != "" {
			s.runs.publish(runID, ev.Name, ev.Data)
		}
	})
	res := fullResult(results)
	ok := err == nil && failed == ""
	msg := "Full update sync completed."
	if !ok {
		msg = "Error while syncing " + string(failed) + "."
	}
	s.d.Store.FinishRun(context.WithoutCancel(ctx), runID, ok, msg, time.Since(start), res) //nolint:errcheck // best effort
	s.runs.finish(runID, CompletePayload{OK: ok, Message: msg, Result: res}, time.Since(start))
	if !ok {
		detail := msg
		if err != nil {
			detail = err.Error()
		}
		return c.JSON(http.StatusBadRequest, map[string]any{"message": msg, "detail": detail, "python_exception": nil})
	}
	res["status"] = "completed"
	return c.JSON(http.StatusOK, res)
}

// ---- /sync/individual ----

// individualRequired are the required query parameters per kind
// (proxbox-api-contract §2.10).
var individualRequired = map[string][]string{
	"cluster":         {"cluster_name"},
	"node":            {"cluster_name", "node_name"},
	"vm":              {"cluster_name", "node", "type", "vmid"},
	"storage":         {"cluster_name", "storage_name"},
	"interface":       {"cluster_name", "node", "type", "vmid", "interface_name"},
	"ip":              {"cluster_name", "node", "type", "vmid", "ip_address"},
	"disk":            {"cluster_name", "node", "type", "vmid", "disk_name"},
	"snapshot":        {"cluster_name", "node", "type", "vmid", "snapshot_name"},
	"backup":          {"cluster_name", "node", "storage", "vmid", "volid"},
	"replication":     {"cluster_name", "replication_id"},
	"task-history":    {"node", "type", "vmid"},
	"backup-routines": {"cluster_name", "job_id"},
}

// IndividualKinds lists the /sync/individual/{kind} routes.
func IndividualKinds() []string {
	out := make([]string, 0, len(individualRequired))
	for k := range individualRequired {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) individualHandler(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := map[string]string{}
		for k, v := range c.QueryParams() {
			if len(v) > 0 && len(k) <= 64 {
				q[k] = v[len(v)-1]
			}
		}
		for _, name := range c.ParamNames() { // /sync/individual/vm/{cluster_name}/{node}/{type}/{vmid}
			q[name] = c.Param(name)
		}
		if kind == "task-history" && q["type"] == "" && q["vm_type"] != "" {
			q["type"] = q["vm_type"] // the plugin's batch job sends vm_type (contract §2.7)
		}
		var missing []string
		for _, r := range individualRequired[kind] {
			if strings.TrimSpace(q[r]) == "" {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return jsonError(c, http.StatusUnprocessableEntity, "missing required query parameter(s): "+strings.Join(missing, ", "))
		}
		if t, ok := q["type"]; ok && t != "" && t != "qemu" && t != "lxc" {
			return jsonError(c, http.StatusUnprocessableEntity, "type must be qemu or lxc")
		}
		params, err := contract.ParseStageParams(c.QueryParams())
		if err != nil {
			return jsonError(c, http.StatusUnprocessableEntity, err.Error())
		}
		if s.d.Syncer == nil {
			return jsonError(c, http.StatusServiceUnavailable, "the sync engine is not available in this build")
		}
		start := time.Now()
		ctx := c.Request().Context()
		runID, _ := s.d.Store.StartRun(ctx, proxbox.SyncRun{OperationID: newOperationID(), Kind: "individual", Stage: kind, Path: c.Request().URL.Path, StartedAt: start})
		res, err := s.d.Syncer.SyncIndividual(ctx, proxbox.IndividualRequest{Kind: kind, Query: q, Params: params})
		if err != nil {
			s.d.Store.FinishRun(context.WithoutCancel(ctx), runID, false, err.Error(), time.Since(start), nil) //nolint:errcheck // best effort
			return jsonError(c, http.StatusBadGateway, "individual sync failed: "+err.Error())
		}
		if res == nil {
			res = &proxbox.IndividualResult{ObjectType: kind, Action: "skipped"}
		}
		if res.DependenciesSynced == nil {
			res.DependenciesSynced = []string{}
		}
		s.d.Store.FinishRun(context.WithoutCancel(ctx), runID, res.Error == nil, res.Action, time.Since(start), res) //nolint:errcheck // best effort
		return c.JSON(http.StatusOK, individualWire(res))
	}
}

// individualWire renders an IndividualResult with dependencies_synced as a
// list of objects, the shape the plugin iterates (plugin-contract §2.7): a
// plain string entry becomes {"object_type": s, "action": "synced"}, an action
// the plugin does not recurse into.
func individualWire(r *proxbox.IndividualResult) map[string]any {
	deps := make([]map[string]any, 0, len(r.DependenciesSynced))
	for _, d := range r.DependenciesSynced {
		deps = append(deps, map[string]any{"object_type": d, "action": "synced", "name": d})
	}
	pr, nbo := r.ProxmoxResource, r.NetBoxObject
	if pr == nil {
		pr = map[string]any{}
	}
	var nb any
	if nbo != nil {
		nb = nbo
	}
	return map[string]any{"object_type": r.ObjectType, "action": r.Action, "proxmox_resource": pr, "netbox_object": nb,
		"dry_run": r.DryRun, "dependencies_synced": deps, "error": r.Error}
}
