package pve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// stub answers each GET path with a fixed body (status 200) or a status.
type stub struct {
	bodies map[string]string
	status map[string]int
	seen   map[string]int
}

func (s *stub) RoundTrip(_ context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	s.seen[req.Path]++
	if code, ok := s.status[req.Path]; ok {
		return &proxmoxsdk.Response{StatusCode: code, Status: http.StatusText(code), Body: []byte(`{"data":null}`)}, nil
	}
	if b, ok := s.bodies[req.Path]; ok {
		return &proxmoxsdk.Response{StatusCode: http.StatusOK, Body: []byte(`{"data":` + b + `}`)}, nil
	}
	return &proxmoxsdk.Response{StatusCode: http.StatusNotImplemented, Status: "Method not implemented", Body: []byte(`{"data":null}`)}, nil
}

func reader(t *testing.T, tr proxmoxsdk.Transport) *Reader {
	t.Helper()
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(tr), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
	require.NoError(t, err)
	return NewReader(px)
}

func status(t *testing.T, js string) []StatusItem {
	t.Helper()
	var out []StatusItem
	require.NoError(t, proxmoxsdk.DecodeListInto(json.RawMessage(js), &out))
	return out
}

func TestIdentityRule(t *testing.T) {
	id, err := IdentityFromStatus(status(t, `[{"type":"cluster","name":"prod","nodes":2,"quorate":1},
		{"type":"node","name":"pve2","online":"1","ip":"10.0.0.2"},{"type":"node","name":"pve1","online":1,"ip":"10.0.0.1"}]`))
	require.NoError(t, err)
	assert.Equal(t, "prod", id.Name)
	assert.Equal(t, ModeCluster, id.Mode)
	assert.Equal(t, []Node{{Name: "pve1", Online: true, IP: "10.0.0.1"}, {Name: "pve2", Online: true, IP: "10.0.0.2"}}, id.Nodes)

	id, err = IdentityFromStatus(status(t, `[{"type":"node","name":"solo","online":"on","local":1}]`))
	require.NoError(t, err)
	assert.Equal(t, "solo", id.Name)
	assert.Equal(t, ModeStandalone, id.Mode)
	assert.True(t, id.Online("solo"))

	// nodes without a cluster record: a cluster, named after the first node
	id, err = IdentityFromStatus(status(t, `[{"type":"node","name":"b","online":0},{"type":"node","name":"a","online":"0"}]`))
	require.NoError(t, err)
	assert.Equal(t, "a", id.Name)
	assert.Equal(t, ModeCluster, id.Mode)
	assert.False(t, id.Online("a"))

	_, err = IdentityFromStatus(nil)
	require.ErrorIs(t, err, ErrNoNodes)

	id, err = IdentityFromNodes([]NodeItem{{Node: pvetypes.NewOptString("pve2"), Status: pvetypes.NewOptString("offline")},
		{Node: pvetypes.NewOptString("pve1"), Status: pvetypes.NewOptString("online")}})
	require.NoError(t, err)
	assert.Equal(t, Identity{Name: "pve1", Mode: ModeRestricted, Nodes: []Node{{Name: "pve1", Online: true}, {Name: "pve2"}}}, id)
}

func TestIdentifyFallsBackToNodesOnlyOn403(t *testing.T) {
	s := &stub{status: map[string]int{"/cluster/status": http.StatusForbidden},
		bodies: map[string]string{"/nodes": `[{"node":"pve1","status":"online","maxmem":"1024"},{"node":"pve2","status":"offline"}]`}}
	id, err := reader(t, s).Identify(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ModeRestricted, id.Mode)
	assert.Equal(t, "pve1", id.Name)
	assert.Equal(t, []Node{{Name: "pve1", Online: true}, {Name: "pve2"}}, id.Nodes)
	assert.Equal(t, map[string]int{"/cluster/status": 1, "/nodes": 1}, s.seen)

	s = &stub{status: map[string]int{"/cluster/status": http.StatusInternalServerError}}
	_, err = reader(t, s).Identify(context.Background())
	var ae *proxmoxsdk.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusInternalServerError, ae.StatusCode)
	assert.False(t, errors.Is(err, proxmoxsdk.ErrPermission))
	assert.Zero(t, s.seen["/nodes"], "/nodes read after a failure other than 403")

	s = &stub{status: map[string]int{"/cluster/status": http.StatusForbidden, "/nodes": http.StatusForbidden}}
	_, err = reader(t, s).Identify(context.Background())
	require.ErrorIs(t, err, proxmoxsdk.ErrPermission)
}

