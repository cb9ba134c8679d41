package sync

import (
	"context"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// jobScenario is small enough for a unit test and has every kind of read.
func jobScenario() pvemock.Scenario {
	return pvemock.Scenario{Name: "jobs", Nodes: 2, QEMU: 8, LXC: 2, NICs: 2, Disks: 2, Seed: 17}
}

// pluginJob runs the 12 stages one stream each, as the plugin's job does.
func (e *env) pluginJob() []*proxbox.StageResult {
	e.t.Helper()
	var out []*proxbox.StageResult
	for _, s := range proxbox.Stages {
		res, err := e.eng.RunStage(context.Background(), proxbox.StageRequest{Stage: s}, nil)
		require.NoError(e.t, err)
		require.True(e.t, res.OK, "stage %s: %s", s, res.Message)
		for _, f := range res.Failures {
			e.t.Errorf("stage %s: failure %s %q: %s", s, f.ObjectType, f.Name, f.Detail)
		}
		out = append(out, res)
	}
	return out
}

// perGuestReads sums the mock's counters of per-guest paths ({vmid}) and
// returns the largest count of one template.
func perGuestReads(m *pvemock.Mock) (total, maxOne int64, worst string) {
	for k, n := range m.Requests() {
		if strings.Contains(k, "{vmid}") {
			total += n
			if n > maxOne {
				maxOne, worst = n, k
			}
		}
	}
	return
}

// The stages of one plugin job share a snapshot: each guest's config, agent
// data and snapshot list are read at most once per job, and NetBox is read
// less than by 12 independent stages; a re-sync job writes nothing.
func TestPluginJobReadsEachThingOnce(t *testing.T) {
	guests := int64(jobScenario().QEMU + jobScenario().LXC)
	measure := func(t *testing.T, window bool) (pve int64, nbGets int) {
		var mu gosync.Mutex
		clock := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		e := newEnv(t, []netboxtest.Option{netboxtest.WithClock(now)}, jobScenario())
		if !window {
			e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }), WithJobWindow(0))
		}
		e.pluginJob() // first sync
		mu.Lock()
		clock = clock.Add(10 * time.Second) // the next job, seconds later
		mu.Unlock()
		m := e.conn.mocks[0]
		m.ResetRequests()
		before := len(e.nb.Requests())
		e.pluginJob() // re-sync, a new job
		log := e.nb.Requests()[before:]
		for _, r := range log {
			assert.Equal(t, "GET", r.Method, "a re-sync job writes nothing: %s %s", r.Method, r.Path)
		}
		_, maxOne, worst := perGuestReads(m)
		if window {
			assert.LessOrEqual(t, maxOne, guests, "%s read more than once per guest in one job", worst)
		}
		for _, n := range m.Requests() {
			pve += n
		}
		for _, r := range log {
			if r.Method == "GET" {
				nbGets++
			}
		}
		return pve, nbGets
	}
	pveJob, nbJob := measure(t, true)
	pveApart, nbApart := measure(t, false)
	t.Logf("re-sync job: %d PVE requests, %d NetBox GETs; 12 separate stages: %d PVE, %d NetBox GETs", pveJob, nbJob, pveApart, nbApart)
	assert.Less(t, pveJob, pveApart)
	assert.Less(t, nbJob, nbApart)
}

// A change made in NetBox by someone else between two stages of one job is
// seen by the next stage: here a VM deleted after the virtual-machines
// stage. The vm-disks stage re-reads the VMs (the changelog names the type)
// and reports the guest as not in NetBox instead of writing disks for a VM
// that is gone.
func TestJobSeesChangesByOthersBetweenStages(t *testing.T) {
	e := newEnv(t, nil, jobScenario())
	e.pluginJob() // first sync: all 12 stages, the job ends
	ctx := context.Background()
	res, err := e.eng.RunStage(ctx, proxbox.StageRequest{Stage: proxbox.StageVirtualMachines}, nil)
	require.NoError(t, err)
	require.True(t, res.OK)

	vm := e.vmByVMID(100, "qemu")
	require.NotNil(t, vm)
	err = e.conn.nb.Objects(kVM.Path).Delete(ctx, idOf(vm))
	require.NoError(t, err)

	before := len(e.nb.Requests())
	res, err = e.eng.RunStage(ctx, proxbox.StageRequest{Stage: proxbox.StageVMDisks}, nil)
	require.NoError(t, err)
	assert.Empty(t, res.Failures, "no disk written for the deleted VM")
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.Name)
	}
	assert.Contains(t, strings.Join(skipped, "\n"), "qemu/100", "the guest whose VM was deleted is reported")
	var reads []string
	for _, r := range e.nb.Requests()[before:] {
		reads = append(reads, r.Method+" "+r.Path)
	}
	assert.Contains(t, reads, "GET "+kVM.Path, "the VMs were read again")
	assert.Contains(t, reads, "GET /api/core/object-changes/", "the changelog was asked")
}

// Without changes by others the next stage of a job reads no NetBox type it
// already has: one changelog request, then only what the stage itself needs.
func TestJobReusesNetBoxWhenNothingChanged(t *testing.T) {
	// NetBox's clock: the previous job's writes are seconds old when the next
	// job starts, as with the plugin (the changelog check keeps a second of
	// margin)
	var mu gosync.Mutex
	clock := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e := newEnv(t, []netboxtest.Option{netboxtest.WithClock(now)}, jobScenario())
	e.pluginJob()
	mu.Lock()
	clock = clock.Add(10 * time.Second)
	mu.Unlock()
	ctx := context.Background()
	_, err := e.eng.RunStage(ctx, proxbox.StageRequest{Stage: proxbox.StageVirtualMachines}, nil)
	require.NoError(t, err)
	before := len(e.nb.Requests())
	res, err := e.eng.RunStage(ctx, proxbox.StageRequest{Stage: proxbox.StageVMDisks}, nil)
	require.NoError(t, err)
	require.True(t, res.OK)
	for _, r := range e.nb.Requests()[before:] {
		assert.NotEqual(t, kVM.Path, r.Path, "the VMs are not read again")
		assert.NotEqual(t, kTag.Path, r.Path, "the tags are not read again")
	}
}
