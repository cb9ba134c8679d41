package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// generator holds the schema document and everything derived from it.
type generator struct {
	doc     obj
	paths   obj
	schemas obj
	version string
	opCount int

	// filters maps a collection path to the query parameter names of its list
	// operation, recorded before lookup variants are dropped.
	filters map[string][]string
	// home maps a component name to the app key of the package that defines it
	// ("common" for shared components); set by split.
	home map[string]string
	// apps lists the app keys in sorted order; set by split.
	apps []string
}

func newGenerator(doc obj) (*generator, error) {
	g := &generator{doc: doc, paths: getObj(doc, "paths"), schemas: getObj(getObj(doc, "components"), "schemas")}
	if g.paths == nil || g.schemas == nil {
		return nil, errors.New("document has no paths or no components.schemas")
	}
	g.version = strings.Fields(getStr(getObj(doc, "info"), "version") + " unknown")[0]
	seen := map[string]string{}
	var errs []error
	operations(g.paths, func(p, m string, op obj) {
		g.opCount++
		id := getStr(op, "operationId")
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("%s %s has no operationId", strings.ToUpper(m), p))
		case seen[codegen.ToCamelCase(id)] != "":
			errs = append(errs, fmt.Errorf("%s %s: operationId %s collides with %s", strings.ToUpper(m), p, id, seen[codegen.ToCamelCase(id)]))
		default:
			seen[codegen.ToCamelCase(id)] = strings.ToUpper(m) + " " + p
		}
	})
	return g, errors.Join(errs...)
}

// preprocess applies the NetBox rules of the generation design, in order.
func (g *generator) preprocess() error {
	g.recordFilters()
	stripNullEnums(g.doc)
	g.trimParameters()
	g.dropLabelEnums()
	g.relaxNullableRequired()
	g.writableForeignKeys()
	g.simplifyUnions()
	if err := g.hoistEnums(); err != nil {
		return err
	}
	g.bulkBodies()
	g.jsonOnly()
	g.successResponsesOnly()
	g.plainResponseNullables()
	return nil
}

// plainResponseNullables drops "nullable" from every component that no request
// body reaches (the response models), so oapi-codegen types their nullable
// fields as *T with omitempty (null and absent both decode to nil) instead of
// nullable.Nullable[T], a map that costs an allocation per field when decoding.
// Request models (C, P) keep Nullable: a PATCH must be able to send null.
// relaxNullableRequired already removed nullable properties from "required".
func (g *generator) plainResponseNullables() {
	inRequest := map[string]bool{}
	var visit func(v any)
	visit = func(v any) {
		walkRefs(v, func(o obj) {
			n := refName(o)
			if n == "" || inRequest[n] {
				return
			}
			inRequest[n] = true
			visit(getObj(g.schemas, n))
		})
	}
	operations(g.paths, func(_, _ string, op obj) { visit(getObj(op, "requestBody")) })
	for _, name := range sortedKeys(g.schemas) {
		if !inRequest[name] {
			dropNullable(g.schemas[name])
		}
	}
}

// dropNullable removes the nullable keyword from s and every schema nested in it
// (not following $ref). A property named "nullable" (an object) is kept.
func dropNullable(v any) {
	switch t := v.(type) {
	case obj:
		if _, ok := t["nullable"].(bool); ok {
			delete(t, "nullable")
		}
		for _, k := range sortedKeys(t) {
			dropNullable(t[k])
		}
	case []any:
		for _, e := range t {
			dropNullable(e)
		}
	}
}

// successResponsesOnly drops the error responses (4xx/5xx, NetBox >= 4.5 documents
// them): netboxsdk decodes every error into one APIError, and their union bodies
// would add thousands of unused types.
func (g *generator) successResponsesOnly() {
	operations(g.paths, func(_, _ string, op obj) {
		rs := getObj(op, "responses")
		for _, code := range sortedKeys(rs) {
			if !strings.HasPrefix(code, "2") && len(rs) > 1 {
				delete(rs, code)
			}
		}
	})
}

