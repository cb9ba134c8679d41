package sync

import (
	"context"
	"strconv"
)

func (r *run) stageReplications(ctx context.Context, cls []*cluster) (int, string, error) {
	vms, err := r.vmTable(ctx, cls)
	if err != nil {
		return 0, "", err
	}
	nodes := r.tables["pnodes"]
	if nodes == nil {
		if nodes, err = r.load(ctx, kPNode, nil, func(o obj) string { return strconv.Itoa(refID(o, "endpoint")) + "|" + asStr(o["name"]) }); err != nil {
			nodes = newTable(kPNode, func(obj) string { return "" })
		}
		r.tables["pnodes"] = nodes
	}
	return r.jobStage(ctx, cls, kReplication, "/cluster/replication", "replication_id", func(c *cluster, ep int, j obj) obj {
		gid := asInt(j["guest"])
		var vm any
		for _, typ := range []string{"qemu", "lxc"} {
			if id := r.vmOf(vms, c, &guest{VMID: gid, Type: typ}); id != 0 {
				vm = id
				break
			}
		}
		var node any
		if id := nodes.id(strconv.Itoa(ep) + "|" + asStr(j["target"])); id != 0 {
			node = id
		}
		return obj{"guest": gid, "target": asStr(j["target"]), "job_type": asStr(j["type"]), "schedule": asStr(j["schedule"]),
			"rate": j["rate"], "comment": asStr(j["comment"]), "disable": truthy(j["disable"]), "source": asStr(j["source"]),
			"jobnum": asInt(j["jobnum"]), "remove_job": asStr(j["remove_job"]), "virtual_machine": vm, "proxmox_node": node,
			"raw_config": j}
	})
}
