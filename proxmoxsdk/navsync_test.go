package proxmoxsdk_test

import (
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestNavigatorSyncPaths decodes every PVE answer a sync reads through the
// typed navigator (generated models) without a single type error.
func TestNavigatorSyncPaths(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	id, secret := m.Token()
	url, fp, _ := tlsServer(t, m)
	px := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)), proxmoxsdk.WithAPIToken(id, secret))
	ctx := ctxT(t)
	check := func(what string, n int, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n == 0 {
			t.Fatalf("%s: empty", what)
		}
	}
	v, err := px.Version().Get(ctx)
	check("version", len(v.Version.Get()), err)
	st, err := px.Cluster().Status().Get(ctx)
	check("cluster status", len(st), err)
	rs, err := px.Cluster().Resources().Get(ctx, nil)
	check("cluster resources", len(rs), err)
	j, err := px.Cluster().Config().Join().Get(ctx, nil)
	check("config join", len(*j.Nodelist), err)
	rep, err := px.Cluster().ReplicationIndex().Get(ctx)
	check("replication", len(rep), err)
	bj, err := px.Cluster().BackupIndex().Get(ctx)
	check("backup jobs", len(bj), err)
	sto, err := px.StorageIndex().Get(ctx, nil)
	check("storage", len(sto), err)
	nodes, err := px.NodesIndex().Get(ctx)
	check("nodes", len(nodes), err)
	node := px.Nodes("pve1")
	qs, err := node.QemuIndex().Get(ctx, nil)
	check("qemu list", len(qs), err)
	ls, err := node.LxcIndex().Get(ctx)
	check("lxc list", len(ls), err)
	cfg, err := node.Qemu(100).Config().Get(ctx, nil)
	check("qemu config", len(cfg.Name.Get()), err)
	lcfg, err := node.Lxc(ls[0].Vmid.Get()).Config().Get(ctx, nil)
	check("lxc config", len(lcfg.Hostname.Get()), err)
	ag, err := node.Qemu(100).Agent().NetworkGetInterfaces().Get(ctx)
	check("agent", len(ag["result"].([]any)), err)
	sn, err := node.Qemu(100).SnapshotIndex().Get(ctx)
	check("snapshots", len(sn), err)
	ct, err := node.Storage("nfs-backup").ContentIndex().Get(ctx, nil)
	check("backups", len(ct), err)
	nw, err := node.NetworkIndex().Get(ctx, nil)
	check("network", len(nw), err)
	tk, err := node.TasksIndex().Get(ctx, nil)
	check("tasks", len(tk), err)
	ts, err := node.Tasks(tk[0].Upid.Get()).Status().Get(ctx)
	check("task status", len(ts.Status.Get()), err)
}
