package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// operation is what the generators need to know about one operation.
type operation struct {
	Method   string // upper case
	Path     string
	ID       string
	PVEName  string
	Versions []string
	Summary  string // first line of the description
	HasQuery bool   // the models have <ID>Params
	HasBody  bool   // the models have <ID>Request
	Null     bool   // PVE returns null: no data type
	List     bool   // data is an array
	Returns  string // self-contained JSON schema of data ("" when Null)
	// PathParams maps each path parameter to its OpenAPI type.
	PathParams map[string]string
}

// collectOps lists the operations of the union document, sorted by path
// and method.
func collectOps(doc map[string]any) ([]operation, error) {
	schemas := obj(obj(doc["components"])["schemas"])
	var ops []operation
	for _, p := range sortedKeys(obj(doc["paths"])) {
		item := obj(obj(doc["paths"])[p])
		for _, m := range methods {
			op := obj(item[m])
			if op == nil {
				continue
			}
			o := operation{Method: strings.ToUpper(m), Path: p}
			o.ID, _ = op["operationId"].(string)
			o.PVEName, _ = op["x-pve-name"].(string)
			for _, v := range op["x-pve-versions"].([]any) {
				o.Versions = append(o.Versions, v.(string))
			}
			if d, ok := op["description"].(string); ok {
				o.Summary = strings.TrimSpace(strings.SplitN(d, "\n", 2)[0])
			}
			o.PathParams = map[string]string{}
			for _, prm := range asList(op["parameters"]) {
				switch obj(prm)["in"] {
				case "query":
					o.HasQuery = true
				case "path":
					t, _ := obj(obj(prm)["schema"])["type"].(string)
					o.PathParams[obj(prm)["name"].(string)] = t
				}
			}
			o.HasBody = op["requestBody"] != nil
			data := obj(obj(obj(obj(obj(obj(op["responses"])["200"])["content"])["application/json"])["schema"])["properties"])["data"]
			if data == nil {
				o.Null = true
			} else {
				resolved := inline(data, schemas, 0)
				if t, _ := obj(resolved)["type"].(string); t == "array" {
					o.List = true
				}
				b, err := marshalCompact(resolved)
				if err != nil {
					return nil, err
				}
				o.Returns = string(b)
			}
			if o.ID == "" {
				return nil, fmt.Errorf("%s %s has no operationId", o.Method, p)
			}
			ops = append(ops, o)
		}
	}
	return ops, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

var indexedNameRe = regexp.MustCompile(`^(.+)\[n\]$`)

// inline resolves $refs and keeps the validation keywords of a schema:
// x-pve-required becomes required, x-pve-indexed (net[n]) becomes
// patternProperties (^net\d+$); descriptions and extensions are dropped.
func inline(v any, schemas map[string]any, depth int) any {
	s := obj(v)
	if s == nil || depth > 64 {
		return map[string]any{}
	}
	if r, ok := s["$ref"].(string); ok {
		return inline(schemas[strings.TrimPrefix(r, "#/components/schemas/")], schemas, depth+1)
	}
	out := map[string]any{}
	for k, e := range s {
		switch k {
		case "type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern":
			out[k] = e
		case "items":
			out[k] = inline(e, schemas, depth+1)
		case "additionalProperties":
			if b, ok := e.(bool); ok {
				out[k] = b
			} else {
				out[k] = inline(e, schemas, depth+1)
			}
		case "properties":
			props := map[string]any{}
			for pk, pv := range obj(e) {
				props[pk] = inline(pv, schemas, depth+1)
			}
			out[k] = props
		case "x-pve-required":
			out["required"] = e
		case "x-pve-indexed":
			pp := map[string]any{}
			for name, sch := range obj(e) {
				if m := indexedNameRe.FindStringSubmatch(name); m != nil {
					pp["^"+regexp.QuoteMeta(m[1])+`\d+$`] = inline(sch, schemas, depth+1)
				}
			}
			out["patternProperties"] = pp
		}
	}
	return out
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

func sortOps(ops []operation) {
	order := map[string]int{"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return order[ops[i].Method] < order[ops[j].Method]
	})
}
