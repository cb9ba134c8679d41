package demo

import (
	"context"
	"sync"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// RunCounter merges the per-object records (StageResult.Objects) of the
// stages a demo full sync runs, so its summary counts each object once per
// run: a device created by the first stage and read unchanged by the eleven
// others is one created device. The plugin's stage streams carry only each
// stage's own counts; the demo runs the engine in process, so it can see the
// records themselves.
type RunCounter struct {
	mu  sync.Mutex
	run *proxbox.Tally
}

// Reset starts a new run.
func (c *RunCounter) Reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.run = proxbox.NewTally()
}

// Counts returns the run's counts per object type (empty before Reset).
func (c *RunCounter) Counts() map[string]*proxbox.Counts {
	if c == nil {
		return map[string]*proxbox.Counts{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run.Counts()
}

func (c *RunCounter) add(results ...*proxbox.StageResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run == nil {
		c.run = proxbox.NewTally()
	}
	for _, r := range results {
		if r != nil {
			c.run.Merge(r.Objects)
		}
	}
}

// Wrap returns s reporting every stage result to c; it is a
// proxbox.FullSyncer when s is one.
func (c *RunCounter) Wrap(s proxbox.Syncer) proxbox.Syncer {
	cs := &countingSyncer{Syncer: s, c: c}
	if fs, ok := s.(proxbox.FullSyncer); ok {
		return &countingFullSyncer{countingSyncer: cs, fs: fs}
	}
	return cs
}

type countingSyncer struct {
	proxbox.Syncer
	c *RunCounter
}

func (s *countingSyncer) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	res, err := s.Syncer.RunStage(ctx, req, emit)
	s.c.add(res)
	return res, err
}

type countingFullSyncer struct {
	*countingSyncer
	fs proxbox.FullSyncer
}

func (s *countingFullSyncer) RunAll(ctx context.Context, params proxbox.StageParams, emit proxbox.Emitter) ([]*proxbox.StageResult, error) {
	results, err := s.fs.RunAll(ctx, params, emit)
	s.c.add(results...)
	return results, err
}
