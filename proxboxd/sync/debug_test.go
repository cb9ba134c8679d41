package sync

import (
	"encoding/json"
	"testing"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestDebugPlan(t *testing.T) {
	e := newEnv(t, nil, pvemock.S100())
	e.full(proxbox.DefaultStageParams())
	p := proxbox.DefaultStageParams()
	p.DryRun = true
	res := e.full(p)
	for _, s := range res.Stages {
		for i, c := range s.Plan {
			if i < 2 {
				b, _ := json.Marshal(c)
				t.Logf("%s %s", s.Stage, b)
			}
		}
	}
}
