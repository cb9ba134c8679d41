package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	gosync "sync"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

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
	pveOpen   func(t proxbox.ProxmoxTarget) *pve.Reader

	vrfs     map[string]int
	vrfNames func(ctx context.Context) (map[string]string, error)

	mu    gosync.Mutex
	locks map[string]chan struct{}

	refusals *refusalMemory // writes NetBox refused (refusals.go)
	jobs     *jobs          // the plugin's jobs in progress (job.go)
}

var _ proxbox.Syncer = (*Engine)(nil)

// New returns an Engine reading endpoints through conn.
func New(conn proxbox.Connector, opts ...Option) *Engine {
	e := &Engine{
		conn: conn, log: slog.Default(), policies: defaultPolicies(), batch: 50, writeConc: 1, nbConc: 4,
		now: time.Now, locks: map[string]chan struct{}{}, vrfs: map[string]int{}, refusals: newRefusalMemory(),
		jobs: newJobs(DefaultJobWindow),
	}
	e.nbOpen = func(ctx context.Context) (netboxAPI, error) {
		c, err := conn.NetBox(ctx)
		if err != nil {
			return nil, err
		}
		return newNetBoxAdapter(c), nil
	}
	e.pveOpen = func(t proxbox.ProxmoxTarget) *pve.Reader { return pve.NewReader(t.Client) }
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

// RunStage runs one stage and reports its result; see notes in doc.go. The
// stages of one plugin job share a read snapshot (job.go).
func (e *Engine) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	if emit == nil {
		emit = func(proxbox.Event) {}
	}
	p := normParams(req.Params)
	if req.VMID != 0 {
		p.NetBoxVMIDs = append(p.NetBoxVMIDs, req.VMID)
	}
	nb, targets, unlock, err := e.connect(ctx, p, emit, StepName(req.Stage))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if req.VMID != 0 || len(p.NetBoxVMIDs) > 0 || p.DryRun || e.jobs.window <= 0 {
		// per-VM and scoped runs read part of NetBox, dry runs write nothing:
		// none of them is part of a job
		return e.newRun(ctx, nb, targets, emit).stage(ctx, req.Stage, p, false), nil
	}
	key := jobKey(targets, p)
	j := e.jobs.resume(key, req.Stage, e.now())
	if j != nil {
		j.r.emit = emit
		ctx = j.observed(ctx, j.r)
		j.r.refreshNetBox(ctx, j)
	} else {
		j = &job{key: key, at: -1, ours: map[string]string{}}
		j.r = e.newRun(ctx, nb, targets, emit)
		ctx = j.observed(ctx, j.r)
	}
	res := j.r.stage(ctx, req.Stage, p, false)
	e.jobs.keep(j, req.Stage, res, e.now())
	return res, nil
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

// open connects to NetBox and the Proxmox endpoints, takes the locks and
// starts a run.
func (e *Engine) open(ctx context.Context, p proxbox.StageParams, emit proxbox.Emitter, step string) (*run, func(), error) {
	nb, targets, unlock, err := e.connect(ctx, p, emit, step)
	if err != nil {
		return nil, nil, err
	}
	return e.newRun(ctx, nb, targets, emit), unlock, nil
}

// connect opens NetBox, resolves the Proxmox endpoints and takes their locks.
func (e *Engine) connect(ctx context.Context, p proxbox.StageParams, emit proxbox.Emitter, step string) (netboxAPI, []proxbox.ProxmoxTarget, func(), error) {
	nb, err := e.nbOpen(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("netbox: %w", err)
	}
	targets, err := e.conn.Proxmox(ctx, p.ProxmoxEndpointIDs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("proxmox endpoints: %w", err)
	}
	unlock, err := e.lock(ctx, targets, emit, step)
	if err != nil {
		return nil, nil, nil, err
	}
	return nb, targets, unlock, nil
}

// newRun starts the state of one sync over targets.
func (e *Engine) newRun(ctx context.Context, nb netboxAPI, targets []proxbox.ProxmoxTarget, emit proxbox.Emitter) *run {
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
	return r
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
