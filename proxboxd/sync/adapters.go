package sync

import (
	"context"
	"errors"
	"net/url"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// pveAdapter implements pveAPI over *proxmoxsdk.Client.
type pveAdapter struct{ c *proxmoxsdk.Client }

func newPVEAdapter(c *proxmoxsdk.Client) pveAPI { return pveAdapter{c} }

func (a pveAdapter) Get(ctx context.Context, path string, params url.Values, out any) error {
	if a.c == nil {
		return errors.New("proxmox client not configured")
	}
	var p any
	if len(params) > 0 {
		p = params
	}
	return a.c.Call(ctx, "GET", path, p, out)
}
