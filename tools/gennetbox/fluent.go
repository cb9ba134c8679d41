package main

import (
	"bytes"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Fluent wiring model.
type fluentApp struct {
	Key, Field, Path string
	Pkg, Dir         string // Go package name and directory below netboxsdk/gen
	Collections      []fluentColl
	Actions          []fluentAction
	UsesCommon       bool // a collection type lives in gen/common
	UsesStrconv      bool // an action has an integer path parameter
	HasModels        bool // the package also holds models (<app>.gen.go)
}

type fluentColl struct{ Field, Path, T, C, P string }

type fluentAction struct {
	Name, Method, Verb, Path, OpID string
	Params                         []fluentParam
	PathExpr                       string
}

type fluentParam struct{ Name, Type string }

// skipApps are reached through Client methods of netboxsdk (Status) or Do.
var skipApps = map[string]bool{"status": true, "schema": true}

var verbSuffix = map[string]string{"get": "", "post": "Create", "put": "Update", "patch": "Patch", "delete": "Delete", "options": "Options", "head": "Head", "trace": "Trace"}

// buildFluent classifies every path of every app: collection, item of a
// collection (covered by Collection), or special action.
func (g *generator) buildFluent() (apps, plugins []*fluentApp, err error) {
	byApp := map[string][]string{}
	for _, p := range sortedKeys(g.paths) {
		app, _ := splitAppPath(p)
		byApp[app] = append(byApp[app], p)
	}
	for _, key := range g.apps {
		if skipApps[key] {
			continue
		}
		a := &fluentApp{Key: key, Path: "/api/" + key + "/", Pkg: pkgName(key), Dir: pkgDir(key)}
		if rest, ok := strings.CutPrefix(key, "plugins/"); ok {
			a.Field = goName(rest)
		} else {
			a.Field = goName(key)
		}
		names := map[string]bool{}
		for _, p := range byApp[key] {
			item := getObj(g.paths, p)
			_, rest := splitAppPath(p)
			if g.isCollection(p) {
				c := fluentColl{Field: goName(strings.TrimSuffix(rest, "/")), Path: p}
				for _, t := range []*string{&c.T, &c.C, &c.P} {
					*t = "netboxsdk.Object"
				}
				single := getObj(g.paths, p+"{id}/")
				set := func(dst *string, s obj) error {
					if n := refName(s); n != "" {
						q, common, err := g.goTypeRef(key, n)
						if err != nil {
							return err
						}
						*dst = q
						a.UsesCommon = a.UsesCommon || common
					}
					return nil
				}
				tSchema := jsonSchemaOf(getObj(getObj(getObj(single, "get"), "responses"), "200"))
				if tSchema == nil {
					list := g.resolve(jsonSchemaOf(getObj(getObj(getObj(item, "get"), "responses"), "200")))
					tSchema = getObj(getObj(getObj(list, "properties"), "results"), "items")
				}
				cSchema := jsonSchemaOf(getObj(getObj(item, "post"), "requestBody"))
				if cSchema == nil {
					cSchema = jsonSchemaOf(getObj(getObj(single, "put"), "requestBody"))
				}
				pSchema := jsonSchemaOf(getObj(getObj(single, "patch"), "requestBody"))
				for _, e := range []error{set(&c.T, tSchema), set(&c.C, cSchema), set(&c.P, pSchema)} {
					if e != nil {
						return nil, nil, fmt.Errorf("%s: %w", p, e)
					}
				}
				names[c.Field] = true
				a.Collections = append(a.Collections, c)
			}
		}
		for _, p := range byApp[key] {
			item := getObj(g.paths, p)
			_, rest := splitAppPath(p)
			covered := map[string]bool{}
			if g.isCollection(p) {
				covered = map[string]bool{"get": true, "post": true, "put": true, "patch": true, "delete": true}
			} else if base, ok := strings.CutSuffix(p, "{id}/"); ok && g.isCollection(base) {
				covered = map[string]bool{"get": true, "put": true, "patch": true, "delete": true}
			}
			var methods []string
			for _, m := range httpMethods {
				if item[m] != nil && !covered[m] {
					methods = append(methods, m)
				}
			}
			if len(methods) == 0 {
				continue
			}
			base := actionBase(rest)
			for _, m := range methods {
				op := getObj(item, m)
				name := base
				if len(methods) > 1 {
					name += verbSuffix[m]
				}
				for i := 2; names[name]; i++ {
					name = base + verbSuffix[m] + "Action"
					if i > 2 {
						name += strconv.Itoa(i)
					}
				}
				names[name] = true
				act := fluentAction{Name: name, Method: "http.Method" + methodConst(m), Verb: strings.ToUpper(m), Path: p, OpID: getStr(op, "operationId")}
				act.Params, act.PathExpr = pathParams(p, op, item)
				a.UsesStrconv = a.UsesStrconv || strings.Contains(act.PathExpr, "strconv.")
				a.Actions = append(a.Actions, act)
			}
		}
		sort.Slice(a.Collections, func(i, j int) bool { return a.Collections[i].Field < a.Collections[j].Field })
		sort.Slice(a.Actions, func(i, j int) bool { return a.Actions[i].Name < a.Actions[j].Name })
		if strings.HasPrefix(key, "plugins/") {
			plugins = append(plugins, a)
		} else {
			apps = append(apps, a)
		}
	}
	return apps, plugins, nil
}

func methodConst(m string) string {
	return strings.ToUpper(m[:1]) + m[1:]
}

// actionBase names a special action from its path below the app:
// "prefixes/{id}/available-ips/" -> "PrefixesAvailableIPs",
// "background-queues/{name}/" -> "BackgroundQueuesByName".
func actionBase(rest string) string {
	if strings.Trim(rest, "/") == "" {
		return "Root"
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	var b strings.Builder
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			if i == len(segs)-1 {
				b.WriteString("By" + goName(strings.Trim(s, "{}")))
			}
			continue
		}
		b.WriteString(goName(s))
	}
	return b.String()
}

