package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// pveStub answers each GET path with a fixed "data" (status 200) or a
// status, and counts the requests by path.
type pveStub struct {
	data   map[string]string
	status map[string]int

	mu   sync.Mutex
	seen map[string]int
}

func (s *pveStub) RoundTrip(_ context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	s.seen[req.Method+" "+req.Path]++
	s.mu.Unlock()
	if code, ok := s.status[req.Path]; ok {
		return &proxmoxsdk.Response{StatusCode: code, Status: http.StatusText(code), Body: []byte(`{"data":null}`)}, nil
	}
	if b, ok := s.data[req.Path]; ok {
		return &proxmoxsdk.Response{StatusCode: http.StatusOK, Body: []byte(`{"data":` + b + `}`)}, nil
	}
	return &proxmoxsdk.Response{StatusCode: http.StatusNotImplemented, Status: "Method not implemented", Body: []byte(`{"data":null}`)}, nil
}

func (s *pveStub) requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.seen))
	for k, v := range s.seen {
		out[k] = v
	}
	return out
}

func (s *pveStub) reset() {
	s.mu.Lock()
	s.seen = nil
	s.mu.Unlock()
}

// stubConnector opens one Proxmox endpoint per stub: endpoint i+1 is stub
// i, with one client for the test (sessions are cached per client).
type stubConnector struct{ ts []proxbox.ProxmoxTarget }

func (stubConnector) NetBox(context.Context) (*netboxsdk.Client, error) {
	return nil, errors.New("no NetBox in this test")
}

func (c stubConnector) Proxmox(_ context.Context, pks []int) ([]proxbox.ProxmoxTarget, error) {
	var out []proxbox.ProxmoxTarget
	for _, t := range c.ts {
		if len(pks) == 0 || slices.Contains(pks, t.Endpoint.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}

func newStubEnv(t *testing.T, stubs ...*pveStub) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	var ts []proxbox.ProxmoxTarget
	for i, s := range stubs {
		cl, err := proxmoxsdk.New(proxmoxsdk.WithTransport(s), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
		require.NoError(t, err)
		ts = append(ts, proxbox.ProxmoxTarget{Client: cl, Endpoint: proxbox.ProxmoxEndpoint{ID: i + 1, Name: fmt.Sprintf("ep%d", i+1), Port: 8006}})
	}
	e := newEnvFrom(t, st, pbhttp.Config{}, func(d *pbhttp.Deps) { d.Connector = stubConnector{ts} })
	code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey, "label": "t"}, nil)
	require.Equal(t, http.StatusCreated, code, "register")
	e.key = testKey
	return e
}

