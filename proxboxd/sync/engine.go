package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// OrphanMode is what happens to a managed NetBox object whose Proxmox object
// is gone.
type OrphanMode string

// Orphan modes.
const (
	OrphanKeep   OrphanMode = "keep"   // leave it alone
	OrphanMark   OrphanMode = "mark"   // status offline/stale, tag proxbox-orphan, custom field proxbox_last_seen
	OrphanDelete OrphanMode = "delete" // delete it
)

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

// Engine runs the sync stages. It is safe for concurrent use; syncs touching
// the same Proxmox endpoint are serialised (the later one waits).
type Engine struct {
	conn      proxbox.Connector
	log       *slog.Logger
	policies  map[string]OrphanPolicy
	batch     int
	writeConc int
	nbConc    int
	tuning    func(ctx context.Context) WriteTuning
	now       func() time.Time
	nbOpen    func(ctx context.Context) (netboxAPI, error)
	pveOpen   func(t proxbox.ProxmoxTarget) pveAPI

	vrfs     map[string]int
	vrfNames func(ctx context.Context) (map[string]string, error)

	mu    gosync.Mutex
	locks map[string]chan struct{}

	refusals *refusalMemory // writes NetBox refused (refusals.go)
}

var _ proxbox.Syncer = (*Engine)(nil)

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

// New returns an Engine reading endpoints through conn.
func New(conn proxbox.Connector, opts ...Option) *Engine {
	e := &Engine{
		conn: conn, log: slog.Default(), policies: defaultPolicies(), batch: 50, writeConc: 1, nbConc: 4,
		now: time.Now, locks: map[string]chan struct{}{}, vrfs: map[string]int{}, refusals: newRefusalMemory(),
	}
	e.nbOpen = func(ctx context.Context) (netboxAPI, error) {
		c, err := conn.NetBox(ctx)
		if err != nil {
			return nil, err
		}
		return newNetBoxAdapter(c), nil
	}
	e.pveOpen = func(t proxbox.ProxmoxTarget) pveAPI { return newPVEAdapter(t.Client) }
	for _, o := range opts {
		o(e)
	}
	return e
}

func (e *Engine) policy(typ string) OrphanPolicy {
	if p, ok := e.policies[typ]; ok {
		return p
	}
	return OrphanPolicy{Mode: OrphanKeep}
}

// StepName is the SSE step name of a stage (contract §7.0).
func StepName(s proxbox.Stage) string {
	switch s {
	case proxbox.StageVMDisks:
		return "virtual-disks"
	case proxbox.StageVMBackups:
		return "backups"
	case proxbox.StageVMSnapshots:
		return "snapshots"
	case proxbox.StageNetworkInterfaces:
		return "node-interfaces"
	case proxbox.StageIPAddresses:
		return "vm-ip-addresses"
	}
	return string(s)
}

// FullResult is the outcome of FullUpdate.
type FullResult struct {
	OK              bool                   `json:"ok"`
	Message         string                 `json:"message"`
	OperationID     string                 `json:"operation_id"`
	DurationSeconds float64                `json:"duration_seconds"`
	Stages          []*proxbox.StageResult `json:"stages"`
	// MinRequests is the least number of NetBox requests the stages run could
	// have taken (one paged read per object type, one write per batch; see
	// MinRequests); Requests is the number they took.
	MinRequests int `json:"min_requests"`
	Requests    int `json:"requests"`
}

