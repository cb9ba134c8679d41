package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fragment is a small apidata.js in PVE's own shape.
const fragment = `const apiSchema = [
 {"path": "/nodes", "text": "nodes", "info": {"GET": {"name": "index", "method": "GET", "description": "Node index.",
   "parameters": {"additionalProperties": 0},
   "returns": {"type": "array", "items": {"type": "object", "properties": {
      "node": {"type": "string"}, "maxcpu": {"type": "integer", "optional": 1}, "cpu": {"type": "number", "optional": 1}}}}}},
  "children": [
  {"path": "/nodes/{node}", "text": "{node}", "children": [
   {"path": "/nodes/{node}/qemu", "text": "qemu", "children": [
    {"path": "/nodes/{node}/qemu/{vmid}", "text": "{vmid}", "children": [
     {"path": "/nodes/{node}/qemu/{vmid}/config", "text": "config", "leaf": 1, "info": {
      "GET": {"name": "vm_config", "method": "GET", "description": "Get config.", "allowtoken": 1, "proxyto": "node",
       "parameters": {"additionalProperties": 0, "properties": {
         "node": {"type": "string", "format": "pve-node", "description": "The node."},
         "vmid": {"type": "integer", "format": "pve-vmid", "minimum": "100"},
         "current": {"type": "boolean", "optional": 1, "default": 0}}},
       "returns": {"type": "object", "properties": {
         "onboot": {"type": "boolean", "optional": 1},
         "memory": {"type": "string", "optional": 1, "format": {"current": {"type": "integer"}}},
         "digest": {"type": "string"},
         "net[n]": {"type": "string", "optional": 1, "format": "pve-qm-net"},
         "ostype": {"type": "string", "enum": ["l26", "win11"], "optional": 1}}}},
      "PUT": {"name": "update_vm", "method": "PUT", "protected": 1,
       "parameters": {"additionalProperties": 0, "properties": {
         "node": {"type": "string"}, "vmid": {"type": "integer"},
         "net[n]": {"type": "string", "optional": 1, "typetext": "[model=]<enum>"},
         "ostype": {"type": "string", "enum": ["l26", "win11"], "optional": 1},
         "cores": {"type": "integer", "optional": 1, "default": "1", "minimum": 1, "maximum": "8"},
         "balloon": {"type": "integer", "optional": 1, "default": "restore limit from datacenter"},
         "delete": {"type": "string", "optional": 1, "verbose_description": "long"}}},
       "returns": {"type": "null"}}}}]}]}]},
  {"path": "/nodes/{node}/ceph", "text": "ceph", "info": {"GET": {"name": "meta", "method": "GET",
    "parameters": {"properties": {"node": {"type": "string"}}},
    "returns": {"type": "object", "properties": {"mon": {"type": "object", "properties": {
      "{id}": {"type": "object", "properties": {"addr": {"type": "string"}}}}}}}}}}
 ]}
];
`

func convertFragment(t *testing.T) (map[string]any, Stats) {
	t.Helper()
	nodes, err := parseAPIData([]byte(fragment))
	if err != nil {
		t.Fatal(err)
	}
	doc, st, err := Convert(nodes, Options{Version: "0.1", Source: "fragment.js"})
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through JSON so the test sees what is written.
	b, err := marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out, st
}

// at walks a decoded document by keys (array indexes as decimal strings).
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				t.Fatalf("index %s out of range at %v", k, keys)
			}
			v = x[i]
		default:
			t.Fatalf("cannot walk %q of %v", k, keys)
		}
	}
	return v
}

func TestNames(t *testing.T) {
	cases := map[[2]string]string{
		{"GET", "/nodes/{node}/qemu/{vmid}/config"}:                "GetNodesNodeQemuVmidConfig",
		{"POST", "/nodes/{node}/qemu/{vmid}/agent/get-fsinfo"}:     "PostNodesNodeQemuVmidAgentGetFsinfo",
		{"PUT", "/cluster/sdn/fabrics/node/{fabric_id}/{node_id}"}: "PutClusterSdnFabricsNodeFabricIdNodeId",
		{"DELETE", "/pools"}: "DeletePools",
	}
	for in, want := range cases {
		if got := operationID(in[0], in[1]); got != want {
			t.Errorf("%v: got %s want %s", in, got, want)
		}
	}
	if got := camel("802.1q"); got != "N8021q" {
		t.Errorf("camel(802.1q) = %s", got)
	}
	if got := tagOf("/nodes/{node}/qemu/{vmid}"); got != "nodes-qemu" {
		t.Errorf("tag %s", got)
	}
}

