package contract

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Frame is one SSE frame as the plugin sees it: Event defaults to
// "message"; Data is the JSON object, or {"raw": value} when the data was
// not JSON ({"raw": text}) or not an object ({"raw": value}).
type Frame struct {
	Event string
	Data  map[string]any
	At    time.Time // when the frame was parsed
}

// Charset is the encoding python-requests decodes a body with
// (requests.utils.get_encoding_from_headers): the charset parameter, else
// ISO-8859-1 when the media type contains "text", else utf-8 when it
// contains "application/json", else "" (requests then yields bytes, which
// the plugin decodes line by line as UTF-8). The media type is compared as
// sent, like requests does.
func Charset(contentType string) string {
	if contentType == "" {
		return ""
	}
	parts := strings.Split(contentType, ";")
	mt := strings.Trim(parts[0], ` "'`)
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if strings.ToLower(strings.Trim(k, ` "'`)) == "charset" {
			return strings.Trim(strings.Trim(v, ` "'`), `'"`)
		}
	}
	if strings.Contains(mt, "text") {
		return "ISO-8859-1"
	}
	if strings.Contains(mt, "application/json") {
		return "utf-8"
	}
	return ""
}

// charsetMode is how a charset decodes: latin-1, UTF-8 text, or bytes.
type charsetMode int

const (
	modeBytes charsetMode = iota // no charset: bytes.splitlines, then UTF-8 per line
	modeUTF8
	modeLatin1
)

func modeOf(charset string) charsetMode {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(charset)), "_", "-") {
	case "":
		return modeBytes
	case "iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "8859", "cp819", "iso-ir-100", "csisolatin1":
		return modeLatin1
	}
	return modeUTF8 // utf-8 and every codec this package does not model
}

// decoder turns byte chunks into text like Python's incremental decoder
// with errors="replace".
type decoder struct {
	mode  charsetMode
	carry []byte
}

