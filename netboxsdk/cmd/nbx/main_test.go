package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

// clearEnv removes what nbx reads from the environment and points the
// profile file at an empty temporary directory.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"NETBOX_URL", "NETBOX_TOKEN", "NETBOX_CA_FILE", "NBX_PROFILE", "NBX_CONFIG", "COLUMNS",
		netboxsdk.EnvAPIMode, netboxsdk.EnvMockData} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
}

type result struct {
	code           int
	stdout, stderr string
}

func nbx(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func requireOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	assert.NotEqual(t, 0, r.code, "exit status")
	assert.Empty(t, r.stdout, "stdout")
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	require.Len(t, lines, 1, "stderr: %q", r.stderr)
	assert.True(t, strings.HasPrefix(lines[0], "nbx: "), lines[0])
	assert.Contains(t, lines[0], want)
}

// server starts a netboxtest over HTTP and points nbx at it.
func server(t *testing.T, opts ...netboxtest.Option) *netboxtest.Server {
	t.Helper()
	clearEnv(t)
	srv := netboxtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	t.Setenv("NETBOX_URL", srv.URL)
	t.Setenv("NETBOX_TOKEN", srv.Token())
	return srv
}

// writes counts the non-GET requests the server answered.
func writes(srv *netboxtest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method != "GET" && r.Method != "OPTIONS" {
			n++
		}
	}
	return n
}

func TestCRUD(t *testing.T) {
	srv := server(t)

	r := nbx(t, "create", "dcim.sites", "name=Lab One", "slug=lab-one", "status=active", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var site map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &site))
	id := fmt.Sprint(site["id"])

	r = nbx(t, "create", "virtualization.cluster-types", "--data", `{"name": "Proxmox", "slug": "proxmox"}`, "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	r = nbx(t, "create", "virtualization.clusters", "name=lab", "type=1", "status=active", "-o", "yaml")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "name: lab")
	r = nbx(t, "create", "virtualization.virtual-machines", "name=web-01", "cluster=1", "vcpus=2", "memory=2048", "status=active", "cf_unknown=1")
	requireOneLineError(t, r, "custom") // NetBox refuses an undefined custom field (400)

	r = nbx(t, "create", "virtualization.virtual-machines", "name=web-01", "cluster=1", "vcpus=2", "memory=2048", "status=active")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^name\s+web-01$`, r.stdout)

	// Table: the columns of the type, filled ones only.
	r = nbx(t, "ls", "virtualization.virtual-machines")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "ID  NAME    STATUS  CLUSTER  VCPUS  MEMORY\n1   web-01  active  lab      2      2048\n", r.stdout)

	r = nbx(t, "ls", "dcim.sites", "--filter", "status=active", "-o", "csv", "--columns", "id,name,status")
	require.Equal(t, 0, r.code, r.stderr)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"id", "name", "status"}, {id, "Lab One", "active"}}, recs)

	r = nbx(t, "ls", "dcim.sites", "-o", "yaml")
	require.Equal(t, 0, r.code, r.stderr)
	var ys []map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(r.stdout), &ys))
	require.Len(t, ys, 1)

	r = nbx(t, "get", "dcim.sites", "--filter", "slug=lab-one", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"slug": "lab-one"`)

	r = nbx(t, "update", "dcim.sites", id, "description=main lab", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"description": "main lab"`)
	r = nbx(t, "create", "dcim.sites", "name=Lab One", "slug=lab-one")
	requireOneLineError(t, r, "400 Bad Request")

	r = nbx(t, "count", "dcim.sites")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "1\n", r.stdout)
	r = nbx(t, "count", "dcim.sites", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `{"count": 1}`, r.stdout)

	r = nbx(t, "choices", "dcim.sites", "status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^status\s+active\s+Active$`, r.stdout)
	requireOneLineError(t, nbx(t, "choices", "dcim.sites", "colour"), `dcim.sites has no choice field "colour"`)

	r = nbx(t, "status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^netbox-version\s+4\.7\.3$`, r.stdout)

	r = nbx(t, "delete", "virtualization.virtual-machines", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "deleted 1 virtualization.virtual-machines\n", r.stdout)
	requireOneLineError(t, nbx(t, "get", "virtualization.virtual-machines", "1"), "404")

	// v2 token.
	t.Setenv("NETBOX_TOKEN", srv.TokenV2())
	r = nbx(t, "count", "dcim.sites")
	require.Equal(t, 0, r.code, r.stderr)
}

