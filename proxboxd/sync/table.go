package sync

import (
	"net/url"
	"reflect"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// kind describes one NetBox object type the engine manages.
type kind struct {
	Type   string // counts key, e.g. "virtualization.virtualmachine"
	Path   string // list path, from the generated collection
	col    func(*netboxsdk.Client) ocol
	write  reflect.Type // the generated request type desired state is built as
	Fields []string     // fields= for the list (id, tags, custom_fields are added)
	Plugin bool         // lives under /api/plugins/proxbox/
	Tagged bool         // proxbox tag on every written object
	Stamp  bool         // has the proxmox_last_updated custom field
	CFMark bool         // has proxbox_last_seen (orphan marking)
	Status string       // status value for a marked orphan ("offline", "stale"), "" = none
}

func (k *kind) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	f := append([]string{"id"}, k.Fields...)
	if k.Tagged {
		f = append(f, "tags")
	}
	if k.Stamp || k.CFMark {
		f = append(f, "custom_fields")
	}
	q.Set("fields", strings.Join(f, ","))
	return q
}

// table is the indexed NetBox state of one kind, kept current by apply.
type table struct {
	k     *kind
	keyFn func(obj) string
	byKey map[string]obj
	byID  map[int]obj
	order []int
	qs    []url.Values // queries loaded so far (re-read after write faults)
}

func newTable(k *kind, keyFn func(obj) string) *table {
	return &table{k: k, keyFn: keyFn, byKey: map[string]obj{}, byID: map[int]obj{}}
}

func (t *table) put(o obj) {
	id := idOf(o)
	if _, ok := t.byID[id]; !ok {
		t.order = append(t.order, id)
	}
	t.byID[id] = o
	if k := t.keyFn(o); k != "" {
		if prev, ok := t.byKey[k]; !ok || idOf(prev) == id || preferTagged(o, prev) {
			t.byKey[k] = o
		}
	}
}

func preferTagged(a, b obj) bool { return hasTag(a, tagProxbox) && !hasTag(b, tagProxbox) }

func (t *table) remove(id int) {
	o, ok := t.byID[id]
	if !ok {
		return
	}
	delete(t.byID, id)
	if k := t.keyFn(o); k != "" && idOf(t.byKey[k]) == id {
		delete(t.byKey, k)
	}
}

func (t *table) all() []obj {
	out := make([]obj, 0, len(t.byID))
	for _, id := range t.order {
		if o, ok := t.byID[id]; ok {
			out = append(out, o)
		}
	}
	return out
}

func (t *table) id(key string) int { return idOf(t.byKey[key]) }
