package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	script := filepath.Join("..", "..", "contrib", "sse_check.py")
	cmd := exec.CommandContext(ctx, py, script, "--url="+env.BaseURL, "--key="+env.APIKey, "--require-frames", "--timeout", "60") // "=": a key may start with "-"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Log(out.String())
	if err != nil {
		t.Fatalf("sse_check.py failed: %v", err)
	}
	if !strings.Contains(out.String(), "12/12 streams passed") {
		t.Fatal("not all streams checked")
	}
	// the checker must fail on a broken stream: point it at a path without complete
	bad := exec.CommandContext(ctx, py, script, "--url", env.BaseURL, "--key", "wrong-key", "--path", "dcim/devices/create/stream", "--timeout", "10")
	if o, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("checker passed a 401: %s", o)
	}
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
	if err := run([]string{"demo", "--once", "--report", rep, "--log-level", "error"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Fatalf("demo took %s", d)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Scenario map[string]any `json:"scenario"`
		Runs     []struct {
			DurationS      float64                    `json:"duration_s"`
			NetBoxRequests map[string]int             `json:"netbox_requests"`
			Created        map[string]int             `json:"created"`
			Updated        map[string]int             `json:"updated"`
			Deleted        map[string]int             `json:"deleted"`
			Failed         map[string]int             `json:"failed"`
			Extra          map[string]json.RawMessage `json:"-"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Scenario["nodes"] != float64(3) || r.Scenario["qemu"] != float64(80) || r.Scenario["lxc"] != float64(20) || len(r.Runs) != 2 {
		t.Fatalf("report: %s", b)
	}
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		if _, ok := r.Runs[0].NetBoxRequests[m]; !ok {
			t.Fatalf("netbox_requests lacks %s", m)
		}
	}
	if r.Runs[0].Created["virtualization.virtualmachine"] != 100 || r.Runs[0].DurationS <= 0 {
		t.Fatalf("first run: %+v", r.Runs[0])
	}
	second := r.Runs[1]
	if second.NetBoxRequests["POST"]+second.NetBoxRequests["PATCH"]+second.NetBoxRequests["PUT"]+second.NetBoxRequests["DELETE"] != 0 {
		t.Logf("second run wrote to NetBox: %v (sync engine idempotency)", second.NetBoxRequests)
	}
	if !strings.Contains(stdout.String(), "full sync: OK") {
		t.Fatalf("summary missing:\n%s", stdout.String())
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "proxboxd ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run([]string{"bogus"}, &out, &errb); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestBadClusterVRFsStopsStartBeforeTouchingTheStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "proxboxd.db")
	t.Setenv("PROXBOX_CLUSTER_VRFS", "lab")
	var stderr bytes.Buffer
	err := run([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "PROXBOX_CLUSTER_VRFS") || !strings.Contains(err.Error(), "want cluster=VRF") {
		t.Fatalf("err %v", err)
	}
	if _, statErr := os.Stat(db); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the store was created (%v)", statErr)
	}
}