func TestBadInput(t *testing.T) {
	srv := server(t)
	_, err := srv.Seed("/api/dcim/sites/", map[string]any{"name": "a", "slug": "a"})
	require.NoError(t, err)
	srv.Reset()
	cases := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"unknown collection", []string{"ls", "dcim.devcies"}, `unknown collection "dcim.devcies" (did you mean dcim.devices`, 1},
		{"unknown collection on create", []string{"create", "dcim.site", "name=x"}, `unknown collection "dcim.site" (did you mean dcim.sites`, 1},
		{"unknown filter", []string{"ls", "dcim.sites", "--filter", "stauts=active"}, `unknown filter "stauts" for dcim.sites (did you mean`, 1},
		{"filter without value", []string{"ls", "dcim.sites", "--filter", "status"}, `--filter "status": want name=value`, 2},
		{"unknown field", []string{"create", "dcim.sites", "name=x", "slug=x", "stauts=active"}, `unknown field "stauts" for dcim.sites (did you mean status`, 2},
		{"malformed integer", []string{"create", "virtualization.virtual-machines", "name=x", "cluster=one"}, `field cluster="one": not an integer`, 2},
		{"malformed id", []string{"get", "dcim.sites", "abc"}, `object id "abc": want a positive integer`, 2},
		{"malformed JSON", []string{"create", "dcim.sites", "--data", `{"name": "x",`}, "malformed body", 2},
		{"malformed raw JSON", []string{"create", "dcim.sites", "name=x", "tags:=[1,"}, "tags:=[1,: malformed JSON", 2},
		{"unknown field in the body", []string{"create", "dcim.sites", "--data", `{"nmae": "x"}`}, `unknown field "nmae"`, 2},
		{"unknown column", []string{"ls", "dcim.sites", "--columns", "id,nmae"}, `unknown column "nmae" for dcim.sites (did you mean name`, 2},
		{"bad output", []string{"ls", "dcim.sites", "-o", "xml"}, `--output "xml": want table, json, yaml, csv`, 2},
		{"nothing to create", []string{"create", "dcim.sites"}, "nothing to create", 2},
		{"missing arguments", []string{"update", "dcim.sites"}, "usage: nbx update", 2},
		{"unknown command", []string{"lsit"}, `unknown command "lsit"`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := nbx(t, c.args...)
			requireOneLineError(t, r, c.want)
			assert.Equal(t, c.code, r.code)
		})
	}
	assert.Zero(t, srv.Total(), "no request at all")

	t.Run("missing token", func(t *testing.T) {
		t.Setenv("NETBOX_TOKEN", "")
		requireOneLineError(t, nbx(t, "ls", "dcim.sites"), "no token: set NETBOX_TOKEN")
		assert.Zero(t, srv.Total())
	})
	t.Run("missing URL", func(t *testing.T) {
		t.Setenv("NETBOX_URL", "")
		requireOneLineError(t, nbx(t, "ls", "dcim.sites"), "no NetBox URL")
	})
	t.Run("wrong token is a 403, the token never printed", func(t *testing.T) {
		t.Setenv("NETBOX_TOKEN", "ffffffffffffffffffffffffffffffffffffffff")
		r := nbx(t, "create", "dcim.sites", "name=b", "slug=b")
		requireOneLineError(t, r, "403")
		assert.NotContains(t, r.stderr, "ffffffffffffffffffffffffffffffffffffffff")
		assert.Equal(t, 1, srv.Len("/api/dcim/sites/"), "nothing written")
	})
	t.Run("server refuses (403 on the write)", func(t *testing.T) {
		srv.FailNext("POST", "/api/dcim/sites/", 403, 1, "")
		requireOneLineError(t, nbx(t, "create", "dcim.sites", "name=b", "slug=b"), "403 Forbidden")
		assert.Equal(t, 1, srv.Len("/api/dcim/sites/"), "nothing written")
	})
	assert.Zero(t, writes(srv)-2, "only the two refused writes reached the server")
}

// TestStreaming checks that ls writes the first objects before the last
// page is fetched.
func TestStreaming(t *testing.T) {
	srv := server(t, netboxtest.WithPageSizes(50, 100))
	objs := make([]map[string]any, 450)
	for i := range objs {
		objs[i] = map[string]any{"name": fmt.Sprintf("s%03d", i), "slug": fmt.Sprintf("s%03d", i)}
	}
	_, err := srv.Seed("/api/dcim/sites/", objs...)
	require.NoError(t, err)
	srv.Reset()
	w := &firstWrite{srv: srv}
	root := newRoot(w, &bytes.Buffer{})
	root.SetArgs([]string{"ls", "dcim.sites", "-o", "json"})
	require.NoError(t, root.ExecuteContext(context.Background()))
	var got []map[string]any
	require.NoError(t, json.Unmarshal(w.buf.Bytes(), &got))
	assert.Len(t, got, 450)
	pages := srv.Counts()["GET /api/dcim/sites/"]
	assert.GreaterOrEqual(t, pages, 5)
	assert.Less(t, w.requestsAtFirst, pages, "the first rows were written before the last page was fetched")
}

