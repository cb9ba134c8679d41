package http

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLogReplaySeam: the lines a watcher gets from the ring when r3labs first
// flushes its response are not sent again when they also come live (they
// were logged between the subscription and that flush); later lines pass.
func TestLogReplaySeam(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &logReplay{ResponseWriter: rec, flusher: rec, replay: func() []LogEntry {
		return []LogEntry{{ID: 7, Level: "INFO", Message: "a"}, {ID: 8, Level: "INFO", Message: "b"}}
	}}
	w.WriteHeader(200)
	w.Flush() // r3labs' first flush, right after subscribing
	frame := func(id, msg string) {
		for _, l := range []string{"id: " + id + "\n", `data: {"id":` + id + `,"message":"` + msg + `"}` + "\n", "event: log\n", "\n"} {
			n, err := w.Write([]byte(l))
			assert.NoError(t, err)
			assert.Equal(t, len(l), n, "a dropped line still reports as written")
		}
		w.Flush()
	}
	frame("8", "b") // logged at the seam: already replayed
	frame("9", "c")
	body := rec.Body.String()
	assert.Equal(t, []string{"id: 7", "id: 8", "id: 9"}, idLines(body))
	assert.Equal(t, 3, strings.Count(body, "event: log\n"))
	assert.Equal(t, 1, strings.Count(body, `"message":"b"`))

	// without a replay nothing is dropped
	rec = httptest.NewRecorder()
	w = &logReplay{ResponseWriter: rec, flusher: rec}
	w.Flush()
	frame("1", "x")
	assert.Equal(t, []string{"id: 1"}, idLines(rec.Body.String()))
}

func idLines(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "id: ") {
			out = append(out, l)
		}
	}
	return out
}
