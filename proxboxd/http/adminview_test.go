package http_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// planningSyncer plans two changes on a dry run of the VM stage.
type planningSyncer struct{ *fakeSyncer }

func (s planningSyncer) RunStage(ctx context.Context, req proxbox.StageRequest, emit proxbox.Emitter) (*proxbox.StageResult, error) {
	res, err := s.fakeSyncer.RunStage(ctx, req, emit)
	if res != nil && req.Params.DryRun && req.Stage == proxbox.StageVirtualMachines {
		res.Plan = []proxbox.Change{
			{Action: "update", ObjectType: "virtualization.virtualmachine", Name: "web", ID: 10,
				Fields: map[string]proxbox.Diff{"memory": {Old: 2048, New: 4096}}},
			{Action: "create", ObjectType: "dcim.device", Name: "pve4", Fields: map[string]proxbox.Diff{"name": {New: "pve4"}}},
		}
	}
	return res, err
}

type overview struct {
	Version string   `json:"version"`
	Stages  []string `json:"stages"`
	Latest  map[string]struct {
		ID     int                       `json:"id"`
		Status string                    `json:"status"`
		DryRun bool                      `json:"dry_run"`
		Counts proxbox.Counts            `json:"counts"`
		ByType map[string]proxbox.Counts `json:"by_type"`
	} `json:"latest"`
	Active []struct {
		ID     int    `json:"id"`
		Stage  string `json:"stage"`
		Status string `json:"status"`
	} `json:"active"`
	History map[string][]struct {
		ID     int    `json:"id"`
		Status string `json:"status"`
	} `json:"history"`
	Errors []struct {
		Stage      string `json:"stage"`
		ObjectType string `json:"object_type"`
		Name       string `json:"name"`
		Detail     string `json:"detail"`
	} `json:"errors"`
	Plan *struct {
		RunID  int    `json:"run_id"`
		Stage  string `json:"stage"`
		Total  int    `json:"total"`
		Groups []struct {
			ObjectType string         `json:"object_type"`
			Total      int            `json:"total"`
			Actions    map[string]int `json:"actions"`
			Changes    []proxbox.Change
		} `json:"groups"`
	} `json:"plan"`
}

// TestAdminOverview: what the operator view reads: the newest run of each
// stage with its totals, the runs going on, the last runs per stage, the
// errors of the newest runs naming their objects, and the newest dry run's
// plan grouped by type.
func TestAdminOverview(t *testing.T) {
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	fake := newFake()
	e := newEnvFrom(t, st, pbhttp.Config{}, func(d *pbhttp.Deps) { d.Syncer = planningSyncer{fake} })
	e.fake = fake
	code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey, "label": "t"}, nil)
	require.Equal(t, 201, code)
	e.key = testKey
	get := func() overview {
		t.Helper()
		code, b := e.do("GET", "/admin/api/overview", nil, nil)
		require.Equal(t, 200, code, "%s", b)
		return mustJSON[overview](t, b)
	}

	ov := get()
	assert.Equal(t, pbhttp.Version, ov.Version)
	require.Len(t, ov.Stages, 13)
	assert.Equal(t, "devices", ov.Stages[0])
	assert.Equal(t, "full-update", ov.Stages[12])
	assert.Empty(t, ov.Latest)
	assert.Empty(t, ov.Errors)
	assert.Nil(t, ov.Plan)

	for range 3 {
		code, _ := e.do("GET", stagePath(proxbox.StageDevices), nil, nil)
		require.Equal(t, 200, code)
	}
	fake.mu.Lock()
	fake.fail[proxbox.StageStorage] = "storage exploded"
	fake.mu.Unlock()
	e.do("GET", stagePath(proxbox.StageStorage), nil, nil)
	e.do("GET", stagePath(proxbox.StageVirtualMachines)+"?dry_run=true", nil, nil)

	ov = get()
	dev := ov.Latest["devices"]
	assert.Equal(t, "complete", dev.Status)
	assert.Equal(t, proxbox.Counts{Created: 1, Unchanged: 1}, dev.Counts)
	assert.Equal(t, proxbox.Counts{Created: 1, Unchanged: 1}, dev.ByType["virtualization.virtualmachine"])
	assert.Equal(t, "failed", ov.Latest["storage"].Status)
	assert.True(t, ov.Latest["virtual-machines"].DryRun)
	assert.False(t, dev.DryRun)
	require.Len(t, ov.History["devices"], 3)
	assert.Less(t, ov.History["devices"][0].ID, ov.History["devices"][2].ID, "oldest first")
	assert.Equal(t, dev.ID, ov.History["devices"][2].ID)
	require.Len(t, ov.Errors, 1)
	assert.Equal(t, "storage", ov.Errors[0].Stage)
	assert.Equal(t, "virtualization.virtualmachine", ov.Errors[0].ObjectType)
	assert.Equal(t, "vm1", ov.Errors[0].Name, "the error names its object")
	assert.Equal(t, "bad", ov.Errors[0].Detail)
	require.NotNil(t, ov.Plan)
	assert.Equal(t, ov.Latest["virtual-machines"].ID, ov.Plan.RunID)
	assert.Equal(t, 2, ov.Plan.Total)
	require.Len(t, ov.Plan.Groups, 2)
	assert.Equal(t, "dcim.device", ov.Plan.Groups[0].ObjectType, "grouped by type, sorted")
	vm := ov.Plan.Groups[1]
	assert.Equal(t, map[string]int{"update": 1}, vm.Actions)
	require.Len(t, vm.Changes, 1)
	assert.Equal(t, proxbox.Diff{Old: float64(2048), New: float64(4096)}, vm.Changes[0].Fields["memory"], "old -> new")
	assert.Empty(t, ov.Active)

	// a run going on: active, and the board's newest run of its stage
	gate := make(chan struct{})
	fake.mu.Lock()
	fake.gate = gate
	fake.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.do("GET", stagePath(proxbox.StageTaskHistory), nil, nil)
	}()
	require.Eventually(t, func() bool { return len(get().Active) == 1 }, 5*time.Second, 10*time.Millisecond)
	ov = get()
	assert.Equal(t, "task-history", ov.Active[0].Stage)
	assert.Equal(t, "running", ov.Active[0].Status)
	assert.Equal(t, "running", ov.Latest["task-history"].Status)
	assert.Empty(t, ov.History["task-history"], "a running run is not in the chart yet")
	close(gate)
	<-done
	assert.Empty(t, get().Active)
}