type firstWrite struct {
	mu              sync.Mutex
	srv             *netboxtest.Server
	buf             bytes.Buffer
	requestsAtFirst int
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buf.Len() == 0 {
		f.requestsAtFirst = f.srv.Counts()["GET /api/dcim/sites/"]
	}
	return f.buf.Write(p)
}

func TestConfigPrecedence(t *testing.T) {
	srv := server(t)
	t.Setenv("NETBOX_URL", "")
	t.Setenv("NETBOX_TOKEN", "")
	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "nbx", "config.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(cfg), 0o700))
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `default: lab
profiles:
  lab:
    url: %s
    token: %s
  v2:
    url: %[1]s
    token_env: LAB_V2_TOKEN
  broken:
    url: %[1]s
    token: "0000000000000000000000000000000000000000"
`, srv.URL, srv.Token()), 0o600))

	// The default profile of ~/.config/nbx/config.yaml.
	r := nbx(t, "count", "dcim.sites")
	require.Equal(t, 0, r.code, r.stderr)
	// Another profile, its token from a variable (v2).
	t.Setenv("LAB_V2_TOKEN", srv.TokenV2())
	r = nbx(t, "--profile", "v2", "count", "dcim.sites")
	require.Equal(t, 0, r.code, r.stderr)
	// The environment beats the profile...
	t.Setenv("NETBOX_TOKEN", "1111111111111111111111111111111111111111")
	requireOneLineError(t, nbx(t, "count", "dcim.sites"), "403")
	// ... and a flag beats the environment.
	r = nbx(t, "--token", srv.Token(), "count", "dcim.sites")
	require.Equal(t, 0, r.code, r.stderr)
	t.Setenv("NETBOX_TOKEN", "")
	t.Setenv("NBX_PROFILE", "broken")
	requireOneLineError(t, nbx(t, "count", "dcim.sites"), "403")
	requireOneLineError(t, nbx(t, "-p", "nope", "count", "dcim.sites"), `no profile "nope"`)
	requireOneLineError(t, nbx(t, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "count", "dcim.sites"), "missing.yaml")
}

func TestMockMode(t *testing.T) {
	clearEnv(t)
	t.Setenv(netboxsdk.EnvAPIMode, "mock")
	t.Setenv(netboxsdk.EnvMockData, "../../netboxtest/testdata/mockdata.json")
	r := nbx(t, "ls", "virtualization.virtual-machines", "--filter", "status=offline")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "db-01")
	assert.NotContains(t, r.stdout, "web-01")
	r = nbx(t, "--mode", "real", "ls", "dcim.sites")
	requireOneLineError(t, r, "no NetBox URL")
}

func complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := nbx(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.HasPrefix(l, ":") {
			out = append(out, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return out
}

func TestCompletion(t *testing.T) {
	clearEnv(t)
	assert.Contains(t, complete(t, ""), "ls")
	assert.Contains(t, complete(t, "ls", "dcim.dev"), "dcim.devices")
	assert.Contains(t, complete(t, "ls", "plugins.prox"), "plugins.proxbox.storage")
	assert.Contains(t, complete(t, "ls", "dcim.devices", "--filter", "sta"), "status=")
	assert.Contains(t, complete(t, "ls", "dcim.devices", "--columns", "id,na"), "id,name")
	assert.Contains(t, complete(t, "create", "dcim.sites", "sl"), "slug=")
	assert.Contains(t, complete(t, "ls", "dcim.sites", "-o", ""), "csv")
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := nbx(t, "completion", sh)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "nbx")
	}
}

func TestCatalogCoversTheSchema(t *testing.T) {
	list, _ := catalog()
	assert.Greater(t, len(list), 150)
	for _, c := range list {
		assert.NotEmpty(t, fields(c.Resp), c.Name)
		_, ok := netboxsdk.FilterNames(c.Path)
		assert.True(t, ok, "filters of %s", c.Name)
	}
	c, err := lookupCollection("/api/dcim/devices/")
	require.NoError(t, err)
	assert.Equal(t, "dcim.devices", c.Name)
	c, err = lookupCollection("proxbox.storage")
	require.NoError(t, err)
	assert.Equal(t, "/api/plugins/proxbox/storage/", c.Path)
	assert.Equal(t, []string{"id", "name", "status", "role", "site", "location", "rack", "cluster", "device_type", "platform", "tenant", "primary_ip4"},
		chooseColumns(mustCollection(t, "dcim.devices"), nil, false)[:12])
}

func mustCollection(t *testing.T, name string) *collection {
	t.Helper()
	c, err := lookupCollection(name)
	require.NoError(t, err)
	return c
}
