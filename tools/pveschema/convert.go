package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// pvetypesImport is the package of the tolerant scalar types used for every
// response scalar.
const pvetypesImport = "github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"

// Stats are the counts the converter prints.
type Stats struct {
	InputPairs      int            // (path, method) pairs in the input
	Paths           int            // OpenAPI paths written
	Operations      int            // operations written
	ByMethod        map[string]int // operations per HTTP method
	NullReturns     int            // operations whose 200 has no content
	Schemas         int            // component schemas
	Enums           int            // hoisted request/parameter enums
	IndexedFamilies int            // net[n]-style families folded into additionalProperties
	PlaceholderMaps int            // {id}-style keys turned into maps
	Tolerant        map[string]int // response scalars by pvetypes type
	DefaultsMoved   int            // defaults that could not be coerced
	OneOfs          int            // oneOf schemas flattened
	Overrides       map[string]int // override fields applied: added, corrected, widened
}

type converter struct {
	schemas map[string]any
	st      Stats
	errs    []string
	// rootData/rootItem name the data schema of the operation being
	// converted and the items of that data when it is an array.
	rootData, rootItem string
}

func newConverter() *converter {
	return &converter{
		schemas: map[string]any{},
		st:      Stats{ByMethod: map[string]int{}, Tolerant: map[string]int{}, Overrides: map[string]int{}},
	}
}

func (c *converter) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// register adds a component schema and returns a $ref to it. A name used
// twice is an error (never silently suffixed, so names stay stable).
func (c *converter) register(name string, s map[string]any) map[string]any {
	if _, dup := c.schemas[name]; dup {
		c.fail("component name %q used twice", name)
	}
	c.schemas[name] = s
	return ref(name)
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// Options control the document header.
type Options struct {
	Version string // info.version, e.g. "8.1.5"
	Source  string // base name or URL of the input, recorded as x-pve-source
	// Overrides, when set, are applied after conversion (overrides.go).
	Overrides *OverrideFile
}

// Convert turns the PVE API tree into an OpenAPI 3.0 document.
func Convert(nodes []*apiNode, opt Options) (map[string]any, Stats, error) {
	c := newConverter()
	var dups []string
	c.st.InputPairs, dups = countInput(nodes)
	if len(dups) > 0 {
		c.fail("duplicate (method, path) in input: %s", strings.Join(dups, ", "))
	}
	paths := map[string]any{}
	opIDs := map[string]string{}
	tags := map[string]bool{}
	var walk func(n *apiNode)
	walk = func(n *apiNode) {
		if len(n.Info) > 0 {
			item, _ := paths[n.Path].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[n.Path] = item
			}
			for _, m := range sortedKeys(n.Info) {
				method := strings.ToUpper(m)
				op := c.operation(n.Path, method, n.Info[m])
				id := op["operationId"].(string)
				if prev, dup := opIDs[id]; dup {
					c.fail("operationId %s of %s %s already used by %s", id, method, n.Path, prev)
				}
				opIDs[id] = method + " " + n.Path
				item[strings.ToLower(method)] = op
				tags[tagOf(n.Path)] = true
				c.st.Operations++
				c.st.ByMethod[method]++
			}
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	c.applyOverrides(paths, opt.Version, opt.Overrides)
	c.st.Paths = len(paths)
	c.st.Schemas = len(c.schemas)
	if c.st.Operations != c.st.InputPairs {
		c.fail("input has %d (path, method) pairs but %d operations were written", c.st.InputPairs, c.st.Operations)
	}
	var tagList []any
	for _, t := range sortedKeys(tags) {
		tagList = append(tagList, map[string]any{"name": t})
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Proxmox VE API",
			"version":     opt.Version,
			"description": "Converted from the Proxmox VE API viewer data (apidata.js) by tools/pveschema. Every response is the PVE envelope {\"data\": ...}.",
		},
		"servers": []any{map[string]any{
			"url":       "https://{host}:{port}/api2/json",
			"variables": map[string]any{"host": map[string]any{"default": "localhost"}, "port": map[string]any{"default": "8006"}},
		}},
		"tags":  tagList,
		"paths": paths,
		"components": map[string]any{
			"schemas": c.schemas,
			"securitySchemes": map[string]any{
				"apiToken": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
					"description": "PVEAPIToken=USER@REALM!TOKENID=SECRET"},
				"ticket": map[string]any{"type": "apiKey", "in": "cookie", "name": "PVEAuthCookie",
					"description": "Ticket from POST /access/ticket; writes also need the CSRFPreventionToken header."},
			},
		},
		"x-pve-source": opt.Source,
	}
	c.checkRefs(doc)
	if len(c.errs) > 0 {
		sort.Strings(c.errs)
		return doc, c.st, fmt.Errorf("conversion failed:\n  %s", strings.Join(c.errs, "\n  "))
	}
	return doc, c.st, nil
}

