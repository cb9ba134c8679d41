package sync

import (
	"context"
	"strconv"
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
			name := asStr(s["storage"])
			raw := obj{}
			for k, v := range s {
				raw[k] = v
			}
			body := obj{"cluster": c.nbCluster, "name": name, "storage_type": asStr(s["type"]), "content": asStr(s["content"]),
				"path": asStr(s["path"]), "nodes": asStr(s["nodes"]), "shared": truthy(s["shared"]), "enabled": !truthy(s["disable"]),
				"raw_config": raw}
			for _, f := range []string{"server", "port", "username", "export", "share", "pool", "monhost", "namespace",
				"datastore", "subdir", "mountpoint", "is_mountpoint", "preallocation", "format"} {
				if v := asStr(s[f]); v != "" {
					body[f] = v
				}
			}
			if v := asStr(s["prune-backups"]); v != "" {
				body["prune_backups"] = v
			}
			if v := asStr(s["max-protected-backups"]); v != "" {
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
