package main

import (
	"strings"
	"testing"
)

func op(method, path, typ string, versions ...string) operation {
	o := operation{Method: method, Path: path, ID: method + path, Versions: versions, PathParams: map[string]string{}}
	for _, s := range split(path) {
		if m := paramSeg.FindStringSubmatch(s); m != nil {
			o.PathParams[m[1]] = "string"
			if m[1] == "vmid" {
				o.PathParams[m[1]] = typ
			}
		}
	}
	return o
}

func TestNavigatorRule(t *testing.T) {
	ops := []operation{
		op("GET", "/nodes", "", "8.1", "9.1"),
		op("GET", "/nodes/{node}", "", "8.1", "9.1"),
		op("GET", "/nodes/{node}/qemu", "", "8.1", "9.1"),
		op("POST", "/nodes/{node}/qemu", "", "8.1", "9.1"),
		op("GET", "/nodes/{node}/qemu/{vmid}/config", "integer", "8.1", "9.1"),
		op("GET", "/access/tfa/{userid}/{id}", "", "9.1"),
		op("GET", "/nodes/{node}/hardware/pci/{pciid}", "", "8.1"),
		op("GET", "/nodes/{node}/hardware/pci/{pci-id-or-mapping}", "", "9.1"),
		op("GET", "/version", "", "8.1", "9.1"),
	}
	root, _, err := buildNav(ops, "9.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"/nodes":                                         "px.NodesIndex()",
		"/nodes/{node}":                                  `px.Nodes("a b/c")`,
		"/nodes/{node}/qemu":                             `px.Nodes("a b/c").QemuIndex()`,
		"/nodes/{node}/qemu/{vmid}/config":               `px.Nodes("a b/c").Qemu(100).Config()`,
		"/access/tfa/{userid}/{id}":                      `px.Access().Tfa("a b/c").Id("a b/c")`,
		"/nodes/{node}/hardware/pci/{pciid}":             `px.Nodes("a b/c").Hardware().PciByPciid("a b/c")`,
		"/nodes/{node}/hardware/pci/{pci-id-or-mapping}": `px.Nodes("a b/c").Hardware().Pci("a b/c")`,
		"/version":                                       "px.Version()",
	}
	for path, want := range cases {
		got, concrete := chain(path, root)
		if got != want {
			t.Errorf("%s: chain %s, want %s", path, got, want)
		}
		if strings.Contains(path, "{vmid}") && !strings.Contains(concrete, "/qemu/100/") {
			t.Errorf("%s: concrete path %s", path, concrete)
		}
		if strings.Contains(path, "{node}") && !strings.HasPrefix(concrete, "/nodes/a%20b%2Fc") {
			t.Errorf("%s: concrete path %s not escaped", path, concrete)
		}
	}
}

func TestNavigatorCollision(t *testing.T) {
	ops := []operation{op("GET", "/a/get", "", "9.1")}
	if _, _, err := buildNav(ops, "9.1"); err == nil {
		t.Fatal("want an error for an accessor named like a verb")
	}
}

