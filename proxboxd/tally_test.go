package proxbox_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// stage is one stage's tally built from (type, id, name, action) records.
func stage(recs ...any) *proxbox.StageResult {
	t := proxbox.NewTally()
	for i := 0; i+3 < len(recs); i += 4 {
		t.Add(recs[i].(string), recs[i+1].(int), recs[i+2].(string), recs[i+3].(proxbox.Action))
	}
	return &proxbox.StageResult{Objects: t}
}

const (
	dev = "dcim.device"
	vm  = "virtualization.virtualmachine"
	ifc = "virtualization.vminterface"
)

// A first sync: the devices stage creates 3 devices, every later stage reads
// them unchanged; the VM stage creates 2 VMs, the IP stage patches their
// primary IPs. Each object counts once: created.
func TestRunTallyCountsEachObjectOnce(t *testing.T) {
	devices := stage(dev, 1, "pve1", proxbox.ActionCreated, dev, 2, "pve2", proxbox.ActionCreated, dev, 3, "pve3", proxbox.ActionCreated)
	results := []*proxbox.StageResult{devices}
	for range 10 {
		results = append(results, stage(dev, 1, "pve1", proxbox.ActionUnchanged, dev, 2, "pve2", proxbox.ActionUnchanged, dev, 3, "pve3", proxbox.ActionUnchanged))
	}
	results = append(results,
		stage(vm, 10, "web", proxbox.ActionCreated, vm, 11, "db", proxbox.ActionCreated),
		stage(vm, 10, "web", proxbox.ActionUpdated, vm, 11, "db", proxbox.ActionUpdated),
		nil, // a stage that returned no result
	)
	got := proxbox.RunTally(results).Counts()
	assert.Equal(t, proxbox.Counts{Created: 3}, *got[dev])
	assert.Equal(t, proxbox.Counts{Created: 2}, *got[vm])
	assert.Len(t, got, 2)

	// the re-sync: nothing changes, each device once unchanged
	results = nil
	for range 11 {
		results = append(results, stage(dev, 1, "pve1", proxbox.ActionUnchanged, dev, 2, "pve2", proxbox.ActionUnchanged, dev, 3, "pve3", proxbox.ActionUnchanged))
	}
	assert.Equal(t, proxbox.Counts{Unchanged: 3}, *proxbox.RunTally(results).Counts()[dev])
}

// Within one stage too: an interface created, then patched with its primary
// MAC, is one created interface.
func TestTallyOncePerStage(t *testing.T) {
	s := stage(ifc, 5, "web/net0", proxbox.ActionCreated, ifc, 6, "web/net1", proxbox.ActionCreated,
		ifc, 5, "web/net0", proxbox.ActionUpdated, ifc, 6, "web/net1", proxbox.ActionUpdated, ifc, 7, "db/net0", proxbox.ActionUpdated)
	assert.Equal(t, proxbox.Counts{Created: 2, Updated: 1}, *s.Objects.Counts()[ifc])
}

// Actions keeps every record: the writes a stage made, for request floors.
func TestTallyActions(t *testing.T) {
	s := stage(ifc, 5, "web/net0", proxbox.ActionCreated, ifc, 5, "web/net0", proxbox.ActionUpdated, dev, 1, "pve1", proxbox.ActionUnchanged)
	assert.Equal(t, proxbox.Counts{Created: 1, Updated: 1}, *s.Objects.Actions()[ifc])
	run := proxbox.RunTally([]*proxbox.StageResult{s, s})
	assert.Equal(t, proxbox.Counts{Created: 2, Updated: 2}, *run.Actions()[ifc])
	assert.Equal(t, proxbox.Counts{Unchanged: 2}, *run.Actions()[dev])
	assert.Equal(t, proxbox.Counts{Created: 1}, *run.Counts()[ifc])
}

func TestTallyPrecedence(t *testing.T) {
	order := []proxbox.Action{proxbox.ActionUnchanged, proxbox.ActionSkipped, proxbox.ActionUpdated,
		proxbox.ActionCreated, proxbox.ActionDeleted, proxbox.ActionFailed}
	for i, lo := range order {
		for _, hi := range order[i:] {
			for _, seq := range [][]proxbox.Action{{lo, hi}, {hi, lo}} {
				tl := proxbox.NewTally()
				for _, a := range seq {
					tl.Add(vm, 1, "web", a)
				}
				c := tl.Counts()[vm]
				want := proxbox.NewTally()
				want.Add(vm, 1, "web", hi)
				assert.Equal(t, want.Counts()[vm], c, "%v then %v", seq[0], seq[1])
			}
		}
	}
}

// Failures and skips are reported by name: they are the object of that name
// when one was seen with an id (before or after), else objects of their own.
func TestTallyNamesJoinIDs(t *testing.T) {
	tl := proxbox.NewTally()
	tl.Add(vm, 0, "web", proxbox.ActionFailed) // a failed write, before its object was seen
	tl.Add(vm, 10, "web", proxbox.ActionUnchanged)
	tl.Add(vm, 11, "db", proxbox.ActionUnchanged)
	tl.Add(vm, 0, "db", proxbox.ActionFailed) // after
	tl.Add(vm, 0, "ghost", proxbox.ActionSkipped)
	tl.Add(vm, 0, "ghost", proxbox.ActionSkipped)
	tl.Add(vm, 0, "", proxbox.ActionFailed) // anonymous: its own object
	tl.Add(vm, -1, "new", proxbox.ActionCreated)
	assert.Equal(t, proxbox.Counts{Failed: 3, Skipped: 1, Created: 1}, *tl.Counts()[vm])

	// across stages the same holds
	a, b := proxbox.NewTally(), proxbox.NewTally()
	a.Add(dev, 0, "pve1", proxbox.ActionFailed)
	b.Add(dev, 1, "pve1", proxbox.ActionCreated)
	a.Merge(b)
	assert.Equal(t, proxbox.Counts{Failed: 1}, *a.Counts()[dev])
}

func TestTallyNilAndConcurrent(t *testing.T) {
	var nilT *proxbox.Tally
	nilT.Add(vm, 1, "x", proxbox.ActionCreated)
	nilT.Merge(proxbox.NewTally())
	assert.Empty(t, nilT.Counts())
	assert.Empty(t, proxbox.RunTally([]*proxbox.StageResult{{}, nil}).Counts())

	tl := proxbox.NewTally()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				tl.Add(vm, w*100+i+1, "", proxbox.ActionCreated)
				tl.Add(dev, 1, "pve1", proxbox.ActionUnchanged)
			}
		}()
	}
	other := proxbox.NewTally()
	other.Add(vm, 1, "", proxbox.ActionUpdated)
	wg.Add(1)
	go func() { defer wg.Done(); tl.Merge(other) }()
	wg.Wait()
	c := tl.Counts()
	require.Contains(t, c, vm)
	assert.Equal(t, 800, c[vm].Created)
	assert.Equal(t, proxbox.Counts{Unchanged: 1}, *c[dev])
}
