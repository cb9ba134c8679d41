package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/r3labs/sse/v2"
)

// adminStream is the id of the operator view's broadcast stream.
const adminStream = "admin"

// liveStreams are the broadcasts that keep no history, on one r3labs server
// without replay: the operator view's stream (GET /admin/events: a `run`
// frame when a sync run starts, `finished` when it ends; the page then
// watches the run on /admin/runs/{id}/events, where a late joiner gets the
// run so far) and the admin log stream (GET /admin/logs/stream: one stream per
// filter, every log line published to the streams whose filter it matches).
//
// Publishing never blocks: TryPublish drops a frame when a stream's queue is
// full because one of its watchers stalls.
type liveStreams struct {
	srv *sse.Server

	mu      sync.Mutex
	filters map[string]LogFilter // log stream id -> its filter
	refs    map[string]int       // log stream id -> watchers
}

func newLiveStreams() *liveStreams {
	srv := sse.New()
	srv.AutoReplay = false
	srv.AutoStream = false
	srv.Headers = map[string]string{"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
	srv.CreateStream(adminStream)
	return &liveStreams{srv: srv, filters: map[string]LogFilter{}, refs: map[string]int{}}
}

// notify publishes one frame of the operator view's stream.
func (l *liveStreams) notify(name string, data any) {
	l.srv.TryPublish(adminStream, runFrame(name, data))
}

// logStreamID names the stream of a filter: level, errors_only, operation_id
// (the filters a stream request may carry besides newer_than_id).
func logStreamID(f LogFilter) string {
	return "log|" + f.Level + "|" + strconv.FormatBool(f.ErrorsOnly) + "|" + f.OperationID
}

// joinLog registers a watcher of the log stream of f and returns its id.
func (l *liveStreams) joinLog(f LogFilter) string {
	f = LogFilter{Level: f.Level, ErrorsOnly: f.ErrorsOnly, OperationID: f.OperationID}
	id := logStreamID(f)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs[id] == 0 {
		l.srv.CreateStream(id)
		l.filters[id] = f
	}
	l.refs[id]++
	return id
}

// leaveLog unregisters a watcher; the last one removes the stream.
func (l *liveStreams) leaveLog(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs[id]--; l.refs[id] > 0 {
		return
	}
	delete(l.refs, id)
	delete(l.filters, id)
	l.srv.RemoveStream(id)
}

// logFrame is a log line as an r3labs event: `id:` is the line's id, so a
// browser that reconnects sends it back as Last-Event-ID.
func logFrame(e LogEntry) *sse.Event {
	ev := runFrame("log", e)
	ev.ID = []byte(strconv.FormatInt(e.ID, 10))
	return ev
}

// publishLog sends a new log line to every log stream whose filter it
// matches. It runs inside the log handler, so it never blocks.
func (l *liveStreams) publishLog(e LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.filters) == 0 {
		return
	}
	ev := logFrame(e)
	for id, f := range l.filters {
		if f.match(e) {
			l.srv.TryPublish(id, ev)
		}
	}
}

// keepAlive sends a comment on every stream of l, and on the given run
// streams, every d until ctx ends: proxies drop idle connections, and r3labs
// has no keep-alive of its own. Comments are not events: they are neither
// replayed nor seen by an EventSource.
func (s *Server) keepAlive(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ping := &sse.Event{Comment: []byte("keepalive")}
		s.live.srv.TryPublish(adminStream, ping)
		s.live.mu.Lock()
		for id := range s.live.refs {
			s.live.srv.TryPublish(id, ping)
		}
		s.live.mu.Unlock()
		for _, id := range s.runs.liveIDs() {
			s.runs.srv.TryPublish(strconv.Itoa(id), ping)
		}
	}
}

