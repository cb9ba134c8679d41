package http_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// objectSyncer reports per-object records the way the engine does: the
// devices stage creates three devices and every later stage reads them
// unchanged; the VM stage creates two VMs, the IP stage patches them.
type objectSyncer struct{ *fakeSyncer }

func (s objectSyncer) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	res, err := s.fakeSyncer.RunStage(ctx, req, emit)
	if res == nil {
		return res, err
	}
	t := proxbox.NewTally()
	dev := proxbox.ActionUnchanged
	if req.Stage == proxbox.StageDevices {
		dev = proxbox.ActionCreated
	}
	for id, name := range map[int]string{1: "pve1", 2: "pve2", 3: "pve3"} {
		t.Add("dcim.device", id, name, dev)
	}
	switch req.Stage {
	case proxbox.StageVirtualMachines:
		t.Add("virtualization.virtualmachine", 10, "web", proxbox.ActionCreated)
		t.Add("virtualization.virtualmachine", 11, "db", proxbox.ActionCreated)
	case proxbox.StageIPAddresses:
		t.Add("virtualization.virtualmachine", 10, "web", proxbox.ActionUpdated)
		t.Add("virtualization.virtualmachine", 11, "db", proxbox.ActionUpdated)
	}
	res.Objects, res.Counts = t, t.Counts()
	return res, err
}

// The run record of a full update counts each object once per run, however
// many of its stages touched it: 3 devices created (not 3 created and 33
// unchanged), 2 VMs created (not 2 created and 2 updated). The JSON answer
// and the stream's complete frame carry the same counts.
func TestFullUpdateRunRecordCountsEachObjectOnce(t *testing.T) {
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	e := newEnvFrom(t, st, pbhttp.Config{}, func(d *pbhttp.Deps) { d.Syncer = objectSyncer{newFake()} })
	code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey, "label": "t"}, nil)
	require.Equal(t, 201, code, "register")
	e.key = testKey

	want := map[string]map[string]float64{
		"dcim.device":                   {"created": 3, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0, "skipped": 0},
		"virtualization.virtualmachine": {"created": 2, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0, "skipped": 0},
	}
	code, b := e.do("GET", "/full-update", nil, nil)
	require.Equal(t, 200, code, "%s", b)
	body := mustJSON[struct {
		Counts map[string]map[string]float64 `json:"counts"`
	}](t, b)
	assert.Equal(t, want, body.Counts, "JSON answer")

	code, b = e.do("GET", "/admin/runs?limit=5", nil, nil)
	require.Equal(t, 200, code, "%s", b)
	runs := mustJSON[struct {
		Runs []struct {
			Kind   string `json:"kind"`
			Result struct {
				Counts map[string]map[string]float64 `json:"counts"`
				Stages []map[string]any              `json:"stages"`
			} `json:"result"`
		} `json:"runs"`
	}](t, b)
	require.NotEmpty(t, runs.Runs)
	rec := runs.Runs[0]
	assert.Equal(t, "full-update", rec.Kind)
	assert.Len(t, rec.Result.Stages, len(proxbox.Stages))
	assert.Equal(t, want, rec.Result.Counts, "run record")

	out := runStream(t, e, e.ts.URL+"/full-update/stream")
	require.NotNil(t, out.Complete)
	streamed, err := json.Marshal(out.Complete.ResultMap()["counts"])
	require.NoError(t, err)
	assert.Equal(t, want, mustJSON[map[string]map[string]float64](t, streamed), "stream's complete frame")
}
