package sync

import (
	"context"
	"fmt"
	"strings"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// stage runs one stage with events around it.
func (r *run) stage(ctx context.Context, s proxbox.Stage, p proxbox.StageParams, full bool) *proxbox.StageResult {
	start := time.Now()
	r.p = p
	r.dry = p.DryRun
	r.phase = StepName(s)
	r.res = &proxbox.StageResult{Stage: s, OK: true, Objects: proxbox.NewTally()}
	r.reported = nil
	before := r.nb.c.snapshot()
	step := StepName(s)
	r.emit(proxbox.Event{Name: "step", Data: map[string]any{"step": step, "status": "started",
		"message": "Starting " + step + " synchronization."}})
	count, msg, err := r.runStage(ctx, s)
	res := r.res
	res.Counts = res.Objects.Counts()
	if err != nil {
		res.OK = false
		res.Message = err.Error()
		r.emit(proxbox.Event{Name: "error", Data: map[string]any{"step": step, "status": "failed", "error": err.Error(), "detail": err.Error()}})
	} else {
		if msg == "" {
			msg = step + " sync completed."
		}
		res.Message = msg
	}
	for _, c := range r.clusters {
		if c.partial {
			res.Partial = true
		}
	}
	after := r.nb.c.snapshot()
	res.Requests = map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			res.Requests[k] = d
		}
	}
	var tot proxbox.Counts
	for _, c := range res.Counts {
		tot.Created += c.Created
		tot.Updated += c.Updated
		tot.Deleted += c.Deleted
		tot.Failed += c.Failed
		tot.Unchanged += c.Unchanged
		tot.Skipped += c.Skipped
	}
	status := "completed"
	if tot.Failed > 0 {
		status = "completed_with_errors"
	}
	if res.OK && tot.Failed+tot.Skipped > 0 {
		// honest status: the plugin only reads ok, so say it in its terms
		res.Partial = true
		res.Message = strings.TrimSuffix(res.Message, ".") + fmt.Sprintf(" (partial: %d failed, %d skipped; see failures and skipped).", tot.Failed, tot.Skipped)
	}
	r.emit(proxbox.Event{Name: "phase_summary", Data: map[string]any{"event": "phase_summary", "phase": step, "status": status,
		"message": fmt.Sprintf("%s sync completed: %d created, %d updated, %d deleted, %d unchanged, %d failed, %d not written", step, tot.Created, tot.Updated, tot.Deleted, tot.Unchanged, tot.Failed, tot.Skipped),
		// "skipped" keeps the Python backend's meaning (unchanged objects)
		"result": map[string]any{"created": tot.Created, "updated": tot.Updated, "deleted": tot.Deleted, "failed": tot.Failed,
			"skipped": tot.Unchanged, "not_written": tot.Skipped, "total": tot.Created + tot.Updated + tot.Deleted + tot.Unchanged + tot.Failed + tot.Skipped},
		"timing": map[string]any{"elapsed_ms": time.Since(start).Milliseconds()}}})
	if res.OK {
		done := map[string]any{"step": step, "status": "completed", "message": step + " synchronization finished.",
			"result": map[string]any{"count": count}}
		if full {
			done["duration_seconds"] = time.Since(start).Seconds()
		}
		r.emit(proxbox.Event{Name: "step", Data: done})
	}
	return res
}
