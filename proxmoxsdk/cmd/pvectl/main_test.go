package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// clearEnv removes every variable pvectl reads, so the developer's own
// settings do not leak into a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"PVE_URL", "PVE_TOKEN", "PVE_TOKEN_ID", "PVE_TOKEN_SECRET", "PVE_USER", "PVE_PASSWORD",
		"PVE_TOTP_SECRET", "PVE_FINGERPRINT", "PVE_CA_FILE", "PVE_TRANSPORT", "PVE_SSH_HOST", "PVE_SSH_PASSWORD",
		"PVECTL_OUTPUT", "COLUMNS", proxmoxsdk.EnvAPIMode, proxmoxsdk.EnvMockScenario} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func pvectl(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// requireOneLineError checks a failed run: non-zero exit, nothing on stdout,
// exactly one "pvectl: …" line on stderr containing want.
func requireOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	assert.NotEqual(t, 0, r.code, "exit status")
	assert.Empty(t, r.stdout, "stdout")
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr: %q", r.stderr)
	assert.True(t, strings.HasPrefix(lines[0], "pvectl: "), lines[0])
	assert.Contains(t, lines[0], want)
}

// writes counts the mock's non-GET requests.
func writes(m *pvemock.Mock) int64 {
	var n int64
	for k, v := range m.Requests() {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// mockEnv selects the in-process mock with a scenario of its own, so the
// test's writes are counted on a fresh cluster.
func mockEnv(t *testing.T) *pvemock.Mock {
	t.Helper()
	clearEnv(t)
	scen := filepath.Join(t.TempDir(), "cluster.yaml")
	b, err := os.ReadFile("../../pvemock/testdata/cluster.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(scen, b, 0o600))
	t.Setenv(proxmoxsdk.EnvAPIMode, "mock")
	t.Setenv(proxmoxsdk.EnvMockScenario, scen)
	m, err := pvemock.Shared(scen)
	require.NoError(t, err)
	return m
}

func firstGuest(t *testing.T, m *pvemock.Mock) (node, vmid string) {
	t.Helper()
	ids := m.VMIDs()
	require.NotEmpty(t, ids)
	for _, id := range ids {
		if n, kind, ok := m.GuestNode(id); ok && kind == "qemu" {
			b, _ := json.Marshal(id)
			return n, string(b)
		}
	}
	t.Fatal("no qemu guest")
	return "", ""
}

func TestGetOutputsAgainstMock(t *testing.T) {
	m := mockEnv(t)
	node, vmid := firstGuest(t, m)
	path := "/nodes/" + node + "/qemu/" + vmid + "/config"

	r := pvectl(t, "get", path)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^name\s+\S+`, r.stdout)
	assert.Regexp(t, `(?m)^net0\s+virtio=`, r.stdout)

	r = pvectl(t, "get", path, "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &cfg))
	assert.Contains(t, cfg, "name")

	r = pvectl(t, "--output", "yaml", "get", path, "--current", "1")
	require.Equal(t, 0, r.code, r.stderr)
	var y map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(r.stdout), &y))
	assert.Equal(t, cfg["name"], y["name"])

	// A list as a table: lead columns first, the header upper-case.
	r = pvectl(t, "get", "/cluster/resources", "type=vm")
	require.Equal(t, 0, r.code, r.stderr)
	header := strings.Fields(strings.SplitN(r.stdout, "\n", 2)[0])
	assert.Equal(t, []string{"VMID", "NODE", "NAME", "TYPE", "STATUS", "ID"}, header[:6])

	// ls: one row per child with its operations from the schema.
	r = pvectl(t, "ls", "/nodes/"+node+"/qemu")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^CHILD\s+OPERATIONS\s+VMID`, r.stdout)
	assert.Regexp(t, `(?m)^`+vmid+`\s+get,delete\s+`+vmid, r.stdout)

	// A scalar: printed as is.
	r = pvectl(t, "get", "/version", "-o", "table")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^version\s+8\.`, r.stdout)
	assert.Zero(t, writes(m))
}

func TestWritesAndWait(t *testing.T) {
	m := mockEnv(t)
	node, vmid := firstGuest(t, m)
	base := "/nodes/" + node + "/qemu/" + vmid

	r := pvectl(t, "set", base+"/config", "--memory=3072")
	require.Equal(t, 0, r.code, r.stderr)
	r = pvectl(t, "get", base+"/config", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"memory": "3072"`)

	// create answers a task id; --wait follows it, the log on stderr.
	r = pvectl(t, "create", base+"/snapshot", "--snapname", "pvectl-test", "--wait", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "task UPID:")
	assert.Contains(t, r.stderr, "TASK OK")
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
	assert.Equal(t, "OK", st["exitstatus"])

	// Without --wait the UPID is printed.
	r = pvectl(t, "create", base+"/snapshot", "--snapname", "pvectl-test2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "UPID:"), r.stdout)

	// A parameter named like a pvectl flag goes through -P.
	r = pvectl(t, "delete", base+"/snapshot/pvectl-test2", "-P", "force=1", "-q")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
}

func TestBadInput(t *testing.T) {
	m := mockEnv(t)
	node, vmid := firstGuest(t, m)
	base := "/nodes/" + node + "/qemu/" + vmid
	before := writes(m)
	reqs := len(m.Requests())

	cases := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"unknown path", []string{"get", base + "/confg"}, "unknown API path " + base + "/confg (did you mean /nodes/{node}/qemu/{vmid}/config", 1},
		{"method the path lacks", []string{"create", "/cluster/resources"}, "/cluster/resources has no create (it has: get)", 1},
		{"unknown parameter", []string{"set", base + "/config", "--memroy", "1024"}, `unknown parameter "memroy" (did you mean memory?)`, 1},
		{"malformed integer", []string{"set", base + "/config", "--cores", "two"}, `cores="two": not an integer`, 1},
		{"out of range", []string{"set", base + "/config", "--cores", "0"}, `cores="0": below the minimum 1`, 1},
		{"bad enum", []string{"get", "/cluster/resources", "--type", "vms"}, `type="vms": must be one of`, 1},
		{"bad path variable", []string{"get", "/nodes/" + node + "/qemu/12/config"}, "path segment {vmid}=\"12\": below the minimum 100", 1},
		{"missing required", []string{"create", base + "/snapshot"}, `missing required parameter "snapname"`, 1},
		{"parameter of another PVE version", []string{"--pve-version", "8.1", "create", "/cluster/backup", "--fleecing", "enabled=1"}, `parameter "fleecing" needs PVE 9.1`, 1},
		{"missing path", []string{"get"}, "missing API path", 2},
		{"stray argument", []string{"get", "/version", "oops"}, `unexpected argument "oops"`, 2},
		{"parameter without value", []string{"set", base + "/config", "--memory"}, "parameter --memory needs a value", 2},
		{"unknown short flag", []string{"get", "/version", "-z"}, "unknown flag -z", 2},
		{"bad output", []string{"get", "/version", "-o", "xml"}, `--output "xml": want table, json or yaml`, 2},
		{"bad mode", []string{"--mode", "fake", "get", "/version"}, `mode "fake": want real or mock`, 2},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := pvectl(t, c.args...)
			requireOneLineError(t, r, c.want)
			assert.Equal(t, c.code, r.code)
		})
	}
	assert.Equal(t, before, writes(m), "nothing written")
	assert.Equal(t, reqs, len(m.Requests()), "no request at all")
}

