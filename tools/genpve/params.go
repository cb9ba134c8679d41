package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// apiParam is one parameter of one operation as proxmoxsdk/pveapi describes
// it: path, query and body parameters alike (pvesh and the CLI make no
// difference), indexed names (net[n]) once with Indexed set.
type apiParam struct {
	Name        string
	In          string // path, query or body
	Type        string // string, integer, number, boolean, array (of strings)
	TypeText    string // x-pve-typetext
	Format      string // x-pve-format when it is a name; "property-string" when it is a key list
	Description string // first line
	Required    bool
	Indexed     bool
	Default     string
	Enum        []string
	Min, Max    string // Go float literals, "" when unset
	MinLength   int
	MaxLength   int
	Pattern     string
	Versions    []string // nil: every version of the operation
}

// apiOp is one operation with its parameters.
type apiOp struct {
	operation
	Params  []apiParam
	Returns string // short description of data
}

// collectParams lists the parameters of every operation of ops, reading each
// version's document so that a parameter carries the versions that have it.
// The definition of the newest version wins.
func collectParams(ops []operation, specs []specVersion) ([]apiOp, error) {
	out := make([]apiOp, 0, len(ops))
	for _, o := range ops {
		byName := map[string]*apiParam{}
		var order []string
		for _, sv := range specs {
			op := obj(obj(obj(sv.Doc["paths"])[o.Path])[strings.ToLower(o.Method)])
			if op == nil {
				continue
			}
			schemas := obj(obj(sv.Doc["components"])["schemas"])
			ps, err := opParams(op, schemas)
			if err != nil {
				return nil, fmt.Errorf("%s %s (%s): %w", o.Method, o.Path, sv.Label, err)
			}
			for _, p := range ps {
				key := p.Name
				if p.Indexed {
					key += "[n]"
				}
				prev, seen := byName[key]
				if !seen {
					order = append(order, key)
				} else {
					p.Versions = prev.Versions
				}
				p.Versions = append(p.Versions, sv.Label)
				cp := p
				byName[key] = &cp
			}
		}
		sort.Slice(order, func(i, j int) bool {
			a, b := byName[order[i]], byName[order[j]]
			if (a.In == "path") != (b.In == "path") {
				return a.In == "path"
			}
			if a.In == "path" {
				return strings.Index(o.Path, "{"+a.Name+"}") < strings.Index(o.Path, "{"+b.Name+"}")
			}
			return order[i] < order[j]
		})
		ao := apiOp{operation: o, Returns: returnsSummary(o.Returns)}
		for _, k := range order {
			p := *byName[k]
			if sameVersions(p.Versions, o.Versions) {
				p.Versions = nil
			}
			ao.Params = append(ao.Params, p)
		}
		out = append(out, ao)
	}
	return out, nil
}

