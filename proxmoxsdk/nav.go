package proxmoxsdk

// Runtime helpers of the generated navigator (nav_gen.go). They are
// hand-written; tools/genpve's template only stamps the generated methods.

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// navParams turns a typed parameter pointer into Call's params; nil stays
// an untyped nil.
func navParams[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// navList decodes the list raw into *out (a pointer to a slice) like
// DecodeListInto: the whole list at once, into a slice presized to the item
// count, when it decodes cleanly; otherwise item by item, keeping the items
// that decode and reporting the others as *ItemError values joined into the
// returned error. One reflective helper instead of a generic one keeps the
// package small to compile (no instantiation per item type).
func navList(raw json.RawMessage, err error, out any) error {
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil
	}
	sv := reflect.ValueOf(out).Elem()
	fresh := reflect.New(sv.Type())
	fresh.Elem().Set(reflect.MakeSlice(sv.Type(), 0, navCount(raw)))
	if json.Unmarshal(raw, fresh.Interface()) == nil {
		sv.Set(fresh.Elem())
		return nil
	}
	return DecodeListInto(raw, out)
}

// navCount counts the elements of the JSON array raw (0 when raw is not an
// array) in one pass, so navList allocates the slice once; strings are
// skipped with bytes.IndexByte.
func navCount(raw []byte) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' {
		return 0
	}
	raw = raw[1 : len(raw)-1]
	n, depth, empty := 1, 0, true
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			for {
				j := bytes.IndexByte(raw[i+1:], '"')
				if j < 0 {
					return 0
				}
				i += j + 1
				bs := 0
				for k := i - 1; k >= 0 && raw[k] == '\\'; k-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
		empty = false
	}
	if empty {
		return 0
	}
	return n
}
