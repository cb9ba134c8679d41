package proxbox

import "sync"

// Action is what a sync did to one object. When one object is seen several
// times (by several stages of a run, or twice in one stage: created, then
// patched once its MAC exists), the greater Action is what it counts as:
// failed > deleted > created > updated > skipped > unchanged. So an object
// created by one stage and read unchanged by the later ones counts as created
// once, and an object one of whose writes failed counts as failed (its
// failure names it in StageResult.Failures).
type Action uint8

// The actions, in increasing precedence.
const (
	ActionUnchanged Action = iota + 1
	ActionSkipped
	ActionUpdated
	ActionCreated
	ActionDeleted
	ActionFailed
)

// Tally records what a stage or a run did to each object, so that Counts
// counts each object once. An object is identified within its type by its
// NetBox id (negative placeholders on dry runs count too); a record without
// an id (a failure or skip reported by name) is the object of that name seen
// with an id, if any, else an object of its own. A Tally is safe for
// concurrent use; the zero value is not, use NewTally.
type Tally struct {
	mu    sync.Mutex
	types map[string]*typeTally
}

type typeTally struct {
	actions Counts // every record, not deduplicated (Actions)
	entries []*tallyEntry
	byID    map[int]*tallyEntry
	byName  map[string]*tallyEntry
}

type tallyEntry struct {
	id   int
	name string
	act  Action
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{types: map[string]*typeTally{}} }

// Add records action a on the object of type typ with NetBox id (0 when it
// has none) and name.
func (t *Tally) Add(typ string, id int, name string, a Action) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tt := t.typ(typ)
	tt.actions.add(a, 1)
	tt.add(id, name, a)
}

func (t *Tally) typ(typ string) *typeTally {
	tt := t.types[typ]
	if tt == nil {
		tt = &typeTally{byID: map[int]*tallyEntry{}, byName: map[string]*tallyEntry{}}
		t.types[typ] = tt
	}
	return tt
}

func (c *Counts) add(a Action, n int) {
	switch a {
	case ActionUnchanged:
		c.Unchanged += n
	case ActionSkipped:
		c.Skipped += n
	case ActionUpdated:
		c.Updated += n
	case ActionCreated:
		c.Created += n
	case ActionDeleted:
		c.Deleted += n
	case ActionFailed:
		c.Failed += n
	}
}

func (tt *typeTally) add(id int, name string, a Action) {
	var e *tallyEntry
	if id != 0 {
		e = tt.byID[id]
		if e == nil {
			if n := tt.byName[name]; name != "" && n != nil && n.id == 0 {
				e = n // the failure reported by name was this object's
				e.id = id
			} else {
				e = &tallyEntry{id: id, name: name}
				tt.entries = append(tt.entries, e)
			}
			tt.byID[id] = e
		}
	} else if name != "" {
		e = tt.byName[name]
	}
	if e == nil {
		e = &tallyEntry{name: name}
		tt.entries = append(tt.entries, e)
	}
	if name != "" && tt.byName[name] == nil {
		tt.byName[name] = e
	}
	e.act = max(e.act, a)
}

// Merge adds everything o recorded (a later stage of the same run) to t.
func (t *Tally) Merge(o *Tally) {
	if t == nil || o == nil || t == o {
		return
	}
	type rec struct {
		id   int
		name string
		act  Action
	}
	recs := map[string][]rec{}
	actions := map[string]Counts{}
	o.mu.Lock()
	for typ, tt := range o.types {
		actions[typ] = tt.actions
		for _, e := range tt.entries {
			recs[typ] = append(recs[typ], rec{e.id, e.name, e.act})
		}
	}
	o.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	for typ, rs := range recs {
		tt := t.typ(typ)
		a := actions[typ]
		tt.actions.Created += a.Created
		tt.actions.Updated += a.Updated
		tt.actions.Deleted += a.Deleted
		tt.actions.Unchanged += a.Unchanged
		tt.actions.Failed += a.Failed
		tt.actions.Skipped += a.Skipped
		for _, r := range rs {
			tt.add(r.id, r.name, r.act)
		}
	}
}

// Counts returns, per object type, how many objects ended in each action.
func (t *Tally) Counts() map[string]*Counts {
	out := map[string]*Counts{}
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for typ, tt := range t.types {
		c := &Counts{}
		for _, e := range tt.entries {
			c.add(e.act, 1)
		}
		out[typ] = c
	}
	return out
}

// Actions returns, per object type, how many times each action was recorded,
// an object as often as it was seen: the writes a stage made (an interface
// created and then patched is one create and one update), for request floors
// such as sync.MinRequests.
func (t *Tally) Actions() map[string]*Counts {
	out := map[string]*Counts{}
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for typ, tt := range t.types {
		c := tt.actions
		out[typ] = &c
	}
	return out
}

// RunTally merges the tallies of a run's stage results (nil results and
// results without a Tally are left out).
func RunTally(results []*StageResult) *Tally {
	t := NewTally()
	for _, r := range results {
		if r != nil {
			t.Merge(r.Objects)
		}
	}
	return t
}
