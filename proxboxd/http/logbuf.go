package http

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
)

// LogEntry is one line of the in-memory log ring (/admin/logs).
type LogEntry struct {
	ID          int64          `json:"id"`
	Timestamp   string         `json:"timestamp"`
	Level       string         `json:"level"`
	Module      string         `json:"module"`
	Message     string         `json:"message"`
	OperationID string         `json:"operation_id"`
	Operation   string         `json:"operation,omitempty"`
	Phase       string         `json:"phase,omitempty"`
	Expandable  bool           `json:"expandable"`
	Attrs       map[string]any `json:"attrs,omitempty"`
	t           time.Time
}

// LogBuffer keeps the last N entries and hands each new one to its
// subscribers (the log streams).
type LogBuffer struct {
	mu      sync.Mutex
	max     int
	entries []LogEntry
	next    int64
	subs    map[int]func(LogEntry)
	nextSub int
}

// NewLogBuffer keeps up to max entries.
func NewLogBuffer(max int) *LogBuffer {
	if max <= 0 {
		max = 10000
	}
	return &LogBuffer{max: max, next: 1, subs: map[int]func(LogEntry){}}
}

// secretKey matches attribute names whose values are never logged.
var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|authorization|cookie|ticket)`)

// Redact is a slog ReplaceAttr that blanks secret-looking attributes; use it
// on every handler as a second line of defence.
func Redact(_ []string, a slog.Attr) slog.Attr {
	if secretKey.MatchString(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

func (b *LogBuffer) add(e LogEntry) {
	b.mu.Lock()
	e.ID = b.next
	b.next++
	b.entries = append(b.entries, e)
	if len(b.entries) > b.max {
		b.entries = append([]LogEntry(nil), b.entries[len(b.entries)-b.max:]...)
	}
	subs := make([]func(LogEntry), 0, len(b.subs))
	for _, fn := range b.subs {
		subs = append(subs, fn)
	}
	b.mu.Unlock()
	for _, fn := range subs {
		fn(e) // after the entry is in the ring: a stream that replays from the ring sees it there
	}
}

// Subscribe calls fn with every entry added from now on, after it is in the
// ring; fn must not block. The returned function ends the subscription.
func (b *LogBuffer) Subscribe(fn func(LogEntry)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextSub
	b.nextSub++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// LogFilter selects entries.
type LogFilter struct {
	Level       string
	ErrorsOnly  bool
	OperationID string
	Since       time.Time
	NewerThan   int64
	OlderThan   int64
}

var levelRank = map[string]int{"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 4}

func (f LogFilter) match(e LogEntry) bool {
	if f.ErrorsOnly && levelRank[e.Level] < levelRank["ERROR"] {
		return false
	}
	if f.Level != "" && e.Level != f.Level {
		return false
	}
	if f.OperationID != "" && e.OperationID != f.OperationID {
		return false
	}
	if !f.Since.IsZero() && e.t.Before(f.Since) {
		return false
	}
	if f.NewerThan > 0 && e.ID <= f.NewerThan {
		return false
	}
	if f.OlderThan > 0 && e.ID >= f.OlderThan {
		return false
	}
	return true
}

// Query returns matching entries newest first (after offset, up to limit),
// the total match count and whether more exist.
func (b *LogBuffer) Query(f LogFilter, offset, limit int) ([]LogEntry, int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var all []LogEntry
	for i := len(b.entries) - 1; i >= 0; i-- {
		if f.match(b.entries[i]) {
			all = append(all, b.entries[i])
		}
	}
	total := len(all)
	if offset > total {
		offset = total
	}
	all = all[offset:]
	more := len(all) > limit
	if more {
		all = all[:limit]
	}
	if all == nil {
		all = []LogEntry{}
	}
	return all, total, more
}

// After returns entries with id > id matching f, oldest first.
func (b *LogBuffer) After(id int64, f LogFilter) []LogEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []LogEntry
	for _, e := range b.entries {
		if e.ID > id && f.match(e) {
			out = append(out, e)
		}
	}
	return out
}

// LastID is the newest id (0 when empty).
func (b *LogBuffer) LastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next - 1
}

// Handler wraps next so every record is also kept in the buffer.
func (b *LogBuffer) Handler(next slog.Handler) slog.Handler {
	return &bufHandler{buf: b, next: next}
}

type bufHandler struct {
	buf    *LogBuffer
	next   slog.Handler
	attrs  []slog.Attr
	groups []string
}

func (h *bufHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

func (h *bufHandler) Handle(ctx context.Context, r slog.Record) error {
	e := LogEntry{Timestamp: r.Time.UTC().Format(time.RFC3339Nano), Level: levelName(r.Level), Module: "proxboxd", Message: r.Message, t: r.Time}
	attrs := map[string]any{}
	take := func(a slog.Attr) bool {
		a = Redact(nil, a)
		switch a.Key {
		case "operation_id":
			e.OperationID = a.Value.String()
		case "component", "module":
			e.Module = a.Value.String()
		case "stage", "phase":
			e.Phase = a.Value.String()
		case "operation":
			e.Operation = a.Value.String()
		default:
			attrs[strings.Join(append(append([]string{}, h.groups...), a.Key), ".")] = a.Value.Resolve().Any()
		}
		return true
	}
	for _, a := range h.attrs {
		take(a)
	}
	r.Attrs(take)
	if len(attrs) > 0 {
		for k, v := range attrs {
			if err, ok := v.(error); ok {
				attrs[k] = err.Error()
			}
		}
		e.Attrs = attrs
		e.Expandable = true
	}
	h.buf.add(e)
	return h.next.Handle(ctx, r)
}

func (h *bufHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &bufHandler{buf: h.buf, next: h.next.WithAttrs(as), attrs: append(append([]slog.Attr{}, h.attrs...), as...), groups: h.groups}
}

func (h *bufHandler) WithGroup(name string) slog.Handler {
	return &bufHandler{buf: h.buf, next: h.next.WithGroup(name), attrs: h.attrs, groups: append(append([]string{}, h.groups...), name)}
}
