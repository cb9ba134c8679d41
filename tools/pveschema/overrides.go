package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// OverrideFile is schemas/proxmox/overrides.json: corrections of PVE's own
// return schemas, owned by this project (README "Overrides").
type OverrideFile struct {
	Description string     `json:"description"`
	Overrides   []Override `json:"overrides"`
}

// Override changes one response object of one operation.
type Override struct {
	// Op is "METHOD /path", e.g. "GET /storage".
	Op string `json:"op"`
	// At is the object below the operation's data: "" for data itself,
	// "[]" for array items, a property name for a nested object, joined
	// with "/" ("members/[]").
	At string `json:"at"`
	// Schemas are the schema versions ("8.1", "9.1") the entry applies to.
	Schemas []string `json:"schemas"`
	// Evidence names the PVE module and function that fill the answer;
	// Seen the PVE versions whose answers show it.
	Evidence string   `json:"evidence"`
	Seen     []string `json:"seen"`
	// Add declares fields PVE sends but its schema does not list; Correct
	// replaces a wrong type; Widen makes a field free-form where PVE
	// versions send different shapes. Values are PVE-style schemas.
	Add     map[string]any `json:"add,omitempty"`
	Correct map[string]any `json:"correct,omitempty"`
	Widen   map[string]any `json:"widen,omitempty"`
}

// LoadOverrides reads and checks an overrides file.
func LoadOverrides(path string) (*OverrideFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read overrides: %w", err)
	}
	return parseOverrides(b)
}

func parseOverrides(b []byte) (*OverrideFile, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var f OverrideFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode overrides: %w", err)
	}
	for i, o := range f.Overrides {
		m, p, ok := strings.Cut(o.Op, " ")
		switch {
		case !ok || m != strings.ToUpper(m) || !strings.HasPrefix(p, "/"):
			return nil, fmt.Errorf("override %d: op %q is not \"METHOD /path\"", i, o.Op)
		case len(o.Schemas) == 0:
			return nil, fmt.Errorf("override %d (%s): no schemas", i, o.Op)
		case strings.TrimSpace(o.Evidence) == "" || len(o.Seen) == 0:
			return nil, fmt.Errorf("override %d (%s): evidence and seen are required", i, o.Op)
		case len(o.Add)+len(o.Correct)+len(o.Widen) == 0:
			return nil, fmt.Errorf("override %d (%s): nothing to add, correct or widen", i, o.Op)
		}
	}
	return &f, nil
}