// pathParams returns the Go parameters for the {x} segments of p and the Go
// expression building the request path.
func pathParams(p string, op, item obj) ([]fluentParam, string) {
	types := map[string]string{}
	for _, list := range [][]any{getList(item, "parameters"), getList(op, "parameters")} {
		for _, prm := range list {
			po, _ := prm.(obj)
			if getStr(po, "in") == "path" {
				t := "string"
				if getStr(getObj(po, "schema"), "type") == "integer" {
					t = "int"
				}
				types[getStr(po, "name")] = t
			}
		}
	}
	var params []fluentParam
	var parts []string
	lit := ""
	for _, seg := range strings.SplitAfter(p, "/") {
		name, isParam := strings.CutPrefix(strings.TrimSuffix(seg, "/"), "{")
		if !isParam {
			lit += seg
			continue
		}
		name = strings.TrimSuffix(name, "}")
		parts = append(parts, strconv.Quote(lit))
		lit = "/"
		goParam := paramIdent(name)
		t := types[name]
		if t == "" {
			t = "string"
		}
		params = append(params, fluentParam{goParam, t})
		if t == "int" {
			parts = append(parts, "strconv.Itoa("+goParam+")")
		} else {
			parts = append(parts, "url.PathEscape("+goParam+")")
		}
	}
	if lit != "" {
		parts = append(parts, strconv.Quote(lit))
	}
	return params, strings.Join(parts, " + ")
}

func paramIdent(name string) string {
	n := goName(name)
	if n == "ID" {
		return "id"
	}
	n = strings.ToLower(n[:1]) + n[1:]
	switch n {
	case "ctx", "query", "body", "out", "a", "type", "func", "range", "map", "chan", "select", "var", "go":
		n += "Param"
	}
	return n
}

// appTemplate renders gen/<app>/app.gen.go: the app's typed collections and
// special actions, in the package of its models, over netboxsdk's Collection.
const appTemplate = `// Code generated by gennetbox from the NetBox {{.Version}} schema. DO NOT EDIT.

// Package {{.App.Pkg}} is NetBox's {{.App.Path}}: {{if .App.HasModels}}its models, and {{end}}New, which
// gives its {{if .App.Collections}}typed collections{{if .App.Actions}} and {{end}}{{end}}{{if .App.Actions}}special actions{{end}} on a netboxsdk.Client{{with .App.Collections}}
// ({{$.App.Pkg}}.New(nb).{{(index . 0).Field}}){{end}}.
package {{.App.Pkg}}

import (
{{- if .App.Actions}}
	"context"
	"net/http"
	"net/url"
{{- if .App.UsesStrconv}}
	"strconv"
{{- end}}
{{end}}
	"github.com/proxbox-go/proxbox/netboxsdk"
{{- if .App.UsesCommon}}
	gencommon "github.com/proxbox-go/proxbox/netboxsdk/gen/common"
{{- end}}
)
{{- $app := .App}}

// App holds the collections{{if .App.Actions}} and special actions{{end}} of {{.App.Path}}.
type App struct {
{{- if .App.Actions}}
	c *netboxsdk.Client
{{end}}
{{- range .App.Collections}}
	// {{.Field}} is {{.Path}}.
	{{.Field}} *netboxsdk.Collection[{{.T}}, {{.C}}, {{.P}}]
{{- end}}
}

// New returns the typed collections{{if .App.Actions}} and special actions{{end}} of {{.App.Path}} on c.
func New(c *netboxsdk.Client) *App {
	return &App{
{{- if .App.Actions}}
		c: c,
{{- end}}
{{- range .App.Collections}}
		{{.Field}}: netboxsdk.NewCollection[{{.T}}, {{.C}}, {{.P}}](c, "{{.Path}}"),
{{- end}}
	}
}
{{- range .App.Actions}}

// {{.Name}} calls {{.Verb}} {{.Path}} ({{.OpID}}).
// query may be nil; body is sent as JSON when non-nil; out receives the decoded JSON response when non-nil.
func (a *App) {{.Name}}(ctx context.Context, {{range .Params}}{{.Name}} {{.Type}}, {{end}}query url.Values, body, out any) (*netboxsdk.Response, error) {
	return a.c.Do(ctx, {{.Method}}, {{.PathExpr}}, query, body, out)
}
{{- end}}
`