// lock takes the per-endpoint locks of targets (sorted, so two syncs never
// deadlock); a later sync waits for the earlier one.
func (e *Engine) lock(ctx context.Context, targets []proxbox.ProxmoxTarget, emit proxbox.Emitter, step string) (func(), error) {
	keys := make([]string, 0, len(targets))
	for _, t := range targets {
		keys = append(keys, endpointKey(t))
	}
	sort.Strings(keys)
	var held []chan struct{}
	unlock := func() {
		for _, c := range held {
			<-c
		}
	}
	for _, k := range keys {
		e.mu.Lock()
		c, ok := e.locks[k]
		if !ok {
			c = make(chan struct{}, 1)
			e.locks[k] = c
		}
		e.mu.Unlock()
		select {
		case c <- struct{}{}:
		default:
			emit(proxbox.Event{Name: "step", Data: map[string]any{"step": step, "status": "progress",
				"message": fmt.Sprintf("waiting for the sync already running on %s to finish", k)}})
			select {
			case c <- struct{}{}:
			case <-ctx.Done():
				unlock()
				return nil, ctx.Err()
			}
		}
		held = append(held, c)
	}
	return unlock, nil
}

func endpointKey(t proxbox.ProxmoxTarget) string {
	if t.Endpoint.ID != 0 {
		return "endpoint:" + strconv.Itoa(t.Endpoint.ID)
	}
	return "endpoint:" + t.Endpoint.Name + "@" + t.Endpoint.Domain + t.Endpoint.IPAddress
}

// RunStage runs one stage and reports its result; see notes in doc.go.
func (e *Engine) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	if emit == nil {
		emit = func(proxbox.Event) {}
	}
	p := normParams(req.Params)
	if req.VMID != 0 {
		p.NetBoxVMIDs = append(p.NetBoxVMIDs, req.VMID)
	}
	r, unlock, err := e.open(ctx, p, emit, StepName(req.Stage))
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.stage(ctx, req.Stage, p, false), nil
}

// FullUpdate runs the 12 stages in the plugin's order over one shared read
// snapshot, stopping at the first stage that fails.
func (e *Engine) FullUpdate(ctx context.Context, params proxbox.StageParams, emit proxbox.Emitter) (*FullResult, error) {
	if emit == nil {
		emit = func(proxbox.Event) {}
	}
	p := normParams(params)
	opID := newID()
	start := time.Now()
	emit(proxbox.Event{Name: "step", Data: map[string]any{"step": "stream", "status": "started",
		"message": "Full update stream connected (operation_id=" + opID + ")"}})
	items := make([]any, 0, len(proxbox.Stages))
	for _, s := range proxbox.Stages {
		items = append(items, map[string]any{"name": StepName(s), "type": "stage"})
	}
	emit(proxbox.Event{Name: "discovery", Data: map[string]any{"event": "discovery", "phase": "full-update",
		"status": "discovered", "message": fmt.Sprintf("Discovered %d sync stage(s) for full update", len(items)),
		"count": len(items), "items": items, "progress": progress(0, len(items)),
		"metadata": map[string]any{"operation_id": opID}}})
	r, unlock, err := e.open(ctx, p, emit, "full-update")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fr := &FullResult{OK: true, OperationID: opID, Message: "Full update sync completed."}
	for _, s := range proxbox.Stages {
		sp := p
		if s == proxbox.StageVirtualMachines {
			sp.SyncVMNetwork = false
		}
		if s == proxbox.StageVMBackups {
			sp.DeleteNonexistentBackup = true
		}
		if s == proxbox.StageVMSnapshots {
			sp.DeleteNonexistentSnapshot = true
		}
		res := r.stage(ctx, s, sp, true)
		fr.Stages = append(fr.Stages, res)
		if !res.OK {
			fr.OK = false
			fr.Message = "Error while syncing " + StepName(s) + ": " + res.Message
			emit(proxbox.Event{Name: "error_detail", Data: map[string]any{"event": "error_detail", "phase": "full-update",
				"category": "internal", "message": "Full update synchronization failed", "detail": res.Message,
				"suggestion": "Review backend logs and retry the full update"}})
			break
		}
		if ctx.Err() != nil {
			fr.OK = false
			fr.Message = "Server shutdown or request cancelled."
			break
		}
	}
	fr.DurationSeconds = time.Since(start).Seconds()
	fr.MinRequests = minRequests(fr.Stages, r.batch)
	for _, s := range fr.Stages {
		for _, n := range s.Requests {
			fr.Requests += n
		}
	}
	return fr, nil
}