// TestAdminPageAndAssets: the page and its assets, their headers, and what
// needs the key: the page and its data unless --public-admin; the assets
// (code, no data) never.
func TestAdminPageAndAssets(t *testing.T) {
	noKey := map[string]string{pbhttp.HeaderAPIKey: ""}
	pub := newEnv(t, pbhttp.Config{PublicAdmin: true}, true)
	code, h, body := pub.send("GET", "/admin", nil, noKey)
	require.Equal(t, 200, code)
	assert.Contains(t, h.Get("Content-Type"), "text/html")
	csp := h.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline", "no inline script or style")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, body, `<script src="/admin/assets/admin.js"`)
	assert.NotContains(t, body, "<script>", "no inline script")
	assert.NotContains(t, body, "http://", "no CDN")
	assert.NotContains(t, body, "https://", "no CDN")
	for file, ct := range map[string]string{"admin.js": "text/javascript", "admin.css": "text/css"} {
		code, h, b := pub.send("GET", "/admin/assets/"+file, nil, noKey)
		require.Equal(t, 200, code, file)
		assert.Contains(t, h.Get("Content-Type"), ct, file)
		assert.NotEmpty(t, b, file)
		b = strings.ReplaceAll(b, `'http://www.w3.org/2000/svg'`, "") // a namespace name, not a fetch
		assert.False(t, strings.Contains(b, "http://") || strings.Contains(b, "https://"), "%s loads nothing from elsewhere", file)
	}
	for _, p := range []string{"/admin/assets/index.html", "/admin/assets/..%2fadminview.go", "/admin/assets/nope.js"} {
		code, _, _ := pub.send("GET", p, nil, noKey)
		assert.Equal(t, 404, code, p)
	}
	for _, p := range []string{"/admin/api/overview", "/admin/api/health"} {
		code, _, _ := pub.send("GET", p, nil, noKey)
		assert.Equal(t, 200, code, "%s with --public-admin", p)
	}

	priv := newEnv(t, pbhttp.Config{}, true)
	code, _, body = priv.send("GET", "/admin/api/health", nil, nil)
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"endpoints":[]}`, body)
	for _, p := range []string{"/admin", "/admin/api/overview", "/admin/api/health", "/admin/events", "/admin/runs/1/events"} {
		code, _, _ := priv.send("GET", p, nil, noKey)
		assert.Equal(t, 401, code, "%s without --public-admin", p)
	}
	code, _, _ = priv.send("GET", "/admin/assets/admin.js", nil, noKey)
	assert.Equal(t, 200, code, "assets need no key")
}
