package sync

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// A job is the netbox-proxbox plugin's run of the stages over one set of
// Proxmox endpoints: the plugin opens one stream per stage, one after the
// other, in its fixed stage order (proxbox.Stages, its _SYNC_STAGE_ORDER),
// and says nothing that ties them together. proxboxd recognises a job as
// consecutive stage streams (not per-VM, not dry runs) for the same endpoint
// set, each a stage later in that order than the previous one and starting
// within the job window of its end. A stage at or before the previous one
// starts a new job. The stages of a job share one run: the
// Proxmox reads are taken once (one consistent picture of the cluster for
// every stage) and each NetBox object type is read once and kept current by
// the engine's own writes, as a /full-update does within its one request.
//
// NetBox may change between two stages by anyone else (a user, a script,
// another sync): before a stage reuses the job's NetBox tables, the engine
// asks NetBox's changelog for changes since the previous check (one request
// when nothing changed) and drops the tables of every object type changed by
// a request that was not its own (X-Request-Id); they are read again.
//
// The snapshot is dropped when the job's last stage (backup-routines) has
// run, when an earlier stage comes (a new job starts), when a stage fails, when the window
// passes without a next stage, and when more than maxJobs jobs are kept
// (the oldest goes first).

// DefaultJobWindow is how long a job's snapshot waits for the next stage.
const DefaultJobWindow = 2 * time.Minute

// maxJobs bounds the snapshots kept at once (memory).
const maxJobs = 4

type job struct {
	key   string
	r     *run
	at    int // position in proxbox.Stages of the last stage run
	last  time.Time
	timer *time.Timer

	mu   gosync.Mutex
	ours map[string]string // X-Request-Id of the job's own writes -> the object type written
	date time.Time         // latest NetBox Date header seen (NetBox's clock)
	mark time.Time         // changes after this (NetBox clock) are checked before reuse
	done map[int]bool      // changelog rows already acted on (the mark keeps a second of margin)
}

// observe records the NetBox clock of one of the job's own responses.
func (j *job) observe(date time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if date.After(j.date) {
		if j.mark.IsZero() {
			// the first answer of the job: changes from here on are checked
			j.mark = date.Add(-time.Second)
		}
		j.date = date
	}
}

// wrote records that the job's request requestID wrote objects of typ.
func (j *job) wrote(requestID, typ string) {
	if requestID == "" {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ours[requestID] = typ
}

// known reports whether the run already knows a changelog row: a change of
// the object type its own request wrote. NetBox also records what a write
// did to other objects (a deleted IP nulls its VM's primary_ip4, a deleted
// cluster updates its devices) under the same request id: the run did not
// see those, so they count as foreign.
func (j *job) known(c change) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	typ, ok := j.ours[c.RequestID]
	return ok && typ == c.Type
}

// jobs holds the open jobs by endpoint set.
type jobs struct {
	mu     gosync.Mutex
	m      map[string]*job
	window time.Duration
}

func newJobs(window time.Duration) *jobs { return &jobs{m: map[string]*job{}, window: window} }

// jobKey names the endpoint set of a run and the parameters that change
// what is read (the plugin sends the same settings to every stage of a job).
func jobKey(targets []proxbox.ProxmoxTarget, p proxbox.StageParams) string {
	keys := make([]string, 0, len(targets))
	for _, t := range targets {
		keys = append(keys, endpointKey(t))
	}
	sort.Strings(keys)
	return fmt.Sprintf("%s|agent-names=%t|no-link-local=%t|primary=%s", strings.Join(keys, ","),
		p.UseGuestAgentInterfaceName, p.IgnoreIPv6LinkLocal, p.PrimaryIPPreference)
}