func TestConfigIndexedKeysAndOddScalars(t *testing.T) {
	s := &stub{bodies: map[string]string{
		"/nodes/pve1/qemu/100/config": `{"name":"web","cores":"2","onboot":"on","agent":"enabled=1,fstrim_cloned_disks=1",
			"net10":"virtio=BC:24:11:00:00:0A,bridge=vmbr0","net0":"e1000=BC:24:11:00:00:01,bridge=vmbr0,tag=20","net2":"virtio=BC:24:11:00:00:02",
			"ipconfig0":"ip=10.0.0.5/24,gw=10.0.0.1","scsi0":"local-lvm:vm-100-disk-0,size=32G","netx":"not indexed","future-key":5}`,
		"/nodes/pve1/lxc/101/config": `{"hostname":"ct","onboot":0,"unprivileged":"1","rootfs":"local-lvm:subvol-101-disk-0,size=8G",
			"mp0":"local-lvm:subvol-101-disk-1,mp=/data,size=4G","net0":"name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:01,ip=dhcp"}`,
		"/nodes/pve1/qemu/102/config": `null`,
	}}
	r := reader(t, s)
	ctx := context.Background()

	q, err := r.Config(ctx, "pve1", TypeQemu, 100)
	require.NoError(t, err)
	require.NotNil(t, q.Qemu)
	assert.True(t, q.Onboot())
	assert.True(t, q.AgentEnabled())
	assert.False(t, q.Unprivileged())
	assert.Equal(t, 2, q.Qemu.Cores.Get())
	var keys []string
	for _, e := range q.Family("net") {
		keys = append(keys, e.Key)
	}
	assert.Equal(t, []string{"net0", "net2", "net10"}, keys)
	v, ok := q.Value("ipconfig0")
	assert.True(t, ok)
	assert.Equal(t, "ip=10.0.0.5/24,gw=10.0.0.1", v)
	assert.Contains(t, q.Props(), "scsi0")
	f, _ := q.Value("future-key")
	assert.Equal(t, "5", f, "a key the model lacks, as a string")

	l, err := r.Config(ctx, "pve1", TypeLXC, 101)
	require.NoError(t, err)
	require.NotNil(t, l.LXC)
	assert.False(t, l.Onboot())
	assert.True(t, l.Unprivileged())
	assert.False(t, l.AgentEnabled())
	rootfs, ok := l.Value("rootfs")
	assert.True(t, ok)
	assert.True(t, strings.HasPrefix(rootfs, "local-lvm:subvol-101-disk-0"))
	assert.Contains(t, l.Props(), "mp0")
	assert.Contains(t, l.Props(), "rootfs")

	none, err := r.Config(ctx, "pve1", TypeQemu, 102)
	require.NoError(t, err)
	assert.Nil(t, none, "null config")

	_, err = r.Config(ctx, "pve1", "vm", 1)
	require.ErrorIs(t, err, ErrGuestType)

	for _, agent := range []string{"1", "enabled=1", "on", "1,fstrim_cloned_disks=1"} {
		c := &Config{Qemu: &QemuConfig{Agent: pvetypes.NewOptString(agent)}}
		assert.True(t, c.AgentEnabled(), agent)
	}
	for _, agent := range []string{"", "0", "enabled=0", "0,type=virtio", "fstrim_cloned_disks=1"} {
		c := &Config{Qemu: &QemuConfig{Agent: pvetypes.NewOptString(agent)}}
		assert.False(t, c.AgentEnabled(), agent)
	}
	var nilCfg *Config
	assert.Empty(t, nilCfg.Props())
	assert.False(t, nilCfg.Onboot())
}

