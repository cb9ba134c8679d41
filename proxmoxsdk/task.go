package proxmoxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// UPID is a decoded task id
// "UPID:node:pid:pstart:starttime:type:id:user:".
type UPID struct {
	Node      string
	PID       int64
	PStart    int64
	StartTime time.Time
	Type      string
	ID        string
	User      string
}

// ParseUPID decodes a PVE task id.
func ParseUPID(s string) (UPID, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 8 || parts[0] != "UPID" || parts[1] == "" {
		return UPID{}, fmt.Errorf("proxmox: %q is not a UPID", s)
	}
	pid, err1 := strconv.ParseInt(parts[2], 16, 64)
	pstart, err2 := strconv.ParseInt(parts[3], 16, 64)
	start, err3 := strconv.ParseInt(parts[4], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return UPID{}, fmt.Errorf("proxmox: %q is not a UPID", s)
	}
	return UPID{Node: parts[1], PID: pid, PStart: pstart, StartTime: time.Unix(start, 0).UTC(), Type: parts[5], ID: parts[6], User: parts[7]}, nil
}

// TaskStatus is the answer of /nodes/{node}/tasks/{upid}/status.
type TaskStatus struct {
	UPID       string `json:"upid"`
	Node       string `json:"node"`
	Status     string `json:"status"` // running | stopped
	ExitStatus string `json:"exitstatus"`
	Type       string `json:"type"`
	ID         string `json:"id"`
	User       string `json:"user"`
}

// WaitOption configures WaitTask.
type WaitOption func(*waitConfig)

type waitConfig struct {
	interval, maxInterval time.Duration
	failOnWarnings        bool
	logLines              int
	progress              func(TaskProgress)
}

// TaskProgress is one progress report of WaitTask (WithProgress): the task's
// status and the log lines that appeared since the previous report.
type TaskProgress struct {
	Status   TaskStatus
	NewLines []string
	Elapsed  time.Duration
}

// WithProgress calls f after every poll with the status and the new task log
// lines (one extra log request per poll).
func WithProgress(f func(TaskProgress)) WaitOption {
	return func(c *waitConfig) { c.progress = f }
}

// WithPollInterval sets the first and the largest delay between polls
// (default 500 ms growing to 5 s).
func WithPollInterval(first, max time.Duration) WaitOption {
	return func(c *waitConfig) { c.interval, c.maxInterval = first, max }
}

// WithFailOnWarnings treats "WARNINGS: n" exit statuses as failures.
func WithFailOnWarnings() WaitOption { return func(c *waitConfig) { c.failOnWarnings = true } }

// WithLogTail sets how many task log lines a TaskError carries (default 20).
func WithLogTail(n int) WaitOption { return func(c *waitConfig) { c.logLines = n } }

// WaitTask polls the status of task upid until it stops, with backoff, and
// returns its final status. A task that ends with an exit status other than
// OK (or "WARNINGS: n" unless WithFailOnWarnings) returns a *TaskError
// carrying the tail of the task log. The context bounds the wait.
func (c *Client) WaitTask(ctx context.Context, upid string, opts ...WaitOption) (*TaskStatus, error) {
	u, err := ParseUPID(upid)
	if err != nil {
		return nil, err
	}
	cfg := waitConfig{interval: 500 * time.Millisecond, maxInterval: 5 * time.Second, logLines: 20}
	for _, o := range opts {
		o(&cfg)
	}
	base := JoinPath("nodes", u.Node, "tasks", upid)
	start, seen := c.now(), 0
	// the documented schedule: interval, ×1.5 per poll up to maxInterval, no jitter
	poll := &backoff.ExponentialBackOff{InitialInterval: cfg.interval, Multiplier: 1.5, MaxInterval: cfg.maxInterval}
	st, err := backoff.Retry(ctx, func() (*TaskStatus, error) {
		var st TaskStatus
		if err := c.Call(ctx, "GET", base+"/status", nil, &st); err != nil {
			return nil, backoff.Permanent(err)
		}
		if cfg.progress != nil {
			var lines []string
			lines, seen = c.taskLogFrom(ctx, base, seen)
			cfg.progress(TaskProgress{Status: st, NewLines: lines, Elapsed: c.now().Sub(start)})
		}
		if st.Status == "running" || st.Status == "" {
			return nil, errTaskRunning
		}
		return &st, nil
	}, backoff.WithBackOff(poll), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return nil, fmt.Errorf("proxmox: wait task %s: %w", upid, err)
	}
	if taskOK(st.ExitStatus, cfg.failOnWarnings) {
		return st, nil
	}
	return st, &TaskError{UPID: upid, ExitStatus: st.ExitStatus, LogTail: c.taskLogTail(ctx, base, cfg.logLines)}
}

// errTaskRunning tells backoff.Retry to poll a running task again.
var errTaskRunning = errors.New("task still running")

func taskOK(exit string, failOnWarnings bool) bool {
	if exit == "OK" {
		return true
	}
	return !failOnWarnings && strings.HasPrefix(exit, "WARNINGS")
}

// taskLogFrom fetches the log lines from line number from on (best effort)
// and returns them with the number of the next line.
func (c *Client) taskLogFrom(ctx context.Context, base string, from int) ([]string, int) {
	raw, err := c.CallRaw(ctx, "GET", base+"/log", map[string]any{"start": from, "limit": 5000})
	if err != nil {
		return nil, from
	}
	var lines []struct {
		N int    `json:"n"`
		T string `json:"t"`
	}
	if json.Unmarshal(raw, &lines) != nil {
		return nil, from
	}
	out := make([]string, 0, len(lines))
	next := from
	for _, l := range lines {
		if l.N > 0 && l.N <= from { // n counts from 1; skip what was seen
			continue
		}
		out = append(out, l.T)
		next = max(next+1, l.N)
	}
	return out, next
}

// taskLogTail fetches the last n lines of the task log (best effort).
func (c *Client) taskLogTail(ctx context.Context, base string, n int) []string {
	if n <= 0 {
		return nil
	}
	raw, err := c.CallRaw(ctx, "GET", base+"/log", map[string]any{"start": 0, "limit": 5000})
	if err != nil {
		return nil
	}
	var lines []struct {
		N int    `json:"n"`
		T string `json:"t"`
	}
	if json.Unmarshal(raw, &lines) != nil {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.T
	}
	return out
}