// resume returns the open job of key that stage can continue, removing it
// from the cache while the stage runs (the endpoint lock is held); nil when
// there is none: a stage not later in the plugin's order starts a new job.
func (js *jobs) resume(key string, stage proxbox.Stage, now time.Time) *job {
	if js == nil || js.window <= 0 {
		return nil
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.m[key]
	if j == nil {
		return nil
	}
	delete(js.m, key)
	j.timer.Stop()
	if stageIndex(stage) <= j.at || now.Sub(j.last) > js.window {
		return nil
	}
	return j
}

// keep puts j back after its stage ran, unless the job is over.
func (js *jobs) keep(j *job, stage proxbox.Stage, res *proxbox.StageResult, now time.Time) {
	if js == nil || js.window <= 0 {
		return
	}
	j.at = stageIndex(stage)
	j.last = now
	if res == nil || !res.OK || j.at >= len(proxbox.Stages)-1 {
		return // failed, or the plugin's last stage ran: the job is over
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if len(js.m) >= maxJobs {
		var oldest *job
		for _, o := range js.m {
			if oldest == nil || o.last.Before(oldest.last) {
				oldest = o
			}
		}
		oldest.timer.Stop()
		delete(js.m, oldest.key)
	}
	js.m[j.key] = j
	j.timer = time.AfterFunc(js.window, func() {
		js.mu.Lock()
		defer js.mu.Unlock()
		if js.m[j.key] == j {
			delete(js.m, j.key) // nobody came: free the snapshot
		}
	})
}

// forgetNetBox drops what the run knows of the NetBox object types in
// changed (all of it when changed is nil), so the next stage reads them again.
func (r *run) forgetNetBox(changed map[string]bool) {
	all := changed == nil
	hit := func(types ...string) bool {
		if all {
			return true
		}
		for _, t := range types {
			if changed[t] {
				return true
			}
		}
		return false
	}
	for name, t := range r.tables {
		if all || changed[t.k.Type] {
			delete(r.tables, name)
		}
	}
	if hit(kTag.Type, kCF.Type) {
		r.prepared = false
		r.tagIDs = map[string]int{}
		r.cfOK = map[string]bool{}
	}
	if hit(kSite.Type, kClusterType.Type, kRole.Type, kManufacturer.Type, kDeviceType.Type, kCluster.Type, kDevice.Type) {
		r.depsDone = false
		delete(r.tables, "devices")
	}
	if hit(kVRF.Type) {
		r.vrfIDs = nil
	}
	if hit(kPEndpoint.Type) {
		for _, c := range r.clusters {
			c.endpoint = 0
		}
	}
	if hit(kStorage.Type) {
		r.plugin = nil
	}
}

// refreshNetBox runs before a stage reuses a job's run: it asks the
// changelog what changed since the job's mark by requests not the job's own,
// and forgets those object types. Without an answer it forgets everything.
func (r *run) refreshNetBox(ctx context.Context, j *job) {
	j.mu.Lock()
	since := j.mark
	j.mu.Unlock()
	changes, err := r.nb.Changes(ctx, since)
	if err != nil {
		r.e.log.Warn("NetBox changelog unreadable; the stage reads NetBox again", "err", err)
		r.forgetNetBox(nil)
		return
	}
	changed := map[string]bool{}
	for _, c := range changes {
		if !j.done[c.ID] && !j.known(c) {
			changed[c.Type] = true
		}
	}
	j.mu.Lock()
	if j.done == nil {
		j.done = map[int]bool{}
	}
	for _, c := range changes {
		j.done[c.ID] = true
	}
	j.mu.Unlock()
	if len(changed) > 0 {
		r.e.log.Info("NetBox changed between stages of a job; re-reading those types", "types", slices.Sorted(maps.Keys(changed)))
		r.forgetNetBox(changed)
	}
	j.mu.Lock()
	j.mark = j.date.Add(-time.Second) // the changelog answer's clock, at the latest
	j.mu.Unlock()
}

// observed returns ctx with the job's NetBox response observer (NetBox's
// clock from each Date header), and sets the run's write recorder.
func (j *job) observed(ctx context.Context, r *run) context.Context {
	r.nb.wrote = j.wrote
	return netboxsdk.WithResponseObserver(ctx, func(resp *netboxsdk.Response) {
		if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			j.observe(date)
		}
	})
}

// stageIndex is the position of stage in the plugin's order.
func stageIndex(stage proxbox.Stage) int {
	for i, s := range proxbox.Stages {
		if s == stage {
			return i
		}
	}
	return len(proxbox.Stages)
}