func TestUnion(t *testing.T) {
	mk := func(paths map[string]any, schemas map[string]any) map[string]any {
		return map[string]any{"info": map[string]any{}, "paths": paths, "components": map[string]any{"schemas": schemas}}
	}
	ref := func(n string) map[string]any {
		return map[string]any{"responses": map[string]any{"200": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"properties": map[string]any{"data": map[string]any{"$ref": "#/components/schemas/" + n}}}}}}}}
	}
	old := mk(map[string]any{"/a": map[string]any{"get": ref("A"), "delete": map[string]any{}}, "/b": map[string]any{"get": ref("B")}},
		map[string]any{"A": map[string]any{"type": "string"}, "B": map[string]any{"$ref": "#/components/schemas/C"}, "C": map[string]any{"type": "integer"}})
	nw := mk(map[string]any{"/a": map[string]any{"get": ref("A")}}, map[string]any{"A": map[string]any{"type": "string"}})
	doc, err := union([]specVersion{{"8.1", old}, {"9.1", nw}})
	if err != nil {
		t.Fatal(err)
	}
	paths := obj(doc["paths"])
	if v := obj(obj(paths["/a"])["get"])["x-pve-versions"].([]any); len(v) != 2 {
		t.Errorf("/a get versions %v", v)
	}
	if v := obj(obj(paths["/a"])["delete"])["x-pve-versions"].([]any); len(v) != 1 || v[0] != "8.1" {
		t.Errorf("/a delete versions %v", v)
	}
	schemas := obj(obj(doc["components"])["schemas"])
	if schemas["B"] == nil || schemas["C"] == nil {
		t.Errorf("components of older-only operations not copied: %v", schemas)
	}
	// A component that differs between versions must fail, never merge silently.
	nw2 := mk(map[string]any{}, map[string]any{"B": map[string]any{"type": "string"}})
	if _, err := union([]specVersion{{"8.1", old}, {"9.1", nw2}}); err == nil {
		t.Error("want an error for a component that differs")
	}
}

func TestInlineReturns(t *testing.T) {
	schemas := map[string]any{"X": map[string]any{"type": "object", "description": "d",
		"properties":     map[string]any{"a": map[string]any{"type": "integer", "x-go-type": "pvetypes.Int"}},
		"x-pve-required": []any{"a"},
		"x-pve-indexed":  map[string]any{"net[n]": map[string]any{"type": "string"}}}}
	got := inline(map[string]any{"$ref": "#/components/schemas/X"}, schemas, 0)
	b, _ := marshalCompact(got)
	want := `{"patternProperties":{"^net\\d+$":{"type":"string"}},"properties":{"a":{"type":"integer"}},"required":["a"],"type":"object"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// TestOptionalScalars: optional tolerant scalars become value Opt types
// with omitzero; required ones, array items, additional properties and
// plain (request) types are left alone.
func TestOptionalScalars(t *testing.T) {
	pt := func(x string) map[string]any { return map[string]any{"type": "string", "x-go-type": "pvetypes." + x} }
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"Item": map[string]any{
			"type":     "object",
			"required": []any{"id"},
			"properties": map[string]any{
				"id":    pt("String"),
				"name":  pt("String"),
				"vmid":  pt("Int"),
				"plain": map[string]any{"type": "string"},
				"list":  map[string]any{"type": "array", "items": pt("String")},
				"sub": map[string]any{"type": "object", "properties": map[string]any{
					"on": pt("Bool"),
				}, "additionalProperties": pt("String")},
			},
		},
	}}}
	optionalScalars(doc)
	props := obj(obj(obj(obj(doc["components"])["schemas"])["Item"])["properties"])
	check := func(p map[string]any, want string, opt bool) {
		t.Helper()
		if got, _ := p["x-go-type"].(string); got != want {
			t.Errorf("x-go-type %q, want %q", got, want)
		}
		if (p["x-omitzero"] == true) != opt || (p["x-go-type-skip-optional-pointer"] == true) != opt {
			t.Errorf("%s: omitzero/skip-pointer = %v/%v, want %v", want, p["x-omitzero"], p["x-go-type-skip-optional-pointer"], opt)
		}
	}
	check(obj(props["id"]), "pvetypes.String", false)
	check(obj(props["name"]), "pvetypes.OptString", true)
	check(obj(props["vmid"]), "pvetypes.OptInt", true)
	check(obj(obj(props["list"])["items"]), "pvetypes.String", false)
	sub := obj(props["sub"])
	check(obj(obj(sub["properties"])["on"]), "pvetypes.OptBool", true)
	check(obj(sub["additionalProperties"]), "pvetypes.String", false)
	if _, ok := obj(props["plain"])["x-go-type"]; ok {
		t.Error("plain property got an x-go-type")
	}
}
