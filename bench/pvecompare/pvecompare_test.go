// Package pvecompare benchmarks proxmoxsdk against
// github.com/luthermonson/go-proxmox on the same pvemock HTTPS server.
//
//	cd bench && go test ./pvecompare -run '^$' -bench . -benchmem -count 3
package pvecompare

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

type env struct {
	srv  *httptest.Server
	mock *pvemock.Mock
	ours *proxmoxsdk.Client
	gp   *proxmox.Client
	vms  []vmRef
}

type vmRef struct {
	node string
	vmid int
}

var (
	envOnce sync.Once
	shared  *env
)

// setup serves the S1000 scenario (4 nodes, 1,000 QEMU + 200 LXC = 1,200
// guests) over HTTPS and builds both clients with the same TLS trust and
// connection pool size.
func setup(b *testing.B) *env {
	envOnce.Do(func() {
		m := pvemock.New(pvemock.S1000())
		srv := httptest.NewTLSServer(m.Handler())
		id, secret := m.Token()
		fp := proxmoxsdk.Fingerprint(srv.Certificate().Raw)
		ours, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS(srv.URL, proxmoxsdk.WithFingerprint(fp), proxmoxsdk.WithMaxConns(16)),
			proxmoxsdk.WithAPIToken(id, secret))
		if err != nil {
			panic(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConns: 64, MaxIdleConnsPerHost: 16,
		}}
		gp := proxmox.NewClient(srv.URL+"/api2/json", proxmox.WithHTTPClient(hc), proxmox.WithAPIToken(id, secret))
		e := &env{srv: srv, mock: m, ours: ours, gp: gp}
		for _, vmid := range m.VMIDs() {
			node, kind, _ := m.GuestNode(vmid)
			if kind == "qemu" {
				e.vms = append(e.vms, vmRef{node, vmid})
			}
		}
		// Warm the mock's response cache so neither client pays for
		// server-side generation.
		tr := m.Transport()
		warm := func(path string, params map[string][]string) {
			if _, err := tr.RoundTrip(context.Background(), &proxmoxsdk.Request{Method: "GET", Path: path, Params: params}); err != nil {
				panic(err)
			}
		}
		warm("/cluster/resources", nil)
		for _, vm := range e.vms {
			warm(fmt.Sprintf("/nodes/%s/qemu/%d/config", vm.node, vm.vmid), nil)
		}
		shared = e
	})
	if len(shared.vms) != 1000 {
		b.Fatalf("%d VMs", len(shared.vms))
	}
	return shared
}

func BenchmarkClusterResources(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	b.Run("proxmoxsdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs, err := e.ours.Cluster().Resources().Get(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if n := countGuests(len(rs), func(i int) string { return rs[i].Type.Get() }); n != 1200 {
				b.Fatalf("%d guests", n)
			}
		}
	})
	// The core alone: GetList into a plain struct, as go-proxmox decodes.
	b.Run("proxmoxsdk-GetList", func(b *testing.B) {
		type item struct {
			ID      string  `json:"id"`
			Type    string  `json:"type"`
			Node    string  `json:"node"`
			Name    string  `json:"name"`
			Status  string  `json:"status"`
			VMID    uint64  `json:"vmid"`
			CPU     float64 `json:"cpu"`
			MaxCPU  uint64  `json:"maxcpu"`
			Mem     uint64  `json:"mem"`
			MaxMem  uint64  `json:"maxmem"`
			Disk    uint64  `json:"disk"`
			MaxDisk uint64  `json:"maxdisk"`
			Uptime  uint64  `json:"uptime"`
			Tags    string  `json:"tags"`
		}
		b.ReportAllocs()
		for b.Loop() {
			rs, errs := proxmoxsdk.GetList[item](ctx, e.ours, "/cluster/resources", nil)
			if errs != nil {
				b.Fatal(errs)
			}
			if n := countGuests(len(rs), func(i int) string { return rs[i].Type }); n != 1200 {
				b.Fatalf("%d guests", n)
			}
		}
	})
	b.Run("go-proxmox", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rs proxmox.ClusterResources
			if err := e.gp.Get(ctx, "/cluster/resources", &rs); err != nil {
				b.Fatal(err)
			}
			if n := countGuests(len(rs), func(i int) string { return rs[i].Type }); n != 1200 {
				b.Fatalf("%d guests", n)
			}
		}
	})
}

func countGuests(n int, typ func(int) string) int {
	c := 0
	for i := 0; i < n; i++ {
		if t := typ(i); t == "qemu" || t == "lxc" {
			c++
		}
	}
	return c
}

// BenchmarkVMConfigs1000x8: one op = the config of all 1,000 VMs, fetched
// by 8 workers.
func BenchmarkVMConfigs1000x8(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	run := func(b *testing.B, fetch func(vmRef) (string, error)) {
		b.ReportAllocs()
		for b.Loop() {
			jobs := make(chan vmRef)
			errs := make(chan error, 8)
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for vm := range jobs {
						name, err := fetch(vm)
						if err == nil && name == "" {
							err = fmt.Errorf("VM %d: empty name", vm.vmid)
						}
						if err != nil {
							select {
							case errs <- err:
							default:
							}
						}
					}
				}()
			}
			for _, vm := range e.vms {
				jobs <- vm
			}
			close(jobs)
			wg.Wait()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
		}
	}
	b.Run("proxmoxsdk", func(b *testing.B) {
		run(b, func(vm vmRef) (string, error) {
			cfg, err := e.ours.Nodes(vm.node).Qemu(vm.vmid).Config().Get(ctx, nil)
			return cfg.Name.Get(), err
		})
	})
	b.Run("go-proxmox", func(b *testing.B) {
		run(b, func(vm vmRef) (string, error) {
			var cfg proxmox.VirtualMachineConfig
			err := e.gp.Get(ctx, fmt.Sprintf("/nodes/%s/qemu/%d/config", vm.node, vm.vmid), &cfg)
			return cfg.Name, err
		})
	})
}
