package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	gosync "sync"
	"time"
)

// A write NetBox refuses (a 4xx validation error, not a transient failure)
// would be refused again if sent unchanged, and sending it on every sync
// makes a no-change re-sync write. The engine remembers each refused write
// by what it is (object type, action, the object's identity) and a hash of
// what it sends (the fields, without the proxmox_last_updated stamp). A
// later run that plans the same write with the same body does not send it:
// it reports it as failed again ("not re-sent: NetBox refused this unchanged
// write at …"). It is sent again as soon as its body changes (Proxmox or
// the plan changed), after RefusalTTL (6 h: NetBox may have changed around
// it, e.g. a conflicting object was removed), or after proxboxd restarts
// (the memory is the engine's, in process). A write that succeeds is
// forgotten.

// ErrRefusedEarlier marks a write not sent because NetBox refused the same
// write earlier (errors.Is).
var ErrRefusedEarlier = errors.New("not re-sent: NetBox refused this unchanged write earlier")

// RefusalTTL is how long a refused write is not re-sent unchanged.
const RefusalTTL = 6 * time.Hour

type refusal struct {
	hash string
	at   time.Time
	err  string
}

type refusalMemory struct {
	mu gosync.Mutex
	m  map[string]refusal
}

func newRefusalMemory() *refusalMemory { return &refusalMemory{m: map[string]refusal{}} }

// refusalKey is what a write is: the same object and action, whatever run.
func refusalKey(k *kind, o op) string {
	id := strconv.Itoa(o.id)
	if o.action == "create" && o.w != nil {
		id = "key:" + o.w.Key
	}
	return k.Type + "\x00" + o.action + "\x00" + id
}

func refusalHash(o op) string {
	sum := sha256.Sum256([]byte(canonJSON(o.body)))
	return hex.EncodeToString(sum[:8])
}

func (m *refusalMemory) remember(k *kind, o op, err error, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[refusalKey(k, o)] = refusal{hash: refusalHash(o), at: now, err: err.Error()}
}

func (m *refusalMemory) forget(k *kind, o op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) == 0 {
		return // the common case: nothing refused, no key to build per write
	}
	delete(m.m, refusalKey(k, o))
}

// refused returns the earlier refusal of this exact write, if any and recent.
func (m *refusalMemory) refused(k *kind, o op, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) == 0 {
		return nil
	}
	key := refusalKey(k, o)
	r, ok := m.m[key]
	if !ok {
		return nil
	}
	if now.Sub(r.at) >= RefusalTTL || r.hash != refusalHash(o) {
		delete(m.m, key)
		return nil
	}
	return fmt.Errorf("%w (at %s): %s", ErrRefusedEarlier, r.at.UTC().Format(time.RFC3339), r.err)
}

// dropRefused removes the ops NetBox refused unchanged earlier, reporting
// each as failed.
func (r *run) dropRefused(t *table, ops []op) []op {
	kept := ops[:0]
	for _, o := range ops {
		if err := r.e.refusals.refused(t.k, o, r.now); err != nil {
			r.fail(t.k.Type, o.name, err)
			continue
		}
		kept = append(kept, o)
	}
	return kept
}
