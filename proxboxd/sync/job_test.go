package sync

import (
	"context"
	"strings"
	"testing"
	"time"

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
		e := newEnv(t, nil, jobScenario())
		if !window {
			e.eng = New(e.conn, WithClock(func() time.Time { return e.clock }), WithJobWindow(0))
		}
		e.pluginJob() // first sync
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