// TestHTTPSAuth drives pvectl over HTTPS against pvemock's pveproxy-like
// handler: token and ticket+TOTP logins, missing credentials, a wrong
// token (401) and a read-only token writing (403).
func TestHTTPSAuth(t *testing.T) {
	clearEnv(t)
	m := pvemock.New(pvemock.Scenario{Nodes: 1, QEMU: 2, LXC: 0, Seed: 7})
	srv := httptest.NewTLSServer(m.Handler())
	defer srv.Close()
	id, secret := m.Token()
	roID, roSecret := m.ReadOnlyToken()
	fp := proxmoxsdk.Fingerprint(srv.Certificate().Raw)
	t.Setenv("PVE_URL", srv.URL)
	t.Setenv("PVE_FINGERPRINT", fp)

	t.Run("missing credentials", func(t *testing.T) {
		m.ResetRequests()
		r := pvectl(t, "get", "/version")
		requireOneLineError(t, r, "no credentials: set PVE_TOKEN")
		assert.Empty(t, m.Requests(), "no request sent")
	})

	t.Run("token from the environment", func(t *testing.T) {
		t.Setenv("PVE_TOKEN", id+"="+secret)
		r := pvectl(t, "get", "/nodes/pve1/qemu/100/status/current")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `(?m)^status\s+`, r.stdout)
	})

	t.Run("token id and secret flags", func(t *testing.T) {
		r := pvectl(t, "--token-id", id, "--token-secret", secret, "get", "/version", "-o", "json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"version"`)
	})

	t.Run("wrong token is a 401, the secret never printed", func(t *testing.T) {
		r := pvectl(t, "--token", id+"=not-the-secret-1234", "get", "/version")
		requireOneLineError(t, r, "401")
		assert.NotContains(t, r.stderr, "not-the-secret-1234")
	})

	t.Run("read-only token writing is a 403, nothing written", func(t *testing.T) {
		m.ResetRequests()
		t.Setenv("PVE_TOKEN_ID", roID)
		t.Setenv("PVE_TOKEN_SECRET", roSecret)
		r := pvectl(t, "set", "/nodes/pve1/qemu/100/config", "--memory", "1536")
		requireOneLineError(t, r, "403")
		assert.NotContains(t, r.stderr, roSecret)
		r = pvectl(t, "get", "/nodes/pve1/qemu/100/config", "-o", "json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.NotContains(t, r.stdout, `"memory": "1536"`)
	})

	t.Run("ticket with TOTP", func(t *testing.T) {
		r := pvectl(t, "--user", "tfa@pve", "--password", pvemock.DefaultPassword, "--totp-secret", pvemock.DefaultTOTPSecret, "get", "/version", "-o", "json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"version"`)
		r = pvectl(t, "--user", "tfa@pve", "--password", pvemock.DefaultPassword, "get", "/version")
		requireOneLineError(t, r, "second factor")
		r = pvectl(t, "--user", "root@pam", "--password", "wrong-password-xyz", "get", "/version")
		requireOneLineError(t, r, "authentication")
		assert.NotContains(t, r.stderr, "wrong-password-xyz")
	})

	t.Run("bad token format", func(t *testing.T) {
		r := pvectl(t, "--token", "just-a-secret", "get", "/version")
		requireOneLineError(t, r, "want user@realm!name=secret")
		assert.NotContains(t, r.stderr, "just-a-secret")
	})
}

func TestUsage(t *testing.T) {
	clearEnv(t)
	r := pvectl(t, "usage", "/nodes/pve1/qemu/100/config")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "pvectl get /nodes/{node}/qemu/{vmid}/config\n  GET /nodes/{node}/qemu/{vmid}/config (vm_config), PVE 8.1, 9.1")
	assert.Contains(t, r.stdout, "pvectl set /nodes/{node}/qemu/{vmid}/config")
	assert.Regexp(t, `--cores\s+integer, range 1\.\., default 1 - The number of cores per socket\.`, r.stdout)
	assert.Regexp(t, `--net\[n\]\s+string`, r.stdout)
	assert.Contains(t, r.stdout, "{vmid}")

	r = pvectl(t, "usage", "/cluster/resources", "-X", "get", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var ops []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ops))
	require.Len(t, ops, 1)
	assert.Equal(t, "GET", ops[0]["Method"])

	// Parameters only one PVE version has say so.
	found := false
	for _, p := range []string{"/cluster/backup"} {
		r = pvectl(t, "usage", p)
		if strings.Contains(r.stdout, " only") {
			found = true
		}
	}
	assert.True(t, found, "a version-only parameter is marked")

	requireOneLineError(t, pvectl(t, "usage", "/nodes/x/nope"), "unknown API path")
}

