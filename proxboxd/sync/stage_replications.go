package sync

import (
	"context"
	"fmt"
	"strconv"

	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"

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
	return jobStage(ctx, r, cls, kReplication, (*pve.Reader).Replications, replicationID, "replication_id", func(c *cluster, ep int, id string, job pve.Job[pve.ReplicationJob]) any {
		j := job.Item
		gid := j.Guest.Get()
		vm := 0
		for _, typ := range []string{"qemu", "lxc"} {
			if vm = r.vmOf(vms, c, &guest{VMID: gid, Type: typ}); vm != 0 {
				break
			}
		}
		if vm == 0 {
			// netbox-proxbox's Replication requires its VM
			r.skip(kReplication.Type, c.label()+"/"+id, fmt.Sprintf("guest %d of the replication job is not in NetBox", gid))
			return nil
		}
		rate := null[float64]()
		if j.Rate.Set {
			rate = val(j.Rate.Get())
		}
		return pbplugin.WritableReplicationRequest{Endpoint: val(ep), ReplicationId: id,
			Status: ptr(pbplugin.VMSnapshotStatusEnum("active")), Guest: gid, Target: j.Target.Get(),
			JobType: ptr(pbplugin.ReplicationJobTypeEnum(j.Type.Get())), Schedule: ptr(j.Schedule.Get()), Rate: rate,
			Comment: val(j.Comment.Get()), Disable: ptr(j.Disable.Get()), Source: val(j.Source.Get()), Jobnum: j.Jobnum.Get(),
			RemoveJob: val(pbplugin.ReplicationRemoveJobEnum(j.RemoveJob.Get())), VirtualMachine: vm,
			ProxmoxNode: refOrNull(nodes.id(strconv.Itoa(ep) + "|" + j.Target.Get())), RawConfig: pve.Object(job.Raw)}
	})
}

func replicationID(j pve.ReplicationJob) string { return j.Id.Get() }
