package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
)

// ErrVRFNotFound is returned (wrapped) by the IP stages when a configured
// cluster VRF does not exist in NetBox, or its name names more than one.
var ErrVRFNotFound = errors.New("VRF not found")

// kVRF is only read (the VRFs of cluster_vrfs), never written.
var kVRF = declare("ipam.vrf", nbgen.ipam.VRFs, kind{}, "name")

// vrfOf is the NetBox VRF of a cluster's IP addresses (0: the global table).
func (r *run) vrfOf(c *cluster) int {
	if id, ok := r.vrfIDs[c.name]; ok {
		return id
	}
	return r.e.vrfs[c.name]
}

// resolveVRFs turns the configured VRF names and ids of the run's clusters
// into ids: at most one list by name and one by id, and none when nothing is
// configured for these clusters.
func (r *run) resolveVRFs(ctx context.Context, cls []*cluster) error {
	if r.e.vrfNames == nil || r.vrfIDs != nil {
		return nil
	}
	conf, err := r.e.vrfNames(ctx)
	if err != nil {
		return err
	}
	refs := map[string][]string{} // VRF reference -> clusters
	for _, c := range cls {
		if ref, ok := conf[c.name]; ok && ref != "" {
			refs[ref] = append(refs[ref], c.name)
		}
	}
	resolved := map[string]int{}
	if len(refs) > 0 {
		byName, byID := url.Values{}, url.Values{}
		for ref := range refs {
			if n, err := strconv.Atoi(ref); err == nil && n > 0 {
				byID.Add("id", ref)
			} else {
				byName.Add("name", ref)
			}
		}
		// ids found per reference: a name reference by the name list, an id
		// reference by the id list (one VRF may be referred to both ways)
		found := map[string][]int{}
		for _, l := range []struct {
			q   url.Values
			ref func(obj) string
		}{
			{byName, func(o obj) string { return asStr(o["name"]) }},
			{byID, func(o obj) string { return strconv.Itoa(idOf(o)) }},
		} {
			if len(l.q) == 0 {
				continue
			}
			l.q.Set("fields", "id,name")
			objs, err := r.nb.List(ctx, kVRF, l.q)
			if err != nil {
				return fmt.Errorf("list %s: %w", kVRF.Path, err)
			}
			for _, o := range objs {
				found[l.ref(o)] = append(found[l.ref(o)], idOf(o))
			}
		}
		keys := make([]string, 0, len(refs))
		for ref := range refs {
			keys = append(keys, ref)
		}
		sort.Strings(keys)
		for _, ref := range keys {
			ids := found[ref]
			switch {
			case len(ids) == 0:
				return fmt.Errorf("cluster_vrfs: VRF %q (for cluster %s) is not in NetBox; create it or give its id: %w", ref, refs[ref][0], ErrVRFNotFound)
			case len(ids) > 1:
				return fmt.Errorf("cluster_vrfs: %d VRFs are named %q (for cluster %s); give its id: %w", len(ids), ref, refs[ref][0], ErrVRFNotFound)
			}
			for _, c := range refs[ref] {
				resolved[c] = ids[0]
			}
		}
	}
	r.vrfIDs = resolved
	return nil
}