func TestConvertFragment(t *testing.T) {
	doc, st := convertFragment(t)
	if st.Operations != 4 || st.InputPairs != 4 || st.NullReturns != 1 {
		t.Errorf("stats %+v", st)
	}
	cfg := at(t, doc, "paths", "/nodes/{node}/qemu/{vmid}/config", "get")
	if at(t, cfg, "operationId") != "GetNodesNodeQemuVmidConfig" || at(t, cfg, "x-pve-name") != "vm_config" {
		t.Errorf("operation header: %v", cfg)
	}
	// Path parameters first, in path order, required; numeric-string minimum coerced.
	if at(t, cfg, "parameters", "0", "name") != "node" || at(t, cfg, "parameters", "0", "in") != "path" ||
		at(t, cfg, "parameters", "0", "description") != "The node." {
		t.Errorf("param 0: %v", at(t, cfg, "parameters", "0"))
	}
	if at(t, cfg, "parameters", "1", "schema", "minimum") != 100.0 || at(t, cfg, "parameters", "1", "schema", "x-pve-format") != "pve-vmid" {
		t.Errorf("vmid schema: %v", at(t, cfg, "parameters", "1", "schema"))
	}
	// Query parameter with boolean default 0 -> false.
	if at(t, cfg, "parameters", "2", "in") != "query" || at(t, cfg, "parameters", "2", "required") != false ||
		at(t, cfg, "parameters", "2", "schema", "default") != false {
		t.Errorf("query param: %v", at(t, cfg, "parameters", "2"))
	}
	// Response wrapped in {"data": ...} and hoisted.
	if at(t, cfg, "responses", "200", "content", "application/json", "schema", "properties", "data", "$ref") != "#/components/schemas/GetNodesNodeQemuVmidConfigData" {
		t.Errorf("response: %v", at(t, cfg, "responses"))
	}
	data := at(t, doc, "components", "schemas", "GetNodesNodeQemuVmidConfigData")
	if at(t, data, "properties", "onboot", "x-go-type") != "pvetypes.Bool" ||
		at(t, data, "properties", "onboot", "x-go-type-import", "path") != pvetypesImport {
		t.Errorf("tolerant bool: %v", at(t, data, "properties", "onboot"))
	}
	if at(t, data, "properties", "ostype", "x-go-type") != "pvetypes.String" || at(t, data, "properties", "ostype", "enum") == nil {
		t.Errorf("response enum stays inline with tolerant type: %v", at(t, data, "properties", "ostype"))
	}
	if _, ok := at(t, data, "properties").(map[string]any)["net[n]"]; ok {
		t.Error("net[n] must not be a property")
	}
	if at(t, data, "additionalProperties", "x-go-type") != "pvetypes.String" || at(t, data, "x-pve-indexed", "net[n]", "x-pve-format") != "pve-qm-net" {
		t.Errorf("indexed: %v", data)
	}
	if at(t, data, "required") != nil || at(t, data, "x-pve-required", "0") != "digest" {
		t.Errorf("response required: %v / %v", at(t, data, "required"), at(t, data, "x-pve-required"))
	}
	if at(t, data, "properties", "memory", "x-pve-format", "current", "type") != "integer" {
		t.Errorf("property-string format: %v", at(t, data, "properties", "memory"))
	}

	put := at(t, doc, "paths", "/nodes/{node}/qemu/{vmid}/config", "put")
	if at(t, put, "responses", "200", "content") != nil {
		t.Error("null return must have no content")
	}
	if at(t, put, "requestBody", "content", "application/json", "schema", "$ref") != "#/components/schemas/PutNodesNodeQemuVmidConfigRequest" ||
		at(t, put, "requestBody", "required") != false || at(t, put, "x-pve-protected") != 1.0 {
		t.Errorf("request body: %v", put)
	}
	req := at(t, doc, "components", "schemas", "PutNodesNodeQemuVmidConfigRequest")
	if at(t, req, "additionalProperties", "type") != "string" || at(t, req, "additionalProperties", "x-go-type") != nil {
		t.Errorf("request indexed: %v", at(t, req, "additionalProperties"))
	}
	if at(t, req, "properties", "ostype", "$ref") != "#/components/schemas/PutNodesNodeQemuVmidConfigRequestOstype" {
		t.Errorf("request enum not hoisted with its owner name: %v", at(t, req, "properties", "ostype"))
	}
	cores := at(t, req, "properties", "cores")
	if at(t, cores, "default") != 1.0 || at(t, cores, "maximum") != 8.0 {
		t.Errorf("cores: %v", cores)
	}
	balloon := at(t, req, "properties", "balloon")
	if at(t, balloon, "default") != nil || !strings.Contains(at(t, balloon, "description").(string), "Default: restore limit") {
		t.Errorf("prose default: %v", balloon)
	}
	if at(t, req, "properties", "delete", "x-pve-verbose-description") != "long" {
		t.Errorf("extension: %v", at(t, req, "properties", "delete"))
	}
	// Placeholder keys -> map of a hoisted value schema.
	mon := at(t, doc, "components", "schemas", "GetNodesNodeCephData", "properties", "mon")
	if at(t, mon, "additionalProperties", "$ref") != "#/components/schemas/GetNodesNodeCephDataMonValue" || at(t, mon, "x-pve-map-key") != "{id}" {
		t.Errorf("placeholder: %v", mon)
	}
	// Array data: items hoisted as <OpId>Item, numbers tolerant.
	if at(t, doc, "components", "schemas", "GetNodesData", "items", "$ref") != "#/components/schemas/GetNodesItem" ||
		at(t, doc, "components", "schemas", "GetNodesItem", "properties", "cpu", "x-go-type") != "pvetypes.Float" {
		t.Errorf("list data: %v", at(t, doc, "components", "schemas", "GetNodesData"))
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := convertFragment(t)
	b, _ := convertFragment(t)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two conversions differ")
	}
}

func TestDuplicateOperationFails(t *testing.T) {
	dup := `[{"path":"/a","info":{"GET":{"name":"x","returns":{"type":"null"}}}},{"path":"/a","info":{"GET":{"name":"y","returns":{"type":"null"}}}}]`
	nodes, err := parseAPIData([]byte(dup))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Convert(nodes, Options{}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("want duplicate error, got %v", err)
	}
}

func TestRunExpect(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pve-1.2.3-apidata.js")
	if err := os.WriteFile(in, []byte(fragment), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"-in", in, "-out", out, "-expect", "4"}, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "operations 4") {
		t.Errorf("counts not printed: %s", buf.String())
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"version": "1.2.3"`) {
		t.Error("version not taken from the file name")
	}
	if err := run(context.Background(), []string{"-in", in, "-out", out, "-expect", "5"}, io.Discard); err == nil {
		t.Error("want an error when the count differs")
	}
	if err := run(context.Background(), []string{"-in", filepath.Join(dir, "missing.js")}, io.Discard); err == nil {
		t.Error("want an error for a missing input")
	}
}
