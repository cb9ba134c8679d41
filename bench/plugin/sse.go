// Package plugin replays what the netbox-proxbox plugin sends to its backend
// (plugin-contract.md §2.1, §2.3, §3, §4) and reads the answers exactly as
// the plugin does: python-requests' text decoding and iter_lines, the
// plugin's SSE frame rules (§3.3), its `complete` validation (§3.4) and its
// success, failure and retry mapping (§3.5). The e2e tests and the scenario
// benchmark drive proxboxd through it when the real plugin is not installed.
package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
)

// Frame is one SSE frame as the plugin sees it: Event defaults to "message";
// Data is the JSON object, or {"raw": text} when the data was not a JSON
// object.
type Frame struct {
	Event string
	Data  map[string]any
	At    time.Time
}

// Charset returns the encoding python-requests decodes a body with
// (requests.utils.get_encoding_from_headers): the charset parameter, else
// ISO-8859-1 for any text/* type, else utf-8 for application/json, else "".
func Charset(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	if cs, ok := params["charset"]; ok {
		return strings.ToLower(strings.Trim(cs, `'"`))
	}
	if strings.Contains(mt, "text") {
		return "iso-8859-1"
	}
	if strings.Contains(mt, "application/json") {
		return "utf-8"
	}
	return ""
}

// decoder turns byte chunks into text like Python's incremental decoder with
// errors="replace" for utf-8 and latin-1 (the two encodings that matter).
type decoder struct {
	latin1 bool
	carry  []byte
}

func newDecoder(charset string) *decoder {
	switch strings.ReplaceAll(charset, "_", "-") {
	case "iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "8859", "cp819":
		return &decoder{latin1: true}
	}
	return &decoder{}
}

