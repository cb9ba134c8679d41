package contract

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// QueryParams are the query parameters every stage stream accepts.
var QueryParams = []string{"use_guest_agent_interface_name", "fetch_max_concurrency", "ignore_ipv6_link_local_addresses",
	"primary_ip_preference", "proxmox_endpoint_ids", "netbox_endpoint_ids", "netbox_vm_ids", "sync_vm_network",
	"delete_nonexistent_backup", "delete_nonexistent_snapshot", "dry_run"}

// ParseBool parses a query boolean case-insensitively: the plugin sends
// Python's "True" as well as "true"/"false" (plugin-contract §1.3).
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on", "t", "y":
		return true, nil
	case "0", "false", "no", "off", "f", "n", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// MaxIDs bounds an id list parameter.
const MaxIDs = 1000

// ParseIntList parses "1,2,3" (also repeated parameters); empty items are
// skipped. At most MaxIDs ids.
func ParseIntList(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid id %q", f)
			}
			out = append(out, n)
			if len(out) > MaxIDs {
				return nil, errors.New("too many ids")
			}
		}
	}
	return out, nil
}

// ParseStageParams reads a stage query (plugin-contract §4) over the
// defaults. Unknown parameters are ignored; a malformed known one is an
// error (the backend's 422).
func ParseStageParams(q url.Values) (proxbox.StageParams, error) {
	return ApplyQuery(proxbox.DefaultStageParams(), q)
}

// ApplyQuery returns p with the parameters q names set.
func ApplyQuery(p proxbox.StageParams, q url.Values) (proxbox.StageParams, error) {
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"use_guest_agent_interface_name", &p.UseGuestAgentInterfaceName},
		{"ignore_ipv6_link_local_addresses", &p.IgnoreIPv6LinkLocal},
		{"sync_vm_network", &p.SyncVMNetwork},
		{"delete_nonexistent_backup", &p.DeleteNonexistentBackup},
		{"delete_nonexistent_snapshot", &p.DeleteNonexistentSnapshot},
		{"dry_run", &p.DryRun},
	} {
		v, ok := q[b.name]
		if !ok || len(v) == 0 {
			continue
		}
		val, err := ParseBool(v[len(v)-1])
		if err != nil {
			return p, fmt.Errorf("%s: %w", b.name, err)
		}
		*b.dst = val
	}
	if v := strings.TrimSpace(q.Get("fetch_max_concurrency")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("fetch_max_concurrency: want an integer >= 1, got %q", v)
		}
		p.FetchMaxConcurrency = min(n, 64)
	}
	if v := strings.ToLower(strings.TrimSpace(q.Get("primary_ip_preference"))); v != "" {
		if v != "ipv4" && v != "ipv6" {
			return p, fmt.Errorf("primary_ip_preference: want ipv4 or ipv6, got %q", v)
		}
		p.PrimaryIPPreference = v
	}
	for _, l := range []struct {
		name string
		dst  *[]int
	}{
		{"proxmox_endpoint_ids", &p.ProxmoxEndpointIDs},
		{"netbox_endpoint_ids", &p.NetBoxEndpointIDs},
		{"netbox_vm_ids", &p.NetBoxVMIDs},
	} {
		if _, ok := q[l.name]; !ok {
			continue
		}
		ids, err := ParseIntList(q[l.name])
		if err != nil {
			return p, fmt.Errorf("%s: %w", l.name, err)
		}
		*l.dst = ids
	}
	return p, nil
}
