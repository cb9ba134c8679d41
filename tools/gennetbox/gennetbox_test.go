package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"ip-addresses":       "IPAddresses",
		"virtual-machines":   "VirtualMachines",
		"vlans":              "VLANs",
		"vlan-groups":        "VLANGroups",
		"custom-fields":      "CustomFields",
		"l2vpn-terminations": "L2VPNTerminations",
		"asn-ranges":         "ASNRanges",
		"dcim":               "DCIM",
		"fhrp-groups":        "FHRPGroups",
		"mac-addresses":      "MACAddresses",
		"ipsec-profiles":     "IPSecProfiles",
		"8021q":              "X8021q",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestActionBase(t *testing.T) {
	for in, want := range map[string]string{
		"prefixes/{id}/available-ips/": "PrefixesAvailableIPs",
		"background-queues/{name}/":    "BackgroundQueuesByName",
		"connected-device/":            "ConnectedDevice",
		"":                             "Root",
		"endpoints/proxmox/":           "EndpointsProxmox",
		"devices/{id}/render-config/":  "DevicesRenderConfig",
	} {
		if got := actionBase(in); got != want {
			t.Errorf("actionBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitAppPath(t *testing.T) {
	for in, want := range map[string][2]string{
		"/api/dcim/devices/":                     {"dcim", "devices/"},
		"/api/plugins/proxbox/storage/{id}/":     {"plugins/proxbox", "storage/{id}/"},
		"/api/status/":                           {"status", ""},
		"/metrics":                               {"", ""},
		"/api/plugins/":                          {"", ""},
		"/api/ipam/prefixes/{id}/available-ips/": {"ipam", "prefixes/{id}/available-ips/"},
	} {
		app, rest := splitAppPath(in)
		if app != want[0] || rest != want[1] {
			t.Errorf("splitAppPath(%q) = %q, %q, want %q, %q", in, app, rest, want[0], want[1])
		}
	}
}

func TestPathParams(t *testing.T) {
	op := obj{"parameters": []any{obj{"in": "path", "name": "id", "schema": obj{"type": "integer"}}}}
	params, expr := pathParams("/api/ipam/prefixes/{id}/available-ips/", op, obj{})
	if len(params) != 1 || params[0] != (fluentParam{"id", "int"}) {
		t.Errorf("params = %v", params)
	}
	if want := `"/api/ipam/prefixes/" + strconv.Itoa(id) + "/available-ips/"`; expr != want {
		t.Errorf("expr = %s, want %s", expr, want)
	}
	_, expr = pathParams("/api/core/background-queues/{name}/", obj{}, obj{})
	if want := `"/api/core/background-queues/" + url.PathEscape(name) + "/"`; expr != want {
		t.Errorf("expr = %s, want %s", expr, want)
	}
}

func mustJSON(t *testing.T, s string) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// A miniature raw drf-spectacular document with the 4.7 quirks.
const miniDoc = `{
 "openapi": "3.0.3", "info": {"version": "4.7.1 (4.7)"},
 "paths": {
  "/api/dcim/interfaces/": {
   "get": {"operationId": "dcim_interfaces_list", "parameters": [
      {"in": "query", "name": "name", "schema": {"type": "array", "items": {"type": "string"}}},
      {"in": "query", "name": "name__ic", "schema": {"type": "array", "items": {"type": "string"}}},
      {"in": "query", "name": "mode", "schema": {"type": "string", "enum": ["access", "tagged"]}}],
     "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaginatedInterfaceList"}}}}}},
   "post": {"operationId": "dcim_interfaces_create", "requestBody": {"content": {
      "application/json": {"schema": {"$ref": "#/components/schemas/WritableInterfaceRequest"}},
      "multipart/form-data": {"schema": {"$ref": "#/components/schemas/WritableInterfaceRequest"}}}},
     "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Interface"}}}}}},
   "patch": {"operationId": "dcim_interfaces_bulk_partial_update", "requestBody": {"content": {
      "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/InterfaceRequest"}}}}},
     "responses": {"200": {"content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Interface"}}}}}}},
   "delete": {"operationId": "dcim_interfaces_bulk_destroy", "requestBody": {"content": {
      "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/InterfaceRequest"}}}}},
     "responses": {"204": {"description": ""}}}
  },
  "/api/dcim/interfaces/{id}/": {
   "patch": {"operationId": "dcim_interfaces_partial_update", "parameters": [{"in": "path", "name": "id", "required": true, "schema": {"type": "integer"}}],
     "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PatchedWritableInterfaceRequest"}}}},
     "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Interface"}}}}}}
  },
  "/api/virtualization/interfaces/": {
   "get": {"operationId": "virtualization_interfaces_list",
     "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaginatedVMInterfaceList"}}}}}}
  }
 },
 "components": {"schemas": {
  "PaginatedInterfaceList": {"type": "object", "properties": {"count": {"type": "integer"}, "results": {"type": "array", "items": {"$ref": "#/components/schemas/Interface"}}}},
  "PaginatedVMInterfaceList": {"type": "object", "properties": {"count": {"type": "integer"}, "results": {"type": "array", "items": {"$ref": "#/components/schemas/VMInterface"}}}},
  "Interface": {"type": "object", "required": ["id", "mode", "tenant"], "properties": {
    "id": {"type": "integer", "readOnly": true},
    "tenant": {"allOf": [{"$ref": "#/components/schemas/BriefTenant"}], "nullable": true},
    "mode": {"type": "object", "nullable": true, "properties": {
      "value": {"type": "string", "enum": ["access", "tagged", "", null], "x-spec-enum-id": "b6fe"},
      "label": {"type": "string", "enum": ["Access", "Tagged"]}}}}},
  "VMInterface": {"type": "object", "properties": {
    "tenant": {"allOf": [{"$ref": "#/components/schemas/BriefTenant"}], "nullable": true},
    "mode": {"type": "string", "nullable": true, "enum": ["access", "tagged", null], "x-spec-enum-id": "b6fe"}}},
  "BriefTenant": {"type": "object", "properties": {"id": {"type": "integer"}}},
  "BriefDeviceRequest": {"type": "object", "properties": {"name": {"type": "string"}}},
  "BriefVLANRequest": {"type": "object", "properties": {"name": {"type": "string"}}},
  "InterfaceRequest": {"type": "object", "properties": {"name": {"type": "string"}}},
  "WritableInterfaceRequest": {"type": "object", "required": ["device", "name", "mtu"], "properties": {
    "name": {"type": "string"},
    "mtu": {"type": "integer", "nullable": true},
    "device": {"oneOf": [{"type": "integer"}, {"$ref": "#/components/schemas/BriefDeviceRequest"}]},
    "untagged_vlan": {"oneOf": [{"type": "integer"}, {"$ref": "#/components/schemas/BriefVLANRequest"}], "nullable": true},
    "tagged_vlans": {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"$ref": "#/components/schemas/BriefVLANRequest"}]}},
    "mode": {"type": "string", "nullable": true, "enum": ["access", "tagged", "", null], "x-spec-enum-id": "b6fe",
             "description": "IEEE 802.1Q tagging strategy\n\n* ` + "`access` - Access" + `"}}},
  "PatchedWritableInterfaceRequest": {"type": "object", "properties": {
    "device": {"allOf": [{"$ref": "#/components/schemas/BriefDeviceRequest"}]}}}
 }}
}`

func TestPreprocessAndSplit(t *testing.T) {
	g, err := newGenerator(mustJSON(t, miniDoc))
	if err != nil {
		t.Fatal(err)
	}
	if g.version != "4.7.1" || g.opCount != 6 {
		t.Fatalf("version %q ops %d", g.version, g.opCount)
	}
	if err := g.preprocess(); err != nil {
		t.Fatal(err)
	}
	if got := g.filters["/api/dcim/interfaces/"]; !reflect.DeepEqual(got, []string{"mode", "name", "name__ic"}) {
		t.Errorf("filters = %v", got)
	}
	list := getObj(getObj(g.paths, "/api/dcim/interfaces/"), "get")
	params := getList(list, "parameters")
	if len(params) != 2 || getObj(params[1].(obj), "schema")["enum"] != nil {
		t.Errorf("query parameters not trimmed: %v", params)
	}
	w := getObj(getObj(g.schemas, "WritableInterfaceRequest"), "properties")
	if !reflect.DeepEqual(w["device"], obj{"type": "integer"}) {
		t.Errorf("device = %v", w["device"])
	}
	if !reflect.DeepEqual(w["untagged_vlan"], obj{"type": "integer", "nullable": true}) {
		t.Errorf("untagged_vlan = %v", w["untagged_vlan"])
	}
	if !reflect.DeepEqual(getObj(w, "tagged_vlans")["items"], obj{"type": "integer"}) {
		t.Errorf("tagged_vlans = %v", w["tagged_vlans"])
	}
	if req := getList(getObj(g.schemas, "WritableInterfaceRequest"), "required"); !reflect.DeepEqual(req, []any{"device", "name"}) {
		t.Errorf("required = %v (nullable mtu must leave it)", req)
	}
	enum := getObj(g.schemas, "InterfaceModeEnum")
	if !reflect.DeepEqual(getList(enum, "enum"), []any{"access", "tagged", ""}) {
		t.Errorf("hoisted enum = %v", enum)
	}
	mode := getObj(w, "mode")
	if mode["nullable"] != true || getStr(mode, "description") != "IEEE 802.1Q tagging strategy" || len(getList(mode, "allOf")) != 1 {
		t.Errorf("mode site = %v", mode)
	}
	// Response models lose nullable (-> *T), request models keep it (untagged_vlan above).
	if tenant := getObj(getObj(getObj(g.schemas, "Interface"), "properties"), "tenant"); tenant["nullable"] != nil {
		t.Errorf("response model Interface.tenant still nullable: %v", tenant)
	}
	if req := getList(getObj(g.schemas, "Interface"), "required"); !reflect.DeepEqual(req, []any{"id"}) {
		t.Errorf("Interface required = %v", req)
	}
	ifaceMode := getObj(getObj(getObj(getObj(g.schemas, "Interface"), "properties"), "mode"), "properties")
	if refName(getObj(ifaceMode, "value")) != "InterfaceModeEnum" || getObj(ifaceMode, "label")["enum"] != nil {
		t.Errorf("value/label = %v", ifaceMode)
	}
	patched := getObj(getObj(g.schemas, "PatchedWritableInterfaceRequest"), "properties")
	if patched["id"] == nil || !reflect.DeepEqual(patched["device"], obj{"type": "integer"}) {
		t.Errorf("patched = %v", patched)
	}
	coll := getObj(g.paths, "/api/dcim/interfaces/")
	if n := refName(getObj(jsonSchemaOf(getObj(getObj(coll, "patch"), "requestBody")), "items")); n != "PatchedWritableInterfaceRequest" {
		t.Errorf("bulk patch items = %s", n)
	}
	if n := refName(getObj(jsonSchemaOf(getObj(getObj(coll, "delete"), "requestBody")), "items")); n != "BulkDeleteRequest" {
		t.Errorf("bulk delete items = %s", n)
	}
	if ct := getObj(getObj(getObj(coll, "post"), "requestBody"), "content"); len(ct) != 1 {
		t.Errorf("multipart kept: %v", ct)
	}

	specs, err := g.split()
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, s := range specs {
		apps = append(apps, s.app)
	}
	if !reflect.DeepEqual(apps, []string{"common", "dcim", "virtualization"}) {
		t.Fatalf("apps = %v", apps)
	}
	if g.home["BriefTenant"] != "common" || g.home["InterfaceModeEnum"] != "common" || g.home["WritableInterfaceRequest"] != "dcim" {
		t.Errorf("home = %v", g.home)
	}
	b, _ := json.Marshal(specs[1].spec)
	if !strings.Contains(string(b), `"common.json#/components/schemas/BriefTenant"`) {
		t.Errorf("dcim spec does not refer to common: %s", b)
	}
	files, err := g.generateFluent()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"gen/dcim/app.gen.go": {
			`Interfaces: netboxsdk.NewCollection[Interface, WritableInterfaceRequest, PatchedWritableInterfaceRequest](c, "/api/dcim/interfaces/")`,
			"func New(c *netboxsdk.Client) *App {",
		},
		"gen/virtualization/app.gen.go": {
			`Interfaces: netboxsdk.NewCollection[VMInterface, netboxsdk.Object, netboxsdk.Object](c, "/api/virtualization/interfaces/")`,
		},
		"typed/apps.gen.go": {
			`DCIM:           gendcim.New(c),`,
			`gendcim "github.com/proxbox-go/proxbox/netboxsdk/gen/dcim"`,
		},
	} {
		src := string(files[name])
		if !strings.HasPrefix(src, "// Code generated by gennetbox ") || !strings.Contains(src, "DO NOT EDIT.\n") {
			t.Errorf("%s does not start with the generated-code marker:\n%s", name, src)
		}
		for _, w := range want {
			if !strings.Contains(src, w) {
				t.Errorf("%s lacks %s\n%s", name, w, src)
			}
		}
	}
	// Only the typed package imports every app; an app package imports no other app.
	if strings.Contains(string(files["gen/dcim/app.gen.go"]), "gen/virtualization") {
		t.Errorf("gen/dcim/app.gen.go imports another app:\n%s", files["gen/dcim/app.gen.go"])
	}
	if !strings.Contains(string(files["filters_gen.go"]), `{"mode", "name", "name__ic"}`) {
		t.Errorf("filters_gen.go:\n%s", files["filters_gen.go"])
	}
}

func TestNewestSchema(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"netbox-4.2.2.json", "netbox-4.10.0.json", "netbox-4.7.1.json", "other.json"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := newestSchema(dir)
	if err != nil || filepath.Base(got) != "netbox-4.10.0.json" {
		t.Errorf("newestSchema = %q, %v", got, err)
	}
	if _, err := newestSchema(t.TempDir()); err == nil {
		t.Error("empty directory: no error")
	}
}
