package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// Complete is a `complete` frame as the plugin's SseCompletePayload model
// reads it.
type Complete struct {
	OK      bool
	Message *string // stripped of surrounding whitespace (str_strip_whitespace)
	Result  any     // map[string]any, []any or nil
	Errors  []map[string]any
}

// ResultMap returns Result when it is an object.
func (c *Complete) ResultMap() map[string]any {
	m, _ := c.Result.(map[string]any)
	return m
}

// MessageText returns the message, or "" when it was null or absent.
func (c *Complete) MessageText() string {
	if c.Message == nil {
		return ""
	}
	return *c.Message
}

// FailureDetail is the text the plugin reports for complete{ok:false}: a
// truthy errors[0].detail, else the message, else "Sync failed.".
func (c *Complete) FailureDetail() string {
	if len(c.Errors) > 0 {
		if d, ok := c.Errors[0]["detail"]; ok && pyTruthy(d) {
			if s, ok := d.(string); ok {
				return s
			}
			b, _ := json.Marshal(d) // the plugin json.dumps a non-string detail
			return string(b)
		}
	}
	if m := c.MessageText(); m != "" {
		return m
	}
	return "Sync failed."
}

func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// ValidationError is a `complete` frame the plugin's model refuses. Msg is
// pydantic's text for the first failing field, in model order (ok,
// message, result, errors).
type ValidationError struct {
	Field string // ok, message, result, errors, errors.<i>
	Msg   string
}

func (e *ValidationError) Error() string { return "complete." + e.Field + ": " + e.Msg }

// The pydantic messages the plugin reports.
const (
	msgBool       = "Input should be a valid boolean"
	msgBoolParse  = "Input should be a valid boolean, unable to interpret input"
	msgString     = "Input should be a valid string"
	msgDictionary = "Input should be a valid dictionary"
	msgList       = "Input should be a valid list"
)

// ValidateComplete applies the plugin's model (pydantic, lax mode, extra
// keys allowed): ok bool = true, read like pydantic reads a bool (true/false,
// 0/1, "true"/"yes"/"on"/"1"/"t"/"y" and their negatives, any case);
// message str|null, stripped; result object|array|null; errors a list of
// objects, default [] (null is not a list).
func ValidateComplete(data map[string]any) (*Complete, error) {
	c := &Complete{OK: true, Errors: []map[string]any{}}
	if v, ok := data["ok"]; ok {
		b, err := laxBool(v)
		if err != nil {
			return nil, err
		}
		c.OK = b
	}
	if v, ok := data["message"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, &ValidationError{"message", msgString}
		}
		s = strings.TrimSpace(s)
		c.Message = &s
	}
	if v, ok := data["result"]; ok && v != nil {
		switch v.(type) {
		case map[string]any, []any:
			c.Result = v
		default:
			return nil, &ValidationError{"result", msgDictionary}
		}
	}
	if v, ok := data["errors"]; ok {
		list, ok := v.([]any)
		if !ok {
			return nil, &ValidationError{"errors", msgList}
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, &ValidationError{fmt.Sprintf("errors.%d", i), msgDictionary}
			}
			c.Errors = append(c.Errors, m)
		}
	}
	return c, nil
}

// laxBool is pydantic's lax bool for a JSON value.
func laxBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64: // JSON numbers: integral values are ints to pydantic
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return false, &ValidationError{"ok", msgBool}
		}
		switch x {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return false, &ValidationError{"ok", msgBoolParse}
	case string:
		switch strings.ToLower(x) {
		case "0", "off", "f", "false", "n", "no":
			return false, nil
		case "1", "on", "t", "true", "y", "yes":
			return true, nil
		}
		return false, &ValidationError{"ok", msgBoolParse}
	}
	return false, &ValidationError{"ok", msgBool}
}

// The plugin's texts for a stream that did not succeed.
const (
	DetailNoComplete      = "ProxBox backend stream ended without a complete event."
	DetailInvalidComplete = "ProxBox backend stream sent an invalid complete event: "
)

