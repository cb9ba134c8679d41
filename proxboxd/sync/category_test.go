package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Errors are classified by type, not by the words in their message: names
// that contain status codes or keywords do not change the category.
func TestCategoryByTypeNotByMessageText(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, "unknown"},
		{"deadline in a VM named web400", fmt.Errorf("create web400: %w", context.DeadlineExceeded), "timeout"},
		{"netbox 400", fmt.Errorf("vm web404: %w", &netboxsdk.APIError{StatusCode: 400}), "validation"},
		{"netbox 401", &netboxsdk.APIError{StatusCode: 401}, "authentication"},
		{"netbox 403", &netboxsdk.APIError{StatusCode: 403}, "permission"},
		{"netbox 404", &netboxsdk.APIError{StatusCode: 404}, "not_found"},
		{"netbox 429", &netboxsdk.APIError{StatusCode: 429}, "rate_limit"},
		{"netbox 500 with 'timeout' in its text", &netboxsdk.APIError{StatusCode: 500, Detail: "timeout 403 not found"}, "internal"},
		{"netbox unreachable", &netboxsdk.TransportError{Method: "GET", URL: "http://nb/api/", Err: errors.New("refused")}, "connection"},
		{"pve 403", fmt.Errorf("read config: %w", &proxmoxsdk.APIError{StatusCode: 403, Message: "Permission check failed"}), "permission"},
		{"pve 401", &proxmoxsdk.APIError{StatusCode: 401}, "authentication"},
		{"pve 429", &proxmoxsdk.APIError{StatusCode: 429}, "rate_limit"},
		{"node offline", &nodeOfflineError{node: "pve-400"}, "connection"},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, "connection"},
		{"refused earlier", fmt.Errorf("vm x: %w", ErrRefusedEarlier), "validation"},
		{"plain text that looks like a status", errors.New("unauthorized 401 forbidden 403 404 429 connect dial"), "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, category(tc.err))
		})
	}
}
