package proxmoxsdk_test

import (
	"context"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// BenchmarkNavigatorDecodeVMConfigs measures the typed navigator's decode
// of the configs of 1,000 VMs (pvemock S1000) from canned responses: one
// op is 1,000 Config().Get calls, with no mock work inside the loop.
func BenchmarkNavigatorDecodeVMConfigs(b *testing.B) {
	ctx := context.Background()
	m := pvemock.New(pvemock.S1000())
	src, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	if err != nil {
		b.Fatal(err)
	}
	type vm struct {
		node string
		vmid int
	}
	var vms []vm
	bodies := map[string][]byte{}
	for _, id := range m.VMIDs() {
		node, kind, ok := m.GuestNode(id)
		if !ok || kind != "qemu" {
			continue
		}
		n := src.Nodes(node).Qemu(id).Config()
		data, err := n.GetRaw(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		bodies[n.Path()] = append(append([]byte(`{"data":`), data...), '}')
		vms = append(vms, vm{node, id})
	}
	if len(vms) != 1000 {
		b.Fatalf("%d VMs, want 1000", len(vms))
	}
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(proxmoxsdk.TransportFunc(
		func(_ context.Context, r *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
			return &proxmoxsdk.Response{StatusCode: 200, Body: bodies[r.Path]}, nil
		})))
	if err != nil {
		b.Fatal(err)
	}
	first, err := px.Nodes(vms[0].node).Qemu(vms[0].vmid).Config().Get(ctx, nil)
	if err != nil || first.Name.Get() == "" {
		b.Fatalf("config of %d: name %q, err %v", vms[0].vmid, first.Name.Get(), err)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		for _, v := range vms {
			if _, err := px.Nodes(v.node).Qemu(v.vmid).Config().Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