// recordFilters keeps the list parameters of every collection for strict filter checks.
func (g *generator) recordFilters() {
	g.filters = map[string][]string{}
	for _, p := range sortedKeys(g.paths) {
		if !g.isCollection(p) {
			continue
		}
		seen := map[string]bool{}
		var names []string
		for _, prm := range getList(getObj(getObj(g.paths, p), "get"), "parameters") {
			po, _ := prm.(obj)
			if getStr(po, "in") == "query" && !seen[getStr(po, "name")] {
				seen[getStr(po, "name")] = true
				names = append(names, getStr(po, "name"))
			}
		}
		sort.Strings(names)
		g.filters[p] = names
	}
}

// isCollection reports whether p is a collection path: a path below
// /api/<app>/ (or /api/plugins/<plugin>/) without parameters whose GET returns
// a paginated list (count + results).
func (g *generator) isCollection(p string) bool {
	prefix, rest := splitAppPath(p)
	if prefix == "" || rest == "" || strings.Contains(rest, "{") {
		return false
	}
	get := getObj(getObj(g.paths, p), "get")
	if get == nil {
		return false
	}
	s := g.resolve(jsonSchemaOf(getObj(getObj(get, "responses"), "200")))
	props := getObj(s, "properties")
	return props["results"] != nil && props["count"] != nil
}

// resolve follows a local schema $ref.
func (g *generator) resolve(s obj) obj {
	for i := 0; i < 8 && s != nil; i++ {
		n := refName(s)
		if n == "" {
			return s
		}
		s = getObj(g.schemas, n)
	}
	return s
}

// stripNullEnums removes null from every enum (raw drf-spectacular puts it into
// nullable enums, which oapi-codegen cannot type).
func stripNullEnums(v any) {
	switch t := v.(type) {
	case obj:
		if e, ok := t["enum"].([]any); ok {
			out := e[:0:0]
			for _, x := range e {
				if x != nil {
					out = append(out, x)
				}
			}
			t["enum"] = out
		}
		for _, k := range sortedKeys(t) {
			stripNullEnums(t[k])
		}
	case []any:
		for _, e := range t {
			stripNullEnums(e)
		}
	}
}

// trimParameters drops lookup-variant query parameters (name__ic, ...) and the
// enums of query parameters; drops operation security (the client sends the
// token itself).
func (g *generator) trimParameters() {
	trim := func(o obj) {
		list, ok := o["parameters"].([]any)
		if !ok {
			return
		}
		out := list[:0:0]
		for _, prm := range list {
			po, _ := prm.(obj)
			if getStr(po, "in") == "query" {
				if strings.Contains(getStr(po, "name"), "__") {
					continue
				}
				dropEnum(getObj(po, "schema"))
				dropEnum(getObj(getObj(po, "schema"), "items"))
			}
			out = append(out, prm)
		}
		o["parameters"] = out
	}
	for _, p := range sortedKeys(g.paths) {
		item := getObj(g.paths, p)
		trim(item)
		for _, m := range httpMethods {
			if op := getObj(item, m); op != nil {
				trim(op)
				delete(op, "security")
			}
		}
	}
	delete(g.doc, "security")
	delete(getObj(g.doc, "components"), "securitySchemes")
}

func dropEnum(s obj) {
	if s != nil {
		delete(s, "enum")
		delete(s, "x-spec-enum-id")
	}
}

