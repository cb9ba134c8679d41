package contract_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

const utf8SSE = "text/event-stream; charset=utf-8"

// frameCase is one stream body and the plugin's verdict on it.
type frameCase struct {
	name        string
	body        string
	contentType string // default utf8SSE
	chunk       int    // read size; default contract.ChunkSize
	status      int
	detail      string
	invalid     bool
	events      []string // the frames' event names, in order
}

// frameCases are the odd frames the three former copies of the rules
// disagreed on, with the verdict of netbox-proxbox 0.0.29.post6.
var frameCases = []frameCase{
	{name: "plain stream", status: 200, detail: "done", events: []string{"step", "complete"},
		body: "event: step\ndata: {\"step\": \"devices\", \"status\": \"started\"}\n\nevent: complete\ndata: {\"ok\": true, \"message\": \"done\", \"result\": {\"count\": 1}, \"errors\": []}\n\n"},
	{name: "extra spaces after data:", status: 200, events: []string{"note", "complete"},
		body: "event: note\ndata:    spaced raw text\n\nevent: complete\ndata:   {\"ok\": true}\n\n"},
	{name: "tab after data:", status: 200, events: []string{"complete"},
		body: "event: complete\ndata:\t{\"ok\": true}\n\n"},
	{name: "no space after event: and data:", status: 200, events: []string{"complete"},
		body: "event:complete\ndata:{\"ok\":true}\n\n"},
	{name: "spaces around the event name", status: 200, events: []string{"complete"},
		body: "event:   complete  \ndata: {\"ok\": true}\n\n"},
	{name: "ok as string \"true\"", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": \"true\"}\n\n"},
	{name: "ok as Python's \"True\"", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": \"True\"}\n\n"},
	{name: "ok as string \"false\"", status: 503, detail: "Sync failed.", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": \"false\"}\n\n"},
	{name: "ok as 1", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": 1}\n\n"},
	{name: "ok as 2", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid boolean, unable to interpret input", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": 2}\n\n"},
	{name: "ok as 0.5", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid boolean", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": 0.5}\n\n"},
	{name: "ok as \"maybe\"", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid boolean, unable to interpret input", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": \"maybe\"}\n\n"},
	{name: "ok null", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid boolean", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": null}\n\n"},
	{name: "missing ok", status: 200, detail: "finished", events: []string{"complete"},
		body: "event: complete\ndata: {\"message\": \"finished\"}\n\n"},
	{name: "errors: null", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid list", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": true, \"errors\": null}\n\n"},
	{name: "errors of strings", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid dictionary", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"errors\": [\"boom\"]}\n\n"},
	{name: "message a number", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid string", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": true, \"message\": 5}\n\n"},
	{name: "result a string", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid dictionary", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": true, \"result\": \"done\"}\n\n"},
	{name: "result an array", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": true, \"result\": [1, 2]}\n\n"},
	{name: "ok false: errors[0].detail", status: 503, detail: "boom", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"failed\", \"errors\": [{\"detail\": \"boom\"}, {\"detail\": \"second\"}]}\n\n"},
	{name: "ok false: empty detail, message", status: 503, detail: "failed", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"  failed \", \"errors\": [{\"detail\": \"\"}]}\n\n"},
	{name: "ok false: blank message", status: 503, detail: "Sync failed.", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"   \"}\n\n"},
	{name: "multi-line data", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\":\ndata: true,\ndata: \"message\": \"x\"}\n\n", detail: "x"},
	{name: "CRLF line ends", status: 503, detail: "boom", events: []string{"step", "complete"},
		body: "event: step\r\ndata: {\"i\": 1}\r\n\r\nevent: complete\r\ndata: {\"ok\": false, \"errors\": [{\"detail\": \"boom\"}]}\r\n\r\n"},
	{name: "CRLF split across reads", chunk: 1, status: 502, detail: contract.DetailNoComplete, events: []string{"message", "message"},
		body: "event: step\r\ndata: {\"i\": 1}\r\n\r\nevent: complete\r\ndata: {\"ok\": true}\r\n\r\n"},
	{name: "comment lines", status: 200, events: []string{"step", "complete"},
		body: ": keepalive\n\n:no space\nevent: step\n: inside a frame\ndata: {}\n\n: keepalive\n\nevent: complete\ndata: {\"ok\": true}\n\n"},
	{name: "event without data", status: 502, detail: contract.DetailNoComplete, events: []string{"message"},
		body: "event: complete\n\ndata: {\"ok\": true}\n\n"},
	{name: "data without event", status: 502, detail: contract.DetailNoComplete, events: []string{"message"},
		body: "data: {\"ok\": true}\n\n"},
	{name: "event: line ends the pending frame", status: 200, events: []string{"a", "complete"},
		body: "event: a\ndata: {\"first\": 1}\nevent: complete\ndata: {\"ok\": true}\n\n"},
	{name: "line without field name is data", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\":\ntrue}\n\n"},
	{name: "no blank line at EOF", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": true}"},
	{name: "last complete wins", status: 200, detail: "second", events: []string{"complete", "complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"first\"}\n\nevent: complete\ndata: {\"ok\": true, \"message\": \"second\"}\n\n"},
	{name: "invalid complete stops the read", status: 502, invalid: true, detail: contract.DetailInvalidComplete + "Input should be a valid list", events: []string{"complete"},
		body: "event: complete\ndata: {\"errors\": null}\n\nevent: complete\ndata: {\"ok\": true}\n\n"},
	{name: "complete data not JSON", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: all done\n\n"},
	{name: "complete data a JSON array", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: [1, 2]\n\n"},
	{name: "no charset: latin-1 NEL splits a line", contentType: "text/event-stream", status: 200, events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"VM \u00c5sa failed\"}\n\n"},
	{name: "utf-8 split across reads", chunk: 1, status: 503, detail: "VM \u00c5sa failed", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"VM \u00c5sa failed\"}\n\n"},
	{name: "no content type: bytes lines", contentType: "-", status: 503, detail: "VM \u00c5sa failed", events: []string{"complete"},
		body: "event: complete\ndata: {\"ok\": false, \"message\": \"VM \u00c5sa failed\"}\n\n"},
	{name: "empty body", status: 502, detail: contract.DetailNoComplete, events: []string{}},
}

func (c frameCase) ct() string {
	switch c.contentType {
	case "":
		return utf8SSE
	case "-":
		return ""
	}
	return c.contentType
}

func (c frameCase) chunkSize() int {
	if c.chunk == 0 {
		return contract.ChunkSize
	}
	return c.chunk
}

// chunkReader returns at most n bytes per Read, like the plugin's reads.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[k:]
	return k, nil
}

// verdict is what both implementations report.
type verdict struct {
	Status  int      `json:"status"`
	Detail  string   `json:"detail"`
	Invalid bool     `json:"invalid"`
	Raw     [][2]any `json:"frames"`
}

func goVerdict(c frameCase) verdict {
	v := verdict{Raw: [][2]any{}}
	o := contract.ReadStream(&chunkReader{b: []byte(c.body), n: c.chunkSize()}, c.ct(), c.chunkSize(), func(f contract.Frame) {
		v.Raw = append(v.Raw, [2]any{f.Event, f.Data})
	})
	v.Status, v.Detail, v.Invalid = o.Status, o.Detail, o.Invalid != nil
	return v
}

func events(v verdict) []string {
	out := []string{}
	for _, f := range v.Raw {
		out = append(out, f[0].(string))
	}
	return out
}

// TestFrameTable: the Go reader gives each body the plugin's verdict.
func TestFrameTable(t *testing.T) {
	for _, c := range frameCases {
		t.Run(c.name, func(t *testing.T) {
			v := goVerdict(c)
			assert.Equal(t, c.status, v.Status, "status")
			assert.Equal(t, c.detail, v.Detail, "detail")
			assert.Equal(t, c.invalid, v.Invalid, "invalid complete")
			assert.Equal(t, c.events, events(v), "events")
		})
	}
}

// TestFrameTableMatchesSSECheck runs every body through
// contrib/sse_check.py (the plugin's rules in Python) and requires the
// same status, detail, invalid flag and frames as the Go reader.
func TestFrameTableMatchesSSECheck(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	type pyCase struct {
		Body        string `json:"body"`
		ContentType string `json:"content_type"`
		ChunkSize   int    `json:"chunk_size"`
	}
	in := make([]pyCase, len(frameCases))
	for i, c := range frameCases {
		in[i] = pyCase{Body: base64.StdEncoding.EncodeToString([]byte(c.body)), ContentType: c.ct(), ChunkSize: c.chunkSize()}
	}
	stdin, err := json.Marshal(in)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("..", "contrib", "sse_check.py"), "--verdicts")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "sse_check.py --verdicts: %s", stderr.String())
	var got []verdict
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got, len(frameCases))
	for i, c := range frameCases {
		t.Run(c.name, func(t *testing.T) {
			g := goVerdict(c)
			p := got[i]
			assert.Equal(t, g.Status, p.Status, "status")
			assert.Equal(t, g.Detail, p.Detail, "detail")
			assert.Equal(t, g.Invalid, p.Invalid, "invalid complete")
			// the frames through JSON, so both sides have the same types
			gj, err := json.Marshal(g.Raw)
			require.NoError(t, err)
			pj, err := json.Marshal(p.Raw)
			require.NoError(t, err)
			assert.JSONEq(t, string(pj), string(gj), "frames")
		})
	}
}