// labPVE is a cluster "lab" with an online pve1 and an offline pve2 whose
// datacenter firewall has two security groups, cluster rules, two IP sets,
// an alias and options, in the shapes PVE sends (numbers and booleans as
// numbers or strings, keys the models do not know, text that JSON escapes).
func labPVE() *pveStub {
	return &pveStub{data: map[string]string{
		"/cluster/status": `[{"type":"cluster","name":"lab","nodes":2,"quorate":1,"version":4},
			{"type":"node","name":"pve1","online":1,"ip":"10.0.0.1","local":1},{"type":"node","name":"pve2","online":0,"ip":"10.0.0.2"}]`,
		"/version":                 `{"version":"9.1.1","release":"9.1","repoid":"0123abcd"}`,
		"/cluster/firewall/groups": `[{"group":"web","comment":"Web <tier> & \"co\"","digest":"d1"},{"group":"db_v2","digest":"d1"}]`,
		"/cluster/firewall/groups/web": `[{"pos":0,"type":"in","action":"ACCEPT","proto":"tcp","dport":"80,443","enable":1,"ipversion":4},
			{"pos":"1","type":"out","action":"DROP","comment":"ünïcode \u2028 line","log":"nolog","icmp-type":"any"}]`,
		"/cluster/firewall/groups/db_v2": `null`,
		"/cluster/firewall/rules":        `[{"pos":0,"type":"group","action":"web","enable":"1","iface":"net0","digest":"d4"}]`,
		"/cluster/firewall/ipset":        `[{"name":"trusted","comment":"office","digest":"d2"},{"name":"blocked-6"}]`,
		"/cluster/firewall/ipset/trusted": `[{"cidr":"10.0.0.0/8","nomatch":0,"digest":"d5"},
			{"cidr":"192.168.1.5","comment":"printer","nomatch":"1"}]`,
		"/cluster/firewall/ipset/blocked-6": `[]`,
		"/cluster/firewall/aliases":         `[{"name":"gw","cidr":"10.0.0.1","comment":"","digest":"d3","ipversion":4}]`,
		"/cluster/firewall/options":         `{"enable":1,"policy_in":"DROP","policy_out":"ACCEPT","ebtables":"1","log_ratelimit":"enable=1,burst=5,rate=1/second"}`,
		"/nodes/pve1/firewall/rules": `[{"pos":0,"type":"in","action":"ACCEPT","macro":"SSH","source":"+trusted","enable":1,
			"big":12345678901234567890,"f":0.1,"nested":{"a":[1,"2",null]}}]`,
		"/nodes/pve1/capabilities/qemu/cpu": `[{"name":"host","vendor":"default","custom":0},
			{"name":"custom-epyc","vendor":"AuthenticAMD","custom":1,"reported-model":"EPYC"},
			{"name":"custom-str","vendor":"GenuineIntel","custom":"1"},{"name":"custom-novendor","custom":true},
			{"name":"kvm64","vendor":"GenuineIntel"},{"name":"custom-on","vendor":"GenuineIntel","custom":"on"},
			{"name":"custom-off","vendor":"GenuineIntel","custom":"0"},{"name":"custom-nullvendor","vendor":null,"custom":1}]`,
	}}
}