// operation converts one PVE method description.
func (c *converter) operation(path, method string, info map[string]any) map[string]any {
	id := operationID(method, path)
	op := map[string]any{
		"operationId": id,
		"tags":        []any{tagOf(path)},
	}
	if d, ok := info["description"].(string); ok && d != "" {
		op["description"] = d
	}
	for _, k := range sortedKeys(info) {
		switch k {
		case "description", "method", "parameters", "returns":
			continue
		}
		op[ext(k)] = info[k]
	}
	params, _ := info["parameters"].(map[string]any)
	props, _ := params["properties"].(map[string]any)
	if ap, ok := params["additionalProperties"]; ok && truthy(ap) {
		op["x-pve-additional-properties"] = true
	}

	var parameters []any
	inPath := map[string]bool{}
	for _, p := range pathParams(path) {
		inPath[p] = true
		ps := c.schema(props[p], "", false)
		param := map[string]any{"name": p, "in": "path", "required": true}
		moveDescription(ps, param)
		param["schema"] = ps
		if props[p] == nil {
			param["schema"] = map[string]any{"type": "string"}
		}
		parameters = append(parameters, param)
	}
	rest := map[string]any{}
	for k, v := range props {
		if !inPath[k] {
			rest[k] = v
		}
	}
	switch method {
	case "GET", "DELETE":
		for _, k := range sortedKeys(rest) {
			if indexedRe.MatchString(k) || placeholderRe.MatchString(k) {
				c.fail("%s %s: indexed/placeholder name %q in a query is not supported", method, path, k)
				continue
			}
			ps := c.schema(rest[k], id+"Params"+camel(k), false)
			param := map[string]any{"name": k, "in": "query", "required": !isOptional(rest[k])}
			moveDescription(ps, param)
			param["schema"] = ps
			parameters = append(parameters, param)
		}
	default:
		if len(rest) > 0 {
			body := map[string]any{"type": "object", "properties": rest}
			name := id + "Request"
			s := c.schema(body, name, false)
			if _, isRef := s["$ref"]; !isRef {
				s = c.register(name, s)
			}
			required := false
			for _, v := range rest {
				if !isOptional(v) {
					required = true
				}
			}
			op["requestBody"] = map[string]any{
				"required": required,
				"content":  map[string]any{"application/json": map[string]any{"schema": s}},
			}
		}
	}
	if len(parameters) > 0 {
		op["parameters"] = parameters
	}

	ret, _ := info["returns"].(map[string]any)
	if t, _ := ret["type"].(string); t == "null" {
		c.st.NullReturns++
		op["responses"] = map[string]any{"200": map[string]any{"description": "Success; PVE returns {\"data\": null}."}}
		return op
	}
	c.rootData, c.rootItem = id+"Data", id+"Item"
	ds := c.schema(ret, c.rootData, true)
	if _, isRef := ds["$ref"]; !isRef {
		ds = c.register(c.rootData, ds)
	}
	c.rootData, c.rootItem = "", ""
	op["responses"] = map[string]any{"200": map[string]any{
		"description": "Success",
		"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type":       "object",
			"properties": map[string]any{"data": ds},
		}}},
	}}
	return op
}

