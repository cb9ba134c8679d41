// Package typed is the whole fluent NetBox client: a netboxsdk.Client with
// every app's typed collections (nb.DCIM.Devices, nb.Virtualization.VirtualMachines,
// nb.Plugins.Proxbox, ...). Importing it compiles the models of every app; a
// program that uses a few apps imports their packages below netboxsdk/gen
// instead (virtualization.New(nb).VirtualMachines) and pays only for those.
package typed

import "github.com/proxbox-go/proxbox/netboxsdk"

// Client is a netboxsdk.Client with every app's typed collections.
type Client struct {
	*netboxsdk.Client
	Apps
}

// New returns a client for the NetBox at baseURL; see netboxsdk.New.
func New(baseURL string, opts ...netboxsdk.Option) (*Client, error) {
	c, err := netboxsdk.New(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	return Wrap(c), nil
}

// Wrap adds every app's typed collections to c.
func Wrap(c *netboxsdk.Client) *Client {
	return &Client{Client: c, Apps: NewApps(c)}
}
