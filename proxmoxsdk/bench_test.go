package proxmoxsdk_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// BenchmarkClusterResourcesInProcess measures one /cluster/resources call of
// 1,200 guests plus nodes and storages through the in-process transport, without
// network or TLS: the mock building and encoding the answer and the client
// decoding it (BenchmarkDecodeResources measures decoding alone).
func BenchmarkClusterResourcesInProcess(b *testing.B) {
	m := pvemock.New(pvemock.S1000())
	px, _ := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	ctx := context.Background()
	if _, err := px.CallRaw(ctx, "GET", "/cluster/resources", nil); err != nil {
		b.Fatal(err)
	}
	b.Run("navigator", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := px.Cluster().Resources().Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetList", func(b *testing.B) {
		type r struct {
			ID, Type, Name, Node, Status string
			VMID                         int
			MaxMem                       int64
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, errs := proxmoxsdk.GetList[r](ctx, px, "/cluster/resources", nil); errs != nil {
				b.Fatal(errs)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := px.CallRaw(ctx, "GET", "/cluster/resources", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeResources compares list decoding strategies on the same
// /cluster/resources data (1,200 guests) into the generated model.
func BenchmarkDecodeResources(b *testing.B) {
	m := pvemock.New(pvemock.S1000())
	px, _ := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	raw, err := px.CallRaw(context.Background(), "GET", "/cluster/resources", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeListInto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out pve.GetClusterResourcesData
			if err := proxmoxsdk.DecodeListInto(raw, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("item-by-item", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				b.Fatal(err)
			}
			out := make(pve.GetClusterResourcesData, len(items))
			for i, it := range items {
				if err := json.Unmarshal(it, &out[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
