package sync

import (
	"context"
	"strconv"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
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
	return jobStage(ctx, r, cls, kReplication, (*pve.Reader).Replications, replicationID, "replication_id", func(c *cluster, ep int, job pve.Job[pve.ReplicationJob]) obj {
		j := job.Item
		gid := j.Guest.Get()
		var vm any
		for _, typ := range []string{"qemu", "lxc"} {
			if id := r.vmOf(vms, c, &guest{VMID: gid, Type: typ}); id != 0 {
				vm = id
				break
			}
		}
		var node any
		if id := nodes.id(strconv.Itoa(ep) + "|" + j.Target.Get()); id != 0 {
			node = id
		}
		var rate any
		if j.Rate.Set {
			rate = j.Rate.Get()
		}
		return obj{"guest": gid, "target": j.Target.Get(), "job_type": j.Type.Get(), "schedule": j.Schedule.Get(),
			"rate": rate, "comment": j.Comment.Get(), "disable": j.Disable.Get(), "source": j.Source.Get(),
			"jobnum": j.Jobnum.Get(), "remove_job": j.RemoveJob.Get(), "virtual_machine": vm, "proxmox_node": node,
			"raw_config": obj(pve.Object(job.Raw))}
	})
}

func replicationID(j pve.ReplicationJob) string { return j.Id.Get() }