// schema converts one PVE JSON schema. name is the component name used when
// the schema is hoisted (objects with properties; request enums); "" means
// keep it inline. resp selects the tolerant response types.
func (c *converter) schema(in any, name string, resp bool) map[string]any {
	s, ok := in.(map[string]any)
	if !ok {
		return map[string]any{}
	}
	out := map[string]any{}
	typ, _ := s["type"].(string)
	oneOf, hasOneOf := s["oneOf"].([]any)
	if hasOneOf {
		c.st.OneOfs++
		out["x-pve-one-of"] = oneOf
		if typ == "" {
			typ = commonType(oneOf)
		}
	}
	if typ == "" {
		if _, ok := s["properties"]; ok {
			typ = "object"
		} else if _, ok := s["items"]; ok {
			typ = "array"
		}
	}
	c.attrs(s, out, typ)
	switch typ {
	case "string", "integer", "number", "boolean":
		out["type"] = typ
		if resp {
			c.tolerant(out, typ)
		} else if _, isEnum := out["enum"]; isEnum && name != "" {
			c.st.Enums++
			out["x-pve-enum-owner"] = name
			return c.register(name, out)
		}
	case "array":
		if s["items"] == nil && s["properties"] != nil {
			// PVE quirk: "array" with properties and no items (ceph
			// metadata osd). The wire shape is unclear: free-form.
			out["x-pve-type"] = "array"
			break
		}
		out["type"] = "array"
		itemName := ""
		if name != "" {
			itemName = name + "Item"
			if name == c.rootData {
				itemName = c.rootItem
			}
		}
		if hasOneOf {
			// Variants differ by instance type; keep the item type they
			// share (without their enums), else a free-form item.
			var items []any
			for _, v := range oneOf {
				vm, _ := v.(map[string]any)
				items = append(items, vm["items"])
			}
			it := map[string]any{}
			if t := commonType(items); t == "string" || t == "integer" || t == "number" || t == "boolean" {
				it["type"] = t
				if resp {
					c.tolerant(it, t)
				}
			}
			out["items"] = it
		} else if s["items"] == nil {
			out["items"] = map[string]any{}
		} else {
			out["items"] = c.schema(s["items"], itemName, resp)
		}
	case "object":
		return c.object(s, out, name, resp)
	default:
		// "any", "null" inside a structure, or no type: free-form value.
	}
	return out
}

// object converts an object schema; see README "Objects".
func (c *converter) object(s, out map[string]any, name string, resp bool) map[string]any {
	out["type"] = "object"
	props, _ := s["properties"].(map[string]any)
	outProps := map[string]any{}
	indexed := map[string]any{}
	var addl any
	var required, pveRequired []any
	for _, k := range sortedKeys(props) {
		v := props[k]
		if indexedRe.MatchString(k) {
			indexed[k] = c.schema(v, "", resp)
			continue
		}
		if placeholderRe.MatchString(k) {
			c.st.PlaceholderMaps++
			out["x-pve-map-key"] = k
			vn := ""
			if name != "" {
				vn = name + "Value"
			}
			addl = c.schema(v, vn, resp)
			continue
		}
		pn := ""
		if name != "" {
			pn = name + camel(k)
		}
		outProps[k] = c.schema(v, pn, resp)
		if !isOptional(v) {
			if resp {
				pveRequired = append(pveRequired, k)
			} else {
				required = append(required, k)
			}
		}
	}
	if len(indexed) > 0 {
		c.st.IndexedFamilies += len(indexed)
		out["x-pve-indexed"] = indexed
		allString := true
		for _, v := range indexed {
			if t, _ := v.(map[string]any)["type"].(string); t != "string" {
				allString = false
			}
		}
		if allString {
			ap := map[string]any{"type": "string"}
			if resp {
				c.tolerant(ap, "string")
			}
			addl = ap
		} else {
			addl = map[string]any{}
		}
	}
	if len(outProps) == 0 && addl == nil {
		out["additionalProperties"] = true
		return out
	}
	if len(outProps) > 0 {
		out["properties"] = outProps
	}
	if addl != nil {
		out["additionalProperties"] = addl
	}
	if len(required) > 0 {
		out["required"] = required
	}
	if len(pveRequired) > 0 {
		out["x-pve-required"] = pveRequired
	}
	if len(outProps) > 0 && name != "" {
		return c.register(name, out)
	}
	return out
}

