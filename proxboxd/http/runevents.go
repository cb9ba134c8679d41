package http

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/r3labs/sse/v2"
)

// runEventsKept is how many finished runs keep their event log for
// GET /runs/{id}/events.
const runEventsKept = 64

// runEvents broadcasts each sync run's events to any number of watchers with
// r3labs/sse: one stream per run id, created when the run starts, with
// AutoReplay so a watcher that joins late first receives every event so far
// (starting with the `run` state frame), then the live ones. The last frame
// of a run is `complete`; the server ends a watcher's response after it.
//
// Publishing never blocks the run: progress frames use TryPublish (a frame is
// dropped if the stream's 1024-frame queue is full because a watcher stalls),
// and `complete` is published from its own goroutine.
//
// The plugin's per-request stage streams are not served from here: r3labs
// writes "id:" and "data:" before "event:", adds no ": keepalive" comments and
// knows nothing of the single `complete` rule, while the plugin's parser and
// the contract tests pin those frames byte for byte (README.md).
type runEvents struct {
	srv  *sse.Server
	mu   sync.Mutex
	done []string                // finished stream ids, oldest first
	live map[int]proxbox.SyncRun // runs started and not finished
	keep int
	// notify, when set, announces each run's start (`run`) and end
	// (`finished`) on the operator view's broadcast.
	notify func(name string, data any)
}

func newRunEvents(keep int, notify func(string, any)) *runEvents {
	srv := sse.New()
	srv.AutoReplay = true
	srv.AutoStream = false
	srv.Headers = map[string]string{"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
	return &runEvents{srv: srv, keep: keep, live: map[int]proxbox.SyncRun{}, notify: notify}
}

// runFrame renders data as the single-line JSON of a frame; a value that does
// not marshal becomes {"raw": "<error>"}.
func runFrame(name string, data any) *sse.Event {
	b, err := json.Marshal(data)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"raw": err.Error()})
	}
	name = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, name)
	return &sse.Event{Event: []byte(name), Data: b}
}

// start opens run id's stream with its state frame.
func (r *runEvents) start(id int, run proxbox.SyncRun) {
	if id <= 0 {
		return
	}
	sid := strconv.Itoa(id)
	r.srv.CreateStream(sid)
	run.ID = id
	state := map[string]any{"run_id": id, "operation_id": run.OperationID, "kind": run.Kind,
		"stage": run.Stage, "path": run.Path, "started_at": run.StartedAt.UTC().Format(time.RFC3339Nano), "status": "running"}
	r.srv.TryPublish(sid, runFrame("run", state))
	r.mu.Lock()
	r.live[id] = run
	r.mu.Unlock()
	if r.notify != nil {
		r.notify("run", state)
	}
}

// liveRuns returns the runs started and not finished, oldest first.
func (r *runEvents) liveRuns() []proxbox.SyncRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]proxbox.SyncRun, 0, len(r.live))
	for _, run := range r.live {
		out = append(out, run)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// liveIDs returns the ids of the runs started and not finished.
func (r *runEvents) liveIDs() []int {
	runs := r.liveRuns()
	ids := make([]int, len(runs))
	for i, run := range runs {
		ids[i] = run.ID
	}
	return ids
}

// publish sends one progress frame of run id; it never blocks.
func (r *runEvents) publish(id int, name string, data any) {
	if id <= 0 {
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	r.srv.TryPublish(strconv.Itoa(id), runFrame(name, data))
}

// finish publishes run id's `complete` frame and retires the oldest
// finished streams beyond keep.
func (r *runEvents) finish(id int, p CompletePayload, d time.Duration) {
	if id <= 0 {
		return
	}
	if p.Errors == nil {
		p.Errors = []ErrorItem{}
	}
	sid := strconv.Itoa(id)
	ev := runFrame("complete", map[string]any{"run_id": id, "ok": p.OK, "message": p.Message, "result": p.Result,
		"errors": p.Errors, "duration_s": d.Seconds(), "status": "finished"})
	r.mu.Lock()
	run := r.live[id]
	delete(r.live, id)
	r.done = append(r.done, sid)
	var retire []string
	if n := len(r.done) - r.keep; n > 0 {
		retire = append(retire, r.done[:n]...)
		r.done = append(r.done[:0], r.done[n:]...)
	}
	r.mu.Unlock()
	if r.notify != nil {
		r.notify("finished", map[string]any{"run_id": id, "kind": run.Kind, "stage": run.Stage, "ok": p.OK, "duration_s": d.Seconds()})
	}
	go func() {
		r.srv.Publish(sid, ev) // returns when queued, or at once if the stream was closed
		for _, old := range retire {
			r.srv.RemoveStream(old)
		}
	}()
}

func (r *runEvents) close() { r.srv.Close() }

// endAfterComplete ends a watcher's response once the `complete` frame is
// flushed (r3labs keeps a subscriber open until its context ends).
type endAfterComplete struct {
	http.ResponseWriter
	cancel   context.CancelFunc
	complete bool
}

func (w *endAfterComplete) Write(b []byte) (int, error) {
	if string(b) == "event: complete\n" {
		w.complete = true
	}
	return w.ResponseWriter.Write(b)
}

func (w *endAfterComplete) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if w.complete {
		w.cancel()
	}
}

// GET /runs/:id/events
func (s *Server) runEventsHandler(c echo.Context) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	sid := strconv.Itoa(id)
	if !s.runs.srv.StreamExists(sid) {
		return jsonError(c, http.StatusNotFound, "No events for run "+sid+": they are kept while a run is live and for the last "+
			strconv.Itoa(runEventsKept)+" finished runs.")
	}
	s.streams.Add(1)
	defer s.streams.Done()
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel() // not tied to shutdown: every live run ends with `complete` then, which ends this response
	s.d.Metrics.streamsActive.Inc()
	defer s.d.Metrics.streamsActive.Dec()
	req := c.Request().WithContext(ctx)
	q := req.URL.Query()
	q.Set("stream", sid)
	u := *req.URL
	u.RawQuery = q.Encode()
	req.URL = &u
	s.runs.srv.ServeHTTP(&endAfterComplete{ResponseWriter: c.Response(), cancel: cancel}, req)
	return nil
}