func TestListsTolerateOddItems(t *testing.T) {
	s := &stub{bodies: map[string]string{
		"/cluster/resources": `[{"type":"qemu","vmid":"100","name":"web","node":"pve1","maxmem":"2147483648","maxcpu":"2","template":"off","future":{"a":1}},
			"not an object",
			{"type":"lxc","vmid":101,"name":{"unexpected":"object"},"node":"pve2","template":"1"}]`,
		"/storage": `[{"storage":"local","type":"dir","shared":"0","disable":"no","content":"backup,iso","port":8007},{"storage":"nfs","shared":1,"type":"nfs"}, 7]`,
	}}
	r := reader(t, s)
	res, err := r.Resources(context.Background(), "vm")
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, 100, res[0].Vmid.Get())
	assert.Equal(t, 2147483648, res[0].Maxmem.Get())
	assert.InDelta(t, 2.0, res[0].Maxcpu.Get(), 0)
	assert.False(t, res[0].Template.Get())
	assert.True(t, res[0].Extra.Has("future"))
	assert.Equal(t, "", res[1].Name.Get(), "a field of the wrong type is left zero")
	assert.True(t, res[1].Extra.Has("name"), "and kept raw in Extra")
	assert.True(t, res[1].Template.Get())

	st, err := r.Storages(context.Background())
	require.NoError(t, err)
	require.Len(t, st, 2)
	assert.False(t, st[0].Shared.Get())
	assert.False(t, st[0].Disable.Get())
	port, _ := Members(st[0].Raw).String("port")
	assert.Equal(t, "8007", port)
	assert.Equal(t, map[string]any{"storage": "nfs", "shared": float64(1), "type": "nfs"}, Object(st[1].Raw), "raw as PVE sent it")
	assert.True(t, st[1].Shared.Get())
}

// TestOneRequestPerRead: every read is one request (the sync's and
// benchmarks' request counts rely on it).
func TestOneRequestPerRead(t *testing.T) {
	m := pvemock.New(pvemock.Scenario{Name: "lab", Nodes: 2, QEMU: 2, LXC: 1, Seed: 3})
	id, secret := m.Token()
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithAPIToken(id, secret))
	require.NoError(t, err)
	r := NewReader(px)
	ctx := context.Background()

	ident, err := r.Identify(ctx)
	require.NoError(t, err)
	assert.Equal(t, "lab", ident.Name)
	assert.Equal(t, ModeCluster, ident.Mode)
	require.Len(t, ident.Nodes, 2)
	res, err := r.Resources(ctx, "vm")
	require.NoError(t, err)
	require.NotEmpty(t, res)
	g := res[0]
	_, err = r.Config(ctx, g.Node.Get(), g.Type.Get(), g.Vmid.Get())
	require.NoError(t, err)
	_, err = r.Snapshots(ctx, g.Node.Get(), g.Type.Get(), g.Vmid.Get())
	require.NoError(t, err)
	_, err = r.Storages(ctx)
	require.NoError(t, err)
	_, err = r.StorageContent(ctx, "pve1", "local", "backup")
	require.NoError(t, err)
	_, err = r.Tasks(ctx, "pve1", 0, 500)
	require.NoError(t, err)
	_, err = r.Network(ctx, "pve1")
	require.NoError(t, err)
	_, err = r.Replications(ctx)
	require.NoError(t, err)
	_, err = r.BackupJobs(ctx)
	require.NoError(t, err)
	_, err = r.Version(ctx)
	require.NoError(t, err)

	var total int64
	for k, n := range m.Requests() {
		assert.EqualValues(t, 1, n, k)
		total += n
	}
	assert.EqualValues(t, 11, total)

	_, err = NewReader(nil).Nodes(ctx)
	require.ErrorIs(t, err, ErrNotConfigured)
}