// dropLabelEnums turns the label of every {value, label} choice object into a plain string.
func (g *generator) dropLabelEnums() {
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case obj:
			if props := getObj(t, "properties"); props != nil && props["value"] != nil && props["label"] != nil {
				dropEnum(getObj(props, "label"))
			}
			for _, k := range sortedKeys(t) {
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(g.schemas)
}

// relaxNullableRequired removes nullable properties from "required": raw
// drf-spectacular output lists them, which would make an unset request field
// marshal as its zero value instead of being omitted.
func (g *generator) relaxNullableRequired() {
	for _, name := range sortedKeys(g.schemas) {
		s := getObj(g.schemas, name)
		req, ok := s["required"].([]any)
		if !ok {
			continue
		}
		props := getObj(s, "properties")
		out := req[:0:0]
		for _, r := range req {
			rs, _ := r.(string)
			if p := getObj(props, rs); p != nil && p["nullable"] == true {
				continue
			}
			out = append(out, r)
		}
		if len(out) == 0 {
			delete(s, "required")
		} else {
			s["required"] = out
		}
	}
}

// isFKRequestSchema reports whether a component names a nested-object write
// form of a foreign key (Brief*Request, Nested*Request; tags stay objects).
func isFKRequestSchema(name string) bool {
	if !strings.HasSuffix(name, "Request") || name == "NestedTagRequest" {
		return false
	}
	return strings.HasPrefix(name, "Brief") || strings.HasPrefix(name, "Nested")
}

// fkNode reports whether s is a writable foreign key: $ref/allOf to a
// Brief*Request, or oneOf/anyOf [integer, <object>] as newer NetBox emits.
func fkNode(s obj) bool {
	if s == nil {
		return false
	}
	if n := refName(s); n != "" {
		return isFKRequestSchema(n)
	}
	if all := getList(s, "allOf"); len(all) == 1 {
		a, _ := all[0].(obj)
		return isFKRequestSchema(refName(a))
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		alts := getList(s, key)
		if len(alts) < 2 {
			continue
		}
		hasInt, others := false, true
		for _, a := range alts {
			ao, _ := a.(obj)
			switch {
			case getStr(ao, "type") == "integer":
				hasInt = true
			case refName(ao) != "" || getStr(ao, "type") == "object" || isRefWrapper(ao):
			default:
				others = false
			}
		}
		return hasInt && others
	}
	return false
}

// isRefWrapper reports whether s is allOf: [$ref] (a nullable reference).
func isRefWrapper(s obj) bool {
	all := getList(s, "allOf")
	if len(all) != 1 {
		return false
	}
	a, _ := all[0].(obj)
	return refName(a) != ""
}

func intFK(s obj) obj {
	n := obj{"type": "integer"}
	if s["nullable"] == true {
		n["nullable"] = true
	}
	if d := getStr(s, "description"); d != "" {
		n["description"] = d
	}
	return n
}

// writableForeignKeys rewrites foreign keys in request schemas to integer ids.
func (g *generator) writableForeignKeys() {
	for _, name := range sortedKeys(g.schemas) {
		if !strings.HasSuffix(name, "Request") {
			continue
		}
		props := getObj(getObj(g.schemas, name), "properties")
		for _, pn := range sortedKeys(props) {
			p := getObj(props, pn)
			if fkNode(p) {
				props[pn] = intFK(p)
				continue
			}
			if items := getObj(p, "items"); getStr(p, "type") == "array" && fkNode(items) {
				p["items"] = intFK(items)
			}
		}
	}
}

// jsonOnly drops multipart and form alternatives of request bodies.
func (g *generator) jsonOnly() {
	operations(g.paths, func(_, _ string, op obj) {
		content := getObj(getObj(op, "requestBody"), "content")
		if content["application/json"] == nil {
			return
		}
		for _, ct := range sortedKeys(content) {
			if ct != "application/json" {
				delete(content, ct)
			}
		}
	})
}

// bulkBodies makes the bulk PUT/PATCH/DELETE bodies carry "id": PATCH items use
// the single-object PATCH schema with an added optional id, PUT items a copy of
// the single-object PUT schema with a required id, DELETE items BulkDeleteRequest.
func (g *generator) bulkBodies() {
	needDelete := false
	patched := map[string]bool{}
	for _, p := range sortedKeys(g.paths) {
		item := getObj(g.paths, p)
		if strings.Contains(p, "{") {
			continue
		}
		single := getObj(g.paths, p+"{id}/")
		for _, m := range []string{"put", "patch", "delete"} {
			op := getObj(item, m)
			body := jsonSchemaOf(getObj(op, "requestBody"))
			if getStr(body, "type") != "array" {
				continue
			}
			if items := g.resolve(getObj(body, "items")); getObj(getObj(items, "properties"), "id") != nil && m != "delete" {
				if m == "patch" {
					g.addPatchID(refName(jsonSchemaOf(getObj(getObj(single, "patch"), "requestBody"))), patched)
				}
				continue // NetBox >= 4.5 has Bulk*Request schemas with id
			}
			var target string
			switch m {
			case "delete":
				target, needDelete = "BulkDeleteRequest", true
			case "patch":
				target = refName(jsonSchemaOf(getObj(getObj(single, "patch"), "requestBody")))
				if target == "" {
					target = refName(getObj(body, "items"))
				}
				g.addPatchID(target, patched)
			case "put":
				src := refName(jsonSchemaOf(getObj(getObj(single, "put"), "requestBody")))
				if src == "" {
					src = refName(getObj(body, "items"))
				}
				s := getObj(g.schemas, src)
				if s == nil {
					continue
				}
				target = strings.TrimSuffix(src, "Request") + "BulkRequest"
				if g.schemas[target] == nil {
					c := deepCopy(s).(obj)
					props := getObj(c, "properties")
					if props == nil {
						props = obj{}
						c["properties"] = props
					}
					props["id"] = obj{"type": "integer"}
					c["required"] = append([]any{"id"}, getList(c, "required")...)
					g.schemas[target] = c
				}
			}
			if target == "" || g.schemas[target] == nil && target != "BulkDeleteRequest" {
				continue
			}
			body["items"] = obj{"$ref": schemaRefPrefix + target}
		}
	}
	if needDelete {
		g.schemas["BulkDeleteRequest"] = obj{
			"type":        "object",
			"description": "Identifies one object of a bulk delete.",
			"properties":  obj{"id": obj{"type": "integer"}},
			"required":    []any{"id"},
		}
	}
}

// enumSite is one occurrence of an inline enum carrying x-spec-enum-id.
type enumSite struct {
	owner, prop string
	node        obj
}

// hoistEnums moves inline enums into shared components, one per x-spec-enum-id,
// named <Owner><Prop>Enum after the shortest owning model name.
func (g *generator) hoistEnums() error {
	sites := map[string][]enumSite{}
	var walk func(v any, owner, prop string)
	walk = func(v any, owner, prop string) {
		switch t := v.(type) {
		case obj:
			if id := getStr(t, "x-spec-enum-id"); id != "" && t["enum"] != nil {
				sites[id] = append(sites[id], enumSite{owner, prop, t})
				return
			}
			if props := getObj(t, "properties"); props != nil {
				for _, k := range sortedKeys(props) {
					pn := k
					if (k == "value" || k == "label") && prop != "" {
						pn = prop
					}
					walk(props[k], owner, pn)
				}
			}
			for _, k := range []string{"items", "additionalProperties"} {
				walk(t[k], owner, prop)
			}
			for _, k := range []string{"allOf", "oneOf", "anyOf"} {
				walk(t[k], owner, prop)
			}
		case []any:
			for _, e := range t {
				walk(e, owner, prop)
			}
		}
	}
	for _, name := range sortedKeys(g.schemas) {
		walk(g.schemas[name], name, "")
	}

	// Name every id: candidates sorted by (length of owner base, name).
	type idCands struct {
		id    string
		cands []string
	}
	var all []idCands
	for _, id := range sortedKeys(sites) {
		seen := map[string]bool{}
		var cands []string
		for _, s := range sites[id] {
			c := ownerBase(s.owner) + goCamel(s.prop) + "Enum"
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
		sort.Slice(cands, func(i, j int) bool {
			if len(cands[i]) != len(cands[j]) {
				return len(cands[i]) < len(cands[j])
			}
			return cands[i] < cands[j]
		})
		all = append(all, idCands{id, cands})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].cands[0] != all[j].cands[0] {
			return all[i].cands[0] < all[j].cands[0]
		}
		return all[i].id < all[j].id
	})
	taken := map[string]bool{}
	for n := range g.schemas {
		taken[n] = true
	}
	for _, ic := range all {
		name := ""
		for _, c := range ic.cands {
			if !taken[c] {
				name = c
				break
			}
		}
		if name == "" {
			name = strings.TrimSuffix(ic.cands[0], "Enum") + strings.ToUpper(ic.id[:min(6, len(ic.id))]) + "Enum"
			if taken[name] {
				return fmt.Errorf("enum %s: cannot find a free name", ic.id)
			}
		}
		taken[name] = true
		g.schemas[name] = mergeEnum(sites[ic.id])
		for _, s := range sites[ic.id] {
			replaceWithRef(s.node, name)
		}
	}
	return nil
}

