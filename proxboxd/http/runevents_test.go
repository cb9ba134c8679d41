package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// evFrame is one event as a browser's EventSource sees it.
type evFrame struct {
	ID, Event string
	Data      map[string]any
}

// watcher reads /runs/{id}/events with the EventSource rules (fields in any
// order, dispatch on a blank line) until the server ends the response.
type watcher struct {
	mu     sync.Mutex
	frames []evFrame
	header http.Header
	done   chan error
}

func watch(t *testing.T, e *env, ctx context.Context, runID int) *watcher {
	t.Helper()
	return openEvents(t, e, ctx, "/runs/"+strconv.Itoa(runID)+"/events", map[string]string{pbhttp.HeaderAPIKey: e.key})
}

// openEvents reads the SSE stream at path with the EventSource rules; hdr
// are the request's headers.
func openEvents(t *testing.T, e *env, ctx context.Context, path string, hdr map[string]string) *watcher {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	w := &watcher{header: resp.Header, done: make(chan error, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var f evFrame
		var data string
		for sc.Scan() {
			line := sc.Text()
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch {
			case line == "":
				if data != "" {
					_ = json.Unmarshal([]byte(data), &f.Data)
					w.mu.Lock()
					w.frames = append(w.frames, f)
					w.mu.Unlock()
				}
				f, data = evFrame{}, ""
			case k == "id":
				f.ID = v
			case k == "event":
				f.Event = v
			case k == "data":
				data += v
			}
		}
		w.done <- sc.Err()
	}()
	return w
}

func (w *watcher) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, len(w.frames))
	for i, f := range w.frames {
		out[i] = f.Event
	}
	return out
}

func (w *watcher) snapshot() []evFrame {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]evFrame(nil), w.frames...)
}

func (w *watcher) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-w.done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the watcher's stream did not end after complete")
	}
}

// TestRunEventsBroadcast: two watchers of one running stage stream get the
// same frames, both having joined after the run started (so they first get
// the replay: the `run` state and the progress so far); a watcher that joins
// after the run finished gets the whole run; every response ends after
// `complete`; the plugin's own stream keeps its frames.
func TestRunEventsBroadcast(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	gate := make(chan struct{})
	e.fake.mu.Lock()
	e.fake.gate = gate
	e.fake.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	plugin := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+stagePath(proxbox.StageDevices), nil)
		req.Header.Set(pbhttp.HeaderAPIKey, e.key)
		resp, err := e.client.Do(req)
		if err != nil {
			plugin <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		plugin <- string(b)
	}()
	<-e.fake.started

	code, b := e.do("GET", "/admin/runs?limit=1", nil, nil)
	require.Equal(t, 200, code)
	runs := mustJSON[struct {
		Runs []struct {
			ID int    `json:"id"`
			OK *bool  `json:"ok"`
			St string `json:"stage"`
		} `json:"runs"`
	}](t, b)
	require.Len(t, runs.Runs, 1)
	require.Nil(t, runs.Runs[0].OK, "the run is still going")
	id := runs.Runs[0].ID

	a := watch(t, e, ctx, id)
	bw := watch(t, e, ctx, id)
	assert.Contains(t, a.header.Get("Content-Type"), "text/event-stream")
	assert.Equal(t, "no", a.header.Get("X-Accel-Buffering"))
	early := []string{"run", "step", "discovery"}
	require.Eventually(t, func() bool {
		return assert.ObjectsAreEqual(early, a.names()) && assert.ObjectsAreEqual(early, bw.names())
	},
		5*time.Second, 10*time.Millisecond, "replay to joiners: %v / %v", a.names(), bw.names())
	first := a.snapshot()[0]
	assert.Equal(t, float64(id), first.Data["run_id"])
	assert.Equal(t, "running", first.Data["status"])
	assert.Equal(t, "devices", first.Data["stage"])

	close(gate)
	a.wait(t)
	bw.wait(t)
	want := []string{"run", "step", "discovery", "item_progress", "phase_summary", "step", "complete"}
	assert.Equal(t, want, a.names())
	assert.Equal(t, a.snapshot(), bw.snapshot(), "both watchers see the same frames")
	frames := a.snapshot()
	for i, f := range frames {
		assert.Equal(t, strconv.Itoa(i), f.ID, "frame %d id", i)
	}
	last := frames[len(frames)-1]
	assert.Equal(t, true, last.Data["ok"])
	assert.Equal(t, "finished", last.Data["status"])

	// the plugin's stream is the contract's, not r3labs'
	body := <-plugin
	assert.True(t, strings.HasPrefix(body, "event: step\ndata: {"), "plugin stream starts %q", body[:min(len(body), 40)])
	assert.Equal(t, 1, strings.Count(body, "event: complete\n"))
	assert.NotContains(t, body, "id: ")

	late := watch(t, e, ctx, id)
	late.wait(t)
	assert.Equal(t, frames, late.snapshot(), "a late joiner gets the whole run")

	code, b = e.do("GET", "/runs/99999/events", nil, nil)
	assert.Equal(t, 404, code)
	assert.Contains(t, string(b), "No events for run 99999")
	code, _ = e.do("GET", "/runs/1/events", nil, map[string]string{pbhttp.HeaderAPIKey: "wrong"})
	assert.Equal(t, 401, code)
}

// TestRunEventsShutdown: a watcher of a live run is let go on shutdown.
func TestRunEventsShutdown(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	e.fake.block = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+stagePath(proxbox.StageStorage), nil)
		req.Header.Set(pbhttp.HeaderAPIKey, e.key)
		if resp, err := e.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-e.fake.started
	w := watch(t, e, ctx, 1)
	require.Eventually(t, func() bool { return len(w.names()) >= 3 }, 5*time.Second, 10*time.Millisecond)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	require.NoError(t, e.srv.Shutdown(sctx))
	w.wait(t)
	names := w.names()
	assert.Equal(t, "error", names[len(names)-2])
	assert.Equal(t, "complete", names[len(names)-1])
}