// RunAll implements proxbox.FullSyncer with FullUpdate.
func (e *Engine) RunAll(ctx context.Context, params proxbox.StageParams, emit proxbox.Emitter) ([]*proxbox.StageResult, error) {
	fr, err := e.FullUpdate(ctx, params, emit)
	if err != nil {
		return nil, err
	}
	return fr.Stages, nil
}

func normParams(p proxbox.StageParams) proxbox.StageParams {
	if p.FetchMaxConcurrency <= 0 {
		p.FetchMaxConcurrency = 8
	}
	if p.FetchMaxConcurrency > 64 {
		p.FetchMaxConcurrency = 64
	}
	if p.PrimaryIPPreference != "ipv6" {
		p.PrimaryIPPreference = "ipv4"
	}
	return p
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// open connects to NetBox and the Proxmox endpoints and takes the locks.
func (e *Engine) open(ctx context.Context, p proxbox.StageParams, emit proxbox.Emitter, step string) (*run, func(), error) {
	nb, err := e.nbOpen(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("netbox: %w", err)
	}
	targets, err := e.conn.Proxmox(ctx, p.ProxmoxEndpointIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("proxmox endpoints: %w", err)
	}
	unlock, err := e.lock(ctx, targets, emit, step)
	if err != nil {
		return nil, nil, err
	}
	r := &run{
		e: e, emit: emit, now: e.now(), tagIDs: map[string]int{}, cfOK: map[string]bool{},
		tables: map[string]*table{},
	}
	w := e.writeTuning(ctx)
	r.batch, r.writeConc = w.BatchSize, w.Concurrency
	r.nb = &countingNB{nb: nb, sem: make(chan struct{}, max(e.nbConc, r.writeConc)), c: &counter{}}
	for _, t := range targets {
		r.clusters = append(r.clusters, &cluster{t: t, pve: e.pveOpen(t)})
	}
	return r, unlock, nil
}

// run is the state of one sync (one stage, or a full update).
type run struct {
	e         *Engine
	nb        *countingNB
	emit      proxbox.Emitter
	now       time.Time
	p         proxbox.StageParams
	dry       bool
	res       *proxbox.StageResult
	fake      int
	tagIDs    map[string]int
	cfOK      map[string]bool
	prepared  bool
	plugin    *bool
	clusters  []*cluster
	tables    map[string]*table // shared NetBox tables (full update reuses them)
	phase     string
	only      map[string]bool // individual sync: "<cluster>|<type>/<vmid>"
	depsDone  bool
	roleIDs   map[string]int
	override  map[string]OrphanPolicy
	noMAC     bool            // NetBox has no /api/dcim/mac-addresses/ (< 4.2)
	macOK     bool            // it has
	reported  map[string]bool // read failures reported in this stage (notRead)
	vrfIDs    map[string]int  // cluster name -> VRF id from WithClusterVRFNames (resolveVRFs)
	batch     int             // objects per bulk write (WriteTuning)
	writeConc int             // bulk writes of one object type in flight (WriteTuning)
	wmu       gosync.Mutex    // held by concurrent write batches while they record results
}

func (r *run) counts(typ string) *proxbox.Counts {
	c, ok := r.res.Counts[typ]
	if !ok {
		c = &proxbox.Counts{}
		r.res.Counts[typ] = c
	}
	return c
}

func (r *run) fail(typ, name string, err error) {
	r.counts(typ).Failed++
	detail := "unknown error"
	if err != nil {
		detail = err.Error()
	}
	r.res.Failures = append(r.res.Failures, proxbox.ItemFailure{ObjectType: typ, Name: name, Detail: detail})
	verb := "write"
	if strings.HasPrefix(typ, "proxmox.") {
		verb = "read"
	}
	r.emit(proxbox.Event{Name: "error_detail", Data: map[string]any{"event": "error_detail", "phase": r.phase,
		"item": map[string]any{"name": name, "item_type": typ}, "category": category(err),
		"message": fmt.Sprintf("Failed to %s %s %q", verb, typ, name), "detail": detail}})
}

// skip reports an object the engine decided not to write, with the reason:
// counted as Skipped, listed in StageResult.Skipped (the plugin sees it in
// the complete frame's result and the run record keeps it) and announced as
// an item_progress frame with status "skipped" and the reason as warning.
// A stage with skipped items is partial.
func (r *run) skip(typ, name, reason string) {
	r.locked(func() {
		r.counts(typ).Skipped++
		r.res.Skipped = append(r.res.Skipped, proxbox.ItemSkip{ObjectType: typ, Name: name, Reason: reason})
	})
	r.emit(proxbox.Event{Name: "item_progress", Data: map[string]any{"event": "item_progress", "phase": r.phase,
		"status": "skipped", "message": fmt.Sprintf("Skipped %s %q: %s", typ, name, reason),
		"item": map[string]any{"name": name, "item_type": typ}, "warning": reason}})
}

// notRead reports a Proxmox read that failed even after the client's
// retries (or was not attempted: its node is offline). Whatever depends on
// it was left as NetBox has it; the stage stays ok and is partial. what
// says what was not read and left alone; one failure per (type, name) and
// stage.
func (r *run) notRead(typ, name, what string, err error) {
	r.res.Partial = true
	key := typ + "\x00" + name
	if r.reported[key] {
		return
	}
	if r.reported == nil {
		r.reported = map[string]bool{}
	}
	r.reported[key] = true
	if err == nil {
		err = errors.New("not read")
	}
	r.fail(typ, name, fmt.Errorf("%s: %w", what, err))
}

// guestNotRead reports a guest part (config, guest-agent interfaces,
// snapshots) that was not read and what of the guest was left unchanged:
// per guest, or once per node when the node is offline.
func (r *run) guestNotRead(c *cluster, g *guest, part, kept string, err error) {
	var off *nodeOfflineError
	if errors.As(err, &off) {
		r.notRead("proxmox.node", c.label()+"/"+off.node, fmt.Sprintf("guests' %s not read (%s left unchanged)", part, kept), err)
		return
	}
	r.notRead("proxmox.guest", fmt.Sprintf("%s/%s %s", c.label(), g.key(), g.Name), fmt.Sprintf("%s not read (%s left unchanged)", part, kept), err)
}

func category(err error) string {
	if err == nil {
		return "unknown"
	}
	s := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(s, "timeout"):
		return "timeout"
	case strings.Contains(s, "401") || strings.Contains(s, "unauthorized"):
		return "authentication"
	case strings.Contains(s, "403") || strings.Contains(s, "forbidden"):
		return "permission"
	case strings.Contains(s, "404") || strings.Contains(s, "not found"):
		return "not_found"
	case strings.Contains(s, "429"):
		return "rate_limit"
	case strings.Contains(s, "400"):
		return "validation"
	case strings.Contains(s, "connect") || strings.Contains(s, "dial"):
		return "connection"
	}
	return "internal"
}

