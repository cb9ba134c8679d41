package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/demo"
	"github.com/proxbox-go/proxbox/proxboxd/sync"
)

// TestPythonSSECheck runs contrib/sse_check.py (stdlib only) against live
// stage streams of proxboxd wired to pvemock and netboxtest with the real
// sync engine. It applies the plugin's parsing and success rules.
func TestPythonSSECheck(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := demo.Start(ctx, demo.Options{NewEngine: func(c proxbox.Connector) proxbox.Syncer {
		return newEngine(c, discard(), sync.DefaultJobWindow, nil, nil)
	}})
	require.NoError(t, err)
	defer env.Close()
	script := filepath.Join("..", "..", "contrib", "sse_check.py")
	cmd := exec.CommandContext(ctx, py, script, "--url="+env.BaseURL, "--key="+env.APIKey, "--require-frames", "--timeout", "60") // "=": a key may start with "-"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Log(out.String())
	require.NoError(t, err, "sse_check.py failed")
	require.Contains(t, out.String(), "12/12 streams passed", "not all streams checked")
	// the checker must fail on a broken stream: point it at a path without complete
	bad := exec.CommandContext(ctx, py, script, "--url", env.BaseURL, "--key", "wrong-key", "--path", "dcim/devices/create/stream", "--timeout", "10")
	o, err := bad.CombinedOutput()
	require.Error(t, err, "checker passed a 401: %s", o)
}

// TestDemoOnceReport runs `proxboxd demo --once --report` and checks the
// report shape of issue 5 §7.
func TestDemoOnceReport(t *testing.T) {
	if testing.Short() {
		t.Skip("full demo")
	}
	rep := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run([]string{"demo", "--once", "--report", rep, "--log-level", "error"}, &stdout, &stderr)
	require.NoError(t, err, "demo\n%s\n%s", stdout.String(), stderr.String())
	assert.Less(t, time.Since(start), 60*time.Second, "demo time")
	b, err := os.ReadFile(rep)
	require.NoError(t, err)
	var r struct {
		Scenario map[string]any `json:"scenario"`
		Runs     []struct {
			DurationS      float64                    `json:"duration_s"`
			NetBoxRequests map[string]int             `json:"netbox_requests"`
			Created        map[string]int             `json:"created"`
			Updated        map[string]int             `json:"updated"`
			Deleted        map[string]int             `json:"deleted"`
			Failed         map[string]int             `json:"failed"`
			Unchanged      map[string]int             `json:"unchanged"`
			Extra          map[string]json.RawMessage `json:"-"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, float64(3), r.Scenario["nodes"])
	assert.Equal(t, float64(80), r.Scenario["qemu"])
	assert.Equal(t, float64(20), r.Scenario["lxc"])
	require.Len(t, r.Runs, 2, "report: %s", b)
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		assert.Contains(t, r.Runs[0].NetBoxRequests, m, "netbox_requests")
	}
	first := r.Runs[0]
	assert.Positive(t, first.DurationS)
	// each object once per run, whatever number of the 12 stages touched it:
	// the devices stage creates the 3 nodes, the 11 later stages only read them;
	// the IP stage patches the primary IPs of VMs the VM stage created
	for ot, n := range map[string]int{"dcim.device": 3, "virtualization.virtualmachine": 100, "virtualization.vminterface": 200, "extras.tag": 2} {
		assert.Equal(t, n, first.Created[ot], "first run: %s created", ot)
		assert.Zero(t, first.Updated[ot], "first run: %s updated", ot)
		assert.Zero(t, first.Unchanged[ot], "first run: %s unchanged", ot)
	}
	second := r.Runs[1]
	assert.Zero(t, second.NetBoxRequests["POST"]+second.NetBoxRequests["PATCH"]+second.NetBoxRequests["PUT"]+second.NetBoxRequests["DELETE"],
		"second run wrote to NetBox: %v", second.NetBoxRequests)
	for ot, n := range first.Created {
		assert.Equal(t, n, second.Unchanged[ot], "second run: %s unchanged", ot)
		assert.Zero(t, second.Created[ot]+second.Updated[ot]+second.Deleted[ot]+second.Failed[ot], "second run: %s changed", ot)
	}
	assert.Contains(t, stdout.String(), "full sync: OK", "summary")
}

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	require.NoError(t, run([]string{"version"}, &out, &errb))
	assert.True(t, strings.HasPrefix(out.String(), "proxboxd "), "version: %q", out.String())
	require.Error(t, run([]string{"bogus"}, &out, &errb), "unknown command accepted")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestBadClusterVRFsStopsStartBeforeTouchingTheStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "proxboxd.db")
	t.Setenv("PROXBOX_CLUSTER_VRFS", "lab")
	var stderr bytes.Buffer
	err := run([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, io.Discard, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PROXBOX_CLUSTER_VRFS")
	assert.Contains(t, err.Error(), "want cluster=VRF")
	_, statErr := os.Stat(db)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "the store was created")
}
