package sync

import (
	"context"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

// Stages writing the netbox-proxbox plugin models. runStage skips them when
// the plugin API answers 404.

func (r *run) pluginChildren(ctx context.Context, k *kind, gs []vmGuest, keyFn func(obj) string) (*table, error) {
	t := newTable(k, keyFn)
	// the plugin tables hold only proxbox records: on an unscoped run with
	// more than one chunk of VMs, one paged list of the whole table costs
	// fewer requests than one list per 100 VMs (records of VMs outside the run
	// are never planned against: every stage restricts itself to its VMs)
	if ids := uniqInts(vmIDs(gs)); !r.scoped() && len(ids) > chunkIDs {
		if err := r.loadInto(ctx, t, nil); err != nil {
			return nil, err
		}
		return t, nil
	}
	if err := r.loadChunked(ctx, t, "virtual_machine_id", vmIDs(gs), nil); err != nil {
		return nil, err
	}
	return t, nil
}

func mapGet(v any, k string) any {
	if m, ok := v.(map[string]any); ok {
		return m[k]
	}
	return nil
}

// endpointID resolves the plugin ProxmoxEndpoint of a cluster: the "(nb:<pk>)"
// suffix of its name, else a match by name or by domain or IP on the same
// port, not taken by another cluster of the run, else the only one (when the
// run has one cluster). Replications and backup routines are keyed by it.
func (r *run) endpointID(ctx context.Context, c *cluster) int {
	if c.endpoint != 0 {
		return c.endpoint
	}
	t := r.tables["pendpoints"]
	if t == nil {
		var err error
		if t, err = r.load(ctx, kPEndpoint, nil, func(o obj) string { return strconv.Itoa(idOf(o)) }); err != nil {
			return 0
		}
		r.tables["pendpoints"] = t
	}
	if m := nbPKRE.FindStringSubmatch(c.t.Endpoint.Name); m != nil {
		if pk, _ := strconv.Atoi(m[1]); t.byID[pk] != nil {
			c.endpoint = pk
			return pk
		}
	}
	all := t.all()
	claimed := map[int]bool{} // records other clusters of the run resolved to
	for _, oc := range r.clusters {
		if oc != c && oc.endpoint != 0 {
			claimed[oc.endpoint] = true
		}
	}
	for _, o := range all {
		ip := asStr(mapGet(o["ip_address"], "address"))
		ip, _, _ = strings.Cut(ip, "/")
		// an address names a host, not a cluster: clusters behind one address
		// (NAT, a reverse proxy) differ by port
		port := asInt(o["port"])
		samePort := port == 0 || c.t.Endpoint.Port == 0 || port == c.t.Endpoint.Port
		if !claimed[idOf(o)] && (asStr(o["name"]) == c.t.Endpoint.Name ||
			samePort && ((c.t.Endpoint.Domain != "" && asStr(o["domain"]) == c.t.Endpoint.Domain) ||
				(c.t.Endpoint.IPAddress != "" && ip == c.t.Endpoint.IPAddress))) {
			c.endpoint = idOf(o)
			return c.endpoint
		}
	}
	if len(all) == 1 && len(r.clusters) == 1 {
		c.endpoint = idOf(all[0])
	}
	return c.endpoint
}

// jobStage is the shared shape of replications and backup routines: one
// cluster-level PVE list (read), keyed by (endpoint, job id), stale-marked
// when gone.
func jobStage[T any](ctx context.Context, r *run, cls []*cluster, k *kind,
	read func(*pve.Reader, context.Context) ([]pve.Job[T], error), jobID func(T) string, idField string,
	build func(c *cluster, ep int, id string, job pve.Job[T]) any) (int, string, error) {
	t, err := r.load(ctx, k, nil, func(o obj) string { return strconv.Itoa(refID(o, "endpoint")) + "|" + asStr(o[idField]) })
	if err != nil {
		return 0, "", err
	}
	var wants []*want
	complete := map[int]bool{}
	for _, c := range cls {
		ep := r.endpointID(ctx, c)
		if ep == 0 {
			r.fail(k.Type, c.label(), errNoEndpoint)
			continue
		}
		jobs, err := read(c.pve, ctx)
		if err != nil {
			c.partial = true
			r.fail("proxmox.cluster", c.label(), err)
			continue
		}
		complete[ep] = true
		for _, j := range jobs {
			id := jobID(j.Item)
			if id == "" {
				continue
			}
			req := build(c, ep, id, j) // the generated request, with endpoint, id and status "active"
			if req == nil {
				continue
			}
			wants = append(wants, wantOf(strconv.Itoa(ep)+"|"+id, c.label()+"/"+id, req))
		}
	}
	r.discovery(len(wants), nil, nil)
	ops := r.plan(t, wants)
	// stale only within the endpoints read in this run (QUIRK fixed: the
	// original marked every other endpoint's routines stale)
	ops = append(ops, r.childOrphans(t, wants, "endpoint", complete)...)
	r.apply(ctx, t, ops)
	return len(wants), "", nil
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errNoEndpoint = constErr("no netbox-proxbox ProxmoxEndpoint matches this Proxmox endpoint; skipped")
