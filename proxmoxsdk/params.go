package proxmoxsdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// ParamEncoder is implemented by parameter types that encode themselves.
type ParamEncoder interface {
	EncodeParams() (url.Values, error)
}

// EncodeParams turns call parameters into PVE form values. Accepted: nil,
// url.Values, map[string]string, map[string]any, a ParamEncoder, or a
// json-tagged struct (or pointer to one), which is marshalled to JSON and
// flattened: booleans become 0/1, numbers their decimal text, arrays repeat
// the key, nested objects (additionalProperties such as net0, net1) are
// flattened to their own keys, and null values are dropped.
func EncodeParams(params any) (url.Values, error) {
	switch p := params.(type) {
	case nil:
		return nil, nil
	case url.Values:
		out := make(url.Values, len(p))
		for k, v := range p {
			out[k] = append([]string(nil), v...)
		}
		return out, nil
	case map[string]string:
		out := make(url.Values, len(p))
		for k, v := range p {
			out.Set(k, v)
		}
		return out, nil
	case ParamEncoder:
		return p.EncodeParams()
	case json.RawMessage:
		return flattenJSON(p)
	case []byte:
		return flattenJSON(p)
	}
	rv := reflect.ValueOf(params)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct, reflect.Map:
	default:
		return nil, fmt.Errorf("proxmox: params of type %T: want nil, url.Values, a map or a struct", params)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("proxmox: encode params: %w", err)
	}
	return flattenJSON(raw)
}

func flattenJSON(raw []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("proxmox: params must be a JSON object: %w", err)
	}
	out := make(url.Values, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := flattenValue(out, k, m[k], 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func flattenValue(out url.Values, key string, v any, depth int) error {
	if depth > 4 {
		return fmt.Errorf("proxmox: params: %q nested too deeply", key)
	}
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			out.Add(key, "1")
		} else {
			out.Add(key, "0")
		}
	case json.Number:
		out.Add(key, x.String())
	case float64:
		out.Add(key, strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		out.Add(key, x)
	case []any:
		for _, e := range x {
			if _, nested := e.(map[string]any); nested {
				return fmt.Errorf("proxmox: params: %q: objects inside arrays are not representable", key)
			}
			if err := flattenValue(out, key, e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		// additionalProperties: {"net0": "...", "net1": "..."} or {"0": "..."}.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if isDigits(k) {
				name = key + k
			}
			if err := flattenValue(out, name, x[k], depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("proxmox: params: %q has unsupported type %T", key, v)
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}
