package netboxsdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
	genvirt "github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

const benchVMs = 5000

// seedVMs fills a netboxtest NetBox with n VMs that look like synced ones.
func seedVMs(tb testing.TB, nb *netboxsdk.Client, n int, prefix string) (clusterID int, cleanup func()) {
	tb.Helper()
	ctx := context.Background()
	ct, err := nb.Objects("/api/virtualization/cluster-types/").Create(ctx, netboxsdk.Object{"name": prefix + "-type", "slug": prefix + "-type"})
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := nb.Objects("/api/virtualization/clusters/").Create(ctx, netboxsdk.Object{"name": prefix + "-cluster", "type": ct["id"]})
	if err != nil {
		tb.Fatal(err)
	}
	site, err := nb.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": prefix + "-site", "slug": prefix + "-site"})
	if err != nil {
		tb.Fatal(err)
	}
	tag, err := nb.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": prefix + "-tag", "slug": prefix + "-tag"})
	if err != nil {
		tb.Fatal(err)
	}
	vms := nb.Objects("/api/virtualization/virtual-machines/")
	var (
		ids     []int
		mu      sync.Mutex
		wg      sync.WaitGroup
		firstEr error
	)
	sem := make(chan struct{}, 2) // two bulk requests at a time: a real NetBox uses both cores
	for start := 0; start < n; start += 250 {
		batch := make([]netboxsdk.Object, 0, 250)
		for i := start; i < min(start+250, n); i++ {
			batch = append(batch, netboxsdk.Object{"name": fmt.Sprintf("%s-vm%05d", prefix, i), "cluster": cl["id"], "site": site["id"],
				"status": "active", "vcpus": 4, "memory": 8192, "disk": 65536, "tags": []any{tag["id"]},
				"description": "benchmark VM", "comments": "synced by proxbox"})
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := vms.BulkCreate(ctx, batch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstEr == nil {
				firstEr = err
			}
			for _, o := range out {
				ids = append(ids, int(o["id"].(float64)))
			}
		}()
	}
	wg.Wait()
	if firstEr != nil {
		tb.Fatal(firstEr)
	}
	return int(cl["id"].(float64)), func() {
		for i := 0; i < len(ids); i += 500 {
			_ = vms.BulkDelete(ctx, ids[i:min(i+500, len(ids))])
		}
		nb.Objects("/api/virtualization/clusters/").Delete(ctx, int(cl["id"].(float64)))
		nb.Objects("/api/virtualization/cluster-types/").Delete(ctx, int(ct["id"].(float64)))
		nb.Objects("/api/dcim/sites/").Delete(ctx, int(site["id"].(float64)))
		nb.Objects("/api/extras/tags/").Delete(ctx, int(tag["id"].(float64)))
	}
}

func benchList(b *testing.B, nb *netboxsdk.Client, clusterID int) {
	ctx := context.Background()
	f := netboxsdk.NewFilter().Related("cluster", clusterID)
	typedVMs := genvirt.New(nb).VirtualMachines
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		before := nb.RequestCount()
		for b.Loop() {
			vms, err := typedVMs.All(ctx, f)
			if err != nil || len(vms) != benchVMs {
				b.Fatalf("%d %v", len(vms), err)
			}
		}
		b.ReportMetric(float64(nb.RequestCount()-before)/float64(b.N), "requests/op")
	})
	b.Run("object", func(b *testing.B) {
		b.ReportAllocs()
		before := nb.RequestCount()
		for b.Loop() {
			vms, err := nb.Objects("/api/virtualization/virtual-machines/").All(ctx, f)
			if err != nil || len(vms) != benchVMs {
				b.Fatalf("%d %v", len(vms), err)
			}
		}
		b.ReportMetric(float64(nb.RequestCount()-before)/float64(b.N), "requests/op")
	})
	b.Run("typed-offset", func(b *testing.B) {
		b.ReportAllocs()
		before := nb.RequestCount()
		f := f.Clone().Ordering("id")
		for b.Loop() {
			vms, err := typedVMs.All(ctx, f)
			if err != nil || len(vms) != benchVMs {
				b.Fatalf("%d %v", len(vms), err)
			}
		}
		b.ReportMetric(float64(nb.RequestCount()-before)/float64(b.N), "requests/op")
	})
}

