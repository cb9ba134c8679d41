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
	Key, Field, Type, Path string
	Collections            []fluentColl
	Actions                []fluentAction
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
func (g *generator) buildFluent() (apps, plugins []*fluentApp, imports map[string]bool, err error) {
	imports = map[string]bool{}
	byApp := map[string][]string{}
	for _, p := range sortedKeys(g.paths) {
		app, _ := splitAppPath(p)
		byApp[app] = append(byApp[app], p)
	}
	for _, key := range g.apps {
		if skipApps[key] {
			continue
		}
		a := &fluentApp{Key: key, Path: "/api/" + key + "/"}
		if rest, ok := strings.CutPrefix(key, "plugins/"); ok {
			a.Field = goName(rest)
			a.Type = "Plugin" + a.Field + "App"
		} else {
			a.Field = goName(key)
			a.Type = a.Field + "App"
		}
		names := map[string]bool{}
		for _, p := range byApp[key] {
			item := getObj(g.paths, p)
			_, rest := splitAppPath(p)
			if g.isCollection(p) {
				c := fluentColl{Field: goName(strings.TrimSuffix(rest, "/")), Path: p}
				for _, t := range []*string{&c.T, &c.C, &c.P} {
					*t = "Object"
				}
				single := getObj(g.paths, p+"{id}/")
				set := func(dst *string, s obj) error {
					if n := refName(s); n != "" {
						q, err := g.goTypeRef(n)
						if err != nil {
							return err
						}
						*dst = q
						imports[g.home[n]] = true
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
						return nil, nil, nil, fmt.Errorf("%s: %w", p, e)
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
	return apps, plugins, imports, nil
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

const appsTemplate = `// Code generated by gennetbox from the NetBox {{.Version}} schema. DO NOT EDIT.

package netboxsdk

import (
{{- if .NeedContext}}
	"context"
	"net/http"
	"net/url"
	"strconv"
{{end}}
{{- range .Imports}}
	{{.Alias}} "{{.Path}}"
{{- end}}
)

{{- define "app"}}

// {{.Type}} holds the collections{{if .Actions}} and special actions{{end}} of {{.Path}}.
type {{.Type}} struct {
{{- if .Actions}}
	c *Client
{{end}}
{{- range .Collections}}
	// {{.Field}} is {{.Path}}.
	{{.Field}} *Collection[{{.T}}, {{.C}}, {{.P}}]
{{- end}}
}

func new{{.Type}}(c *Client) *{{.Type}} {
	return &{{.Type}}{
{{- if .Actions}}
		c: c,
{{- end}}
{{- range .Collections}}
		{{.Field}}: NewCollection[{{.T}}, {{.C}}, {{.P}}](c, "{{.Path}}"),
{{- end}}
	}
}
{{- $app := .}}
{{- range .Actions}}

// {{.Name}} calls {{.Verb}} {{.Path}} ({{.OpID}}).
// query may be nil; body is sent as JSON when non-nil; out receives the decoded JSON response when non-nil.
func (a *{{$app.Type}}) {{.Name}}(ctx context.Context, {{range .Params}}{{.Name}} {{.Type}}, {{end}}query url.Values, body, out any) (*Response, error) {
	return a.c.Do(ctx, {{.Method}}, {{.PathExpr}}, query, body, out)
}
{{- end}}
{{- end}}

// Apps holds one typed accessor per NetBox app: nb.DCIM.Devices, nb.IPAM.IPAddresses, ...
type Apps struct {
{{- range .Apps}}
	{{.Field}} *{{.Type}}
{{- end}}
	// Plugins holds the plugin endpoints present in the schema the code was generated from.
	Plugins *PluginsApp
}

func newApps(c *Client) Apps {
	return Apps{
{{- range .Apps}}
		{{.Field}}: new{{.Type}}(c),
{{- end}}
		Plugins: newPluginsApp(c),
	}
}

// PluginsApp holds the plugins of the schema; any plugin path is also reachable
// through Client.Objects("/api/plugins/<plugin>/<collection>/").
type PluginsApp struct {
{{- range .Plugins}}
	{{.Field}} *{{.Type}}
{{- end}}
}

func newPluginsApp(c *Client) *PluginsApp {
	{{- if not .Plugins}}
	_ = c
	{{- end}}
	return &PluginsApp{
{{- range .Plugins}}
		{{.Field}}: new{{.Type}}(c),
{{- end}}
	}
}
{{- range .Apps}}{{template "app" .}}{{end}}
{{- range .Plugins}}{{template "app" .}}{{end}}
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

// generateFluent renders netboxsdk/apps_gen.go and netboxsdk/filters_gen.go.
func (g *generator) generateFluent() (map[string][]byte, error) {
	apps, plugins, used, err := g.buildFluent()
	if err != nil {
		return nil, err
	}
	needCtx := false
	for _, a := range append(append([]*fluentApp{}, apps...), plugins...) {
		if len(a.Actions) > 0 {
			needCtx = true
		}
	}
	var imports []importSpec
	for _, app := range sortedKeys(used) {
		imports = append(imports, importSpec{importAlias(app), modulePath + "/gen/" + pkgDir(app)})
	}
	type filter struct {
		Path  string
		Names []string
	}
	var filters []filter
	for _, p := range sortedKeys(g.filters) {
		filters = append(filters, filter{p, g.filters[p]})
	}
	data := map[string]any{
		"Version": g.version, "Apps": apps, "Plugins": plugins, "Imports": imports,
		"NeedContext": needCtx, "Filters": filters,
	}
	out := map[string][]byte{}
	for name, text := range map[string]string{"apps_gen.go": appsTemplate, "filters_gen.go": filtersTemplate} {
		t, err := template.New(name).Parse(text)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: gofmt: %w\n%s", name, err, buf.Bytes())
		}
		out[name] = src
	}
	return out, nil
}
