package netboxtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

// newServer serves an empty netboxtest NetBox for the test and returns it
// with a client of it.
func newServer(t *testing.T) (*netboxtest.Server, *netboxsdk.Client) {
	t.Helper()
	srv := netboxtest.NewServer()
	t.Cleanup(srv.Close)
	nb, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	return srv, nb
}

func TestPluginEndpoints(t *testing.T) {
	srv, nb := newServer(t)
	ctx := context.Background()
	st, err := nb.Objects("/api/plugins/proxbox/settings/").All(ctx, nil)
	if err != nil || len(st) != 1 || st[0]["netbox_max_concurrent"] != float64(1) {
		t.Fatalf("settings: %v %v", st, err)
	}
	ct, _ := nb.Objects("/api/virtualization/cluster-types/").Create(ctx, netboxsdk.Object{"name": "c", "slug": "c"})
	cl, _ := nb.Objects("/api/virtualization/clusters/").Create(ctx, netboxsdk.Object{"name": "pve", "type": ct["id"]})
	storage := nb.Objects("/api/plugins/proxbox/storage/")
	s, err := storage.Create(ctx, netboxsdk.Object{"cluster": cl["id"], "name": "local-lvm", "storage_type": "lvmthin", "raw_config": map[string]any{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s["cluster"].(map[string]any); c["name"] != "pve" {
		t.Fatalf("storage cluster not nested: %v", s["cluster"])
	}
	if _, err := storage.Create(ctx, netboxsdk.Object{"cluster": cl["id"], "name": "local-lvm"}); !errors.Is(err, netboxsdk.ErrValidation) {
		t.Fatalf("duplicate storage per cluster: %v", err)
	}
	ep, err := nb.Objects("/api/plugins/proxbox/endpoints/proxmox/").Create(ctx, netboxsdk.Object{"name": "pve1", "domain": "pve1.lan"})
	if err != nil {
		t.Fatal(err)
	}
	rr := nb.Objects("/api/plugins/proxbox/backup-routines/")
	r, err := rr.Create(ctx, netboxsdk.Object{"job_id": "backup-1", "endpoint": ep["id"], "selection": []int{100, 101}, "status": "active"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.BulkPatch(ctx, []netboxsdk.Object{{"id": r["id"], "status": "stale"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := rr.Count(ctx, netboxsdk.NewFilter().Status("stale").Eq("endpoint_id", ep["id"])); n != 1 {
		t.Fatalf("stale routines: %d", n)
	}
	for _, p := range []string{"backups", "snapshots", "task-history", "replications", "nodes", "proxmox-nodes", "sync-state/devices"} {
		if _, err := nb.Objects("/api/plugins/proxbox/"+p+"/").All(ctx, nil); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if srv.CountsByCollection()["GET /api/plugins/proxbox/backups/"] != 1 {
		t.Fatalf("counts: %v", srv.CountsByCollection())
	}
	// deleting the cluster cascades to its storage
	if err := nb.Objects("/api/virtualization/clusters/").Delete(ctx, int(cl["id"].(float64))); err != nil {
		t.Fatal(err)
	}
	if srv.Len("/api/plugins/proxbox/storage/") != 0 {
		t.Fatal("storage not cascaded")
	}
}

func TestAuthAndPaging(t *testing.T) {
	srv := netboxtest.NewServer(netboxtest.WithPageSizes(2, 3))
	defer srv.Close()
	nb, _ := srv.Client(netboxsdk.WithPagination(netboxsdk.PaginationOffset))
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		if _, err := nb.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": n, "slug": n}); err != nil {
			t.Fatal(err)
		}
	}
	var page netboxsdk.Page[netboxsdk.Object]
	resp, err := nb.Do(ctx, "GET", "/api/extras/tags/", nil, nil, &page)
	if err != nil || resp.Count != 5 || len(page.Results) != 2 || resp.Next == "" || resp.Previous != "" {
		t.Fatalf("default page: %+v %v", resp, err)
	}
	resp, _ = nb.Do(ctx, "GET", "/api/extras/tags/?limit=100&offset=3", nil, nil, &page)
	if len(page.Results) != 2 || resp.Previous == "" || resp.Next != "" {
		t.Fatalf("max page + offset: %+v %d", resp, len(page.Results))
	}
	v2, _ := srv.Client(netboxsdk.WithToken(srv.TokenV2()))
	if _, err := v2.Objects("/api/extras/tags/").Count(ctx, nil); err != nil {
		t.Fatalf("v2 token: %v", err)
	}
	none, _ := srv.Client(netboxsdk.WithToken(""))
	if _, err := none.Objects("/api/extras/tags/").Count(ctx, nil); err == nil {
		t.Fatal("no token accepted")
	}
}
