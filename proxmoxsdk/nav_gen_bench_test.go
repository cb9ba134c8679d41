package proxmoxsdk_test

import (
	"context"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// BenchmarkNavigatorDecodeResources measures the typed navigator's decode
// of /cluster/resources with 1,200 guests (pvemock S1000) from a canned
// response: envelope split plus list decode into the generated model, no
// mock or network work inside the loop. cpu-ns/op (process CPU time, GC
// included) is steadier than ns/op on a loaded machine.
func BenchmarkNavigatorDecodeResources(b *testing.B) {
	ctx := context.Background()
	m := pvemock.New(pvemock.S1000())
	src, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	if err != nil {
		b.Fatal(err)
	}
	data, err := src.CallRaw(ctx, "GET", "/cluster/resources", nil)
	if err != nil {
		b.Fatal(err)
	}
	body := append(append([]byte(`{"data":`), data...), '}')
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(proxmoxsdk.TransportFunc(
		func(context.Context, *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
			return &proxmoxsdk.Response{StatusCode: 200, Body: body}, nil
		})))
	if err != nil {
		b.Fatal(err)
	}
	rs, err := px.Cluster().Resources().Get(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	guests := 0
	for i := range rs {
		if t := rs[i].Type.Get(); t == "qemu" || t == "lxc" {
			guests++
		}
	}
	if guests != 1200 {
		b.Fatalf("%d guests, want 1200", guests)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := px.Cluster().Resources().Get(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
