package pvemock_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func get(t *testing.T, m *pvemock.Mock, path string) string {
	t.Helper()
	resp, err := m.Transport().RoundTrip(context.Background(), &proxmoxsdk.Request{Method: "GET", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, resp.Body)
}

func client(t *testing.T, m *pvemock.Mock) *proxmoxsdk.Client {
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	return px
}

func TestDeterministic(t *testing.T) {
	a, b := pvemock.New(pvemock.S100()), pvemock.New(pvemock.S100())
	for _, p := range []string{"/cluster/resources", "/nodes/pve2/storage/nfs-backup/content", "/nodes/pve1/tasks", "/nodes/pve1/qemu/100/config", "/cluster/sdn/zones", "/access/users"} {
		if x, y := get(t, a, p), get(t, b, p); x != y {
			t.Errorf("%s differs between two mocks of one seed", p)
		}
	}
	sc := pvemock.S100()
	sc.Seed = 7
	if get(t, a, "/cluster/resources") == get(t, pvemock.New(sc), "/cluster/resources") {
		t.Error("another seed generated the same cluster")
	}
}

type res struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	VMID   int    `json:"vmid"`
	Name   string `json:"name"`
	Node   string `json:"node"`
	Status string `json:"status"`
}

func TestScenarioShape(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	px := client(t, m)
	ctx := context.Background()
	all, errs := proxmoxsdk.GetList[res](ctx, px, "/cluster/resources", nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	count := map[string]int{}
	names := map[string]bool{}
	for _, r := range all {
		count[r.Type]++
		if r.Type == "qemu" || r.Type == "lxc" {
			if names[r.Name] {
				t.Errorf("duplicate name %s", r.Name)
			}
			names[r.Name] = true
		}
	}
	if count["node"] != 3 || count["qemu"] != 80 || count["lxc"] != 20 || count["storage"] != 15 {
		t.Fatalf("resource counts %v", count)
	}
	var cfg map[string]any
	if err := px.Call(ctx, "GET", "/nodes/pve1/qemu/100/config", nil, &cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cfg["net0"].(string), "bridge=vmbr0,firewall=1,tag=") || !strings.HasSuffix(cfg["scsi0"].(string), "size=32G") {
		t.Fatalf("config %v", cfg)
	}
	var agent struct {
		Result []struct {
			Name string `json:"name"`
			IPs  []struct {
				Type string `json:"ip-address-type"`
				Addr string `json:"ip-address"`
			} `json:"ip-addresses"`
		} `json:"result"`
	}
	if err := px.Call(ctx, "GET", "/nodes/pve1/qemu/100/agent/network-get-interfaces", nil, &agent); err != nil {
		t.Fatal(err)
	}
	var v4, v6, ll bool
	for _, i := range agent.Result[1:] {
		for _, ip := range i.IPs {
			v4 = v4 || ip.Type == "ipv4"
			v6 = v6 || ip.Type == "ipv6" && !strings.HasPrefix(ip.Addr, "fe80:")
			ll = ll || strings.HasPrefix(ip.Addr, "fe80::")
		}
	}
	if !v4 || !v6 || !ll {
		t.Fatalf("agent addresses v4=%v v6=%v link-local=%v", v4, v6, ll)
	}
	type content struct {
		Volid        string         `json:"volid"`
		VMID         int            `json:"vmid"`
		Format       string         `json:"format"`
		Verification map[string]any `json:"verification"`
	}
	b, _ := proxmoxsdk.GetList[content](ctx, px, "/nodes/pve1/storage/nfs-backup/content", map[string]any{"content": "backup", "vmid": 100})
	if len(b) != 2 || !strings.HasPrefix(b[0].Volid, "nfs-backup:backup/vzdump-qemu-100-") || b[0].Format != "vma.zst" {
		t.Fatalf("backups %+v", b)
	}
	p, _ := proxmoxsdk.GetList[content](ctx, px, "/nodes/pve2/storage/pbs-backup/content", map[string]any{"vmid": 100})
	if len(p) != 1 || p[0].Verification["state"] == nil {
		t.Fatalf("pbs backups %+v", p)
	}
	for _, path := range []string{"/nodes/pve1/network", "/cluster/replication", "/cluster/backup", "/nodes/pve1/qemu/100/snapshot", "/cluster/status", "/nodes/pve1/tasks"} {
		raw, err := px.CallRaw(ctx, "GET", path, nil)
		if err != nil || len(raw) < 50 {
			t.Errorf("%s: %s %v", path, raw, err)
		}
	}
}

func TestMutations(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	px := client(t, m)
	ctx := context.Background()
	name := func(vmid int) string {
		node, kind, _ := m.GuestNode(vmid)
		var cfg map[string]any
		if err := px.Call(ctx, "GET", fmt.Sprintf("/nodes/%s/%s/%d/config", node, kind, vmid), nil, &cfg); err != nil {
			return err.Error()
		}
		if kind == "lxc" {
			return fmt.Sprint(cfg["hostname"], " ", cfg["memory"])
		}
		return fmt.Sprint(cfg["name"], " ", cfg["memory"])
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	before := get(t, m, "/cluster/resources")
	must(m.RenameGuest(100, "web-renamed"))
	must(m.SetMemory(100, 12288))
	if got := name(100); got != "web-renamed 12288" {
		t.Fatalf("after rename: %s", got)
	}
	if get(t, m, "/cluster/resources") == before {
		t.Fatal("resources cached across a mutation")
	}
	must(m.MigrateGuest(100, "pve3"))
	if _, err := px.CallRaw(ctx, "GET", "/nodes/pve1/qemu/100/config", nil); !errors.Is(err, proxmoxsdk.ErrNotFound) {
		t.Fatalf("old node still has the VM: %v", err)
	}
	if got := name(100); got != "web-renamed 12288" {
		t.Fatalf("after migrate: %s", got)
	}
	must(m.AddNIC(100))
	var cfg map[string]any
	must(px.Call(ctx, "GET", "/nodes/pve3/qemu/100/config", nil, &cfg))
	if cfg["net2"] == nil {
		t.Fatalf("AddNIC: %v", cfg)
	}
	must(m.MoveIP(101, 102, strings.Split(ipOf(t, px, 101), "/")[0]))
	must(m.DeleteGuest(103))
	if _, _, ok := m.GuestNode(103); ok {
		t.Fatal("deleted guest still there")
	}
	must(m.CreateLXC(900, "ct-new-01", "pve2"))
	if got := name(900); !strings.HasPrefix(got, "ct-new-01 ") {
		t.Fatalf("CreateLXC: %s", got)
	}
	must(m.SetNodeDown("pve2", true))
	if _, err := px.CallRaw(ctx, "GET", "/nodes/pve2/lxc", nil); !errors.Is(err, proxmoxsdk.ErrNodeUnreachable) {
		t.Fatalf("down node: %v", err)
	}
	if !strings.Contains(get(t, m, "/cluster/status"), `"name":"pve2","nodeid":2,"online":0`) {
		t.Fatal("down node online in cluster status")
	}
	must(m.SetNodeDown("pve2", false))
	for _, err := range []error{m.RenameGuest(4242, "x"), m.MigrateGuest(100, "pve9"), m.SetNodeDown("pve9", true), m.CreateLXC(100, "dup", "pve1")} {
		if err == nil {
			t.Error("mutation on unknown id succeeded")
		}
	}
	// Writes through the API.
	var upid string
	must(px.Call(ctx, "POST", "/nodes/pve3/qemu/100/migrate", map[string]any{"target": "pve1"}, &upid))
	if _, err := px.WaitTask(ctx, upid); err != nil {
		t.Fatal(err)
	}
	if node, _, _ := m.GuestNode(100); node != "pve1" {
		t.Fatalf("API migrate: on %s", node)
	}
	must(px.Call(ctx, "POST", "/nodes/pve1/qemu/100/snapshot", map[string]any{"snapname": "pre-sync", "description": "x"}, &upid))
	raw, _ := px.CallRaw(ctx, "GET", "/nodes/pve1/qemu/100/snapshot", nil)
	if !strings.Contains(string(raw), "pre-sync") {
		t.Fatalf("snapshot missing: %s", raw)
	}
	if m.RequestCount("GET", "/nodes/{node}/qemu/{vmid}/config") < 4 || m.Requests()["POST /nodes/{node}/qemu/{vmid}/migrate"] != 1 {
		t.Fatalf("counters %v", m.Requests())
	}
	m.ResetRequests()
	if len(m.Requests()) != 0 {
		t.Fatal("reset")
	}
}

func ipOf(t *testing.T, px *proxmoxsdk.Client, vmid int) string {
	node := []string{"pve1", "pve2", "pve3"}[(vmid-100)%3]
	var cfg map[string]any
	if err := px.Call(context.Background(), "GET", fmt.Sprintf("/nodes/%s/qemu/%d/config", node, vmid), nil, &cfg); err != nil {
		t.Fatal(err)
	}
	var agent struct {
		Result []struct {
			IPs []struct {
				Addr   string `json:"ip-address"`
				Prefix int    `json:"prefix"`
			} `json:"ip-addresses"`
		} `json:"result"`
	}
	if err := px.Call(context.Background(), "GET", fmt.Sprintf("/nodes/%s/qemu/%d/agent/network-get-interfaces", node, vmid), nil, &agent); err != nil {
		t.Skipf("guest %d has no agent data: %v", vmid, err)
	}
	ip := agent.Result[1].IPs[0]
	return fmt.Sprintf("%s/%d", ip.Addr, ip.Prefix)
}

// TestConcurrent runs API reads and mock mutations in parallel (make race runs
// it with -race) and fails if a read errors or sees a torn guest list, or if a
// mutation is lost: each worker owns a disjoint set of guests, so the final
// memory and name of every guest it wrote are known.
func TestConcurrent(t *testing.T) {
	sc := pvemock.S100()
	m := pvemock.New(sc)
	px := client(t, m)
	guests := sc.QEMU + sc.LXC
	const workers, rounds, every = 8, 30, 5
	type want struct {
		mem  int
		name string
	}
	final := make([]map[int]want, workers) // per worker: vmid -> last write
	errs := make(chan error, workers*rounds*2)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		final[w] = map[int]want{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < rounds; i++ {
				vmid := 100 + (w*rounds+i)%guests
				node, kind, ok := m.GuestNode(vmid)
				if !ok {
					errs <- fmt.Errorf("guest %d unknown", vmid)
					return
				}
				var cfg map[string]any
				if err := px.Call(ctx, "GET", fmt.Sprintf("/nodes/%s/%s/%d/config", node, kind, vmid), nil, &cfg); err != nil {
					errs <- fmt.Errorf("config of %d: %w", vmid, err)
				} else if cfg["memory"] == nil {
					errs <- fmt.Errorf("config of %d has no memory: %v", vmid, cfg)
				}
				var res []map[string]any
				if err := px.Call(ctx, "GET", "/cluster/resources", map[string]any{"type": "vm"}, &res); err != nil {
					errs <- fmt.Errorf("cluster resources: %w", err)
				} else if len(res) != guests {
					errs <- fmt.Errorf("cluster resources: %d guests, the scenario has %d", len(res), guests)
				}
				if i%every == 0 {
					// Worker w writes only guests 100+w, 100+w+workers, ...
					own := 100 + w + workers*(i/every)
					wnt := want{1024 * (i + 1), fmt.Sprintf("g-%d-%d", w, i)}
					if err := m.SetMemory(own, wnt.mem); err != nil {
						errs <- err
					}
					if err := m.RenameGuest(own, wnt.name); err != nil {
						errs <- err
					}
					final[w][own] = wnt
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	written := 0
	for w := range final {
		for vmid, wnt := range final[w] {
			written++
			node, kind, _ := m.GuestNode(vmid)
			var cfg map[string]any
			if err := px.Call(context.Background(), "GET", fmt.Sprintf("/nodes/%s/%s/%d/config", node, kind, vmid), nil, &cfg); err != nil {
				t.Fatal(err)
			}
			nameKey := "name"
			if kind == "lxc" {
				nameKey = "hostname"
			}
			if fmt.Sprint(cfg["memory"]) != fmt.Sprint(wnt.mem) || cfg[nameKey] != wnt.name {
				t.Errorf("guest %d (%s): memory %v %s %v, want %d %s (a concurrent write was lost)",
					vmid, kind, cfg["memory"], nameKey, cfg[nameKey], wnt.mem, wnt.name)
			}
		}
	}
	if want := workers * ((rounds + every - 1) / every); written != want {
		t.Fatalf("%d guests written, want %d", written, want)
	}
}

func TestHandler(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	id, secret := m.Token()
	do := func(method, path, body, ctype string, auth bool) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.Header.Set("Authorization", "PVEAPIToken="+id+"="+secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, _ := do("GET", "/api2/json/version", "", "", false); code != 401 {
		t.Fatalf("unauthenticated: %d", code)
	}
	if code, body := do("GET", "/api2/json/version", "", "", true); code != 200 || !strings.Contains(body, `"version":"8.1.4"`) {
		t.Fatalf("version: %d %s", code, body)
	}
	if code, _ := do("PUT", "/api2/json/nodes/pve1/qemu/100/config", `{"memory":3072,"onboot":true}`, "application/json", true); code != 200 {
		t.Fatalf("JSON body: %d", code)
	}
	if code, body := do("GET", "/api2/json/nodes/pve1/qemu/100/config", "", "", true); code != 200 || !strings.Contains(body, `"memory":"3072"`) {
		t.Fatalf("after JSON PUT: %d %s", code, body)
	}
	if code, _ := do("GET", "/", "", "", true); code != 404 {
		t.Fatalf("outside /api2/json: %d", code)
	}
	if code, _ := do("POST", "/api2/json/access/ticket", "username=root@pam&password="+pvemock.DefaultPassword, "application/x-www-form-urlencoded", false); code != 200 {
		t.Fatalf("ticket: %d", code)
	}
}

func TestVersionGating(t *testing.T) {
	sc := pvemock.S100()
	sc.Version = "8.1.4"
	m81 := pvemock.New(sc)
	sc.Version = "9.1.1"
	m91 := pvemock.New(sc)
	// /cluster/ha/rules exists only in 9.x.
	if got := get(t, m81, "/cluster/ha/rules"); !strings.HasPrefix(got, "501 ") {
		t.Fatalf("8.1 answered a 9.1-only path: %s", got)
	}
	if got := get(t, m91, "/cluster/ha/rules"); !strings.HasPrefix(got, "200 ") {
		t.Fatalf("9.1: %s", got)
	}
}

func TestGenericWriteReturnsTask(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	px := client(t, m)
	var upid string
	if err := px.Call(context.Background(), "POST", "/nodes/pve1/qemu/100/clone", map[string]any{"newid": 4000}, &upid); err != nil {
		t.Fatal(err)
	}
	if _, err := proxmoxsdk.ParseUPID(upid); err != nil {
		t.Fatal(err)
	}
	st, err := px.WaitTask(context.Background(), upid)
	if err != nil || st.Type != "clone" {
		t.Fatalf("%+v %v", st, err)
	}
}
