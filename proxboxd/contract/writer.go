package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrCompleted is returned by Writer.Event after Complete was written.
var ErrCompleted = errors.New("sse: stream already completed")

// Writer writes a stage stream in the framing the plugin parses
// (plugin-contract §3.3): "event: <name>\ndata: <single-line JSON>\n\n",
// ": keepalive\n\n" comments after KeepAlive of silence, and exactly one
// `complete` frame per stream. Lines end in "\n" only: requests' iter_lines
// can split a "\r\n" across two reads into an extra blank line, which would
// end a frame early. It is safe for concurrent use.
type Writer struct {
	mu        sync.Mutex
	w         io.Writer
	flush     func() error
	last      time.Time
	completed bool
	err       error // first write error; later writes are skipped
	stop      chan struct{}
	stopOnce  sync.Once
	frames    int
}

// SetHeaders sets the response headers of a stream: no caching, no proxy
// buffering (nginx X-Accel-Buffering), and text/event-stream.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
}

// NewWriter starts a stream on w (status 200) and flushes the headers.
func NewWriter(w http.ResponseWriter) *Writer {
	SetHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	s := &Writer{w: w, flush: rc.Flush, last: time.Now(), stop: make(chan struct{})}
	_ = s.flush()
	return s
}

// NewFrameWriter writes frames to a plain writer (tests, fuzzing).
func NewFrameWriter(w io.Writer) *Writer {
	return &Writer{w: w, flush: func() error { return nil }, last: time.Now(), stop: make(chan struct{})}
}

// EncodeFrame renders one frame. The plugin splits lines like Python's
// str.splitlines, so every character that ends a line there is kept off
// the wire: the event name loses them, and the data is compact JSON, where
// encoding/json escapes all of them but U+0085 (NEL), escaped here. A frame
// can never be split or injected. Values that do not marshal become
// {"raw": "<text>"}.
func EncodeFrame(name string, data any) []byte {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if isPyLineBreak(r) {
			return -1
		}
		return r
	}, name))
	if name == "" {
		name = "message"
	}
	b, err := json.Marshal(data)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"raw": err.Error()})
	}
	if len(b) == 0 || b[0] != '{' {
		b, _ = json.Marshal(map[string]json.RawMessage{"raw": b})
	}
	// U+0085 is C2 85 in UTF-8; json.Marshal's output is valid UTF-8 and
	// has it only inside strings, where \u0085 means the same.
	b = bytes.ReplaceAll(b, []byte("\u0085"), []byte(`\u0085`))
	var buf bytes.Buffer
	buf.Grow(len(b) + len(name) + 16)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: ")
	buf.Write(b)
	buf.WriteString("\n\n")
	return buf.Bytes()
}

func (s *Writer) write(b []byte) error {
	if s.err != nil {
		return s.err
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = err
		return err
	}
	if err := s.flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
		return err
	}
	s.last = time.Now()
	return nil
}

// Event writes one frame. `complete` frames must go through Complete.
func (s *Writer) Event(name string, data any) error {
	if name == "complete" {
		return errors.New("sse: use Complete for the complete event")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		return ErrCompleted
	}
	s.frames++
	return s.write(EncodeFrame(name, data))
}

// Comment writes an SSE comment line (ignored by the plugin's parser); a
// line break in text becomes a space.
func (s *Writer) Comment(text string) error {
	text = strings.Map(func(r rune) rune {
		if isPyLineBreak(r) {
			return ' '
		}
		return r
	}, text)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write([]byte(": " + text + "\n\n"))
}

// ErrorItem is one entry of complete.errors.
type ErrorItem struct {
	Detail string `json:"detail"`
	Extra  map[string]any
}

// MarshalJSON flattens Extra next to detail.
func (e ErrorItem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		m[k] = v
	}
	m["detail"] = e.Detail
	return json.Marshal(m)
}

// CompletePayload is the body of the `complete` event the backend writes,
// with the types the plugin validates (ValidateComplete): ok bool, message
// string, result object or null, errors a list of objects each with a
// string detail (never null).
type CompletePayload struct {
	OK      bool           `json:"ok"`
	Message string         `json:"message"`
	Result  map[string]any `json:"result"`
	Errors  []ErrorItem    `json:"errors"`
}

// Complete writes the single `complete` frame; later calls are no-ops that
// return ErrCompleted. It also stops the keep-alive loop.
func (s *Writer) Complete(p CompletePayload) error {
	if p.Errors == nil {
		p.Errors = []ErrorItem{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		return ErrCompleted
	}
	s.completed = true
	s.stopOnce.Do(func() { close(s.stop) })
	return s.write(EncodeFrame("complete", p))
}

// Completed reports whether Complete ran.
func (s *Writer) Completed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.completed
}

// Err returns the first write error (the client went away).
func (s *Writer) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// KeepAlive writes ": keepalive" whenever nothing was written for interval,
// until Complete or Stop. Run it in its own goroutine.
func (s *Writer) KeepAlive(interval time.Duration) {
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval / 3)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.mu.Lock()
			if !s.completed && s.err == nil && time.Since(s.last) >= interval {
				_ = s.write([]byte(": keepalive\n\n"))
			}
			s.mu.Unlock()
		}
	}
}

// Stop ends the keep-alive loop without writing anything.
func (s *Writer) Stop() { s.stopOnce.Do(func() { close(s.stop) }) }
