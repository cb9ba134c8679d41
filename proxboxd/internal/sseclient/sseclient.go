// Package sseclient reads a stage stream the way the netbox-proxbox plugin
// does (plugin-contract §3.3-3.5): line-based frames, comments ignored, the
// last `complete` wins, a missing ok means success, and a stream without
// `complete` is a failure (the plugin's 502).
package sseclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Frame is one parsed event.
type Frame struct {
	Event string
	Data  map[string]any
}

// Parse splits r into frames exactly like the plugin's _iter_sse_frames.
func Parse(r io.Reader, each func(Frame)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	event := ""
	var data []string
	flush := func() {
		if len(data) == 0 {
			return
		}
		text := strings.Join(data, "\n")
		data = nil
		name := event
		if name == "" {
			name = "message"
		}
		var v any
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			m = map[string]any{"raw": text}
		} else if mm, ok := v.(map[string]any); ok {
			m = mm
		} else {
			m = map[string]any{"raw": v}
		}
		each(Frame{Event: name, Data: m})
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			flush()
			event = ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			flush()
			event = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(line[len("data:"):], " "))
		default:
			data = append(data, line)
		}
	}
	flush()
	return sc.Err()
}

// Complete is the validated complete payload.
type Complete struct {
	OK      bool
	Message string
	Result  map[string]any
	Errors  []map[string]any
}

// ValidateComplete applies the plugin's pydantic model: ok bool (default
// true), message str|null, result object|array|null, errors list of objects.
func ValidateComplete(d map[string]any) (Complete, error) {
	c := Complete{OK: true}
	if v, ok := d["ok"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return c, fmt.Errorf("complete.ok is %T, want bool", v)
		}
		c.OK = b
	}
	if v, ok := d["message"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			return c, fmt.Errorf("complete.message is %T, want string", v)
		}
		c.Message = s
	}
	if v, ok := d["result"]; ok && v != nil {
		switch t := v.(type) {
		case map[string]any:
			c.Result = t
		case []any:
		default:
			return c, fmt.Errorf("complete.result is %T, want object, array or null", v)
		}
	}
	if v, ok := d["errors"]; ok && v != nil {
		l, isList := v.([]any)
		if !isList {
			return c, fmt.Errorf("complete.errors is %T, want list", v)
		}
		for _, e := range l {
			m, isObj := e.(map[string]any)
			if !isObj {
				return c, fmt.Errorf("complete.errors item is %T, want object", e)
			}
			c.Errors = append(c.Errors, m)
		}
	}
	return c, nil
}

// Outcome is the plugin's verdict on one stream.
type Outcome struct {
	Status   int // 200 ok, 503 complete.ok=false, 502 no complete, or the HTTP status
	Detail   string
	Complete *Complete
	Frames   []Frame
}

// Run GETs url with the API key and reads the stream to EOF.
func Run(ctx context.Context, hc *http.Client, url, apiKey string) (Outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Outcome{}, err
	}
	if apiKey != "" {
		req.Header.Set("X-Proxbox-API-Key", apiKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Outcome{Status: 503, Detail: err.Error()}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return Outcome{Status: resp.StatusCode, Detail: string(b)}, nil
	}
	return Read(resp.Body)
}

// Read applies the rules to a stream body.
func Read(r io.Reader) (Outcome, error) {
	var o Outcome
	var verr error
	err := Parse(r, func(f Frame) {
		o.Frames = append(o.Frames, f)
		if f.Event == "complete" {
			c, err := ValidateComplete(f.Data)
			if err != nil {
				verr = err
				return
			}
			o.Complete = &c
		}
	})
	if verr != nil {
		return o, verr
	}
	switch {
	case o.Complete == nil:
		o.Status, o.Detail = 502, "ProxBox backend stream ended without a complete event."
		if err != nil {
			o.Detail += " (" + err.Error() + ")"
		}
	case !o.Complete.OK:
		o.Status, o.Detail = 503, "Sync failed."
		if len(o.Complete.Errors) > 0 {
			if d, ok := o.Complete.Errors[0]["detail"].(string); ok && d != "" {
				o.Detail = d
			}
		} else if o.Complete.Message != "" {
			o.Detail = o.Complete.Message
		}
	default:
		o.Status = 200
	}
	if err != nil && !errors.Is(err, io.EOF) && o.Complete == nil {
		return o, nil
	}
	return o, nil
}
