package netboxsdk

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The coverage tests read the NetBox schema the code was generated from
// (the newest schemas/netbox/netbox-<version>.json) and fail when an operation
// has no generated client method, a collection has no fluent field, or a special
// action has no fluent method. NETBOXSDK_COVERAGE_SCHEMA names another schema file.

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
	dir := filepath.Join("..", "schemas", "netbox")
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

// genPkgDir mirrors gennetbox: the package directory below gen/ of an app key.
func genPkgDir(app string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				b.WriteRune(r)
			}
		}
		out := b.String()
		if out == "" || unicode.IsDigit(rune(out[0])) {
			out = "p" + out
		}
		return out
	}
	if rest, ok := strings.CutPrefix(app, "plugins/"); ok {
		return "plugins/" + clean(rest)
	}
	return clean(app)
}

// camel is oapi-codegen's operationId-to-method-name rule (ToCamelCase).
func camel(s string) string {
	var b strings.Builder
	capNext := true
	for _, r := range strings.TrimSpace(s) {
		switch {
		case unicode.IsUpper(r), unicode.IsDigit(r):
			b.WriteRune(r)
		case unicode.IsLower(r):
			if capNext {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
		capNext = strings.ContainsRune("-#@!$&=.+:;_~ (){}[]", r)
	}
	return b.String()
}

// clientMethods parses the generated package in dir and returns the names of
// the methods on *Client.
func clientMethods(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			if st, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := st.X.(*ast.Ident); ok && id.Name == "Client" {
					out[fd.Name.Name] = true
				}
			}
		}
	}
	return out
}

func TestCoverageGeneratedClientMethods(t *testing.T) {
	s := loadCoverageSchema(t)
	methods := map[string]map[string]bool{}
	missing := 0
	for _, op := range s.ops {
		app, _ := appOf(op.path)
		if app == "" {
			t.Errorf("%s %s: path not under /api/<app>/", strings.ToUpper(op.method), op.path)
			continue
		}
		dir := filepath.Join("gen", filepath.FromSlash(genPkgDir(app)))
		if methods[dir] == nil {
			methods[dir] = clientMethods(t, dir)
		}
		if op.opID == "" {
			t.Errorf("%s %s: no operationId", strings.ToUpper(op.method), op.path)
			continue
		}
		if name := camel(op.opID); !methods[dir][name] {
			missing++
			if missing <= 20 {
				t.Errorf("%s %s (%s): no method (*Client).%s in %s", strings.ToUpper(op.method), op.path, op.opID, name, dir)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d operations have no generated client method; run `make generate`", s.version, missing, len(s.ops))
	}
	t.Logf("%s: %d operations checked in %d packages", s.version, len(s.ops), len(methods))
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
	apps := newApps(&Client{})
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
		if _, ok := genFilterNames[p]; !ok {
			t.Errorf("collection %s has no filter-name table entry", p)
		}
	}
	for p, names := range fields {
		if !s.collections[p] {
			t.Errorf("fluent field %v points at %s, which is not a collection of the schema", names, p)
		}
	}
	src, err := os.ReadFile("apps_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, m := range actionDocRE.FindAllStringSubmatch(string(src), -1) {
		actions[strings.ToLower(m[1])+" "+m[2]] = true
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
