package sync

import (
	"context"
	"strconv"

	"github.com/oapi-codegen/nullable"
	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

func (r *run) stageStorage(ctx context.Context, cls []*cluster) (int, string, error) {
	if err := r.ensureDeps(ctx, cls); err != nil {
		return 0, "", err
	}
	t := r.tables["storage"]
	var wants []*want
	for _, c := range cls {
		if err := c.readStorages(ctx); err != nil {
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		for _, s := range c.storages {
			name := s.Storage.Get()
			raw := obj(pve.Object(s.Raw))
			if raw == nil {
				raw = obj{}
			}
			all := pve.Members(s.Raw)
			req := pbplugin.ProxmoxStorageRequest{Cluster: c.nbCluster, Name: name, StorageType: val(s.Type.Get()),
				Content: val(s.Content.Get()), Path: val(s.Path.Get()), Nodes: val(s.Nodes.Get()), Shared: ptr(s.Shared.Get()),
				Enabled: ptr(!s.Disable.Get()), RawConfig: raw}
			// the type-specific options, when the storage has them
			str := func(key string) nullable.Nullable[string] {
				if v, _ := all.String(key); v != "" {
					return val(v)
				}
				return nil
			}
			num := func(key string) nullable.Nullable[int] {
				if v, ok := all.Int(key); ok {
					return val(int(v))
				}
				return nil
			}
			req.Server, req.Port, req.Username, req.Export, req.Share = str("server"), num("port"), str("username"), str("export"), str("share")
			req.Pool, req.Monhost, req.Namespace, req.Datastore, req.Subdir = str("pool"), str("monhost"), str("namespace"), str("datastore"), str("subdir")
			req.Mountpoint, req.IsMountpoint, req.Preallocation, req.Format = str("mountpoint"), str("is_mountpoint"), str("preallocation"), str("format")
			req.PruneBackups, req.MaxProtectedBackups = str("prune-backups"), num("max-protected-backups")
			wants = append(wants, wantOf(strconv.Itoa(c.nbCluster)+"|"+name, c.name+"/"+name, req))
		}
	}
	r.discovery(len(wants), nil, map[string]any{"fetch_concurrency": r.p.FetchMaxConcurrency})
	ops := r.plan(t, wants)
	wanted := map[int]bool{}
	for _, w := range wants {
		wanted[w.id] = true
	}
	for _, c := range cls {
		if c.loaded["storages"] != nil || c.nbCluster <= 0 {
			continue
		}
		var orphans []obj
		for _, o := range t.all() {
			if refID(o, "cluster") == c.nbCluster && !wanted[idOf(o)] {
				orphans = append(orphans, o)
			}
		}
		ops = append(ops, r.orphanOps(t, orphans, func(o obj) string { return asStr(o["name"]) })...)
	}
	r.apply(ctx, t, ops)
	return len(wants), "storage sync completed.", nil
}
