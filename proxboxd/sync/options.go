package sync

import (
	"context"
	"log/slog"
	"time"
)

// OrphanMode is what happens to a managed NetBox object whose Proxmox object
// is gone.
type OrphanMode string

// OrphanPolicy is the per-object-type orphan policy. With OrphanMark and
// AfterDays > 0, an object marked at least AfterDays ago is deleted.
type OrphanPolicy struct {
	Mode      OrphanMode
	AfterDays int
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithOrphanPolicy sets the orphan policy of one object type (counts key,
// e.g. "virtualization.virtualmachine").
func WithOrphanPolicy(objectType string, p OrphanPolicy) Option {
	return func(e *Engine) { e.policies[objectType] = p }
}

// WithBatchSize sets the bulk write batch size (default 50, at most 1000).
func WithBatchSize(n int) Option {
	return func(e *Engine) {
		if n > 0 {
			e.batch = n
		}
	}
}

// maxBatch bounds a bulk write: NetBox holds one transaction per request, and
// a larger one only risks its timeout.
const maxBatch = 1000

// WithWriteConcurrency sets how many bulk write batches of one object type
// are in flight at once (default 1: one after another; at most 16). NetBox
// serves requests on several workers and a bulk write spends nearly all its
// time in NetBox, so a NetBox with idle workers and cores can finish a large
// first sync sooner with 2–4. The NetBox concurrency bound is raised to match.
func WithWriteConcurrency(n int) Option {
	return func(e *Engine) {
		if n > 0 {
			e.writeConc = n
		}
	}
}

// maxWriteConc bounds WithWriteConcurrency and WriteTuning.Concurrency.
const maxWriteConc = 16

// writeTuning is how a run writes: the engine's options, overridden by the
// WithWriteTuning source's non-zero fields, within maxBatch and maxWriteConc.
func (e *Engine) writeTuning(ctx context.Context) WriteTuning {
	w := WriteTuning{BatchSize: e.batch, Concurrency: e.writeConc}
	if e.tuning != nil {
		t := e.tuning(ctx)
		if t.BatchSize > 0 {
			w.BatchSize = t.BatchSize
		}
		if t.Concurrency > 0 {
			w.Concurrency = t.Concurrency
		}
	}
	return WriteTuning{BatchSize: min(w.BatchSize, maxBatch), Concurrency: min(w.Concurrency, maxWriteConc)}
}

// WriteTuning is how one run writes to NetBox. Zero fields keep the values of
// WithBatchSize and WithWriteConcurrency.
type WriteTuning struct {
	BatchSize   int // objects per bulk request (at most 1000)
	Concurrency int // bulk requests of one object type in flight at once (at most 16)
}

// WithWriteTuning reads, once per run, how the run writes to NetBox
// (proxboxd: the plugin's bulk_batch_size and netbox_max_concurrent
// settings, so a change there applies from the next sync on).
func WithWriteTuning(src func(ctx context.Context) WriteTuning) Option {
	return func(e *Engine) { e.tuning = src }
}

// WithNetBoxConcurrency bounds concurrent NetBox requests of one sync (default 4).
func WithNetBoxConcurrency(n int) Option {
	return func(e *Engine) {
		if n > 0 {
			e.nbConc = n
		}
	}
}

// WithClusterVRF puts the IP addresses of the named Proxmox clusters in a
// NetBox VRF (id); IP identity is (VRF, address), so clusters that reuse the
// same private ranges stay apart. Others use the global table.
func WithClusterVRF(vrfs map[string]int) Option {
	return func(e *Engine) {
		for k, v := range vrfs {
			e.vrfs[k] = v
		}
	}
}

// WithClusterVRFNames reads, once per run, which NetBox VRF holds the IP
// addresses of each named Proxmox cluster: a VRF name or id per cluster name
// (proxboxd's cluster_vrfs setting). The stages that write IPs resolve them
// and fail, writing nothing, when a VRF is missing or its name ambiguous. An
// entry here wins over WithClusterVRF.
func WithClusterVRFNames(src func(ctx context.Context) (map[string]string, error)) Option {
	return func(e *Engine) { e.vrfNames = src }
}

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// defaultPolicies: parents are marked, children whose parent is fully
// described by Proxmox are deleted, shared and historical objects are kept.
func defaultPolicies() map[string]OrphanPolicy {
	return map[string]OrphanPolicy{
		kDevice.Type:      {Mode: OrphanMark},
		kVM.Type:          {Mode: OrphanMark},
		kVMIface.Type:     {Mode: OrphanDelete},
		kVDisk.Type:       {Mode: OrphanDelete},
		kIP.Type:          {Mode: OrphanDelete},
		kMAC.Type:         {Mode: OrphanDelete},
		kNodeIface.Type:   {Mode: OrphanDelete},
		kStorage.Type:     {Mode: OrphanKeep},
		kBackup.Type:      {Mode: OrphanDelete}, // only with delete_nonexistent_backup
		kSnapshot.Type:    {Mode: OrphanDelete}, // only with delete_nonexistent_snapshot, else marked stale
		kReplication.Type: {Mode: OrphanMark},
		kRoutine.Type:     {Mode: OrphanMark},
	}
}

// Orphan modes.
const (
	OrphanKeep   OrphanMode = "keep"   // leave it alone
	OrphanMark   OrphanMode = "mark"   // status offline/stale, tag proxbox-orphan, custom field proxbox_last_seen
	OrphanDelete OrphanMode = "delete" // delete it
)

// WithJobWindow sets how long the read snapshot of a plugin job waits for
// the job's next stage (job.go); 0 turns job snapshots off, so every stage
// stream reads Proxmox and NetBox afresh.
func WithJobWindow(d time.Duration) Option {
	return func(e *Engine) { e.jobs = newJobs(max(d, 0)) }
}
