package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// Attempt is one run_sync_stream call.
type Attempt struct {
	Status   int // the plugin's status: 200, 503 (ok:false or no answer), 502 (no complete, an invalid complete), or the HTTP code
	Detail   string
	Complete *Complete // the last valid complete, nil if none
	// Invalid is set when a complete frame failed validation: the plugin
	// stops reading there (502 "invalid complete event", retried).
	Invalid  error
	Frames   int
	Events   map[string]int
	Started  time.Time
	Duration time.Duration
}

// Retryable reports whether the plugin retries this attempt (≥ 500 or 429).
func (a *Attempt) Retryable() bool { return a.Status >= 500 || a.Status == http.StatusTooManyRequests }

// StageRun is the outcome of one stage after the plugin's retries.
type StageRun struct {
	Stage    Stage
	Query    url.Values
	Attempts []*Attempt
	Duration time.Duration
}

// Last is the final attempt.
func (r *StageRun) Last() *Attempt { return r.Attempts[len(r.Attempts)-1] }

// OK reports whether the plugin would count the stage successful.
func (r *StageRun) OK() bool { return r.Last().Status == http.StatusOK }

// Error is the RuntimeError text the plugin raises for a failed stage.
func (r *StageRun) Error() string {
	a := r.Last()
	return fmt.Sprintf("Stage '%s' failed (HTTP %d): %s", r.Stage.Slug(), a.Status, a.Detail)
}

// Stream runs one attempt of run_sync_stream: GET <path>?<query> and read
// the SSE body to EOF, mapping the outcome as §3.5 does.
func (c *Client) Stream(ctx context.Context, stage string, path string, q url.Values) *Attempt {
	a := &Attempt{Started: time.Now(), Events: map[string]int{}}
	defer func() { a.Duration = time.Since(a.Started) }()
	full := "/" + strings.TrimLeft(path, "/")
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+full, nil)
	if err != nil {
		a.Status, a.Detail = 503, err.Error()
		return a
	}
	req.Header.Set("User-Agent", "python-requests/2.33.0")
	if c.APIKey != "" {
		req.Header.Set("X-Proxbox-API-Key", c.APIKey)
	}
	// connect timeout 5 s, read timeout 3600 s between chunks: only the
	// connect/first-byte part is bounded here, the context bounds the rest.
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.record(http.MethodGet, "/"+path, 0, err)
		a.Status, a.Detail = 503, "connection error: "+err.Error()
		return a
	}
	defer resp.Body.Close()
	c.record(http.MethodGet, "/"+path, resp.StatusCode, nil)
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		a.Status, a.Detail = resp.StatusCode, contract.ErrorDetail(b)
		return a
	}
	o := contract.ReadStream(resp.Body, resp.Header.Get("Content-Type"), 0, func(f Frame) {
		if c.OnFrame != nil {
			c.OnFrame(stage, f)
		}
	})
	a.Status, a.Detail, a.Complete, a.Invalid, a.Frames, a.Events = o.Status, o.Detail, o.Complete, o.Invalid, o.Frames, o.Events
	return a
}

// RunStage is _execute_stage_sync: up to Attempts attempts, RetryDelay
// apart, each preceded by WaitReady; retried on ≥ 500 and 429; a 401 about
// the API key re-registers once.
func (c *Client) RunStage(ctx context.Context, st Stage, base url.Values) *StageRun {
	q := st.AllQuery(base)
	run := &StageRun{Stage: st, Query: q}
	t0 := time.Now()
	defer func() { run.Duration = time.Since(t0) }()
	reregistered := false
	for i := 0; i < max(1, c.Attempts); i++ {
		if err := c.WaitReady(ctx); err != nil {
			run.Attempts = append(run.Attempts, &Attempt{Status: 503, Detail: "Backend not ready: " + err.Error()})
		} else {
			a := c.Stream(ctx, st.Slug(), st.Path, q)
			run.Attempts = append(run.Attempts, a)
			if a.Status == http.StatusUnauthorized && strings.Contains(a.Detail, "API key") && !reregistered {
				reregistered = true
				if err := c.EnsureKeyRegistered(ctx, "netbox-proxbox-plugin"); err == nil {
					a2 := c.Stream(ctx, st.Slug(), st.Path, q)
					run.Attempts = append(run.Attempts, a2)
				}
			}
		}
		last := run.Last()
		if last.Status == http.StatusOK || !last.Retryable() {
			return run
		}
		if i < max(1, c.Attempts)-1 {
			select {
			case <-ctx.Done():
				return run
			case <-time.After(c.RetryDelay):
			}
		}
	}
	return run
}

// RunAll runs stages in order and stops at the first failed one, as the
// plugin's job does. It returns the runs made.
func (c *Client) RunAll(ctx context.Context, stages []Stage, base url.Values) ([]*StageRun, error) {
	var runs []*StageRun
	for _, st := range stages {
		r := c.RunStage(ctx, st, base)
		runs = append(runs, r)
		if !r.OK() {
			return runs, errors.New(r.Error())
		}
	}
	return runs, nil
}
