package http_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// logIDs returns the ids of a watcher's `log` frames, checking that each
// frame's id: line is the line's id.
func logIDs(t *testing.T, w *watcher) []int {
	t.Helper()
	var ids []int
	for _, f := range w.snapshot() {
		if f.Event != "log" {
			continue
		}
		id := int(f.Data["id"].(float64))
		require.Equal(t, strconv.Itoa(id), f.ID, "id: line")
		ids = append(ids, id)
	}
	return ids
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// TestAdminLogStreamBroadcast: the log stream is an r3labs broadcast per
// filter. Watchers that ask for a replay (newer_than_id, or Last-Event-ID
// when an EventSource reconnects) get every matching line after that id,
// then the live ones, with none lost or repeated at the seam even while
// lines are being logged; a watcher without it gets only new lines; a level
// filter holds; two watchers of one filter see the same frames; shutdown
// ends every watcher with `complete`.
func TestAdminLogStreamBroadcast(t *testing.T) {
	e := newEnv(t, pbhttp.Config{PublicLogs: true}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 5 {
		e.log.Info("before", "n", i)
	}
	before := int(e.ring.LastID())
	require.Equal(t, 5, before)

	// log 300 lines, every tenth an error, while watchers join
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 300 {
			if i%10 == 0 {
				e.log.Error("during", "n", i)
			} else {
				e.log.Info("during", "n", i)
			}
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	a := openEvents(t, e, ctx, "/admin/logs/stream?newer_than_id=0", nil)
	b := openEvents(t, e, ctx, "/admin/logs/stream?newer_than_id=0", nil)
	resume := openEvents(t, e, ctx, "/admin/logs/stream", map[string]string{"Last-Event-ID": "3"})
	errs := openEvents(t, e, ctx, "/admin/logs/stream?level=ERROR&newer_than_id=0", nil)
	wg.Wait()
	live := openEvents(t, e, ctx, "/admin/logs/stream", nil)
	// the live-only watcher is subscribed once the marker line reaches it
	require.Eventually(t, func() bool {
		e.log.Info("marker")
		return len(logIDs(t, live)) > 0
	}, 5*time.Second, 20*time.Millisecond)
	last := int(e.ring.LastID())

	require.Eventually(t, func() bool { ids := logIDs(t, a); return len(ids) > 0 && ids[len(ids)-1] == last },
		5*time.Second, 10*time.Millisecond, "watcher a got %d lines", len(logIDs(t, a)))
	require.Eventually(t, func() bool { ids := logIDs(t, b); return len(ids) > 0 && ids[len(ids)-1] == last }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { ids := logIDs(t, resume); return len(ids) > 0 && ids[len(ids)-1] == last }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, seq(1, last), logIDs(t, a), "every line once, in order, across the replay and the live seam")
	assert.Equal(t, logIDs(t, a), logIDs(t, b), "two watchers of one filter get the same lines")
	assert.Equal(t, seq(4, last), logIDs(t, resume), "Last-Event-ID: 3 resumes after line 3")
	liveIDs := logIDs(t, live)
	assert.Greater(t, liveIDs[0], before+300, "a watcher without newer_than_id gets only new lines")

	require.Eventually(t, func() bool { return len(logIDs(t, errs)) == 30 }, 5*time.Second, 10*time.Millisecond, "errors: %d", len(logIDs(t, errs)))
	for _, f := range errs.snapshot() {
		assert.Equal(t, "ERROR", f.Data["level"])
	}

	// shutdown ends every watcher with complete
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	require.NoError(t, e.srv.Shutdown(sctx))
	for _, w := range []*watcher{a, b, resume, errs, live} {
		w.wait(t)
		names := w.names()
		assert.Equal(t, "complete", names[len(names)-1])
	}
}

// TestAdminEventsAnnounceRuns: /admin/events announces every sync run's
// start (`run`, with the state a watcher of /admin/runs/{id}/events starts
// from) and end (`finished`), and nothing else.
func TestAdminEventsAnnounceRuns(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w := openEvents(t, e, ctx, "/admin/events", map[string]string{pbhttp.HeaderAPIKey: e.key})
	assert.Contains(t, w.header.Get("Content-Type"), "text/event-stream")
	time.Sleep(50 * time.Millisecond) // the subscription is made after the headers
	for _, st := range []proxbox.Stage{proxbox.StageDevices, proxbox.StageStorage} {
		code, _ := e.do("GET", stagePath(st), nil, nil)
		require.Equal(t, 200, code)
	}
	require.Eventually(t, func() bool { return len(w.names()) == 4 }, 5*time.Second, 10*time.Millisecond, "%v", w.names())
	frames := w.snapshot()
	assert.Equal(t, []string{"run", "finished", "run", "finished"}, w.names())
	assert.Equal(t, "devices", frames[0].Data["stage"])
	assert.Equal(t, "running", frames[0].Data["status"])
	assert.Equal(t, frames[0].Data["run_id"], frames[1].Data["run_id"])
	assert.Equal(t, true, frames[1].Data["ok"])
	assert.Equal(t, "storage", frames[3].Data["stage"])

	// the operator view's alias of a run's events
	id := fmt.Sprint(frames[2].Data["run_id"])
	r := openEvents(t, e, ctx, "/admin/runs/"+id+"/events", map[string]string{pbhttp.HeaderAPIKey: e.key})
	r.wait(t)
	names := r.names()
	assert.Equal(t, "run", names[0])
	assert.Equal(t, "complete", names[len(names)-1])
}

// TestLiveKeepAlive: the r3labs streams get a comment after KeepAlive of
// silence, which an EventSource ignores and a proxy counts as traffic.
func TestLiveKeepAlive(t *testing.T) {
	e := newEnv(t, pbhttp.Config{PublicLogs: true, KeepAlive: 20 * time.Millisecond}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range []string{"/admin/events", "/admin/logs/stream"} {
		req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+p, nil)
		require.NoError(t, err)
		req.Header.Set(pbhttp.HeaderAPIKey, e.key)
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		sc := bufio.NewScanner(resp.Body)
		found := false
		for !found && sc.Scan() {
			found = sc.Text() == ": keepalive"
		}
		resp.Body.Close()
		assert.True(t, found, "%s: no keep-alive comment", p)
	}
}