// label is the schema version of a full PVE version: "8.1.5" -> "8.1".
func label(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// slot is a schema in its container, so an inline object can be hoisted
// and replaced by a $ref.
type slot struct {
	get  func() map[string]any
	set  func(map[string]any)
	name string // component name it has or would get
}

// applyOverrides applies the entries for this document's version to the
// converted paths. Every problem (an unknown operation, object or field, a
// field the schema now declares itself or already types that way) is a
// conversion error, so stale overrides are retired rather than ignored.
func (c *converter) applyOverrides(paths map[string]any, version string, f *OverrideFile) {
	if f == nil {
		return
	}
	lbl := label(version)
	for _, o := range f.Overrides {
		if !contains(o.Schemas, lbl) {
			continue
		}
		method, path, _ := strings.Cut(o.Op, " ")
		where := fmt.Sprintf("override %s at %q (%s)", o.Op, o.At, lbl)
		item, _ := paths[path].(map[string]any)
		op, _ := item[strings.ToLower(method)].(map[string]any)
		if op == nil {
			c.fail("%s: no such operation", where)
			continue
		}
		content, _ := dig(op, "responses", "200", "content", "application/json", "schema", "properties")
		if content == nil || content["data"] == nil {
			c.fail("%s: the operation returns no data", where)
			continue
		}
		id, _ := op["operationId"].(string)
		s := slot{
			get:  func() map[string]any { m, _ := content["data"].(map[string]any); return m },
			set:  func(m map[string]any) { content["data"] = m },
			name: id + "Data",
		}
		target, ok := c.walkTo(s, o.At, id)
		if !ok {
			c.fail("%s: no such object", where)
			continue
		}
		c.applyOne(where, target, o)
	}
}

// walkTo follows at from the data slot.
func (c *converter) walkTo(s slot, at, id string) (slot, bool) {
	for _, seg := range strings.Split(at, "/") {
		if seg == "" {
			continue
		}
		cur := c.deref(s.get())
		if cur == nil {
			return s, false
		}
		if seg == "[]" {
			if t, _ := cur["type"].(string); t != "array" {
				return s, false
			}
			name := s.name + "Item"
			if s.name == id+"Data" {
				name = id + "Item"
			}
			s = slot{
				get:  func() map[string]any { m, _ := cur["items"].(map[string]any); return m },
				set:  func(m map[string]any) { cur["items"] = m },
				name: refName(cur["items"], name),
			}
			continue
		}
		props, _ := cur["properties"].(map[string]any)
		if _, ok := props[seg]; !ok {
			return s, false
		}
		s = slot{
			get:  func() map[string]any { m, _ := props[seg].(map[string]any); return m },
			set:  func(m map[string]any) { props[seg] = m },
			name: refName(props[seg], s.name+camel(seg)),
		}
	}
	if t := c.deref(s.get()); t == nil || (t["type"] != nil && t["type"] != "object") {
		return s, false
	}
	return s, true
}

func (c *converter) applyOne(where string, s slot, o Override) {
	obj := c.deref(s.get())
	props, _ := obj["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for _, k := range sortedKeys(o.Add) {
		if _, ok := props[k]; ok {
			c.fail("%s: add %q: the schema declares it now; retire the override", where, k)
			continue
		}
		props[k] = c.overrideSchema(o.Add[k], s.name+camel(k), "add")
		c.st.Overrides["added"]++
	}
	for _, k := range sortedKeys(o.Correct) {
		old := c.deref(props[k])
		if old == nil {
			c.fail("%s: correct %q: no such field", where, k)
			continue
		}
		want, _ := o.Correct[k].(map[string]any)
		if old["type"] == want["type"] {
			c.fail("%s: correct %q: the schema already types it %v; retire the override", where, k, want["type"])
			continue
		}
		props[k] = c.overrideSchema(want, s.name+camel(k), "correct")
		c.st.Overrides["corrected"]++
	}
	for _, k := range sortedKeys(o.Widen) {
		old := c.deref(props[k])
		if old == nil {
			c.fail("%s: widen %q: no such field", where, k)
			continue
		}
		if old["type"] == nil && old["properties"] == nil {
			c.fail("%s: widen %q: the schema already leaves it free-form; retire the override", where, k)
			continue
		}
		w, _ := o.Widen[k].(map[string]any)
		free := map[string]any{"x-pve-override": "widen"}
		if d, ok := w["description"]; ok {
			free["description"] = d
		}
		if t, ok := old["type"]; ok {
			free["x-pve-declared-type"] = t
		}
		props[k] = free
		c.st.Overrides["widened"]++
	}
	if len(props) == 0 {
		return
	}
	obj["type"] = "object"
	obj["properties"] = props
	if ap, ok := obj["additionalProperties"]; ok && ap == true {
		// Fields are now declared; the keys still undeclared are kept by
		// the models' Extra, not by a generated map.
		delete(obj, "additionalProperties")
		obj["x-pve-additional-properties"] = true
	}
	if cur := s.get(); cur["$ref"] == nil {
		// An inline object that gains fields is hoisted like the
		// converter hoists every object with properties.
		s.set(c.register(s.name, obj))
	}
}

// overrideSchema converts a PVE-style field schema of an override as the
// converter converts a response field, and marks it.
func (c *converter) overrideSchema(v any, name, kind string) map[string]any {
	m, _ := v.(map[string]any)
	in := map[string]any{"optional": json.Number("1")}
	for k, x := range m {
		in[k] = x
	}
	out := c.schema(in, name, true)
	if _, isRef := out["$ref"]; isRef {
		if comp, ok := c.schemas[name].(map[string]any); ok {
			comp["x-pve-override"] = kind
		}
	} else {
		out["x-pve-override"] = kind
	}
	return out
}

// deref resolves a $ref to its component (nil when absent).
func (c *converter) deref(v any) map[string]any {
	m, _ := v.(map[string]any)
	if r, ok := m["$ref"].(string); ok {
		comp, _ := c.schemas[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
		return comp
	}
	return m
}

func refName(v any, fallback string) string {
	m, _ := v.(map[string]any)
	if r, ok := m["$ref"].(string); ok {
		return strings.TrimPrefix(r, "#/components/schemas/")
	}
	return fallback
}

func dig(m map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
