package sync

import (
	"testing"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

func TestDbg(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	e.full(proxbox.DefaultStageParams())
	for _, i := range e.list(kVMIface.Path, nil)[:3] {
		t.Logf("%v %v %v", i["name"], i["mode"], i["untagged_vlan"])
	}
}
