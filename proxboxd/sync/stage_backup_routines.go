package sync

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/oapi-codegen/nullable"
	pbplugin "github.com/proxbox-go/proxbox/netboxsdk/gen/plugins/proxbox"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

func (r *run) stageRoutines(ctx context.Context, cls []*cluster) (int, string, error) {
	return jobStage(ctx, r, cls, kRoutine, (*pve.Reader).BackupJobs, backupJobID, "job_id", func(c *cluster, ep int, id string, job pve.Job[pve.BackupJob]) any {
		j, members := job.Item, pve.Members(job.Raw)
		sel := []any{}
		for _, s := range strings.Split(j.Vmid.Get(), ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				sel = append(sel, n)
			}
		}
		if len(sel) == 0 {
			// The plugin's selection is a JSONField that refuses both null
			// and [] ("This field cannot be blank."), so an "all" or "pool"
			// job records the guests it selects now; raw_config keeps the rule.
			sel = r.routineGuests(ctx, c, j)
		}
		if len(sel) == 0 {
			// a job that selects no guest cannot be stored: reported as
			// skipped, not attempted (a write NetBox must refuse would repeat
			// every sync)
			r.skip(kRoutine.Type, c.label()+"/"+j.Id.Get(), emptySelection)
			return nil
		}
		req := pbplugin.WritableBackupRoutineRequest{Endpoint: ep, JobId: id, Status: ptr(pbplugin.VMSnapshotStatusEnum("active")),
			Enabled: ptr(!j.Enabled.Set || j.Enabled.Get()), Schedule: ptr(j.Schedule.Get()), Comment: ptr(j.Comment.Get()),
			NotesTemplate: ptr(j.NotesTemplate.Get()), Selection: sel, Bwlimit: optInt(j.Bwlimit), Zstd: optInt(j.Zstd),
			IoWorkers: null[int](), RepeatMissed: val(j.RepeatMissed.Get()),
			PbsChangeDetectionMode: ptr(j.PbsChangeDetectionMode.Get()), RawConfig: pve.Object(job.Raw)}
		if n, ok := members.Int("io-workers"); ok {
			req.IoWorkers = val(int(n))
		}
		if f, ok := propMap(members, "fleecing"); ok {
			var parts []string
			for k, v := range f {
				parts = append(parts, k+"="+v)
			}
			slices.Sort(parts)
			req.Fleecing = ptr(strings.Join(parts, ","))
		} else {
			req.Fleecing = ptr(extraStr(members, "fleecing"))
		}
		prune, ok := propMap(members, "prune-backups")
		if !ok {
			_, prune = pve.SplitProps(extraStr(members, "prune-backups"))
		}
		keep := func(k string) nullable.Nullable[int] {
			v, ok := prune[k]
			if !ok {
				return null[int]()
			}
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return val(n)
		}
		req.KeepLast, req.KeepDaily, req.KeepWeekly = keep("keep-last"), keep("keep-daily"), keep("keep-weekly")
		req.KeepMonthly, req.KeepYearly = keep("keep-monthly"), keep("keep-yearly")
		_, all := prune["keep-all"]
		req.KeepAll = val(all)
		return req
	})
}

// routineGuests is the sorted VMIDs a vzdump job without a vmid list backs
// up: every guest (all=1), or the members of its pool; minus "exclude", and
// only those of "node" when the job is bound to one.
func (r *run) routineGuests(ctx context.Context, c *cluster, j pve.BackupJob) []any {
	in := map[int]bool{}
	if pool := j.Pool.Get(); pool != "" && validPoolID(pool) {
		if p, err := c.pve.Pool(ctx, pool); err == nil && p.Members != nil {
			for _, m := range *p.Members {
				if t := m.Type.Get(); t == "qemu" || t == "lxc" {
					in[m.Vmid.Get()] = true
				}
			}
		}
	} else if j.All.Get() {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err == nil {
			for _, g := range c.guests {
				in[g.VMID] = true
			}
		}
	}
	if node := j.Node.Get(); node != "" {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err == nil { // cached per run
			on := map[int]bool{}
			for _, g := range c.guests {
				if g.Node == node {
					on[g.VMID] = true
				}
			}
			for id := range in {
				if !on[id] {
					delete(in, id)
				}
			}
		}
	}
	for _, s := range strings.Split(j.Exclude.Get(), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			delete(in, n)
		}
	}
	ids := make([]int, 0, len(in))
	for id := range in {
		if id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func validPoolID(s string) bool { return poolIDRe.MatchString(s) }

const emptySelection = "the backup job selects no guest, and netbox-proxbox's BackupRoutine cannot store an empty selection"

var poolIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// optInt is an optional PVE integer for a NetBox body: nil when PVE sent
// none.
func optInt(o pvetypes.OptInt) nullable.Nullable[int] {
	if !o.Set {
		return null[int]()
	}
	return val(o.Get())
}

// propMap reads a member PVE sends either as a property string or, decoded,
// as an object (fleecing, prune-backups): ok is false when it is not an
// object.
func propMap(all pvetypes.Extra, key string) (map[string]string, bool) {
	var m map[string]pvetypes.String
	if all.Decode(key, &m) != nil || m == nil {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.String()
	}
	return out, true
}

func backupJobID(j pve.BackupJob) string { return j.Id.Get() }
