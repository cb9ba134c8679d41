package sync

import "context"

// pickDevice chooses the NetBox device of node name for cluster c: the one in
// the cluster, else a proxbox-tagged or untagged one in the cluster's site.
func pickDevice(t *table, name string, c *cluster) obj {
	var inSite, tagged obj
	for _, o := range t.all() {
		if asStr(o["name"]) != name {
			continue
		}
		if c.nbCluster > 0 && refID(o, "cluster") == c.nbCluster {
			return o
		}
		if refID(o, "cluster") == 0 && refID(o, "site") == c.nbSite {
			if hasTag(o, tagProxbox) {
				tagged = o
			} else if inSite == nil {
				inSite = o
			}
		}
	}
	if tagged != nil {
		return tagged
	}
	return inSite
}

func (r *run) stageDevices(ctx context.Context, cls []*cluster) (int, string, error) {
	n := 0
	var items []any
	for _, c := range cls {
		for _, nd := range c.nodes {
			items = append(items, map[string]any{"name": nd.Name, "item_type": "node"})
			n++
		}
	}
	r.discovery(n, items, map[string]any{"total_devices": n})
	if err := r.ensureDeps(ctx, cls); err != nil {
		return 0, "", err
	}
	return n, "devices sync completed.", nil
}