// Outcome is the plugin's verdict on one stage stream
// (_consume_sse_until_complete and run_sync_stream, plugin-contract §3.5).
type Outcome struct {
	// Status is the plugin's status: 200 (the last complete has ok true),
	// 503 (ok false), 502 (no complete, an invalid complete, or the body
	// broke off), or the HTTP status of a non-2xx answer (503 when there
	// was no answer).
	Status int
	// Detail is the plugin's text for the outcome (for 200, the message).
	Detail string
	// Complete is the last valid complete frame, nil if none.
	Complete *Complete
	// Invalid is the validation error of a complete frame; the plugin
	// stops reading there.
	Invalid error
	// ReadErr is the error that broke the body off (the plugin's 502).
	ReadErr error
	Frames  int
	Events  map[string]int
}

// OK reports whether the plugin counts the stream successful.
func (o *Outcome) OK() bool { return o.Status == http.StatusOK }

// ReadStream reads a 2xx stage stream body as the plugin does, calling
// onFrame (when not nil) for every frame, the complete frames included.
// contentType is the response's Content-Type; chunkSize the read size (0:
// ChunkSize).
func ReadStream(r io.Reader, contentType string, chunkSize int, onFrame func(Frame)) Outcome {
	o := Outcome{Events: map[string]int{}}
	err := ReadFrames(r, contentType, chunkSize, func(f Frame) bool {
		o.Frames++
		o.Events[f.Event]++
		if onFrame != nil {
			onFrame(f)
		}
		if f.Event != "complete" {
			return true
		}
		c, err := ValidateComplete(f.Data)
		if err != nil {
			o.Invalid = err
			return false
		}
		o.Complete = c
		return true
	})
	switch {
	case o.Invalid != nil:
		msg := o.Invalid.Error()
		if ve := (*ValidationError)(nil); errors.As(o.Invalid, &ve) {
			msg = ve.Msg
		}
		o.Status, o.Detail = http.StatusBadGateway, DetailInvalidComplete+msg
	case err != nil:
		o.ReadErr = err
		o.Status, o.Detail = http.StatusBadGateway, err.Error()
	case o.Complete == nil:
		o.Status, o.Detail = http.StatusBadGateway, DetailNoComplete
	case !o.Complete.OK:
		o.Status, o.Detail = http.StatusServiceUnavailable, o.Complete.FailureDetail()
	default:
		o.Status, o.Detail = http.StatusOK, o.Complete.MessageText()
	}
	return o
}

// HeaderAPIKey is the plugin's only auth header.
const HeaderAPIKey = "X-Proxbox-API-Key"

// Run GETs a stage stream with the plugin's auth header (no Accept header,
// like the plugin) and reads it to the end. A failed request is the
// plugin's 503, a non-2xx answer its status with ErrorDetail of the body.
func Run(ctx context.Context, hc *http.Client, url, apiKey string, onFrame func(Frame)) Outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Outcome{Status: http.StatusServiceUnavailable, Detail: err.Error(), Events: map[string]int{}}
	}
	if apiKey != "" {
		req.Header.Set(HeaderAPIKey, apiKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Outcome{Status: http.StatusServiceUnavailable, Detail: "connection error: " + err.Error(), ReadErr: err, Events: map[string]int{}}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return Outcome{Status: resp.StatusCode, Detail: ErrorDetail(b), Events: map[string]int{}}
	}
	return ReadStream(resp.Body, resp.Header.Get("Content-Type"), 0, onFrame)
}

// ErrorDetail is the text the plugin reports for an error body
// (plugin-contract §1.4): detail, or message when detail is missing or
// generic, with python_exception in parentheses; an HTML body is named as
// such.
func ErrorDetail(b []byte) string {
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		if strings.Contains(strings.ToLower(string(b)), "<html") {
			return "Backend returned HTML instead of ProxBox API JSON"
		}
		return truncate(string(b), 300)
	}
	d, _ := v["detail"].(string)
	m, _ := v["message"].(string)
	if d == "" || strings.EqualFold(d, "internal server error") || strings.EqualFold(d, "server error") {
		if m != "" {
			d = m
		}
	}
	if pe, ok := v["python_exception"].(string); ok && pe != "" {
		d += " (" + pe + ")"
	}
	return d
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