// attrs copies the scalar attributes of a PVE schema: standard ones are
// coerced to the declared type, the rest become x-pve-* extensions.
func (c *converter) attrs(s, out map[string]any, typ string) {
	for _, k := range sortedKeys(s) {
		v := s[k]
		switch k {
		case "type", "optional", "properties", "items", "oneOf":
		case "additionalProperties":
			if truthy(v) {
				out["x-pve-additional-properties"] = v
			}
		case "description":
			if d, ok := v.(string); ok && d != "" {
				out["description"] = d
			}
		case "title":
			if t, ok := v.(string); ok {
				out["title"] = t
			}
		case "enum":
			vals, ok := v.([]any)
			if !ok || len(vals) == 0 {
				continue
			}
			var ev []any
			for _, e := range vals {
				if cv, ok := coerce(e, typOr(typ, "string")); ok {
					ev = append(ev, cv)
				}
			}
			if len(ev) > 0 {
				out["enum"] = ev
			}
		case "default":
			if cv, ok := coerce(v, typ); ok && typ != "" {
				out["default"] = cv
			} else {
				c.st.DefaultsMoved++
				out["x-pve-default"] = v
				d, _ := out["description"].(string)
				if d == "" {
					d, _ = s["description"].(string)
				}
				out["description"] = strings.TrimSpace(d + "\n\nDefault: " + fmt.Sprint(v))
			}
		case "minimum", "maximum":
			if n, ok := number(v); ok && (typ == "integer" || typ == "number") {
				out[k] = n
			} else {
				out[ext(k)] = v
			}
		case "minLength", "maxLength":
			if n, ok := number(v); ok && typ == "string" {
				out[k] = n
			} else {
				out[ext(k)] = v
			}
		case "pattern":
			if p, ok := v.(string); ok && typ == "string" && validPattern(p) {
				out["pattern"] = p
			} else {
				out[ext(k)] = v
			}
		case "format":
			out["x-pve-format"] = v
		default:
			out[ext(k)] = v
		}
	}
	// A default that its own schema rejects (outside the enum, PVE's
	// property=all; below the minimum, PVE's vcpus=0) is not valid OpenAPI:
	// treat it like a default that cannot be coerced.
	if d, ok := out["default"]; ok {
		if !defaultFits(out, d) {
			c.st.DefaultsMoved++
			delete(out, "default")
			out["x-pve-default"] = s["default"]
			desc, _ := out["description"].(string)
			out["description"] = strings.TrimSpace(desc + "\n\nDefault: " + fmt.Sprint(s["default"]))
		}
	}
}

func defaultFits(out map[string]any, d any) bool {
	if ev, ok := out["enum"].([]any); ok && !containsValue(ev, d) {
		return false
	}
	if n, ok := d.(json.Number); ok {
		f, _ := n.Float64()
		if lo, ok := out["minimum"].(json.Number); ok {
			if l, _ := lo.Float64(); f < l {
				return false
			}
		}
		if hi, ok := out["maximum"].(json.Number); ok {
			if h, _ := hi.Float64(); f > h {
				return false
			}
		}
	}
	if str, ok := d.(string); ok {
		if p, ok := out["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(str) {
				return false
			}
		}
		if mx, ok := out["maxLength"].(json.Number); ok {
			if m, _ := mx.Int64(); int64(len([]rune(str))) > m {
				return false
			}
		}
		if mn, ok := out["minLength"].(json.Number); ok {
			if m, _ := mn.Int64(); int64(len([]rune(str))) < m {
				return false
			}
		}
	}
	return true
}

