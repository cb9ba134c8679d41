package sync

import (
	"context"
	gosync "sync"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// apply executes ops on the table's kind: deletes first (freeing names),
// then creates and updates in batches; failed batches are retried item by item.
// On dry runs it records the plan and simulates the writes in the table.
func (r *run) apply(ctx context.Context, t *table, ops []op) {
	if !r.dry {
		ops = r.dropRefused(t, ops)
	}
	if len(ops) == 0 {
		return
	}
	var creates, updates, deletes []op
	for _, o := range ops {
		switch o.action {
		case "create":
			creates = append(creates, o)
		case "delete":
			deletes = append(deletes, o)
		default:
			updates = append(updates, o)
		}
	}
	for _, o := range append(append(append([]op{}, deletes...), creates...), updates...) {
		if r.dry {
			ch := proxbox.Change{Action: o.action, ObjectType: t.k.Type, Name: o.name, ID: o.id, Fields: o.diffs}
			if o.action == "create" {
				ch.Fields = map[string]proxbox.Diff{}
				for k, v := range o.body {
					ch.Fields[k] = proxbox.Diff{Old: nil, New: v}
				}
			}
			r.res.Plan = append(r.res.Plan, ch)
		}
	}
	if r.dry {
		for _, o := range deletes {
			t.remove(o.id)
			r.seen(t.k.Type, o.id, o.name, proxbox.ActionDeleted)
		}
		for _, o := range creates {
			r.fake--
			b := obj{"id": r.fake}
			for k, v := range o.body {
				b[k] = v
			}
			b["tags"] = []any{map[string]any{"slug": tagProxbox}}
			t.put(b)
			o.w.id = r.fake
			r.seen(t.k.Type, r.fake, o.name, proxbox.ActionCreated)
		}
		for _, o := range updates {
			if ex := t.byID[o.id]; ex != nil {
				n := obj{}
				for k, v := range ex {
					n[k] = v
				}
				for k, v := range o.body {
					if k != "custom_fields" && k != "tags" {
						n[k] = v
					}
				}
				t.put(n)
			}
			r.seen(t.k.Type, o.id, o.name, proxbox.ActionUpdated)
		}
		return
	}
	// deletes
	if len(deletes) > 0 {
		ids := make([]int, len(deletes))
		for i, o := range deletes {
			ids[i] = o.id
		}
		r.batches(len(deletes), func(i, j int) {
			if err := r.nb.Delete(ctx, t.k, ids[i:j]); err == nil {
				r.locked(func() {
					for _, o := range deletes[i:j] {
						t.remove(o.id)
						r.seen(t.k.Type, o.id, o.name, proxbox.ActionDeleted)
					}
				})
				return
			}
			for _, o := range deletes[i:j] {
				err := r.deleteOne(ctx, t, o.id)
				r.locked(func() {
					if err != nil {
						r.fail(t.k.Type, o.name, err)
						if !transient(ctx, err) {
							r.e.refusals.remember(t.k, o, err, r.now)
						}
						return
					}
					t.remove(o.id)
					r.seen(t.k.Type, o.id, o.name, proxbox.ActionDeleted)
				})
			}
		})
	}
	pc, pu := creates, updates
	for round := 0; len(pc)+len(pu) > 0; round++ {
		fc, errC := r.writeCreates(ctx, t, pc)
		fu, errU := r.writeUpdates(ctx, t, pu)
		if len(fc)+len(fu) == 0 {
			return
		}
		err := errC
		if err == nil {
			err = errU
		}
		if round < convergeRounds && sleepCtx(ctx, convergeBackoff<<round) == nil {
			if err = r.reread(ctx, t, fc, fu); err == nil {
				pc, pu = r.replan(t, fc, fu)
				continue
			}
		}
		if err == nil {
			err = ctx.Err()
		}
		for _, o := range append(fc, fu...) {
			r.fail(t.k.Type, o.name, err)
		}
		return
	}
}

// stamp copies a write body and sets proxmox_last_updated on stamped kinds.
func (r *run) stamp(t *table, b obj) obj {
	n := obj{}
	for k, v := range b {
		n[k] = v
	}
	if t.k.Stamp && r.cfOK[cfLastUpdated] {
		cf := obj{}
		if old, ok := n["custom_fields"].(obj); ok {
			for k, v := range old {
				cf[k] = v
			}
		}
		cf[cfLastUpdated] = r.now.UTC().Format(time.RFC3339)
		n["custom_fields"] = cf
	}
	return n
}

// writeCreates creates in batches; a batch that fails permanently is retried
// item by item. It returns the ops that failed transiently (to be re-read,
// never re-sent blindly) and the last transient error.
func (r *run) writeCreates(ctx context.Context, t *table, creates []op) ([]op, error) {
	if len(creates) == 0 {
		return nil, nil
	}
	bodies := make([]obj, len(creates))
	for i, o := range creates {
		b := r.stamp(t, o.body)
		if t.k.Tagged {
			b["tags"] = []obj{r.tagRef(tagProxbox)}
		}
		bodies[i] = b
	}
	return r.writeBatches(ctx, t, creates, bodies, r.nb.Create, func(n int, g obj) {
		t.put(g)
		creates[n].w.id = idOf(g)
		r.seen(t.k.Type, idOf(g), creates[n].name, proxbox.ActionCreated)
		r.itemDone(t.k, creates[n].name, idOf(g), "created")
	})
}

// writeUpdates patches in batches, like writeCreates.
func (r *run) writeUpdates(ctx context.Context, t *table, updates []op) ([]op, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	bodies := make([]obj, len(updates))
	for i, o := range updates {
		b := o.body
		if o.action == "update" {
			b = r.stamp(t, b)
		} else {
			b = r.stamp(&table{k: &kind{}}, b) // copy only
		}
		b["id"] = o.id
		bodies[i] = b
	}
	return r.writeBatches(ctx, t, updates, bodies, r.nb.Patch, func(n int, g obj) {
		t.put(g)
		r.seen(t.k.Type, idOf(g), updates[n].name, proxbox.ActionUpdated)
		r.itemDone(t.k, updates[n].name, idOf(g), "updated")
	})
}

// writeBatches sends bodies (one per op) in batches with send, a bulk create
// or patch; a batch that fails permanently is retried item by item. written
// records the object NetBox returned for ops[n], under r.wmu. It returns the
// ops that failed transiently and the last transient error.
func (r *run) writeBatches(ctx context.Context, t *table, ops []op, bodies []obj,
	send func(ctx context.Context, k *kind, items []obj) ([]obj, error), written func(n int, g obj)) ([]op, error) {
	var failed []op
	var lastErr error
	r.batches(len(ops), func(i, j int) {
		got, err := send(ctx, t.k, bodies[i:j])
		if err == nil && len(got) == j-i {
			r.locked(func() {
				for n, g := range got {
					written(i+n, g)
					r.e.refusals.forget(t.k, ops[i+n])
				}
			})
			return
		}
		if transient(ctx, err) {
			r.locked(func() { failed, lastErr = append(failed, ops[i:j]...), err })
			return
		}
		for n := i; n < j; n++ {
			g, err := send(ctx, t.k, bodies[n:n+1])
			r.locked(func() {
				switch {
				case err == nil && len(g) == 1:
					written(n, g[0])
					r.e.refusals.forget(t.k, ops[n])
				case transient(ctx, err):
					failed, lastErr = append(failed, ops[n]), err
				default:
					r.fail(t.k.Type, ops[n].name, err)
					r.e.refusals.remember(t.k, ops[n], err, r.now)
				}
			})
		}
	})
	return failed, lastErr
}

// batches calls fn for each batch [i, j) of n items, up to the run's write
// concurrency at a time. fn sends its requests unlocked and records what they
// did (tables, counts, failures, events) under r.wmu, through r.locked.
func (r *run) batches(n int, fn func(i, j int)) {
	bs := r.batch
	if r.writeConc <= 1 || n <= bs {
		for i := 0; i < n; i += bs {
			fn(i, min(i+bs, n))
		}
		return
	}
	sem := make(chan struct{}, r.writeConc)
	var wg gosync.WaitGroup
	for i := 0; i < n; i += bs {
		sem <- struct{}{}
		wg.Add(1)
		go func(i, j int) {
			defer func() { <-sem; wg.Done() }()
			fn(i, j)
		}(i, min(i+bs, n))
	}
	wg.Wait()
}

// locked runs fn under r.wmu (see batches).
func (r *run) locked(fn func()) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	fn()
}
