package netboxtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// TestDuplicateIPsAsNetBox: NetBox refuses a second IP with the same host
// address in the global table and in a VRF with enforce_unique, whatever the
// masks; a VRF without enforce_unique, other VRFs, and two IPs of a
// non-unique role (vip, anycast, …) may share it.
func TestDuplicateIPsAsNetBox(t *testing.T) {
	_, nb := newServer(t)
	ctx := context.Background()
	ips, vrfs := nb.Objects("/api/ipam/ip-addresses/"), nb.Objects("/api/ipam/vrfs/")
	strict, err := vrfs.Create(ctx, netboxsdk.Object{"name": "strict"})
	if err != nil {
		t.Fatal(err)
	}
	loose, err := vrfs.Create(ctx, netboxsdk.Object{"name": "loose", "enforce_unique": false})
	if err != nil {
		t.Fatal(err)
	}
	create := func(addr string, extra netboxsdk.Object) error {
		o := netboxsdk.Object{"address": addr}
		for k, v := range extra {
			o[k] = v
		}
		_, err := ips.Create(ctx, o)
		return err
	}
	refused := func(err error, table string) {
		t.Helper()
		var ae *netboxsdk.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(err.Error(), "Duplicate IP address found in "+table) {
			t.Errorf("want a 400 duplicate in %s, got %v", table, err)
		}
	}
	for _, step := range []struct {
		addr  string
		extra netboxsdk.Object
		table string // "" = accepted
	}{
		{"10.0.0.1/24", nil, ""},
		{"10.0.0.1/32", nil, "global table"},
		{"10.0.0.1/32", netboxsdk.Object{"vrf": strict["id"]}, ""},
		{"10.0.0.1/16", netboxsdk.Object{"vrf": strict["id"]}, "VRF strict"},
		{"10.0.0.1/32", netboxsdk.Object{"vrf": loose["id"]}, ""},
		{"10.0.0.1/32", netboxsdk.Object{"vrf": loose["id"]}, ""},
		{"10.0.0.9/32", netboxsdk.Object{"role": "vip"}, ""},
		{"10.0.0.9/32", netboxsdk.Object{"role": "vip"}, ""},
		{"10.0.0.9/32", nil, "global table"},
	} {
		err := create(step.addr, step.extra)
		if step.table == "" && err != nil {
			t.Errorf("%s %v: %v", step.addr, step.extra, err)
		}
		if step.table != "" {
			refused(err, step.table)
		}
	}
}
