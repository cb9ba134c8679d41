package proxmoxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// schemaOps reads the converted schemas (the generator's inputs) and
// returns "METHOD path" -> the versions that have it.
func schemaOps(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, v := range []string{"8.1", "9.1"} {
		b, err := os.ReadFile(filepath.Join("..", "schemas", "proxmox", "pve-"+v+".json"))
		if err != nil {
			t.Fatalf("read schema: %v", err)
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("decode schema %s: %v", v, err)
		}
		n := 0
		for p, item := range doc.Paths {
			for m := range item {
				switch m {
				case "get", "post", "put", "delete":
					k := strings.ToUpper(m) + " " + p
					out[k] = append(out[k], v)
					n++
				}
			}
		}
		want := map[string]int{"8.1": 584, "9.1": 649}[v]
		if n != want {
			t.Errorf("pve-%s.json has %d operations, want %d", v, n, want)
		}
	}
	return out
}

var navDocRe = regexp.MustCompile(`^(Get|Post|Put|Delete) calls (GET|POST|PUT|DELETE) (\S+) `)
var navVersionsRe = regexp.MustCompile(`(?m)^PVE versions: (.+)\.$`)

// TestNavigatorCoverage: the navigator (parsed from nav_gen.go) has exactly
// one typed method per operation of the 8.1 ∪ 9.1 schemas, and each says
// which versions have it.
func TestNavigatorCoverage(t *testing.T) {
	want := schemaOps(t)
	if len(want) != 652 {
		t.Errorf("union of the schemas has %d operations, want 652", len(want))
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "nav_gen.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil {
			continue
		}
		switch fd.Name.Name {
		case "Get", "Post", "Put", "Delete":
		default:
			continue
		}
		doc := fd.Doc.Text()
		m := navDocRe.FindStringSubmatch(doc)
		if m == nil || m[1] != fd.Name.Name || !strings.EqualFold(m[1], m[2]) {
			t.Errorf("%s at %s: doc does not name its operation: %q", fd.Name.Name, fset.Position(fd.Pos()), doc)
			continue
		}
		key := m[2] + " " + m[3]
		if _, dup := got[key]; dup {
			t.Errorf("two methods for %s", key)
		}
		vm := navVersionsRe.FindStringSubmatch(doc)
		if vm == nil {
			t.Errorf("%s: no PVE versions line", key)
			continue
		}
		got[key] = vm[1]
	}
	if len(got) != 652 {
		t.Errorf("navigator has %d typed operation methods, want 652", len(got))
	}
	for k, vs := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("no navigator method for %s", k)
			continue
		}
		sort.Strings(vs)
		if g != strings.Join(vs, ", ") {
			t.Errorf("%s: doc says versions %q, schemas say %v", k, g, vs)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("navigator method for %s, which no schema has", k)
		}
	}
}

// TestOperationsTable: pve.Operations lists the same 652 operations.
func TestOperationsTable(t *testing.T) {
	want := schemaOps(t)
	if len(pve.Operations) != len(want) {
		t.Errorf("pve.Operations has %d entries, want %d", len(pve.Operations), len(want))
	}
	for _, o := range pve.Operations {
		vs, ok := want[o.Method+" "+o.Path]
		if !ok {
			t.Errorf("pve.Operations has unknown %s %s", o.Method, o.Path)
			continue
		}
		sort.Strings(vs)
		if strings.Join(o.Versions, ",") != strings.Join(vs, ",") {
			t.Errorf("%s %s: versions %v, want %v", o.Method, o.Path, o.Versions, vs)
		}
		if o.Returns != "" && !json.Valid([]byte(o.Returns)) {
			t.Errorf("%s %s: Returns is not JSON", o.Method, o.Path)
		}
	}
}

