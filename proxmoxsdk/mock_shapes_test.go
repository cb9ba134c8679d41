package proxmoxsdk_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestMockServesOverrideFields: pvemock answers with the fields PVE sends
// beyond its own schema (the overrides), and they decode into typed fields
// of the navigator's models, not into Extra.
func TestMockServesOverrideFields(t *testing.T) {
	ctx := context.Background()
	m := pvemock.New(pvemock.S100())
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"/storage":                               {"storage", "type", "content", "digest"},
		"/nodes":                                 {"id", "type", "disk", "maxdisk", "uptime"},
		"/nodes/pve1/status":                     {"uptime", "kversion", "idle", "wait", "swap", "ksm", "cpuinfo", "memory", "rootfs", "loadavg"},
		"/nodes/pve1/network/vmbr0":              {"address", "cidr", "gateway", "bridge_ports", "bridge_stp", "bridge_fd", "active", "autostart", "families"},
		"/nodes/pve1/qemu/100/status/current":    {"balloon", "ballooninfo", "blockstat", "nics", "freemem", "disk", "proxmox-support", "running-qemu"},
		"/pools/production":                      {"members"},
		"/nodes/pve1/storage/local/status":       {"type", "content", "total", "used", "avail"},
		"/nodes/pve1/storage/nfs-backup/content": {"volid", "content", "format", "size"},
	}
	for path, fields := range want {
		raw, err := px.CallRaw(ctx, "GET", path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			var list []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
				t.Fatalf("%s: %s", path, raw)
			}
			obj = list[0]
		}
		for _, f := range fields {
			if _, ok := obj[f]; !ok {
				t.Errorf("%s: no %q in %s", path, f, raw)
			}
		}
	}
	st, err := px.StorageIndex().Get(ctx, nil)
	if err != nil || len(st) == 0 || st[0].Type.Get() == "" || st[0].Content.Get() == "" || len(st[0].Extra) != 0 {
		t.Errorf("storage: %+v, %v", st, err)
	}
	ns, err := px.Nodes("pve1").Status().Get(ctx)
	if err != nil || ns.Uptime.Get() == 0 || ns.Kversion.Get() == "" || ns.Swap == nil || ns.Cpuinfo == nil || ns.Cpuinfo.Mhz.Get() == "" || len(ns.Extra) != 0 {
		t.Errorf("node status: %+v, %v", ns, err)
	}
	qs, err := px.Nodes("pve1").Qemu(100).Status().Current().Get(ctx)
	if err != nil || qs.Balloon.Get() == 0 || qs.Ballooninfo == nil || qs.Ballooninfo.Actual.Get() == 0 || len(qs.Extra) != 0 {
		t.Errorf("qemu status: %+v, %v", qs, err)
	}
	pool, err := px.Pools("production").Get(ctx, nil)
	if err != nil || pool.Members == nil || len(*pool.Members) == 0 || (*pool.Members)[0].Status.Get() == "" || len((*pool.Members)[0].Extra) != 0 {
		t.Errorf("pool: %+v, %v", pool, err)
	}
	nets, err := px.Nodes("pve1").NetworkIndex().Get(ctx, nil)
	found := false
	for _, n := range nets {
		if n.Iface.Get() == "vmbr0" && n.Cidr.Get() != "" && n.BridgeStp.Get() == "off" {
			found = true
		}
	}
	if err != nil || !found {
		t.Errorf("network: vmbr0 with cidr and bridge_stp not found in %+v, %v", nets, err)
	}
}