// TestFirewallReads: the firewall and CPU-model reads ask PVE for their
// paths once each, with no parameters, and the pass-through ones hand the
// data on as PVE sent it.
func TestFirewallReads(t *testing.T) {
	bodies := map[string]string{
		"/cluster/firewall/groups":          `[{"group":"web","digest":"d1"}]`,
		"/cluster/firewall/groups/web":      `[{"pos":0,"type":"in","action":"ACCEPT","enable":"1"}]`,
		"/cluster/firewall/rules":           `[{"pos":0,"type":"group","action":"web"}]`,
		"/cluster/firewall/ipset":           `[{"name":"trusted"}]`,
		"/cluster/firewall/ipset/trusted":   `[{"cidr":"10.0.0.0/8","nomatch":0}]`,
		"/cluster/firewall/aliases":         `[{"name":"gw","cidr":"10.0.0.1"}]`,
		"/nodes/pve1/firewall/rules":        `[{"pos":0,"type":"out","action":"DROP","future":{"a":1}}]`,
		"/nodes/pve1/capabilities/qemu/cpu": `[{"name":"host","vendor":"default","custom":0},{"name":"custom-a","vendor":"AuthenticAMD","custom":"1","reported-model":"EPYC"}, "not an object", {"name":"custom-b","custom":"on","vendor":{"odd":1}}]`,
	}
	var params []string
	s := &stub{bodies: bodies}
	tr := proxmoxsdk.TransportFunc(func(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
		if req.Method != http.MethodGet || len(req.Params) > 0 {
			params = append(params, req.Method+" "+req.Path+"?"+req.Params.Encode())
		}
		return s.RoundTrip(ctx, req)
	})
	r := reader(t, tr)
	ctx := context.Background()

	for path, read := range map[string]func() (json.RawMessage, error){
		"/cluster/firewall/groups":        func() (json.RawMessage, error) { return r.ClusterFirewallGroupsRaw(ctx) },
		"/cluster/firewall/groups/web":    func() (json.RawMessage, error) { return r.ClusterFirewallGroupRulesRaw(ctx, "web") },
		"/cluster/firewall/rules":         func() (json.RawMessage, error) { return r.ClusterFirewallRulesRaw(ctx) },
		"/cluster/firewall/ipset":         func() (json.RawMessage, error) { return r.ClusterFirewallIPSetsRaw(ctx) },
		"/cluster/firewall/ipset/trusted": func() (json.RawMessage, error) { return r.ClusterFirewallIPSetEntriesRaw(ctx, "trusted") },
		"/cluster/firewall/aliases":       func() (json.RawMessage, error) { return r.ClusterFirewallAliasesRaw(ctx) },
		"/nodes/pve1/firewall/rules":      func() (json.RawMessage, error) { return r.NodeFirewallRulesRaw(ctx, "pve1") },
	} {
		raw, err := read()
		require.NoError(t, err, path)
		assert.JSONEq(t, bodies[path], string(raw), path)
	}

	models, err := r.CPUModels(ctx, "pve1")
	require.NoError(t, err, "odd items and fields do not fail the read")
	require.Len(t, models, 3, "the item that is not an object is skipped")
	assert.Equal(t, "host", models[0].Name.Get())
	assert.False(t, models[0].Custom.Get())
	assert.Equal(t, "default", models[0].Vendor.Get())
	assert.True(t, models[1].Custom.Get())
	assert.Equal(t, "AuthenticAMD", models[1].Vendor.Get())
	assert.True(t, models[1].Extra.Has("reported-model"))
	assert.True(t, models[2].Custom.Get(), `"on" is true`)
	assert.False(t, models[2].Vendor.Set, "a vendor of the wrong shape is left unset")
	assert.True(t, models[2].Extra.Has("vendor"), "and kept raw in Extra")

	want := map[string]int{}
	for path := range bodies {
		want[path] = 1
	}
	assert.Equal(t, want, s.seen)
	assert.Empty(t, params, "only GETs without parameters")

	// a refusal is PVE's error, unchanged
	s = &stub{status: map[string]int{"/cluster/firewall/groups/web": http.StatusForbidden, "/nodes/pve1/capabilities/qemu/cpu": http.StatusInternalServerError}}
	r = reader(t, s)
	_, err = r.ClusterFirewallGroupRulesRaw(ctx, "web")
	require.ErrorIs(t, err, proxmoxsdk.ErrPermission)
	_, err = r.CPUModels(ctx, "pve1")
	var ae *proxmoxsdk.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusInternalServerError, ae.StatusCode)

	for _, read := range []func() error{
		func() error { _, err := NewReader(nil).ClusterFirewallGroupsRaw(ctx); return err },
		func() error { _, err := NewReader(nil).ClusterFirewallGroupRulesRaw(ctx, "web"); return err },
		func() error { _, err := NewReader(nil).ClusterFirewallRulesRaw(ctx); return err },
		func() error { _, err := NewReader(nil).ClusterFirewallIPSetsRaw(ctx); return err },
		func() error { _, err := NewReader(nil).ClusterFirewallIPSetEntriesRaw(ctx, "trusted"); return err },
		func() error { _, err := NewReader(nil).ClusterFirewallAliasesRaw(ctx); return err },
		func() error { _, err := NewReader(nil).NodeFirewallRulesRaw(ctx, "pve1"); return err },
		func() error { _, err := NewReader(nil).CPUModels(ctx, "pve1"); return err },
	} {
		require.ErrorIs(t, read(), ErrNotConfigured)
	}
}

