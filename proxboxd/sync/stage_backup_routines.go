package sync

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func (r *run) stageRoutines(ctx context.Context, cls []*cluster) (int, string, error) {
	return r.jobStage(ctx, cls, kRoutine, "/cluster/backup", "job_id", func(c *cluster, ep int, j obj) obj {
		sel := []any{}
		for _, s := range strings.Split(asStr(j["vmid"]), ",") {
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
			r.skip(kRoutine.Type, c.label()+"/"+asStr(j["id"]), emptySelection)
			return nil
		}
		body := obj{"enabled": j["enabled"] == nil || truthy(j["enabled"]), "schedule": asStr(j["schedule"]),
			"comment": asStr(j["comment"]), "notes_template": asStr(j["notes-template"]), "selection": sel,
			"bwlimit": j["bwlimit"], "zstd": j["zstd"], "io_workers": j["io-workers"], "repeat_missed": truthy(j["repeat-missed"]),
			"pbs_change_detection_mode": asStr(j["pbs-change-detection-mode"]), "raw_config": j}
		if f, ok := j["fleecing"].(map[string]any); ok {
			var parts []string
			for k, v := range f {
				parts = append(parts, k+"="+asStr(v))
			}
			slices.Sort(parts)
			body["fleecing"] = strings.Join(parts, ",")
		} else {
			body["fleecing"] = asStr(j["fleecing"])
		}
		prune := map[string]string{}
		switch p := j["prune-backups"].(type) {
		case string:
			_, prune = parseProps(p)
		case map[string]any:
			for k, v := range p {
				prune[k] = asStr(v)
			}
		}
		for _, k := range []string{"keep-last", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"} {
			if v, ok := prune[k]; ok {
				body[strings.ReplaceAll(k, "-", "_")] = asInt(v)
			} else {
				body[strings.ReplaceAll(k, "-", "_")] = nil
			}
		}
		_, all := prune["keep-all"]
		body["keep_all"] = all
		return body
	})
}

// routineGuests is the sorted VMIDs a vzdump job without a vmid list backs
// up: every guest (all=1), or the members of its pool; minus "exclude", and
// only those of "node" when the job is bound to one.
func (r *run) routineGuests(ctx context.Context, c *cluster, j obj) []any {
	in := map[int]bool{}
	if pool := asStr(j["pool"]); pool != "" && validPoolID(pool) {
		var p struct {
			Members []obj `json:"members"`
		}
		if err := c.get(ctx, "/pools/"+pool, nil, &p); err == nil {
			for _, m := range p.Members {
				if t := asStr(m["type"]); t == "qemu" || t == "lxc" {
					in[asInt(m["vmid"])] = true
				}
			}
		}
	} else if truthy(j["all"]) {
		if err := c.readGuests(ctx, r.p.FetchMaxConcurrency); err == nil {
			for _, g := range c.guests {
				in[g.VMID] = true
			}
		}
	}
	if node := asStr(j["node"]); node != "" {
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
	for _, s := range strings.Split(asStr(j["exclude"]), ",") {
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