// TestFirewallRoutesAnswerUnchanged pins the firewall and CPU-model answers
// byte for byte, and that each answer reads each PVE path once.
func TestFirewallRoutesAnswerUnchanged(t *testing.T) {
	pve := labPVE()
	e := newStubEnv(t, pve)
	const scope = "?proxmox_endpoint_ids=1"

	// the session (identity and version) is read once and cached
	code, body := e.do("GET", "/proxmox/version"+scope, nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)

	pve.reset()
	code, body = e.do("GET", "/proxmox/firewall/summary"+scope, nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, `[{"aliases":[{"cidr":"10.0.0.1","comment":"","digest":"d3","ipversion":4,"name":"gw"}],"cluster_name":"lab","endpoint_id":1,"endpoint_name":"ep1","ip_sets":[{"comment":"office","digest":"d2","entries":[{"cidr":"10.0.0.0/8","digest":"d5","nomatch":0},{"cidr":"192.168.1.5","comment":"printer","nomatch":"1"}],"name":"trusted"},{"entries":[],"name":"blocked-6"}],"options":{"ebtables":"1","enable":1,"log_ratelimit":"enable=1,burst=5,rate=1/second","policy_in":"DROP","policy_out":"ACCEPT"},"rules":[{"action":"web","digest":"d4","enable":"1","iface":"net0","pos":0,"type":"group"}],"security_groups":[{"comment":"Web \u003ctier\u003e \u0026 \"co\"","digest":"d1","group":"web","name":"web","rules":[{"action":"ACCEPT","dport":"80,443","enable":1,"ipversion":4,"pos":0,"proto":"tcp","type":"in"},{"action":"DROP","comment":"ünïcode \u2028 line","icmp-type":"any","log":"nolog","pos":"1","type":"out"}]},{"digest":"d1","group":"db_v2","name":"db_v2","rules":null}]}]`+"\n", string(body))
	assert.Equal(t, map[string]int{
		"GET /cluster/firewall/groups": 1, "GET /cluster/firewall/groups/web": 1, "GET /cluster/firewall/groups/db_v2": 1,
		"GET /cluster/firewall/rules": 1, "GET /cluster/firewall/ipset": 1, "GET /cluster/firewall/ipset/trusted": 1,
		"GET /cluster/firewall/ipset/blocked-6": 1, "GET /cluster/firewall/aliases": 1, "GET /cluster/firewall/options": 1,
	}, pve.requests())

	pve.reset()
	code, body = e.do("GET", "/proxmox/firewall/nodes/pve1/rules"+scope, nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, `[{"action":"ACCEPT","big":12345678901234567000,"enable":1,"f":0.1,"macro":"SSH","nested":{"a":[1,"2",null]},"pos":0,"source":"+trusted","type":"in"}]`+"\n", string(body))
	assert.Equal(t, map[string]int{"GET /nodes/pve1/firewall/rules": 1}, pve.requests())

	pve.reset()
	code, body = e.do("GET", "/proxmox/firewall/nodes/pve9/rules"+scope, nil, nil)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, `{"detail":"node pve9 not found"}`+"\n", string(body))
	assert.Empty(t, pve.requests())

	code, body = e.do("GET", "/proxmox/datacenter/cpu-models"+scope, nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, `[{"cluster_name":"lab","cputype":"custom-epyc","custom":true,"endpoint_id":1,"name":"custom-epyc","vendor_id":"AuthenticAMD"},{"cluster_name":"lab","cputype":"custom-str","custom":true,"endpoint_id":1,"name":"custom-str","vendor_id":"GenuineIntel"},{"cluster_name":"lab","cputype":"custom-novendor","custom":true,"endpoint_id":1,"name":"custom-novendor","vendor_id":null},{"cluster_name":"lab","cputype":"custom-on","custom":true,"endpoint_id":1,"name":"custom-on","vendor_id":"GenuineIntel"},{"cluster_name":"lab","cputype":"custom-nullvendor","custom":true,"endpoint_id":1,"name":"custom-nullvendor","vendor_id":null}]`+"\n", string(body))
	assert.Equal(t, map[string]int{"GET /nodes/pve1/capabilities/qemu/cpu": 1}, pve.requests())
}

