package sync

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestScaleNumbers records NetBox requests and wall time per stage for a
// first sync and a no-change re-sync (PROXBOX_SYNC_SCALE=s100|s1000).
func TestScaleNumbers(t *testing.T) {
	name := os.Getenv("PROXBOX_SYNC_SCALE")
	if name == "" {
		t.Skip("set PROXBOX_SYNC_SCALE=s100 or s1000 to record numbers")
	}
	sc, ok := pvemock.ByName(name)
	if !ok {
		t.Fatalf("unknown scenario %q", name)
	}
	e := newEnv(t, nil, sc)
	for _, label := range []string{"first sync", "no-change re-sync"} {
		e.nb.Reset()
		var rows []string
		var last time.Time
		var stepStart = map[string]int{}
		emit := func(ev proxbox.Event) {
			if ev.Name != "step" {
				return
			}
			step, _ := ev.Data["step"].(string)
			switch ev.Data["status"] {
			case "started":
				last = time.Now()
				stepStart[step] = e.nb.Total()
			case "completed":
				if d, ok := ev.Data["duration_seconds"].(float64); ok {
					rows = append(rows, fmt.Sprintf("| %s | %d | %.2f |", step, e.nb.Total()-stepStart[step], d))
				}
			}
		}
		start := time.Now()
		res, err := e.eng.FullUpdate(context.Background(), proxbox.DefaultStageParams(), emit)
		if err != nil || !res.OK {
			t.Fatalf("%v %+v", err, res)
		}
		_ = last
		t.Logf("%s %s: %d NetBox requests (%d writes), %.2fs; engine calls %d, minimum %d (ratio %.2f)\n| stage | requests | seconds |\n|---|---|---|\n%s",
			name, label, e.nb.Total(), len(e.writes()), time.Since(start).Seconds(), res.Requests, res.MinRequests,
			float64(e.nb.Total())/float64(max(1, res.MinRequests)), strings.Join(rows, "\n"))
	}
}