func (d *decoder) decode(b []byte, final bool) string {
	switch d.mode {
	case modeLatin1:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	case modeBytes:
		return string(b) // split as bytes, decoded per line
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

// hasLineBreak reports whether s holds a character splitlines splits on.
func hasLineBreak(s string, bytesMode bool) bool {
	if bytesMode {
		return strings.ContainsAny(s, "\r\n")
	}
	return strings.ContainsFunc(s, isPyLineBreak)
}

// isPyLineBreak reports the characters Python's str.splitlines splits on.
func isPyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// splitlines is Python's str.splitlines() (no keepends): "\r\n" is one
// break. With bytes, only "\n", "\r" and "\r\n" break (bytes.splitlines).
func splitlines(s string, bytesMode bool) []string {
	var out []string
	if bytesMode {
		start := 0
		for i := 0; i < len(s); i++ {
			if s[i] != '\n' && s[i] != '\r' {
				continue
			}
			out = append(out, s[start:i])
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
		if start < len(s) {
			out = append(out, s[start:])
		}
		return out
	}
	start := 0
	for i, r := range s {
		if i < start || !isPyLineBreak(r) {
			continue // i < start: the "\n" of a "\r\n" already taken
		}
		out = append(out, s[start:i])
		_, w := utf8.DecodeRuneInString(s[i:])
		start = i + w
		if r == '\r' && start < len(s) && s[start] == '\n' {
			start++
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// lastChar is s[-1] in Python: the last rune of text, the last byte of bytes.
func lastChar(s string, bytesMode bool) string {
	if bytesMode {
		return s[len(s)-1:]
	}
	_, n := utf8.DecodeLastRuneInString(s)
	return s[len(s)-n:]
}

// ChunkSize is requests' ITER_CHUNK_SIZE, the read size of iter_lines.
const ChunkSize = 512

// MaxLineBytes bounds one line (the plugin has no bound; a reader here
// stops with ErrLineTooLong rather than grow without end).
const MaxLineBytes = 16 << 20

// ErrLineTooLong is returned by IterLines for a line over MaxLineBytes.
var ErrLineTooLong = errors.New("contract: SSE line too long")

// IterLines is requests.Response.iter_lines(decode_unicode=True) followed by
// the plugin's bytes-to-text step: chunks of at most chunkSize bytes (as
// the reader returns them) are decoded with charset, split like Python's
// splitlines, and the last piece of a chunk is held back when the chunk did
// not end in a line break. It calls fn for every line until EOF, a read
// error (returned) or fn returning false.
func IterLines(r io.Reader, charset string, chunkSize int, fn func(line string) bool) error {
	if chunkSize <= 0 {
		chunkSize = ChunkSize
	}
	dec := &decoder{mode: modeOf(charset)}
	bytesMode := dec.mode == modeBytes
	emit := func(l string) bool {
		if bytesMode {
			l = strings.ToValidUTF8(l, string(utf8.RuneError))
		}
		return fn(l)
	}
	var pending []byte // the held-back last line; never ends in a line break
	havePending := false
	feed := func(chunk string) bool {
		if chunk == "" {
			return true
		}
		if havePending && !hasLineBreak(chunk, bytesMode) {
			// the line goes on: what Python's pending + chunk and
			// splitlines give, without copying the pending text again
			pending = append(pending, chunk...)
			return len(pending) <= MaxLineBytes
		}
		if havePending {
			chunk = string(pending) + chunk
		}
		lines := splitlines(chunk, bytesMode)
		pending, havePending = pending[:0], false
		if n := len(lines); n > 0 && lines[n-1] != "" && lastChar(lines[n-1], bytesMode) == lastChar(chunk, bytesMode) {
			pending, havePending = append(pending, lines[n-1]...), true
			lines = lines[:n-1]
		}
		for _, l := range lines {
			if !emit(l) {
				return false
			}
		}
		return len(pending) <= MaxLineBytes
	}
	buf := make([]byte, chunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 && !feed(dec.decode(buf[:n], false)) {
			if len(pending) > MaxLineBytes {
				return ErrLineTooLong
			}
			return nil
		}
		if err != nil {
			if !feed(dec.decode(nil, true)) {
				if len(pending) > MaxLineBytes {
					return ErrLineTooLong
				}
				return nil
			}
			if havePending && !emit(string(pending)) {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// pyIsSpace is Python's str.isspace for one character.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// FrameParser is the plugin's _iter_sse_frames: a blank line ends a frame;
// a line starting with ":" is a comment; "event:" ends the pending frame and
// names the next (the name is stripped); "data:" adds its text with leading
// whitespace stripped; any other line is data as it is. The data lines are
// joined with "\n" and JSON-decoded; a frame without data is dropped and
// forgets its event name; an unnamed frame is "message".
type FrameParser struct {
	event string
	data  []string
	emit  func(Frame) bool
	now   func() time.Time
}

// NewFrameParser returns a parser that calls emit for every frame; emit
// returns false to stop (Line then returns false too).
func NewFrameParser(emit func(Frame) bool) *FrameParser {
	return &FrameParser{emit: emit, now: time.Now}
}

// Line feeds one line (without its line break). It returns false once emit
// asked to stop.
func (p *FrameParser) Line(line string) bool {
	switch {
	case line == "":
		return p.flush()
	case strings.HasPrefix(line, ":"):
		return true
	case strings.HasPrefix(line, "event:"):
		ok := p.flush()
		p.event = strings.TrimFunc(line[len("event:"):], pyIsSpace)
		return ok
	case strings.HasPrefix(line, "data:"):
		p.data = append(p.data, strings.TrimLeftFunc(line[len("data:"):], pyIsSpace))
	default:
		p.data = append(p.data, line)
	}
	return true
}

// End flushes what is pending at the end of the stream.
func (p *FrameParser) End() bool { return p.flush() }

func (p *FrameParser) flush() bool {
	if len(p.data) == 0 {
		p.event = ""
		return true
	}
	text := strings.Join(p.data, "\n")
	name := p.event
	if name == "" {
		name = "message"
	}
	p.event, p.data = "", nil
	return p.emit(Frame{Event: name, Data: decodeData(text), At: p.now()})
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

// ReadFrames reads an SSE body the way the plugin does and calls fn for
// every frame until the end of the body or fn returning false.
// contentType is the response's Content-Type header; chunkSize the read
// size (0: ChunkSize).
func ReadFrames(r io.Reader, contentType string, chunkSize int, fn func(Frame) bool) error {
	p := NewFrameParser(fn)
	stopped := false
	err := IterLines(r, Charset(contentType), chunkSize, func(line string) bool {
		if !p.Line(line) {
			stopped = true
		}
		return !stopped
	})
	if !stopped && err == nil { // a read error ends the plugin's generator without the last flush
		p.End()
	}
	return err
}