func containsValue(list []any, v any) bool {
	for _, e := range list {
		if fmt.Sprint(e) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

// tolerant marks a response scalar with the pvetypes type that decodes it.
func (c *converter) tolerant(out map[string]any, typ string) {
	t := map[string]string{"boolean": "Bool", "integer": "Int", "number": "Float", "string": "String"}[typ]
	c.st.Tolerant[t]++
	out["x-go-type"] = "pvetypes." + t
	out["x-go-type-import"] = map[string]any{"path": pvetypesImport}
}

// checkRefs fails on a $ref to a missing component.
func (c *converter) checkRefs(v any) {
	switch t := v.(type) {
	case map[string]any:
		if r, ok := t["$ref"].(string); ok {
			name := strings.TrimPrefix(r, "#/components/schemas/")
			if _, ok := c.schemas[name]; !ok {
				c.fail("dangling $ref %s", r)
			}
		}
		for _, k := range sortedKeys(t) {
			if strings.HasPrefix(k, "x-pve-") {
				continue
			}
			c.checkRefs(t[k])
		}
	case []any:
		for _, e := range t {
			c.checkRefs(e)
		}
	}
}

func commonType(variants []any) string {
	t := ""
	for _, v := range variants {
		m, _ := v.(map[string]any)
		vt, _ := m["type"].(string)
		if vt == "" || (t != "" && vt != t) {
			return ""
		}
		t = vt
	}
	return t
}

// validPattern reports whether a PVE (Perl) pattern is also a valid Go
// (RE2) regular expression, so that validators can compile it.
func validPattern(p string) bool {
	_, err := regexp.Compile(p)
	return err == nil
}

func typOr(t, def string) string {
	if t == "" {
		return def
	}
	return t
}

// coerce converts v to the JSON type of the OpenAPI type typ.
func coerce(v any, typ string) (any, bool) {
	switch typ {
	case "boolean":
		switch t := v.(type) {
		case bool:
			return t, true
		case json.Number:
			switch t.String() {
			case "0":
				return false, true
			case "1":
				return true, true
			}
		case string:
			switch strings.ToLower(t) {
			case "0", "false", "no", "off":
				return false, true
			case "1", "true", "yes", "on":
				return true, true
			}
		}
	case "integer":
		n, ok := number(v)
		if ok {
			if _, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				return n, true
			}
			if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
				return json.Number(strconv.FormatInt(int64(f), 10)), true
			}
		}
	case "number":
		return number(v)
	case "string":
		switch t := v.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		}
	}
	return nil, false
}

// number accepts a JSON number or a numeric string.
func number(v any) (json.Number, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return "", false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "", false
	}
	return json.Number(s), true
}

// isOptional reads PVE's optional flag; a oneOf without its own flag is
// optional when every variant is.
func isOptional(v any) bool {
	m, _ := v.(map[string]any)
	if _, ok := m["optional"]; !ok {
		if variants, ok := m["oneOf"].([]any); ok && len(variants) > 0 {
			for _, vv := range variants {
				if !isOptional(vv) {
					return false
				}
			}
			return true
		}
	}
	return truthy(m["optional"])
}

// truthy reads PVE's Perl-style flags: 1, "1", true.
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case json.Number:
		return t.String() != "0"
	case string:
		return t != "" && t != "0"
	}
	return false
}

// ext names the extension that carries a PVE key: x-pve-<key>, with
// underscores turned into dashes.
func ext(k string) string { return "x-pve-" + strings.ReplaceAll(k, "_", "-") }

func moveDescription(schema, param map[string]any) {
	if d, ok := schema["description"]; ok {
		if _, isRef := schema["$ref"]; !isRef {
			param["description"] = d
			delete(schema, "description")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
