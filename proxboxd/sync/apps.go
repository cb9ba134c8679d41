package sync

import (
	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/core"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/dcim"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/extras"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/ipam"
	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

// apps are the generated NetBox apps the engine writes to (only these are
// compiled in: netboxsdk's per-app packages).
type apps struct {
	core   *core.App
	dcim   *dcim.App
	extras *extras.App
	ipam   *ipam.App
	virt   *virtualization.App
	plugin *pbplugin.App
}

func newApps(c *netboxsdk.Client) *apps {
	return &apps{core: core.New(c), dcim: dcim.New(c), extras: extras.New(c), ipam: ipam.New(c),
		virt: virtualization.New(c), plugin: pbplugin.New(c)}
}

// nbgen holds the generated collections without a client: kinds are declared
// from it (path and request type from the schema, never a string of ours)
// and bound to the engine's client with Collection.On.
var nbgen = newApps(nil)
