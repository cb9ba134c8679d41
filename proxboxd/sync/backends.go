package sync

import (
	"context"
	"net/url"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// obj is an untyped NetBox record (netboxsdk.Object).
type obj = map[string]any

// netboxAPI is the narrow NetBox surface the engine uses. The production
// implementation adapts *netboxsdk.Client; tests may use fakes.
type netboxAPI interface {
	// List returns every record of kind k matching q, following all pages.
	List(ctx context.Context, k *kind, q url.Values) ([]obj, error)
	// Count returns how many records of k match q (one request).
	Count(ctx context.Context, k *kind, q url.Values) (int, error)
	// Create bulk-creates items (one POST of a JSON array).
	Create(ctx context.Context, k *kind, items []obj) ([]obj, error)
	// Patch bulk-patches items; each carries "id".
	Patch(ctx context.Context, k *kind, items []obj) ([]obj, error)
	// Delete bulk-deletes ids.
	Delete(ctx context.Context, k *kind, ids []int) error
	// Changes lists the changelog since a time of NetBox's clock (job.go).
	Changes(ctx context.Context, since time.Time) ([]change, error)
}

// change is one changelog row: which object type a request changed.
type change struct {
	ID        int
	Type      string // "app.model"
	RequestID string
}

// counter counts NetBox calls by method for StageResult.Requests.
type counter struct {
	mu gosync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// countingNB wraps a netboxAPI, bounding concurrency and counting calls.
type countingNB struct {
	nb  netboxAPI
	sem chan struct{}
	c   *counter
	w   atomic.Int64 // writes
	// wrote, when set, learns the X-Request-Id of each write and the object
	// type it wrote (a job's changelog check, job.go)
	wrote func(requestID, typ string)
}

// observeWrite tags ctx so the write's request id is recorded with k.
func (n *countingNB) observeWrite(ctx context.Context, k *kind) context.Context {
	if n.wrote == nil {
		return ctx
	}
	return netboxsdk.WithResponseObserver(ctx, func(resp *netboxsdk.Response) {
		n.wrote(resp.RequestID, k.Type)
	})
}

func (n *countingNB) acquire(ctx context.Context) error {
	select {
	case n.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *countingNB) release() { <-n.sem }

func (n *countingNB) List(ctx context.Context, k *kind, q url.Values) ([]obj, error) {
	if err := n.acquire(ctx); err != nil {
		return nil, err
	}
	defer n.release()
	n.c.add("GET")
	return n.nb.List(ctx, k, q)
}

func (n *countingNB) Count(ctx context.Context, k *kind, q url.Values) (int, error) {
	if err := n.acquire(ctx); err != nil {
		return 0, err
	}
	defer n.release()
	n.c.add("GET")
	return n.nb.Count(ctx, k, q)
}

func (n *countingNB) Create(ctx context.Context, k *kind, items []obj) ([]obj, error) {
	if err := n.acquire(ctx); err != nil {
		return nil, err
	}
	defer n.release()
	n.c.add("POST")
	n.w.Add(1)
	return n.nb.Create(n.observeWrite(ctx, k), k, items)
}

func (n *countingNB) Patch(ctx context.Context, k *kind, items []obj) ([]obj, error) {
	if err := n.acquire(ctx); err != nil {
		return nil, err
	}
	defer n.release()
	n.c.add("PATCH")
	n.w.Add(1)
	return n.nb.Patch(n.observeWrite(ctx, k), k, items)
}

func (n *countingNB) Delete(ctx context.Context, k *kind, ids []int) error {
	if err := n.acquire(ctx); err != nil {
		return err
	}
	defer n.release()
	n.c.add("DELETE")
	n.w.Add(1)
	return n.nb.Delete(n.observeWrite(ctx, k), k, ids)
}

func (n *countingNB) Changes(ctx context.Context, since time.Time) ([]change, error) {
	if err := n.acquire(ctx); err != nil {
		return nil, err
	}
	defer n.release()
	n.c.add("GET")
	return n.nb.Changes(ctx, since)
}