// itemDone emits item_progress for parents (nodes and VMs).
func (r *run) itemDone(k *kind, name string, id int, operation string) {
	if k != kDevice && k != kVM {
		return
	}
	r.emit(proxbox.Event{Name: "item_progress", Data: map[string]any{"event": "item_progress", "phase": r.phase,
		"status": "completed", "message": fmt.Sprintf("Synced %s '%s'", itemType(k), name),
		"item": map[string]any{"name": name, "netbox_id": id, "item_type": itemType(k)}, "operation": operation}})
}

func itemType(k *kind) string {
	if k == kDevice {
		return "node"
	}
	return "virtual_machine"
}

func progress(cur, total int) map[string]any {
	pct := 0.0
	if total > 0 {
		pct = float64(int(float64(cur)*1000/float64(total))) / 10
	}
	return map[string]any{"current": cur, "total": total, "percent": pct}
}

func (r *run) discovery(count int, items []any, meta map[string]any) {
	if len(items) > 200 {
		items = items[:200]
	}
	d := map[string]any{"event": "discovery", "phase": r.phase, "status": "discovered",
		"message": fmt.Sprintf("Discovered %d %s item(s) to synchronize", count, r.phase),
		"count":   count, "items": items, "progress": progress(0, count)}
	if meta != nil {
		d["metadata"] = meta
	}
	r.emit(proxbox.Event{Name: "discovery", Data: d})
}