func fakeClient(t *testing.T, body string, seen *Request) *Client {
	t.Helper()
	px, err := New(WithAPIToken("root@pam!test", "secret"), WithTransport(TransportFunc(func(ctx context.Context, req *Request) (*Response, error) {
		*seen = *req
		return &Response{StatusCode: 200, Body: []byte(body)}, nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	return px
}

// TestNavigatorRequests calls every typed and raw navigator method (the
// generated navCases) and checks the method and escaped path it sends.
func TestNavigatorRequests(t *testing.T) {
	var seen Request
	px := fakeClient(t, `{"data":null}`, &seen)
	if len(navCases) != 2*652 {
		t.Errorf("%d navigator cases, want %d", len(navCases), 2*652)
	}
	ctx := context.Background()
	for _, c := range navCases {
		seen = Request{}
		if err := c.call(ctx, px); err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		if seen.Method != c.method || seen.Path != c.path {
			t.Errorf("sent %s %s, want %s %s", seen.Method, seen.Path, c.method, c.path)
		}
	}
}

// TestNavigatorDecode: a typed result tolerates PVE's drift, keeps indexed
// keys such as net0, and a bad list item does not fail the list.
func TestNavigatorDecode(t *testing.T) {
	var seen Request
	ctx := context.Background()
	px := fakeClient(t, `{"data":{"name":"web1","memory":"2048","cores":2,"onboot":1,"net0":"virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0","digest":"x"}}`, &seen)
	cfg, err := px.Nodes("pve1").Qemu(100).Config().Get(ctx, &pve.GetNodesNodeQemuVmidConfigParams{})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Path != "/nodes/pve1/qemu/100/config" {
		t.Errorf("path %s", seen.Path)
	}
	if cfg.Name.Get() != "web1" || !cfg.Onboot.Get() || cfg.Cores.Get() != 2 {
		t.Errorf("decoded %+v", cfg)
	}
	if net0, ok := cfg.Get("net0"); !ok || !strings.HasPrefix(string(net0), "virtio=") {
		t.Errorf("net0 = %q, %v", net0, ok)
	}

	px = fakeClient(t, `{"data":[{"node":"pve1","status":"online","maxcpu":"8"},{"node":["bad"]},{"node":"pve2","cpu":0.5}]}`, &seen)
	nodes, err := px.NodesIndex().Get(ctx)
	if len(nodes) != 3 || nodes[0].Node.Get() != "pve1" || nodes[0].Maxcpu.Get() != 8 || nodes[2].Node.Get() != "pve2" {
		t.Errorf("nodes = %+v", nodes)
	}
	// The bad item is kept: the field that does not decode is zero, its
	// raw value is in Extra, and the error names it.
	if raw, _ := nodes[1].Extra.Raw("node"); string(raw) != `["bad"]` || nodes[1].Node.Set {
		t.Errorf("bad item = %+v", nodes[1])
	}
	var ie *ItemError
	var fe *pvetypes.FieldError
	if !errors.As(err, &ie) || ie.Index != 1 || !errors.As(err, &fe) || fe.Path != "node" || fe.Want != "string" {
		t.Errorf("want *ItemError for item 1 with a FieldError on node, got %v", err)
	}
}

// TestNavigatorWrite: a typed body reaches the wire with indexed keys
// (net0) as their own parameters and booleans as PVE's 0/1.
func TestNavigatorWrite(t *testing.T) {
	var seen Request
	px := fakeClient(t, `{"data":null}`, &seen)
	onboot, cores := true, 4
	body := &pve.PutNodesNodeQemuVmidConfigRequest{Onboot: &onboot, Cores: &cores}
	body.Set("net0", "virtio,bridge=vmbr0")
	if err := px.Nodes("pve1").Qemu(100).Config().Put(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	if seen.Method != "PUT" || seen.Path != "/nodes/pve1/qemu/100/config" {
		t.Fatalf("sent %s %s", seen.Method, seen.Path)
	}
	if got := seen.Params.Get("net0"); got != "virtio,bridge=vmbr0" {
		t.Errorf("net0 = %q (params %v)", got, seen.Params)
	}
	if seen.Params.Get("onboot") != "1" || seen.Params.Get("cores") != "4" {
		t.Errorf("params %v", seen.Params)
	}
	if len(seen.Params) != 3 {
		t.Errorf("unexpected extra params: %v", seen.Params)
	}
}

// TestNavigatorChainAllocs: building a chain costs only its path strings;
// the node structs stay on the stack.
func TestNavigatorChainAllocs(t *testing.T) {
	var seen Request
	px := fakeClient(t, `{"data":null}`, &seen)
	var p string
	allocs := testing.AllocsPerRun(100, func() {
		p = px.Nodes("pve1").Qemu(100).Config().Path()
	})
	if p != "/nodes/pve1/qemu/100/config" {
		t.Fatalf("path %s", p)
	}
	if allocs > 4 {
		t.Errorf("chain of 3 steps allocates %v times, want <= 4 (path strings only)", allocs)
	}
	t.Logf("allocs per 3-step chain: %v", allocs)
}