func (d *decoder) decode(b []byte, final bool) string {
	if d.latin1 {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	b = append(d.carry, b...)
	d.carry = nil
	if !final {
		// keep an incomplete trailing sequence for the next chunk
		for i := 1; i <= 3 && i <= len(b); i++ {
			c := b[len(b)-i]
			if c < 0x80 {
				break
			}
			if c >= 0xC0 { // a lead byte: is its sequence complete?
				need := 2
				if c >= 0xE0 {
					need = 3
				}
				if c >= 0xF0 {
					need = 4
				}
				if need > i {
					d.carry = append([]byte(nil), b[len(b)-i:]...)
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

// isPyLineBreak reports the characters Python's str.splitlines splits on.
func isPyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// splitlines is Python's str.splitlines() (no keepends): "\r\n" is one break.
func splitlines(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if !isPyLineBreak(rs[i]) {
			continue
		}
		out = append(out, string(rs[start:i]))
		if rs[i] == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
			i++
		}
		start = i + 1
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// ChunkSize is requests' ITER_CHUNK_SIZE, the read size of iter_lines.
const ChunkSize = 512

// IterLines is requests.Response.iter_lines(decode_unicode=True): chunks are
// decoded with the response charset, split with str.splitlines, and the
// last piece of a chunk is held back when the chunk did not end in a line
// break. It calls fn for every line until EOF or a read error.
func IterLines(r io.Reader, charset string, fn func(line string)) error {
	dec := newDecoder(charset)
	buf := make([]byte, ChunkSize)
	var pending *string
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := dec.decode(buf[:n], false)
			if chunk != "" {
				if pending != nil {
					chunk = *pending + chunk
				}
				lines := splitlines(chunk)
				pending = nil
				if len(lines) > 0 {
					last := lines[len(lines)-1]
					lr, _ := utf8.DecodeLastRuneInString(last)
					cr, _ := utf8.DecodeLastRuneInString(chunk)
					if last != "" && lr == cr {
						pending = &last
						lines = lines[:len(lines)-1]
					}
				}
				for _, l := range lines {
					fn(l)
				}
			}
		}
		if err != nil {
			if tail := dec.decode(nil, true); tail != "" {
				s := tail
				if pending != nil {
					s = *pending + tail
				}
				p := s
				pending = &p
			}
			if pending != nil {
				fn(*pending)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// FrameParser applies the plugin's _iter_sse_frames rules (§3.3) to lines.
type FrameParser struct {
	event string
	data  []string
	emit  func(Frame)
	now   func() time.Time
}

// NewFrameParser returns a parser that calls emit for every frame.
func NewFrameParser(emit func(Frame)) *FrameParser {
	return &FrameParser{emit: emit, now: time.Now}
}

// Line feeds one line (without its line break).
func (p *FrameParser) Line(line string) {
	switch {
	case strings.HasPrefix(line, ":"):
		// comment (": keepalive"): not a frame
	case line == "":
		p.flush()
		p.event = ""
	case strings.HasPrefix(line, "event:"):
		p.flush()
		p.event = strings.TrimSpace(line[len("event:"):])
	case strings.HasPrefix(line, "data:"):
		p.data = append(p.data, strings.TrimLeft(line[len("data:"):], " "))
	default:
		p.data = append(p.data, line)
	}
}

func (p *FrameParser) flush() {
	if len(p.data) == 0 {
		return
	}
	text := strings.Join(p.data, "\n")
	p.data = nil
	name := p.event
	if name == "" {
		name = "message"
	}
	p.emit(Frame{Event: name, Data: decodeData(text), At: p.now()})
}

// decodeData is json.loads with the plugin's fallbacks.
func decodeData(text string) map[string]any {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return map[string]any{"raw": text}
	}
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{"raw": v}
}

// ParseStream reads an SSE body the way the plugin does and calls fn for
// every frame. contentType is the response's Content-Type header.
func ParseStream(r io.Reader, contentType string, fn func(Frame)) error {
	p := NewFrameParser(fn)
	return IterLines(r, Charset(contentType), p.Line)
}

// Complete is a validated `complete` frame (§3.4).
type Complete struct {
	OK      bool             `json:"ok"`
	Message *string          `json:"message"`
	Result  any              `json:"result"`
	Errors  []map[string]any `json:"errors"`
}

// ParseComplete validates a `complete` frame's data like the plugin's
// pydantic model: ok bool (default true; pydantic's lax bools accepted),
// message str|null, result object|array|null, errors a list of objects
// (default []). An error here would crash the plugin's job unhandled.
func ParseComplete(data map[string]any) (*Complete, error) {
	c := &Complete{OK: true, Errors: []map[string]any{}}
	if raw, ok := data["raw"]; ok && len(data) == 1 {
		return nil, fmt.Errorf("complete: data is not a JSON object: %v", raw)
	}
	if v, ok := data["ok"]; ok {
		b, err := laxBool(v)
		if err != nil {
			return nil, fmt.Errorf("complete.ok: %w", err)
		}
		c.OK = b
	}
	if v, ok := data["message"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("complete.message: want string or null, got %T", v)
		}
		c.Message = &s
	}
	if v, ok := data["result"]; ok && v != nil {
		switch v.(type) {
		case map[string]any, []any:
			c.Result = v
		default:
			return nil, fmt.Errorf("complete.result: want object, array or null, got %T", v)
		}
	}
	if v, ok := data["errors"]; ok {
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("complete.errors: want a list of objects, got %T", v)
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("complete.errors[%d]: want object, got %T", i, e)
			}
			c.Errors = append(c.Errors, m)
		}
	}
	return c, nil
}

func laxBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		switch x {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	case string:
		switch strings.ToLower(x) {
		case "0", "off", "f", "false", "n", "no":
			return false, nil
		case "1", "on", "t", "true", "y", "yes":
			return true, nil
		}
	}
	return false, fmt.Errorf("not a valid boolean: %v", v)
}

// FailureDetail is the text the plugin reports for complete{ok:false}:
// errors[0].detail, else message, else "Sync failed.".
func (c *Complete) FailureDetail() string {
	if len(c.Errors) > 0 {
		if d, ok := c.Errors[0]["detail"].(string); ok && d != "" {
			return d
		}
	}
	if c.Message != nil && *c.Message != "" {
		return *c.Message
	}
	return "Sync failed."
}
