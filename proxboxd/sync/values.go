package sync

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// same reports whether a NetBox value equals a desired value, normalising
// nested objects ({id}), choices ({value}), numbers, empty strings and
// timestamps.
func same(ex, want any) bool {
	if _, isMap := want.(map[string]any); isMap {
		return canonJSON(ex) == canonJSON(want) // JSON documents (raw_config) compare whole
	}
	ex = plain(ex)
	switch w := want.(type) {
	case nil:
		switch e := ex.(type) {
		case nil:
			return true
		case string:
			return e == ""
		case []any:
			return len(e) == 0
		case map[string]any:
			return len(e) == 0
		}
		return false
	case string:
		if e, ok := ex.(string); ok {
			if e == w {
				return true
			}
			if len(e) >= 19 && len(w) >= 19 && e[4] == '-' && w[4] == '-' {
				te, err1 := time.Parse(time.RFC3339, e)
				tw, err2 := time.Parse(time.RFC3339, w)
				return err1 == nil && err2 == nil && te.Equal(tw)
			}
			return false
		}
		if ex == nil {
			return w == ""
		}
		if _, ok := ex.(float64); ok {
			f, err := strconv.ParseFloat(w, 64)
			return err == nil && f == ex.(float64)
		}
		return false
	case bool:
		e, ok := ex.(bool)
		return ok && e == w
	case int, int64, float64:
		wf := asFloat(w)
		switch e := ex.(type) {
		case float64:
			return math.Abs(e-wf) < 1e-9
		case string:
			f, err := strconv.ParseFloat(e, 64)
			return err == nil && math.Abs(f-wf) < 1e-9
		}
		return false
	case []any:
		e, ok := ex.([]any)
		if !ok {
			return len(w) == 0 && ex == nil
		}
		if len(e) != len(w) {
			return false
		}
		a := make([]string, len(e))
		b := make([]string, len(w))
		for i := range e {
			a[i] = canonJSON(plain(e[i]))
			b[i] = canonJSON(plain(w[i]))
		}
		sort.Strings(a)
		sort.Strings(b)
		return strings.Join(a, "\x00") == strings.Join(b, "\x00")
	case []int:
		e, ok := ex.([]any)
		if !ok || len(e) != len(w) {
			return len(w) == 0 && ex == nil
		}
		a := make([]int, len(e))
		for i, v := range e {
			a[i] = asInt(plain(v))
		}
		b := append([]int(nil), w...)
		sort.Ints(a)
		sort.Ints(b)
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return canonJSON(ex) == canonJSON(want)
}

// plain reduces a nested NetBox object to its id, a choice to its value.
func plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["id"]; ok {
			return asFloat(id)
		}
		if val, ok := t["value"]; ok {
			if _, hasLabel := t["label"]; hasLabel {
				return val
			}
		}
		return t
	case int:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	}
	return v
}

func canonJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return string(b)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

func idOf(o obj) int {
	if o == nil {
		return 0
	}
	return asInt(o["id"])
}

// refID returns the id of a foreign key field (nested object or int).
func refID(o obj, field string) int { return asInt(plain(o[field])) }

func cfOf(o obj, name string) any {
	cf, _ := o["custom_fields"].(map[string]any)
	if cf == nil {
		if c2, ok := o["custom_fields"].(obj); ok {
			cf = c2
		}
	}
	return cf[name]
}

func uniqInts(in []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, v := range in {
		if v != 0 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// trimStrings trims the string values of a body (and of its custom_fields) the
// way NetBox stores them: DRF's CharField strips leading and trailing
// whitespace, so PVE's "VM traffic\n" comment is saved as "VM traffic" and,
// compared untrimmed, would be PATCHed again on every sync.
func trimStrings(body obj) {
	for k, v := range body {
		switch t := v.(type) {
		case string:
			body[k] = strings.TrimSpace(t)
		case obj:
			if k == "custom_fields" {
				trimStrings(t)
			}
		}
	}
}