// typedTemplate renders netboxsdk/typed/apps.gen.go: every app's App, the whole
// fluent client (nb.DCIM.Devices, ...).
const typedTemplate = `// Code generated by gennetbox from the NetBox {{.Version}} schema. DO NOT EDIT.

package typed

import (
	"github.com/proxbox-go/proxbox/netboxsdk"
{{- range .Imports}}
	{{.Alias}} "{{.Path}}"
{{- end}}
)

// Apps holds one typed accessor per NetBox app: nb.DCIM.Devices, nb.IPAM.IPAddresses, ...
type Apps struct {
{{- range .Apps}}
	{{.Field}} *{{alias .}}.App
{{- end}}
	// Plugins holds the plugin endpoints present in the schema the code was generated from.
	Plugins *PluginsApp
}

// NewApps returns every app's typed collections on c.
func NewApps(c *netboxsdk.Client) Apps {
	return Apps{
{{- range .Apps}}
		{{.Field}}: {{alias .}}.New(c),
{{- end}}
		Plugins: newPluginsApp(c),
	}
}

// PluginsApp holds the plugins of the schema; any plugin path is also reachable
// through Client.Objects("/api/plugins/<plugin>/<collection>/").
type PluginsApp struct {
{{- range .Plugins}}
	{{.Field}} *{{alias .}}.App
{{- end}}
}

func newPluginsApp(c *netboxsdk.Client) *PluginsApp {
	{{- if not .Plugins}}
	_ = c
	{{- end}}
	return &PluginsApp{
{{- range .Plugins}}
		{{.Field}}: {{alias .}}.New(c),
{{- end}}
	}
}
`

const filtersTemplate = `// Code generated by gennetbox from the NetBox {{.Version}} schema. DO NOT EDIT.

package netboxsdk

// genFilterNames maps a collection path to the query parameter names its list
// operation accepts, lookup variants (name__ic, id__n, ...) included.
var genFilterNames = map[string][]string{
{{- range .Filters}}
	"{{.Path}}": { {{- range $i, $n := .Names}}{{if $i}}, {{end}}"{{$n}}"{{end}} },
{{- end}}
}
`

type importSpec struct{ Alias, Path string }

// generateFluent renders gen/<app>/app.gen.go per app, typed/apps.gen.go and
// filters_gen.go (paths relative to netboxsdk/).
func (g *generator) generateFluent() (map[string][]byte, error) {
	apps, plugins, err := g.buildFluent()
	if err != nil {
		return nil, err
	}
	all := append(append([]*fluentApp{}, apps...), plugins...)
	for _, home := range g.home {
		for _, a := range all {
			if a.Key == home {
				a.HasModels = true
			}
		}
	}
	var imports []importSpec
	for _, a := range all {
		imports = append(imports, importSpec{importAlias(a.Key), modulePath + "/gen/" + a.Dir})
	}
	sort.Slice(imports, func(i, j int) bool { return imports[i].Path < imports[j].Path })
	type filter struct {
		Path  string
		Names []string
	}
	var filters []filter
	for _, p := range sortedKeys(g.filters) {
		filters = append(filters, filter{p, g.filters[p]})
	}
	funcs := template.FuncMap{"alias": func(a *fluentApp) string { return importAlias(a.Key) }}
	out := map[string][]byte{}
	render := func(name, text string, data any) error {
		t, err := template.New(name).Funcs(funcs).Parse(text)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return fmt.Errorf("%s: gofmt: %w\n%s", name, err, buf.Bytes())
		}
		out[name] = src
		return nil
	}
	for _, a := range all {
		if err := render("gen/"+a.Dir+"/app.gen.go", appTemplate, map[string]any{"Version": g.version, "App": a}); err != nil {
			return nil, err
		}
	}
	if err := render("typed/apps.gen.go", typedTemplate, map[string]any{
		"Version": g.version, "Apps": apps, "Plugins": plugins, "Imports": imports,
	}); err != nil {
		return nil, err
	}
	if err := render("filters_gen.go", filtersTemplate, map[string]any{"Version": g.version, "Filters": filters}); err != nil {
		return nil, err
	}
	return out, nil
}