// TestFirewallRoutesFailures pins the answers when PVE refuses a read or
// sends something the routes cannot use.
func TestFirewallRoutesFailures(t *testing.T) {
	const scope = "?proxmox_endpoint_ids=1"
	for _, tc := range []struct {
		name   string
		change func(s *pveStub)
		path   string
		code   int
		body   string
	}{
		{"groups refused", func(s *pveStub) { s.status = map[string]int{"/cluster/firewall/groups": http.StatusForbidden} },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: proxmox: GET /cluster/firewall/groups: 403 Forbidden"}`},
		{"group rules fail", func(s *pveStub) {
			s.status = map[string]int{"/cluster/firewall/groups/db_v2": http.StatusInternalServerError}
		},
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: proxmox: GET /cluster/firewall/groups/db_v2: 500 Internal Server Error"}`},
		{"group name not a segment", func(s *pveStub) { s.data["/cluster/firewall/groups"] = `[{"group":"../etc"}]` },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: security group name \"../etc\" is not a valid path segment"}`},
		{"ipset name not a segment", func(s *pveStub) { s.data["/cluster/firewall/ipset"] = `[{"name":7}]` },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: IP set name \"\" is not a valid path segment"}`},
		{"ipset entries fail", func(s *pveStub) { s.status = map[string]int{"/cluster/firewall/ipset/trusted": 595} },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: proxmox: GET /cluster/firewall/ipset/trusted: 595"}`},
		{"aliases not a list", func(s *pveStub) { s.data["/cluster/firewall/aliases"] = `{"gw":"10.0.0.1"}` },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: proxmox /cluster/firewall/aliases: pve: unexpected data: json: cannot unmarshal object into Go value of type []map[string]interface {}"}`},
		{"cluster rules not a list", func(s *pveStub) { s.data["/cluster/firewall/rules"] = `"x"` },
			"/proxmox/firewall/summary", http.StatusBadGateway,
			`{"detail":"cannot read the datacenter firewall: ep1: proxmox /cluster/firewall/rules: pve: unexpected data: json: cannot unmarshal string into Go value of type []map[string]interface {}"}`},
		{"node rules fail", func(s *pveStub) {
			s.status = map[string]int{"/nodes/pve1/firewall/rules": http.StatusInternalServerError}
		},
			"/proxmox/firewall/nodes/pve1/rules", http.StatusBadGateway,
			`{"detail":"cannot read the firewall rules of node pve1: proxmox: GET /nodes/pve1/firewall/rules: 500 Internal Server Error"}`},
		{"cpu models fail", func(s *pveStub) { s.status = map[string]int{"/nodes/pve1/capabilities/qemu/cpu": http.StatusForbidden} },
			"/proxmox/datacenter/cpu-models", http.StatusBadGateway,
			`{"detail":"cannot read CPU models: ep1: proxmox: GET /nodes/pve1/capabilities/qemu/cpu: 403 Forbidden"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pve := labPVE()
			tc.change(pve)
			e := newStubEnv(t, pve)
			code, body := e.do("GET", tc.path+scope, nil, nil)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.body+"\n", string(body))
		})
	}
}

// TestFirewallSummaryLeavesOutUnreadable: an endpoint whose firewall cannot
// be read is left out when another one answers.
func TestFirewallSummaryLeavesOutUnreadable(t *testing.T) {
	edge := labPVE()
	edge.data["/cluster/status"] = `[{"type":"node","name":"edge1","online":1,"local":1}]`
	edge.data["/nodes/edge1/capabilities/qemu/cpu"] = `[{"name":"custom-edge","vendor":"GenuineIntel","custom":1}]`
	edge.status = map[string]int{"/cluster/firewall/aliases": http.StatusForbidden}
	e := newStubEnv(t, labPVE(), edge)
	code, body := e.do("GET", "/proxmox/firewall/summary", nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	list := mustJSON[[]map[string]any](t, body)
	require.Len(t, list, 1)
	assert.Equal(t, "lab", list[0]["cluster_name"])
	assert.Contains(t, e.logText(), "reading the datacenter firewall failed")

	// the standalone node is its own CPU-model source
	code, body = e.do("GET", "/proxmox/datacenter/cpu-models?proxmox_endpoint_ids=2", nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, `[{"cluster_name":"edge1","cputype":"custom-edge","custom":true,"endpoint_id":2,"name":"custom-edge","vendor_id":"GenuineIntel"}]`+"\n", string(body))
	assert.Equal(t, 1, edge.requests()["GET /nodes/edge1/capabilities/qemu/cpu"])
}

// TestCPUModelsTolerateOddItems: the CPU models are read with the typed
// model's rules (pvetypes): an item that is not an object is skipped, and a
// field of the wrong shape is left zero, instead of failing the endpoint.
func TestCPUModelsTolerateOddItems(t *testing.T) {
	pve := labPVE()
	pve.data["/nodes/pve1/capabilities/qemu/cpu"] = `["not an object",{"name":"custom-a","vendor":{"odd":1},"custom":"yes"},
		{"name":"custom-b","vendor":5,"custom":1},{"name":["odd"],"custom":"no"}]`
	e := newStubEnv(t, pve)
	code, body := e.do("GET", "/proxmox/datacenter/cpu-models?proxmox_endpoint_ids=1", nil, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.Equal(t, `[{"cluster_name":"lab","cputype":"custom-a","custom":true,"endpoint_id":1,"name":"custom-a","vendor_id":null},{"cluster_name":"lab","cputype":"custom-b","custom":true,"endpoint_id":1,"name":"custom-b","vendor_id":"5"}]`+"\n", string(body))
}
