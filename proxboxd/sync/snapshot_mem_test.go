package sync

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestJobSnapshotMemory measures what a plugin job's read snapshot holds
// for a scenario (PROXBOX_SNAPSHOT_SCENARIO=s5000; skipped otherwise: a
// first sync of S5000 into the in-memory NetBox takes minutes). It syncs
// once, then runs a re-sync job's stages and compares the live heap with the
// job's snapshot held (after its 11th stage) and dropped (after its 12th).
//
//	PROXBOX_SNAPSHOT_SCENARIO=s5000 go test -run TestJobSnapshotMemory -v -timeout 60m ./proxboxd/sync/
func TestJobSnapshotMemory(t *testing.T) {
	name := os.Getenv("PROXBOX_SNAPSHOT_SCENARIO")
	if name == "" {
		t.Skip("set PROXBOX_SNAPSHOT_SCENARIO (s100, s1000, s5000) to measure")
	}
	sc, ok := pvemock.ByName(name)
	require.True(t, ok, "unknown scenario %q", name)
	e := newEnv(t, nil, sc)
	ctx := context.Background()
	start := time.Now()
	e.pluginJob()
	t.Logf("%s first sync (in-memory NetBox): %s", sc.Name, time.Since(start).Round(time.Second))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	start = time.Now()
	for _, s := range proxbox.Stages[:len(proxbox.Stages)-1] {
		res, err := e.eng.RunStage(ctx, proxbox.StageRequest{Stage: s}, nil)
		require.NoError(t, err)
		require.True(t, res.OK, "%s: %s", s, res.Message)
	}
	held := heap()
	res, err := e.eng.RunStage(ctx, proxbox.StageRequest{Stage: proxbox.Stages[len(proxbox.Stages)-1]}, nil)
	require.NoError(t, err)
	require.True(t, res.OK)
	resync := time.Since(start)
	dropped := heap()
	t.Logf("%s re-sync job (in-memory NetBox): %s; live heap: %.1f MiB before, %.1f MiB with the job's snapshot, %.1f MiB after it ended: snapshot %.1f MiB",
		sc.Name, resync.Round(time.Millisecond), mib(before), mib(held), mib(dropped), mib(held)-mib(dropped))
	require.Less(t, mib(held)-mib(dropped), 300.0, "the job snapshot stays under 300 MiB")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