// BenchmarkList5000VMs lists 5,000 VMs from netboxtest (pages of 1,000).
func BenchmarkList5000VMs(b *testing.B) {
	srv := netboxtest.NewServer()
	defer srv.Close()
	nb, err := srv.Client()
	if err != nil {
		b.Fatal(err)
	}
	clusterID, _ := seedVMs(b, nb, benchVMs, "bench")
	benchList(b, nb, clusterID)
}

// realBenchPrefix names the fixture BenchmarkRealList5000VMs keeps in a real
// NetBox: creating 5,000 VMs through the API takes minutes (NetBox validates,
// tags and change-logs every object), so the fixture is created once, reused
// by later runs, and removed only with NETBOX_BENCH_CLEANUP=1.
const realBenchPrefix = "netboxsdk-bench5000"

// BenchmarkRealList5000VMs lists 5,000 VMs from the NetBox of NETBOX_URL.
func BenchmarkRealList5000VMs(b *testing.B) {
	url, token := os.Getenv("NETBOX_URL"), os.Getenv("NETBOX_TOKEN")
	if url == "" || token == "" {
		b.Skip("no NetBox: run `make netbox-up` and source .netbox/env (or use make e2e)")
	}
	nb, err := netboxsdk.New(url, netboxsdk.WithToken(token), netboxsdk.WithTimeout(5*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	clusterID := 0
	if cl, err := nb.Objects("/api/virtualization/clusters/").GetBy(ctx, netboxsdk.NewFilter().Name(realBenchPrefix+"-cluster")); err == nil {
		id := int(cl["id"].(float64))
		if n, err := genvirt.New(nb).VirtualMachines.Count(ctx, netboxsdk.NewFilter().Related("cluster", id)); err == nil && n == benchVMs {
			clusterID = id
			b.Logf("reusing the %d VMs of cluster %s", n, realBenchPrefix+"-cluster")
		} else {
			b.Fatalf("cluster %s-cluster holds %d VMs (%v), want %d: delete it and its VMs to re-seed", realBenchPrefix, n, err, benchVMs)
		}
	}
	if clusterID == 0 {
		start := time.Now()
		var cleanup func()
		clusterID, cleanup = seedVMs(b, nb, benchVMs, realBenchPrefix)
		if os.Getenv("NETBOX_BENCH_CLEANUP") != "" {
			defer cleanup()
		}
		b.Logf("seeded %d VMs in %s", benchVMs, time.Since(start))
	}
	benchList(b, nb, clusterID)
}

var (
	pageOnce sync.Once
	pageJSON []byte
)

// vmPage returns a netboxtest page of 1,000 full VM objects.
func vmPage(b *testing.B) []byte {
	pageOnce.Do(func() {
		srv := netboxtest.NewServer()
		defer srv.Close()
		nb, err := srv.Client()
		if err != nil {
			b.Fatal(err)
		}
		clusterID, _ := seedVMs(b, nb, 1000, "page")
		var raw []byte
		if _, err := nb.Do(context.Background(), "GET", fmt.Sprintf("/api/virtualization/virtual-machines/?cluster_id=%d&limit=1000", clusterID), nil, nil, &raw); err != nil {
			b.Fatal(err)
		}
		pageJSON = raw
	})
	return pageJSON
}

// BenchmarkDecodePage1000VMs decodes one 1,000-VM page into the generated model
// and into map[string]any.
func BenchmarkDecodePage1000VMs(b *testing.B) {
	raw := vmPage(b)
	b.Logf("page size %d bytes", len(raw))
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var p netboxsdk.Page[genvirt.VirtualMachine]
			if err := json.Unmarshal(raw, &p); err != nil || len(p.Results) != 1000 {
				b.Fatalf("%d %v", len(p.Results), err)
			}
		}
	})
	b.Run("lean-struct", func(b *testing.B) {
		// a caller-defined struct with only the fields a sync needs, plain types
		type vm struct {
			ID           int                     `json:"id"`
			Name         string                  `json:"name"`
			Status       struct{ Value string }  `json:"status"`
			Cluster      *struct{ ID int }       `json:"cluster"`
			Memory       *int                    `json:"memory"`
			Tags         []struct{ Slug string } `json:"tags"`
			CustomFields map[string]any          `json:"custom_fields"`
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var p netboxsdk.Page[vm]
			if err := json.Unmarshal(raw, &p); err != nil || len(p.Results) != 1000 {
				b.Fatalf("%d %v", len(p.Results), err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var p map[string]any
			if err := json.Unmarshal(raw, &p); err != nil || len(p["results"].([]any)) != 1000 {
				b.Fatal(err)
			}
		}
	})
}
