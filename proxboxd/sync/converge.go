package sync

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// Convergence of apply under transient NetBox faults.
//
// A write that fails with a transient error (network error, timeout, 5xx,
// 429, or a reply that does not carry the written objects) may or may not
// have reached NetBox (a lost reply). Such items are never re-sent blindly:
// apply re-reads the affected identities, re-plans them (an object that now
// exists is adopted, an update already applied counts as done) and writes
// again, up to convergeRounds rounds with a short backoff. Permanent errors
// (400 validation, 403, ...) are reported at once.

// convergeRounds is how many re-read/re-plan rounds follow the first write.
const convergeRounds = 3

// convergeBackoff is the pause before the first re-read (doubled per round).
var convergeBackoff = 100 * time.Millisecond

// transient reports whether err may be a fault that a later attempt (after a
// re-read) can overcome. A nil err stands for an incomplete reply.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err == nil {
		return true
	}
	var ae *netboxsdk.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == 429 || ae.StatusCode == 408 || ae.StatusCode >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	return true // connection reset, timeout, cut reply
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// scopeFilters maps a create body field to the list filter that finds the
// objects sharing that identity scope.
var scopeFilters = []struct{ field, filter string }{
	{"virtual_machine", "virtual_machine_id"},
	{"device", "device_id"},
	{"assigned_object_id", "assigned_object_id"},
	{"address", "address"},
}

// reread refreshes the table for the identities of the given creates and the
// objects of the given updates: targeted lists where the body names a scope,
// else the table's original queries. Objects are merged into the table.
func (r *run) reread(ctx context.Context, t *table, creates, updates []op) error {
	scoped := map[string][]string{}
	full := false
	for _, o := range creates {
		found := false
		for _, sf := range scopeFilters {
			if v, ok := o.body[sf.field]; ok && v != nil {
				s := asStr(v)
				if n := asInt(v); n > 0 {
					s = strconv.Itoa(n)
				}
				if s != "" {
					scoped[sf.filter] = append(scoped[sf.filter], s)
					found = true
					break
				}
			}
		}
		if !found {
			full = true
		}
	}
	var ids []int
	for _, o := range updates {
		if o.id > 0 {
			ids = append(ids, o.id)
		}
	}
	if full {
		qs := t.qs
		if len(qs) == 0 {
			qs = []url.Values{nil}
		}
		for _, q := range qs {
			if err := r.loadInto(ctx, t, q); err != nil {
				return err
			}
		}
	}
	for filter, vals := range scoped {
		vals = uniqStrs(vals)
		for i := 0; i < len(vals); i += chunkIDs {
			q := url.Values{filter: vals[i:min(i+chunkIDs, len(vals))]}
			if err := r.loadInto(ctx, t, q); err != nil {
				return err
			}
		}
	}
	if len(ids) > 0 {
		if err := r.loadChunked(ctx, t, "id", ids, nil); err != nil {
			return err
		}
	}
	return nil
}

func uniqStrs(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// replan turns transiently failed ops into the ops still needed after a
// re-read: a create whose identity now exists is adopted (and patched if it
// differs), an update already in effect is done.
func (r *run) replan(t *table, creates, updates []op) ([]op, []op) {
	var nc, nu []op
	for _, o := range creates {
		ex, ok := t.byKey[o.w.Key]
		if !ok {
			nc = append(nc, o)
			continue
		}
		o.w.id = idOf(ex)
		r.seen(t.k.Type, o.w.id, o.name, proxbox.ActionCreated)
		r.itemDone(t.k, o.name, o.w.id, "created")
		if patch, diffs := r.diff(t.k, ex, o.w.Body); len(patch) > 0 {
			nu = append(nu, op{action: "update", w: o.w, id: o.w.id, name: o.name, body: patch, diffs: diffs, adopted: true})
		}
	}
	for _, o := range updates {
		if o.w == nil || o.action != "update" {
			nu = append(nu, o) // mark-orphan: idempotent, sent again
			continue
		}
		ex, ok := t.byID[o.id]
		if !ok {
			nu = append(nu, o)
			continue
		}
		patch, diffs := r.diff(t.k, ex, o.w.Body)
		if len(patch) == 0 {
			if !o.adopted {
				r.seen(t.k.Type, o.id, o.name, proxbox.ActionUpdated)
				r.itemDone(t.k, o.name, o.id, "updated")
			}
			continue
		}
		nu = append(nu, op{action: "update", w: o.w, id: o.id, name: o.name, body: patch, diffs: diffs, adopted: o.adopted})
	}
	return nc, nu
}

// deleteOne deletes one object; transient failures are retried (a delete is
// idempotent: an object already gone counts as deleted).
func (r *run) deleteOne(ctx context.Context, t *table, id int) error {
	for round := 0; ; round++ {
		err := r.nb.Delete(ctx, t.k, []int{id})
		if err == nil || errors.Is(err, netboxsdk.ErrNotFound) {
			return nil
		}
		if !transient(ctx, err) || round >= convergeRounds {
			return err
		}
		if serr := sleepCtx(ctx, convergeBackoff<<round); serr != nil {
			return err
		}
	}
}