// TestFirewallReadsOnMock: against pvemock, each firewall read is one
// request of its PVE operation.
func TestFirewallReadsOnMock(t *testing.T) {
	m := pvemock.New(pvemock.Scenario{Name: "lab", Nodes: 2, QEMU: 1, LXC: 1, Seed: 5})
	id, secret := m.Token()
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithAPIToken(id, secret))
	require.NoError(t, err)
	r := NewReader(px)
	ctx := context.Background()

	for _, read := range []func() (json.RawMessage, error){
		func() (json.RawMessage, error) { return r.ClusterFirewallGroupsRaw(ctx) },
		func() (json.RawMessage, error) { return r.ClusterFirewallGroupRulesRaw(ctx, "web") },
		func() (json.RawMessage, error) { return r.ClusterFirewallRulesRaw(ctx) },
		func() (json.RawMessage, error) { return r.ClusterFirewallIPSetsRaw(ctx) },
		func() (json.RawMessage, error) { return r.ClusterFirewallIPSetEntriesRaw(ctx, "trusted") },
		func() (json.RawMessage, error) { return r.ClusterFirewallAliasesRaw(ctx) },
		func() (json.RawMessage, error) { return r.NodeFirewallRulesRaw(ctx, "pve1") },
	} {
		raw, err := read()
		require.NoError(t, err)
		_, err = Records(raw)
		require.NoError(t, err, "a list: %s", raw)
	}
	_, err = r.CPUModels(ctx, "pve2")
	require.NoError(t, err)

	assert.Equal(t, map[string]int64{
		"GET /cluster/firewall/groups":            1,
		"GET /cluster/firewall/groups/{group}":    1,
		"GET /cluster/firewall/rules":             1,
		"GET /cluster/firewall/ipset":             1,
		"GET /cluster/firewall/ipset/{name}":      1,
		"GET /cluster/firewall/aliases":           1,
		"GET /nodes/{node}/firewall/rules":        1,
		"GET /nodes/{node}/capabilities/qemu/cpu": 1,
	}, m.Requests())
}
