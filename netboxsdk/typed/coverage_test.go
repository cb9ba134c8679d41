package typed_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/typed"
)

// The coverage tests read the NetBox schema the code was generated from
// (the newest schemas/netbox/netbox-<version>.json) and fail when a collection
// has no typed field (in package typed) or no filter-name entry, or an operation
// is reachable neither through a collection nor a special action method of its
// app package (gen/<app>/app.gen.go). NETBOXSDK_COVERAGE_SCHEMA names another schema file.

var schemaFileRE = regexp.MustCompile(`^netbox-(\d+(?:\.\d+)*)\.json$`)

type schemaOp struct{ method, path, opID string }

type coverageSchema struct {
	version string
	ops     []schemaOp
	paths   map[string]map[string]json.RawMessage
	// collections are the paths /api/<app>/<name>/ whose GET is paginated.
	collections map[string]bool
}

func loadCoverageSchema(t *testing.T) *coverageSchema {
	t.Helper()
	if f := os.Getenv("NETBOXSDK_COVERAGE_SCHEMA"); f != "" {
		return readCoverageSchema(t, f)
	}
	dir := filepath.Join("..", "..", "schemas", "netbox")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("schema directory: %v", err)
	}
	best, bestVer := "", []int(nil)
	for _, e := range entries {
		m := schemaFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		var ver []int
		for _, p := range strings.Split(m[1], ".") {
			n, _ := strconv.Atoi(p)
			ver = append(ver, n)
		}
		if best == "" || versionBefore(bestVer, ver) {
			best, bestVer = e.Name(), ver
		}
	}
	if best == "" {
		t.Fatalf("no netbox-<version>.json in %s", dir)
	}
	return readCoverageSchema(t, filepath.Join(dir, best))
}

