package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// obj is a JSON object of the schema document.
type obj = map[string]any

const schemaRefPrefix = "#/components/schemas/"

// loadDoc reads a JSON (or, by extension, YAML) OpenAPI document into generic maps.
func loadDoc(path string) (obj, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		if err := yaml.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// Round-trip through JSON so the tree has only JSON types.
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data = b
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	o, ok := v.(obj)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON object", path)
	}
	return o, nil
}

func getObj(o obj, key string) obj {
	v, _ := o[key].(obj)
	return v
}

func getList(o obj, key string) []any {
	v, _ := o[key].([]any)
	return v
}

func getStr(o obj, key string) string {
	v, _ := o[key].(string)
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// refName returns the component name of a schema $ref (local or into common.json).
func refName(o obj) string {
	r := getStr(o, "$ref")
	if i := strings.Index(r, schemaRefPrefix); i >= 0 {
		return r[i+len(schemaRefPrefix):]
	}
	return ""
}

// walkRefs calls fn for every object holding a "$ref" in v.
func walkRefs(v any, fn func(o obj)) {
	switch t := v.(type) {
	case obj:
		if _, ok := t["$ref"].(string); ok {
			fn(t)
		}
		for _, k := range sortedKeys(t) {
			walkRefs(t[k], fn)
		}
	case []any:
		for _, e := range t {
			walkRefs(e, fn)
		}
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case obj:
		c := make(obj, len(t))
		for k, e := range t {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations calls fn for every (path, method, operation) in sorted order.
func operations(paths obj, fn func(path, method string, op obj)) {
	for _, p := range sortedKeys(paths) {
		item := getObj(paths, p)
		for _, m := range httpMethods {
			if op := getObj(item, m); op != nil {
				fn(p, m, op)
			}
		}
	}
}

// jsonSchemaOf returns the application/json schema of a request body or response.
func jsonSchemaOf(o obj) obj {
	return getObj(getObj(getObj(o, "content"), "application/json"), "schema")
}