// complete runs cobra's hidden completion command as the shells do.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := pvectl(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(l, ":") {
			continue
		}
		out = append(out, strings.SplitN(l, "\t", 2)[0])
	}
	return out
}

func TestCompletion(t *testing.T) {
	m := mockEnv(t)
	node, _ := firstGuest(t, m)
	assert.Contains(t, complete(t, ""), "get")
	assert.Contains(t, complete(t, "get", "/no"), "/nodes")
	assert.Contains(t, complete(t, "get", "/nodes/"+node+"/q"), "/nodes/"+node+"/qemu")
	// {node} comes from the live (mock) API.
	assert.Contains(t, complete(t, "get", "/nodes/"), "/nodes/"+node)
	// Parameters of the verb's operation.
	params := complete(t, "set", "/nodes/"+node+"/qemu/100/config", "--mem")
	assert.Contains(t, params, "--memory")
	assert.Contains(t, complete(t, "get", "/cluster/resources", "--type", ""), "vm")
	assert.Contains(t, complete(t, "get", "/version", "-o", ""), "yaml")
	assert.Contains(t, complete(t, "usage", "/cluster/res"), "/cluster/resources")
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := pvectl(t, "completion", sh)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "pvectl")
	}
}

// TestBinary runs the built command once, as a user would.
func TestBinary(t *testing.T) {
	bin := buildPvectl(t)
	cmd := exec.Command(bin, "get", "/nodes/pve1/qemu/100/config", "-o", "json")
	cmd.Env = append(os.Environ(), proxmoxsdk.EnvAPIMode+"=mock", proxmoxsdk.EnvMockScenario+"=s100")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"name"`)

	cmd = exec.Command(bin, "get", "/nodes/pve1/qemu/100/confg")
	cmd.Env = append(os.Environ(), proxmoxsdk.EnvAPIMode+"=mock")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildPvectl builds the command once per test binary.
func buildPvectl(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pvectl-test")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "pvectl")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	require.NoError(tb, buildErr)
	return builtBin
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// BenchmarkStartupGetMock measures start-up to output of the built binary:
// `pvectl get /nodes/pve1/qemu/100/config` against the in-process mock
// (PROXMOX_API_MODE=mock, scenario s100), one process per op.
func BenchmarkStartupGetMock(b *testing.B) {
	bin := buildPvectl(b)
	env := append(os.Environ(), proxmoxsdk.EnvAPIMode+"=mock", proxmoxsdk.EnvMockScenario+"=s100")
	for b.Loop() {
		cmd := exec.Command(bin, "get", "/nodes/pve1/qemu/100/config")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil || len(out) == 0 {
			b.Fatalf("pvectl: %v", err)
		}
	}
}