// serveLive hands a request to r3labs' server for stream id, ending it when
// the client goes or the server shuts down; w is the response writer to use.
func (s *Server) serveLive(c echo.Context, srv *sse.Server, id string, w http.ResponseWriter) (shutdown bool) {
	s.streams.Add(1)
	defer s.streams.Done()
	s.d.Metrics.streamsActive.Inc()
	defer s.d.Metrics.streamsActive.Dec()
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	stop := context.AfterFunc(s.baseCtx, cancel)
	defer stop()
	req := c.Request().WithContext(ctx)
	q := req.URL.Query()
	q.Set("stream", id)
	u := *req.URL
	u.RawQuery = q.Encode()
	req.URL = &u
	req.Header.Del("Last-Event-ID") // no replay here; the log stream replays itself
	srv.ServeHTTP(w, req)
	return s.baseCtx.Err() != nil
}

// GET /admin/events: the operator view's broadcast (`run`, `finished`).
func (s *Server) adminEvents(c echo.Context) error {
	if s.serveLive(c, s.live.srv, adminStream, c.Response()) {
		writeRawFrame(c.Response(), "complete", CompletePayload{OK: true, Message: "Server shutdown.", Errors: []ErrorItem{}})
	}
	return nil
}

// GET /admin/logs/stream: SSE event `log`, one line of the log ring per
// frame, chronological, broadcast with r3labs (the plugin's log page reads it
// with an EventSource; §2.9 of the plugin contract). newer_than_id (or the
// Last-Event-ID of a reconnecting EventSource) first replays the matching
// lines after that id, from the ring; without it only new lines come. A
// `complete` frame ends the response on shutdown.
func (s *Server) adminLogsStream(c echo.Context) error {
	f, err := parseLogFilter(c)
	if err != nil {
		return err
	}
	replay := c.QueryParams().Has("newer_than_id")
	after := f.NewerThan
	if v := c.Request().Header.Get("Last-Event-ID"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
			replay, after = true, n
		}
	}
	id := s.live.joinLog(f)
	defer s.live.leaveLog(id)
	w := &logReplay{ResponseWriter: c.Response(), flusher: c.Response()}
	if replay {
		f.NewerThan = 0
		w.replay = func() []LogEntry { return s.d.Logs.After(after, f) }
	}
	if s.serveLive(c, s.live.srv, id, w) {
		writeRawFrame(c.Response(), "complete", CompletePayload{OK: true, Message: "Server shutdown.", Errors: []ErrorItem{}})
	}
	return nil
}

// writeRawFrame writes one named frame in r3labs' layout.
func writeRawFrame(w http.ResponseWriter, name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	_, _ = w.Write([]byte("event: " + name + "\ndata: " + string(b) + "\n\n"))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// logReplay writes the replayed lines when r3labs first flushes the
// response, which it does right after the watcher is subscribed: lines
// logged from then on come live, so none is lost between the two. A live
// line that the replay already carried is dropped (r3labs writes a frame
// field by field: "id: N\n", "data: …\n", "event: log\n", then "\n").
type logReplay struct {
	http.ResponseWriter
	flusher  http.Flusher
	replay   func() []LogEntry
	started  bool
	lastSent int64 // highest replayed id
	skipping bool
}

func (w *logReplay) Write(b []byte) (int, error) {
	line := string(b)
	switch {
	case w.skipping:
		if line == "\n" {
			w.skipping = false
		}
		return len(b), nil
	case strings.HasPrefix(line, "id: ") && w.lastSent > 0:
		if n, err := strconv.ParseInt(strings.TrimSpace(line[4:]), 10, 64); err == nil && n <= w.lastSent {
			w.skipping = true
			return len(b), nil
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *logReplay) Flush() {
	if !w.started {
		w.started = true
		if w.replay != nil {
			for _, e := range w.replay() {
				ev := logFrame(e)
				_, _ = w.ResponseWriter.Write([]byte("id: " + string(ev.ID) + "\ndata: " + string(ev.Data) + "\nevent: log\n\n"))
				w.lastSent = e.ID
			}
		}
	}
	w.flusher.Flush()
}
