package sync

import (
	"context"
	"strconv"

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
			body := obj{"cluster": c.nbCluster, "name": name, "storage_type": s.Type.Get(), "content": s.Content.Get(),
				"path": s.Path.Get(), "nodes": s.Nodes.Get(), "shared": s.Shared.Get(), "enabled": !s.Disable.Get(),
				"raw_config": raw}
			for _, f := range []string{"server", "port", "username", "export", "share", "pool", "monhost", "namespace",
				"datastore", "subdir", "mountpoint", "is_mountpoint", "preallocation", "format"} {
				if v, _ := all.String(f); v != "" {
					body[f] = v
				}
			}
			if v, _ := all.String("prune-backups"); v != "" {
				body["prune_backups"] = v
			}
			if v, _ := all.String("max-protected-backups"); v != "" {
				body["max_protected_backups"] = v
			}
			wants = append(wants, &want{Key: strconv.Itoa(c.nbCluster) + "|" + name, Name: c.name + "/" + name, Body: body})
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