// stage runs one stage with events around it.
func (r *run) stage(ctx context.Context, s proxbox.Stage, p proxbox.StageParams, full bool) *proxbox.StageResult {
	start := time.Now()
	r.p = p
	r.dry = p.DryRun
	r.phase = StepName(s)
	r.res = &proxbox.StageResult{Stage: s, OK: true, Counts: map[string]*proxbox.Counts{}}
	r.reported = nil
	before := r.nb.c.snapshot()
	step := StepName(s)
	r.emit(proxbox.Event{Name: "step", Data: map[string]any{"step": step, "status": "started",
		"message": "Starting " + step + " synchronization."}})
	count, msg, err := r.runStage(ctx, s)
	res := r.res
	if err != nil {
		res.OK = false
		res.Message = err.Error()
		r.emit(proxbox.Event{Name: "error", Data: map[string]any{"step": step, "status": "failed", "error": err.Error(), "detail": err.Error()}})
	} else {
		if msg == "" {
			msg = step + " sync completed."
		}
		res.Message = msg
	}
	for _, c := range r.clusters {
		if c.partial {
			res.Partial = true
		}
	}
	after := r.nb.c.snapshot()
	res.Requests = map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			res.Requests[k] = d
		}
	}
	var tot proxbox.Counts
	for _, c := range res.Counts {
		tot.Created += c.Created
		tot.Updated += c.Updated
		tot.Deleted += c.Deleted
		tot.Failed += c.Failed
		tot.Unchanged += c.Unchanged
		tot.Skipped += c.Skipped
	}
	status := "completed"
	if tot.Failed > 0 {
		status = "completed_with_errors"
	}
	if res.OK && tot.Failed+tot.Skipped > 0 {
		// honest status: the plugin only reads ok, so say it in its terms
		res.Partial = true
		res.Message = strings.TrimSuffix(res.Message, ".") + fmt.Sprintf(" (partial: %d failed, %d skipped; see failures and skipped).", tot.Failed, tot.Skipped)
	}
	r.emit(proxbox.Event{Name: "phase_summary", Data: map[string]any{"event": "phase_summary", "phase": step, "status": status,
		"message": fmt.Sprintf("%s sync completed: %d created, %d updated, %d deleted, %d unchanged, %d failed, %d not written", step, tot.Created, tot.Updated, tot.Deleted, tot.Unchanged, tot.Failed, tot.Skipped),
		// "skipped" keeps the Python backend's meaning (unchanged objects)
		"result": map[string]any{"created": tot.Created, "updated": tot.Updated, "deleted": tot.Deleted, "failed": tot.Failed,
			"skipped": tot.Unchanged, "not_written": tot.Skipped, "total": tot.Created + tot.Updated + tot.Deleted + tot.Unchanged + tot.Failed + tot.Skipped},
		"timing": map[string]any{"elapsed_ms": time.Since(start).Milliseconds()}}})
	if res.OK {
		done := map[string]any{"step": step, "status": "completed", "message": step + " synchronization finished.",
			"result": map[string]any{"count": count}}
		if full {
			done["duration_seconds"] = time.Since(start).Seconds()
		}
		r.emit(proxbox.Event{Name: "step", Data: done})
	}
	return res
}