// mergeEnum builds the hoisted component: the union of the sites' values, in
// the order of the site with the most values, and its value documentation.
func mergeEnum(sites []enumSite) obj {
	best := sites[0].node
	for _, s := range sites[1:] {
		if len(getList(s.node, "enum")) > len(getList(best, "enum")) {
			best = s.node
		}
	}
	values := append([]any{}, getList(best, "enum")...)
	seen := map[string]bool{}
	for _, v := range values {
		seen[fmt.Sprint(v)] = true
	}
	for _, s := range sites {
		for _, v := range getList(s.node, "enum") {
			if !seen[fmt.Sprint(v)] {
				seen[fmt.Sprint(v)] = true
				values = append(values, v)
			}
		}
	}
	e := obj{"enum": values}
	if t := getStr(best, "type"); t != "" {
		e["type"] = t
	}
	var doc []string
	for _, l := range strings.Split(getStr(best, "description"), "\n") {
		if strings.HasPrefix(l, "* `") {
			doc = append(doc, l)
		}
	}
	if len(doc) > 0 {
		e["description"] = strings.Join(doc, "\n")
	}
	return e
}

// replaceWithRef turns an inline enum node into a reference, keeping nullable.
func replaceWithRef(n obj, name string) {
	nullable := n["nullable"] == true
	desc := getStr(n, "description")
	for k := range n {
		delete(n, k)
	}
	ref := obj{"$ref": schemaRefPrefix + name}
	if !nullable {
		n["$ref"] = ref["$ref"]
		return
	}
	n["allOf"] = []any{ref}
	n["nullable"] = true
	if i := strings.Index(desc, "\n\n* `"); i > 0 {
		n["description"] = desc[:i]
	} else if desc != "" && !strings.HasPrefix(desc, "* `") {
		n["description"] = desc
	}
}

