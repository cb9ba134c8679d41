package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// oddPVE rewrites every PVE answer into the shapes real PVE versions send
// for the same data: numbers as strings, booleans as "on"/"off"/"yes"/"no"
// and "1"/"0", keys the models have no field for, and null members left
// out. A sync reading through proxboxd/pve must not see a difference.
type oddPVE struct {
	next proxmoxsdk.Transport
	n    atomic.Int64 // booleans rewritten
}

// oddBools are members PVE sends as 0/1 booleans at the top level of a
// record; nested ones (fleecing's enabled) stay numbers.
var oddBools = map[string]bool{"online": true, "shared": true, "disable": true, "template": true, "active": true,
	"autostart": true, "onboot": true, "unprivileged": true, "quorate": true, "local": true, "enabled": true,
	"running": true, "vmstate": true, "protected": true, "repeat-missed": true, "all": true}

func (o *oddPVE) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	resp, err := o.next.RoundTrip(ctx, req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		return resp, nil
	}
	env["data"] = o.odd(env["data"], 0)
	body, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	out := *resp
	out.Body = body
	return &out, nil
}

// odd rewrites v; depth 0 is the data, a record is the data object or an
// item of the data list.
func (o *oddPVE) odd(v any, depth int) any {
	switch t := v.(type) {
	case []any:
		for i := range t {
			t[i] = o.odd(t[i], depth+1)
		}
		return t
	case map[string]any:
		rec := depth <= 1
		for k, val := range t {
			if val == nil {
				delete(t, k) // missing rather than null
				continue
			}
			if num, ok := val.(json.Number); ok && rec && oddBools[k] && (num == "0" || num == "1") {
				o.n.Add(1) // the same form for a key every time: raw_config keeps PVE's shapes
				yes, no := [3]string{"on", "yes", "1"}[len(k)%3], [3]string{"off", "no", "0"}[len(k)%3]
				if num == "1" {
					t[k] = yes
				} else {
					t[k] = no
				}
				continue
			}
			t[k] = o.odd(val, depth+1)
		}
		if rec {
			t["x-proxbox-future-key"] = "from a newer PVE"
		}
		return t
	case json.Number:
		return string(t) // a number as a string
	case bool:
		if t {
			return json.Number("1")
		}
		return json.Number("0")
	}
	return v
}

// nbDump is what NetBox holds of the objects a sync writes, without ids,
// references and the raw PVE records (which keep PVE's shapes).
func (e *env) nbDump() map[string][]string {
	e.t.Helper()
	fields := map[*kind][]string{
		kDevice:      {"name", "status"},
		kCluster:     {"name", "status", "description"},
		kNodeIface:   {"name", "type", "enabled", "mtu", "mode", "description"},
		kStorage:     {"name", "storage_type", "content", "path", "nodes", "shared", "enabled", "server", "port", "username", "export", "pool", "datastore", "prune_backups", "max_protected_backups"},
		kBackup:      {"volume_id", "storage", "subtype", "format", "creation_time", "size", "used", "encrypted", "verification_state", "verification_upid", "notes", "vmid"},
		kSnapshot:    {"name", "description", "vmid", "node", "snaptime", "parent", "subtype", "status"},
		kTask:        {"upid", "vm_type", "node", "pid", "pstart", "task_id", "task_type", "username", "start_time", "end_time", "description", "status", "task_state", "exitstatus"},
		kReplication: {"replication_id", "guest", "target", "job_type", "schedule", "rate", "comment", "disable", "source", "jobnum", "remove_job", "status"},
		kRoutine:     {"job_id", "enabled", "schedule", "comment", "notes_template", "selection", "keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "keep_all", "bwlimit", "zstd", "io_workers", "fleecing", "repeat_missed", "pbs_change_detection_mode", "status"},
	}
	out := map[string][]string{}
	for k, fs := range fields {
		for _, o := range e.list(k.Path, nil) {
			parts := make([]string, 0, len(fs))
			for _, f := range fs {
				parts = append(parts, fmt.Sprintf("%s=%v", f, plain(o[f])))
			}
			out[k.Type] = append(out[k.Type], strings.Join(parts, " "))
		}
		sort.Strings(out[k.Type])
	}
	return out
}

// TestOddPVEScalarShapesSyncTheSame: the same cluster, once as pvemock
// answers and once with every answer in PVE's other scalar shapes, syncs to
// the same NetBox; the re-sync of the odd one writes nothing.
func TestOddPVEScalarShapesSyncTheSame(t *testing.T) {
	clean := newEnv(t, nil, small("lab"))
	cleanRes := clean.full(proxbox.DefaultStageParams())

	odd := newEnv(t, nil, small("lab"))
	o := &oddPVE{}
	odd.conn.wrap = func(next proxmoxsdk.Transport) proxmoxsdk.Transport { o.next = next; return o }
	oddRes := odd.full(proxbox.DefaultStageParams())
	require.Positive(t, o.n.Load(), "no boolean rewritten")

	assert.Equal(t, totals(cleanRes), totals(oddRes), "counts per object type")
	assert.Equal(t, clean.vmStates(), odd.vmStates(), "VMs and their children")
	assert.Equal(t, clean.nbDump(), odd.nbDump(), "devices, clusters, node interfaces and plugin records")
	for _, s := range oddRes.Stages {
		assert.False(t, s.Partial, "stage %s partial: %s", s.Stage, s.Message)
	}

	odd.nb.Reset()
	odd.full(proxbox.DefaultStageParams())
	assert.Empty(t, odd.writes(), "re-sync of the odd shapes wrote")
}