// readCoverageSchema reads one JSON schema file.
func readCoverageSchema(t *testing.T, file string) *coverageSchema {
	t.Helper()
	best := filepath.Base(file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", best, err)
	}
	s := &coverageSchema{version: best, paths: doc.Paths, collections: map[string]bool{}}
	for p, item := range doc.Paths {
		for m, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
				Responses   map[string]struct {
					Content map[string]struct {
						Schema struct {
							Ref        string                     `json:"$ref"`
							Properties map[string]json.RawMessage `json:"properties"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if !isHTTPMethod(m) {
				continue
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			s.ops = append(s.ops, schemaOp{m, p, op.OperationID})
			if m != "get" || !isCollectionShape(p) {
				continue
			}
			rs := op.Responses["200"].Content["application/json"].Schema
			props := rs.Properties
			if name, ok := strings.CutPrefix(rs.Ref, "#/components/schemas/"); ok {
				var comp struct {
					Properties map[string]json.RawMessage `json:"properties"`
				}
				_ = json.Unmarshal(doc.Components.Schemas[name], &comp)
				props = comp.Properties
			}
			if props["results"] != nil && props["count"] != nil {
				s.collections[p] = true
			}
		}
	}
	sort.Slice(s.ops, func(i, j int) bool {
		if s.ops[i].path != s.ops[j].path {
			return s.ops[i].path < s.ops[j].path
		}
		return s.ops[i].method < s.ops[j].method
	})
	if len(s.ops) == 0 {
		t.Fatalf("%s has no operations", best)
	}
	return s
}

func versionBefore(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func isHTTPMethod(m string) bool {
	switch m {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// appOf returns the app key (dcim, plugins/proxbox, ...) and the rest of the path.
func appOf(p string) (app, rest string) {
	s, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return "", ""
	}
	app, rest, _ = strings.Cut(s, "/")
	if app == "plugins" {
		var plugin string
		plugin, rest, _ = strings.Cut(rest, "/")
		app = "plugins/" + plugin
	}
	return app, rest
}

func isCollectionShape(p string) bool {
	app, rest := appOf(p)
	return app != "" && rest != "" && !strings.Contains(rest, "{")
}

// fluentCollections returns path -> fluent field ("DCIM.Devices") of every
// collection reachable from Apps, including plugins.
func fluentCollections(t *testing.T) map[string][]string {
	t.Helper()
	type pather interface{ Path() string }
	out := map[string][]string{}
	var walk func(v reflect.Value, name string, depth int)
	walk = func(v reflect.Value, name string, depth int) {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				t.Errorf("%s is nil", name)
				return
			}
			if p, ok := v.Interface().(pather); ok {
				out[p.Path()] = append(out[p.Path()], name)
				return
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || depth > 3 {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				walk(v.Field(i), strings.TrimPrefix(name+"."+f.Name, "."), depth+1)
			}
		}
	}
	apps := typed.NewApps(&netboxsdk.Client{})
	walk(reflect.ValueOf(apps), "", 0)
	return out
}

var actionDocRE = regexp.MustCompile(`(?m)^// \w+ calls ([A-Z]+) (/\S+) \(`)

func TestCoverageFluentWiring(t *testing.T) {
	s := loadCoverageSchema(t)
	fields := fluentCollections(t)
	for _, p := range sortedStrings(s.collections) {
		switch n := len(fields[p]); {
		case n == 0:
			t.Errorf("collection %s has no fluent field", p)
		case n > 1:
			t.Errorf("collection %s has %d fluent fields: %v", p, n, fields[p])
		}
		if _, ok := netboxsdk.FilterNames(p); !ok {
			t.Errorf("collection %s has no filter-name table entry", p)
		}
	}
	for p, names := range fields {
		if !s.collections[p] {
			t.Errorf("fluent field %v points at %s, which is not a collection of the schema", names, p)
		}
	}
	appFiles, err := filepath.Glob(filepath.Join("..", "gen", "*", "app.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	pluginFiles, _ := filepath.Glob(filepath.Join("..", "gen", "plugins", "*", "app.gen.go"))
	actions := map[string]bool{}
	for _, f := range append(appFiles, pluginFiles...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range actionDocRE.FindAllStringSubmatch(string(src), -1) {
			actions[strings.ToLower(m[1])+" "+m[2]] = true
		}
	}
	if len(appFiles) == 0 {
		t.Fatal("no gen/<app>/app.gen.go; run `make generate`")
	}
	for _, op := range s.ops {
		app, _ := appOf(op.path)
		if app == "status" || app == "schema" {
			continue // Client.Status and Client.Do
		}
		switch {
		case s.collections[op.path] && strings.Contains("get post put patch delete", op.method):
		case strings.HasSuffix(op.path, "/{id}/") && s.collections[strings.TrimSuffix(op.path, "{id}/")] &&
			strings.Contains("get put patch delete", op.method):
		case actions[op.method+" "+op.path]:
		default:
			t.Errorf("%s %s (%s) is reachable neither through a collection nor a fluent action method",
				strings.ToUpper(op.method), op.path, op.opID)
		}
	}
	t.Logf("%s: %d collections, %d special actions", s.version, len(s.collections), len(actions))
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var markerRE = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// TestGeneratedFilesStartWithMarker: every generated file of netboxsdk (*.gen.go
// below gen/ and typed/, *_gen.go in the root package) has the standard marker
// as its first line, so tools (gofmt checks, linters, GitHub) recognise it, and
// no hand-written file does.
func TestGeneratedFilesStartWithMarker(t *testing.T) {
	var files []string
	for _, dir := range []string{filepath.Join("..", "gen"), ".", ".."} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != dir && dir == ".." {
				return filepath.SkipDir // the root package only; gen/ and typed/ are walked on their own
			}
			if !d.IsDir() && strings.HasSuffix(p, ".go") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	generated := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		isGen := strings.HasSuffix(f, ".gen.go") || strings.HasSuffix(f, "_gen.go")
		switch {
		case isGen && !markerRE.MatchString(first):
			t.Errorf("%s: first line %q is not the `// Code generated ... DO NOT EDIT.` marker", f, first)
		case !isGen && markerRE.MatchString(first):
			t.Errorf("%s: hand-written file carries the generated-code marker", f)
		}
		if isGen {
			generated++
		}
	}
	if generated < 10 {
		t.Fatalf("only %d generated files found; run `make generate`", generated)
	}
}