// ownerBase strips the request/response variant decorations from a model name.
func ownerBase(name string) string {
	for _, p := range []string{"Patched", "Writable", "Brief", "Nested"} {
		name = strings.TrimPrefix(name, p)
	}
	name = strings.TrimSuffix(name, "Request")
	return name
}

// simplifyUnions removes the unions that newer NetBox schemas emit where one
// Go type serves:
//   - oneOf/anyOf whose alternatives all have the same primitive type (NetBox 4.7:
//     "a pattern-checked string, or the empty string") becomes that type;
//   - a create body oneOf [X, array of X] (single or bulk create) becomes X;
//     bulk create stays possible through netboxsdk's Collection.BulkCreate.
func (g *generator) simplifyUnions() {
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case obj:
			for _, key := range []string{"oneOf", "anyOf"} {
				alts := getList(t, key)
				if len(alts) < 2 {
					continue
				}
				typ := ""
				same := true
				for _, a := range alts {
					ao, _ := a.(obj)
					at := getStr(ao, "type")
					if at == "" || at == "object" || at == "array" || ao["enum"] != nil || (typ != "" && at != typ) {
						same = false
						break
					}
					typ = at
				}
				if !same {
					continue
				}
				delete(t, key)
				t["type"] = typ
				first, _ := alts[0].(obj)
				if f := getStr(first, "format"); f != "" && typ != "string" {
					t["format"] = f
				}
			}
			for _, k := range sortedKeys(t) {
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(g.schemas)
	operations(g.paths, func(_, _ string, op obj) {
		walk(op)
		media := getObj(getObj(getObj(op, "requestBody"), "content"), "application/json")
		alts := getList(getObj(media, "schema"), "oneOf")
		if len(alts) != 2 {
			return
		}
		a, _ := alts[0].(obj)
		b, _ := alts[1].(obj)
		if getStr(b, "type") == "array" && refName(a) != "" && refName(getObj(b, "items")) == refName(a) {
			media["schema"] = obj{"$ref": a["$ref"]}
		}
	})
}

// addPatchID adds an optional "id" to a PATCH schema, so that netboxsdk's
// Collection.BulkPatch can send a list of them.
func (g *generator) addPatchID(name string, done map[string]bool) {
	s := getObj(g.schemas, name)
	if s == nil || done[name] {
		return
	}
	done[name] = true
	props := getObj(s, "properties")
	if props == nil {
		props = obj{}
		s["properties"] = props
	}
	if props["id"] == nil {
		props["id"] = obj{"type": "integer", "description": "Object id; required in bulk requests."}
	}
}
