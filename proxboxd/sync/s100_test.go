package sync

import (
	"testing"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestS100FullSyncThenZeroWrites(t *testing.T) {
	e := newEnv(t, nil, pvemock.S100())
	start := time.Now()
	res := e.full(proxbox.DefaultStageParams())
	t.Logf("first sync %v, %d requests\n%s", time.Since(start), e.nb.Total(), summary(res))
	e.nb.Reset()
	start = time.Now()
	res2 := e.full(proxbox.DefaultStageParams())
	t.Logf("second sync %v, %d requests\n%s", time.Since(start), e.nb.Total(), summary(res2))
	if w := e.writes(); len(w) != 0 {
		t.Errorf("second sync wrote %d times: %v", len(w), w[:min(len(w), 20)])
	}
}