func sameVersions(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// opParams reads the parameters of one operation of one version's document.
func opParams(op map[string]any, schemas map[string]any) ([]apiParam, error) {
	var out []apiParam
	for _, prm := range asList(op["parameters"]) {
		pm := obj(prm)
		name, _ := pm["name"].(string)
		in, _ := pm["in"].(string)
		p := paramFrom(name, resolve(pm["schema"], schemas), schemas)
		p.In = in
		if d, ok := pm["description"].(string); ok {
			p.Description = firstLine(d)
		}
		p.Required, _ = pm["required"].(bool)
		out = append(out, p)
	}
	body := resolve(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"], schemas)
	if body == nil {
		return out, nil
	}
	required := map[string]bool{}
	for _, r := range asList(body["required"]) {
		if s, ok := r.(string); ok {
			required[s] = true
		}
	}
	for _, name := range sortedKeys(obj(body["properties"])) {
		p := paramFrom(name, resolve(obj(body["properties"])[name], schemas), schemas)
		p.In, p.Required = "body", required[name]
		out = append(out, p)
	}
	for _, name := range sortedKeys(obj(body["x-pve-indexed"])) {
		m := indexedNameRe.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("indexed parameter %q is not name[n]", name)
		}
		p := paramFrom(m[1], resolve(obj(body["x-pve-indexed"])[name], schemas), schemas)
		p.In, p.Indexed = "body", true
		out = append(out, p)
	}
	return out, nil
}

// resolve follows $ref (and a single-element allOf) to the schema object.
func resolve(v any, schemas map[string]any) map[string]any {
	s := obj(v)
	for depth := 0; s != nil && depth < 16; depth++ {
		if r, ok := s["$ref"].(string); ok {
			s = obj(schemas[strings.TrimPrefix(r, "#/components/schemas/")])
			continue
		}
		if all := asList(s["allOf"]); len(all) == 1 {
			s = obj(all[0])
			continue
		}
		break
	}
	return s
}

func paramFrom(name string, s map[string]any, schemas map[string]any) apiParam {
	p := apiParam{Name: name}
	if s == nil {
		p.Type = "string"
		return p
	}
	p.Type, _ = s["type"].(string)
	if p.Type == "" {
		p.Type = "string"
	}
	if p.Type == "array" {
		if it := resolve(s["items"], schemas); it != nil {
			if e := enumOf(it); len(e) > 0 {
				p.Enum = e
			}
		}
	}
	p.TypeText, _ = s["x-pve-typetext"].(string)
	switch f := s["x-pve-format"].(type) {
	case string:
		p.Format = f
	case map[string]any:
		p.Format = "property-string"
	}
	if d, ok := s["description"].(string); ok {
		p.Description = firstLine(d)
	}
	if d, ok := s["default"]; ok {
		p.Default = scalarString(d)
	}
	if e := enumOf(s); len(e) > 0 {
		p.Enum = e
	}
	p.Min = numString(s["minimum"])
	p.Max = numString(s["maximum"])
	p.MinLength = intOf(s["minLength"])
	p.MaxLength = intOf(s["maxLength"])
	p.Pattern, _ = s["pattern"].(string)
	return p
}

func enumOf(s map[string]any) []string {
	var out []string
	for _, e := range asList(s["enum"]) {
		if e == nil {
			continue
		}
		out = append(out, scalarString(e))
	}
	return out
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "1"
		}
		return "0"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func numString(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return ""
	}
	f, err := n.Float64()
	if err != nil {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func intOf(v any) int {
	if n, ok := v.(json.Number); ok {
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// returnsSummary describes the data schema in a few words for `pvectl usage`:
// "null", "string", "array of object (vmid, name, …)".
func returnsSummary(returns string) string {
	if returns == "" {
		return "null"
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(returns), &s); err != nil {
		return "any"
	}
	return describe(s, 0)
}

func describe(s map[string]any, depth int) string {
	t, _ := s["type"].(string)
	switch t {
	case "array":
		return "array of " + describe(obj(s["items"]), depth+1)
	case "object", "":
		props := sortedKeys(obj(s["properties"]))
		if len(props) == 0 {
			if t == "" {
				return "any"
			}
			return "object"
		}
		if depth > 1 {
			return "object"
		}
		const max = 12
		more := ""
		if len(props) > max {
			more = fmt.Sprintf(", … %d more", len(props)-max)
			props = props[:max]
		}
		return "object (" + strings.Join(props, ", ") + more + ")"
	}
	return t
}

var apiTmpl = template.Must(template.New("api").Funcs(funcs).Parse(`// Code generated by genpve. DO NOT EDIT.

// Source: tools/genpve from schemas/proxmox ({{.Versions}}).

package pveapi

// SupportedVersions are the PVE versions the schemas were generated from.
var SupportedVersions = []string{ {{- range $i, $v := .VersionList}}{{if $i}}, {{end}}"{{$v}}"{{end -}} }

// operations lists every operation with its parameters, sorted by path and method.
var operations = []Operation{
{{- range .Ops}}
	{Method: "{{.Method}}", Path: "{{.Path}}", PVEName: {{printf "%q" .PVEName}}, Summary: {{printf "%q" .Summary}}, Versions: []string{ {{- range $i, $v := .Versions}}{{if $i}}, {{end}}"{{$v}}"{{end -}} }, Returns: {{printf "%q" .Returns}}, Params: []Param{
{{- range .Params}}
		{Name: "{{.Name}}", In: "{{.In}}", Type: "{{.Type}}"{{if .TypeText}}, TypeText: {{printf "%q" .TypeText}}{{end}}{{if .Format}}, Format: {{printf "%q" .Format}}{{end}}{{if .Description}}, Description: {{printf "%q" .Description}}{{end}}{{if .Required}}, Required: true{{end}}{{if .Indexed}}, Indexed: true{{end}}{{if .Default}}, Default: {{printf "%q" .Default}}{{end}}{{if .Enum}}, Enum: []string{ {{- range $i, $v := .Enum}}{{if $i}}, {{end}}{{printf "%q" $v}}{{end -}} }{{end}}{{if .Min}}, Min: {{.Min}}, HasMin: true{{end}}{{if .Max}}, Max: {{.Max}}, HasMax: true{{end}}{{if .MinLength}}, MinLength: {{.MinLength}}{{end}}{{if .MaxLength}}, MaxLength: {{.MaxLength}}{{end}}{{if .Pattern}}, Pattern: {{printf "%q" .Pattern}}{{end}}{{if .Versions}}, Versions: []string{ {{- range $i, $v := .Versions}}{{if $i}}, {{end}}"{{$v}}"{{end -}} }{{end}}},
{{- end}}
	}},
{{- end}}
}
`))
