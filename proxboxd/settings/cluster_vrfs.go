package settings

import (
	"fmt"
	"strings"
)

// ParseClusterVRFs parses the cluster_vrfs setting: "cluster=VRF" entries
// separated by commas, semicolons or newlines, where VRF is a NetBox VRF
// name or numeric id. Blank entries are skipped; an entry without "=", with
// an empty side, or naming a cluster twice is an error.
func ParseClusterVRFs(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		cluster, vrf, ok := strings.Cut(f, "=")
		cluster, vrf = strings.TrimSpace(cluster), strings.TrimSpace(vrf)
		if !ok || cluster == "" || vrf == "" {
			return nil, fmt.Errorf("cluster_vrfs: entry %q: want cluster=VRF name or id", f)
		}
		if prev, dup := out[cluster]; dup {
			return nil, fmt.Errorf("cluster_vrfs: cluster %q given twice (%q and %q)", cluster, prev, vrf)
		}
		out[cluster] = vrf
	}
	return out, nil
}
