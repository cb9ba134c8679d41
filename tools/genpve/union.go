package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
)

// specVersion is one input schema with its version label ("8.1").
type specVersion struct {
	Label string
	Doc   map[string]any
}

var methods = []string{"get", "post", "put", "delete"}

func loadJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return doc, nil
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// union builds one document from the versions: the newest version's
// operations plus every operation only the older versions have (taken from
// the newest version that has it), each marked with x-pve-versions. The
// versions are given oldest first.
func union(versions []specVersion) (map[string]any, error) {
	newest := versions[len(versions)-1]
	out := deepCopy(newest.Doc).(map[string]any)
	paths := obj(out["paths"])
	schemas := obj(obj(out["components"])["schemas"])
	has := map[string][]string{} // "METHOD path" -> labels
	for _, v := range versions {
		for p, item := range obj(v.Doc["paths"]) {
			for _, m := range methods {
				if obj(item)[m] != nil {
					k := strings.ToUpper(m) + " " + p
					has[k] = append(has[k], v.Label)
				}
			}
		}
	}
	// Older-only operations, newest older version first.
	for i := len(versions) - 2; i >= 0; i-- {
		v := versions[i]
		vs := obj(obj(v.Doc["components"])["schemas"])
		for _, p := range sortedKeys(obj(v.Doc["paths"])) {
			item := obj(obj(v.Doc["paths"])[p])
			for _, m := range methods {
				op := obj(item[m])
				if op == nil {
					continue
				}
				dst := obj(paths[p])
				if dst == nil {
					dst = map[string]any{}
					paths[p] = dst
				}
				if dst[m] != nil {
					continue
				}
				dst[m] = deepCopy(op)
				for _, name := range refClosure(op, vs) {
					s := deepCopy(vs[name])
					if prev, ok := schemas[name]; ok {
						if !reflect.DeepEqual(prev, s) {
							return nil, fmt.Errorf("component %s differs between versions and is used by %s-only %s %s", name, v.Label, strings.ToUpper(m), p)
						}
						continue
					}
					schemas[name] = s
				}
			}
		}
	}
	for p, item := range paths {
		for _, m := range methods {
			if op := obj(obj(item)[m]); op != nil {
				labels := has[strings.ToUpper(m)+" "+p]
				var l []any
				for _, x := range labels {
					l = append(l, x)
				}
				op["x-pve-versions"] = l
			}
		}
	}
	info := obj(out["info"])
	var labels []string
	for _, v := range versions {
		labels = append(labels, v.Label)
	}
	info["version"] = strings.Join(labels, "+")
	info["title"] = "Proxmox VE API (union of " + strings.Join(labels, ", ") + ")"
	return out, nil
}

// refClosure lists the component names reachable from v, sorted.
func refClosure(v any, schemas map[string]any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if r, ok := t["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if !seen[name] {
					seen[name] = true
					walk(schemas[name])
				}
			}
			for k, e := range t {
				if !strings.HasPrefix(k, "x-") {
					walk(e)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return sortedKeys(seen)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
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
