package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func convertWith(t *testing.T, overrides string) (map[string]any, Stats, error) {
	t.Helper()
	f, err := parseOverrides([]byte(overrides))
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := parseAPIData([]byte(fragment))
	if err != nil {
		t.Fatal(err)
	}
	return Convert(nodes, Options{Version: "0.1.2", Source: "fragment.js", Overrides: f})
}

const ev = `"evidence": "pve-manager PVE/API2/Nodes.pm index()", "seen": ["8.1"]`

func TestOverridesApply(t *testing.T) {
	doc, st, err := convertWith(t, `{"overrides": [
	 {"op": "GET /nodes", "at": "[]", "schemas": ["0.1"], `+ev+`,
	  "add": {"uptime": {"type": "integer"}, "swap": {"type": "object", "properties": {"used": {"type": "integer"}}}},
	  "correct": {"maxcpu": {"type": "number"}}, "widen": {"cpu": {"description": "number or string"}}},
	 {"op": "GET /nodes", "at": "[]", "schemas": ["9.9"], `+ev+`, "add": {"cpu": {"type": "number"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if st.Overrides["added"] != 2 || st.Overrides["corrected"] != 1 || st.Overrides["widened"] != 1 {
		t.Fatalf("counts %v, want added 2, corrected 1, widened 1 (the 9.9 entry is not for this version)", st.Overrides)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	item := schemas["GetNodesItem"].(map[string]any)["properties"].(map[string]any)
	up := item["uptime"].(map[string]any)
	if up["x-go-type"] != "pvetypes.Int" || up["x-pve-override"] != "add" {
		t.Errorf("uptime = %v, want a tolerant Int marked as added", up)
	}
	if item["swap"].(map[string]any)["$ref"] != "#/components/schemas/GetNodesItemSwap" || schemas["GetNodesItemSwap"] == nil {
		t.Errorf("swap = %v, want a hoisted GetNodesItemSwap", item["swap"])
	}
	if mc := item["maxcpu"].(map[string]any); mc["type"] != "number" || mc["x-go-type"] != "pvetypes.Float" {
		t.Errorf("maxcpu = %v, want a corrected number", mc)
	}
	if cpu := item["cpu"].(map[string]any); cpu["type"] != nil || cpu["x-pve-declared-type"] != "number" {
		t.Errorf("cpu = %v, want free-form", cpu)
	}
}

// TestOverridesStale: an override that targets something that no longer
// exists, or that PVE's schema now gets right, fails the conversion.
func TestOverridesStale(t *testing.T) {
	cases := map[string]struct{ entry, want string }{
		"declared now":  {`"op": "GET /nodes", "at": "[]", "add": {"cpu": {"type": "number"}}`, `add "cpu": the schema declares it now`},
		"no operation":  {`"op": "GET /nodes/{node}/gone", "at": "", "add": {"x": {"type": "string"}}`, "no such operation"},
		"no method":     {`"op": "DELETE /nodes", "at": "", "add": {"x": {"type": "string"}}`, "no such operation"},
		"no object":     {`"op": "GET /nodes", "at": "[]/swap", "add": {"x": {"type": "string"}}`, "no such object"},
		"no field":      {`"op": "GET /nodes", "at": "[]", "correct": {"uptime": {"type": "integer"}}`, `correct "uptime": no such field`},
		"already typed": {`"op": "GET /nodes", "at": "[]", "correct": {"maxcpu": {"type": "integer"}}`, "already types it integer"},
		"already free": {`"op": "GET /nodes", "at": "[]", "widen": {"cpu": {}}}, {"schemas": ["0.1"], ` + ev + `, "op": "GET /nodes", "at": "[]", "widen": {"cpu": {}}`,
			"already leaves it free-form"},
		"widen no field": {`"op": "GET /nodes", "at": "[]", "widen": {"gone": {}}`, `widen "gone": no such field`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := convertWith(t, `{"overrides": [{"schemas": ["0.1"], `+ev+`, `+tc.entry+`}]}`)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOverridesFileChecks(t *testing.T) {
	for _, bad := range []string{
		`{"overrides": [{"op": "GET /nodes", "at": "", "schemas": ["8.1"], "seen": ["8.1"], "add": {"x": {}}}]}`,
		`{"overrides": [{"op": "/nodes", "at": "", "schemas": ["8.1"], ` + ev + `, "add": {"x": {}}}]}`,
		`{"overrides": [{"op": "GET /nodes", "at": "", "schemas": [], ` + ev + `, "add": {"x": {}}}]}`,
		`{"overrides": [{"op": "GET /nodes", "at": "", "schemas": ["8.1"], ` + ev + `}]}`,
		`{"overrides": [{"op": "GET /nodes", "bogus": 1}]}`,
	} {
		if _, err := parseOverrides([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "proxmox", "overrides.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseOverrides(b); err != nil {
		t.Fatalf("committed overrides: %v", err)
	}
}
