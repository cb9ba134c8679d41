package pvetypes

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// FieldError reports one field of a response that could not be decoded
// into its Go type. The field is left at its zero value and its raw value
// is kept in the Extra of the object that holds it, so nothing is lost.
type FieldError struct {
	Path  string          // JSON path below the decoded value: "cpuinfo.mhz", "members[2].vmid"; "" is the value itself
	Value json.RawMessage // what PVE sent
	Want  string          // the JSON type the model expects: boolean, integer, number, string, object, array
	Err   error
}

func (e *FieldError) Error() string {
	v := string(e.Value)
	if len(v) > 64 {
		v = v[:61] + "..."
	}
	p := e.Path
	if p == "" {
		p = "(value)"
	}
	return fmt.Sprintf("field %s: cannot decode %s as %s: %v", p, v, e.Want, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// ErrNotObject is the error of a FieldError for a value that must be a
// JSON object (a model with fields) and is not; such a value cannot be kept.
var ErrNotObject = errors.New("not a JSON object")

// Unmarshal decodes data into v (a pointer) the way the proxmoxsdk
// navigator does:
//
//   - fast path: one json.Unmarshal of the whole value, then one scan of
//     data that stores the keys without a field in the models' Extra (no
//     allocation when there are none);
//   - when that fails and v holds generated models, field by field: a
//     field that does not decode is left zero, kept raw in its object's
//     Extra and reported as a *FieldError (joined into the returned
//     error); nothing else is dropped.
//
// Invalid JSON, and types without models, fail as json.Unmarshal does.
func Unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return err
	}
	p := planFor(rv.Type().Elem())
	if err == nil {
		if p != nil && !p.closed {
			capture(data, rv.Elem(), p)
		}
		return nil
	}
	if p == nil || !json.Valid(data) {
		return err
	}
	rv.Elem().SetZero()
	var errs []error
	tolerant(data, rv.Elem(), p, "", &errs)
	return errors.Join(errs...)
}

// CaptureExtra stores, into the models of *v, the keys of data (already
// decoded into v by json.Unmarshal) that the models have no field for.
func CaptureExtra(data []byte, v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return
	}
	if p := planFor(rv.Type().Elem()); p != nil {
		capture(data, rv.Elem(), p)
	}
}

// Prescan walks data (JSON to be decoded into v, a pointer) once, without
// decoding, and reports the number of elements when it is an array (to
// presize the slice) and whether any model in v would keep keys in Extra.
// When extra is false, json.Unmarshal alone decodes data completely and
// CaptureExtra is not needed.
func Prescan(data []byte, v any) (n int, extra bool) {
	rt := reflect.TypeOf(v)
	if rt == nil || rt.Kind() != reflect.Pointer {
		return 0, false
	}
	p := planFor(rt.Elem())
	i := skipSpace(data, 0)
	if i >= len(data) {
		return 0, false
	}
	if data[i] != '[' {
		if p == nil {
			return 0, false
		}
		_, extra, err := scanAt(data, i, p)
		return 0, extra || err != nil
	}
	var elem *plan
	if p != nil && p.kind == kSlice {
		elem = p.elem
	}
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != ']' {
		var end int
		var err error
		var x bool
		if elem != nil {
			end, x, err = scanAt(data, i, elem)
		} else {
			end, err = skipValue(data, i)
		}
		if err != nil {
			return n, true // let the decoder report it
		}
		n++
		extra = extra || x
		i = nextItem(data, end)
	}
	return n, extra
}

// scanAt is captureAt without a value: it only reports whether a key would
// go to an Extra.
func scanAt(data []byte, i int, p *plan) (int, bool, error) {
	if i >= len(data) {
		return 0, false, errScan
	}
	switch {
	case data[i] == 'n':
		end, err := skipValue(data, i)
		return end, false, err
	case p.kind == kPtr:
		return scanAt(data, i, p.elem)
	case p.kind == kSlice && data[i] == '[':
		extra := false
		i = skipSpace(data, i+1)
		for i < len(data) && data[i] != ']' {
			end, x, err := scanAt(data, i, p.elem)
			if err != nil {
				return 0, false, err
			}
			extra = extra || x
			i = nextItem(data, end)
		}
		return i + 1, extra, nil
	case p.kind == kMap:
		end, err := skipValue(data, i)
		return end, true, err // rare (ceph metadata): always capture
	case p.kind != kObject || data[i] != '{' || p.closed:
		end, err := skipValue(data, i)
		return end, false, err
	}
	extra := false
	h := 0
	for i = skipSpace(data, i+1); i < len(data) && data[i] != '}'; {
		key, vi, err := memberKey(data, i)
		if err != nil {
			return 0, false, err
		}
		f, known := p.lookup(key, &h)
		var end int
		if known && f.sub != nil {
			var x bool
			end, x, err = scanAt(data, vi, f.sub)
			extra = extra || x
		} else {
			end, err = skipValue(data, vi)
			extra = extra || (!known && p.addl < 0)
		}
		if err != nil {
			return 0, false, err
		}
		i = nextItem(data, end)
	}
	return i + 1, extra, nil
}

var extraType = reflect.TypeFor[Extra]()

type planKind uint8

const (
	kObject planKind = iota
	kPtr
	kSlice
	kMap
)

// plan is how a Go type holding models maps JSON; types without models
// have no plan (nil).
type plan struct {
	kind     planKind
	typ      reflect.Type
	fields   map[string]field // object: by JSON name
	names    []string         // object: the JSON names, sorted
	byName   []field          // object: the fields in names order
	extra    int              // object: index of the Extra field
	addl     int              // object: index of AdditionalProperties, -1 when none
	addlElem reflect.Type
	elem     *plan // ptr, slice, map: the element's plan
	// closed: an object whose unknown keys all go to AdditionalProperties
	// and that holds no nested model, so there is nothing to capture.
	closed bool
}

type field struct {
	index int
	sub   *plan // nil for a leaf (scalar, free-form value)
}

var plans sync.Map // reflect.Type -> *plan (nil *plan: no models)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := buildPlan(t, map[reflect.Type]*plan{})
	plans.Store(t, p)
	return p
}

func buildPlan(t reflect.Type, seen map[reflect.Type]*plan) *plan {
	if p, ok := seen[t]; ok {
		return p
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return nil
		}
		kind := map[reflect.Kind]planKind{reflect.Pointer: kPtr, reflect.Slice: kSlice, reflect.Map: kMap}[t.Kind()]
		p := &plan{kind: kind, typ: t}
		seen[t] = p
		p.elem = buildPlan(t.Elem(), seen)
		if p.elem == nil {
			seen[t] = nil
			return nil
		}
		return p
	case reflect.Struct:
	default:
		return nil
	}
	extra := -1
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Type == extraType && f.Name == "Extra" {
			extra = i
		}
	}
	if extra < 0 {
		return nil
	}
	p := &plan{kind: kObject, typ: t, fields: map[string]field{}, extra: extra, addl: -1}
	seen[t] = p
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || i == extra {
			continue
		}
		tag := f.Tag.Get("json")
		if f.Name == "AdditionalProperties" && tag == "-" && f.Type.Kind() == reflect.Map {
			p.addl, p.addlElem = i, f.Type.Elem()
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p.fields[name] = field{index: i, sub: buildPlan(f.Type, seen)}
	}
	p.closed = p.addl >= 0
	for name, f := range p.fields {
		p.names = append(p.names, name)
		p.closed = p.closed && f.sub == nil
	}
	sort.Strings(p.names)
	for _, name := range p.names {
		p.byName = append(p.byName, p.fields[name])
	}
	return p
}

// lookup finds the field of key. h is a cursor into the sorted names:
// PVE (and Go) write object keys sorted, so the next key is usually at or
// just after the cursor, found by a merge walk without hashing; anything
// else falls back to the map.
func (p *plan) lookup(key []byte, h *int) (field, bool) {
	i := *h
	for i < len(p.names) && p.names[i] < string(key) {
		i++
	}
	if i < len(p.names) && p.names[i] == string(key) {
		*h = i + 1
		return p.byName[i], true
	}
	f, ok := p.fields[string(key)]
	return f, ok
}

// capture walks data (valid JSON already decoded into v) and fills the
// Extra of every model in v with the keys it has no field for.
func capture(data []byte, v reflect.Value, p *plan) {
	_, _ = captureAt(data, skipSpace(data, 0), v, p)
}

// captureAt is capture of the value starting at data[i]; it returns the
// index after the value. It reads every byte once: nested models are
// walked in place, everything else is skipped.
func captureAt(data []byte, i int, v reflect.Value, p *plan) (int, error) {
	if i >= len(data) {
		return 0, errScan
	}
	if data[i] == 'n' { // null
		return skipValue(data, i)
	}
	switch p.kind {
	case kPtr:
		if v.IsNil() {
			return skipValue(data, i)
		}
		return captureAt(data, i, v.Elem(), p.elem)
	case kSlice:
		if data[i] != '[' {
			return skipValue(data, i)
		}
		i = skipSpace(data, i+1)
		for k := 0; i < len(data) && data[i] != ']'; k++ {
			var end int
			var err error
			if k < v.Len() {
				end, err = captureAt(data, i, v.Index(k), p.elem)
			} else {
				end, err = skipValue(data, i)
			}
			if err != nil {
				return 0, err
			}
			i = nextItem(data, end)
		}
		return i + 1, nil
	case kMap:
		end, err := skipValue(data, i)
		if err != nil || v.IsNil() {
			return end, err
		}
		err = eachMember(data[i:end], func(key, val, _ []byte) bool {
			mk := reflect.ValueOf(string(key)).Convert(v.Type().Key())
			if cur := v.MapIndex(mk); cur.IsValid() {
				cp := reflect.New(v.Type().Elem()).Elem()
				cp.Set(cur)
				capture(val, cp, p.elem)
				v.SetMapIndex(mk, cp)
			}
			return true
		})
		return end, err
	}
	// kObject
	if data[i] != '{' || p.closed {
		return skipValue(data, i)
	}
	h := 0
	for i = skipSpace(data, i+1); i < len(data) && data[i] != '}'; {
		key, vi, err := memberKey(data, i)
		if err != nil {
			return 0, err
		}
		f, known := p.lookup(key, &h)
		var end int
		if known && f.sub != nil {
			end, err = captureAt(data, vi, v.Field(f.index), f.sub)
		} else {
			end, err = skipValue(data, vi)
			if err == nil && !known && p.addl < 0 { // else decoded into AdditionalProperties
				setExtra(v, p, string(key), data[vi:end])
			}
		}
		if err != nil {
			return 0, err
		}
		i = nextItem(data, end)
	}
	return i + 1, nil
}

func setExtra(v reflect.Value, p *plan, key string, val []byte) {
	ev := v.Field(p.extra)
	if ev.IsNil() {
		ev.Set(reflect.MakeMap(extraType))
	}
	ev.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(json.RawMessage(append([]byte(nil), val...))))
}

// tolerant decodes data (valid JSON) into v field by field.
func tolerant(data []byte, v reflect.Value, p *plan, path string, errs *[]error) {
	k := kind(data)
	if k == 'n' {
		return // null: zero value
	}
	switch p.kind {
	case kPtr:
		nv := reflect.New(p.typ.Elem())
		tolerant(data, nv.Elem(), p.elem, path, errs)
		v.Set(nv)
	case kSlice:
		if k != '[' {
			*errs = append(*errs, &FieldError{Path: path, Value: clone(data), Want: "array", Err: errors.New("not a JSON array")})
			return
		}
		s := reflect.MakeSlice(p.typ, 0, 4)
		i := 0
		_ = eachElement(data, func(el []byte) bool {
			ev := reflect.New(p.typ.Elem()).Elem()
			before := len(*errs)
			tolerant(el, ev, p.elem, path+"["+strconv.Itoa(i)+"]", errs)
			if p.elem.kind != kObject || kind(el) == '{' || len(*errs) == before {
				s = reflect.Append(s, ev)
			}
			i++
			return true
		})
		v.Set(s)
	case kMap:
		if k != '{' {
			*errs = append(*errs, &FieldError{Path: path, Value: clone(data), Want: "object", Err: ErrNotObject})
			return
		}
		m := reflect.MakeMap(p.typ)
		_ = eachMember(data, func(kb, val, _ []byte) bool {
			key := string(kb)
			ev := reflect.New(p.typ.Elem()).Elem()
			tolerant(val, ev, p.elem, join(path, key), errs)
			m.SetMapIndex(reflect.ValueOf(key).Convert(p.typ.Key()), ev)
			return true
		})
		v.Set(m)
	case kObject:
		if k != '{' {
			*errs = append(*errs, &FieldError{Path: path, Value: clone(data), Want: "object", Err: ErrNotObject})
			return
		}
		_ = eachMember(data, func(kb, val, _ []byte) bool {
			key := string(kb)
			if f, ok := p.fields[key]; ok {
				fv := v.Field(f.index)
				if f.sub != nil {
					tolerant(val, fv, f.sub, join(path, key), errs)
					return true
				}
				if err := json.Unmarshal(val, fv.Addr().Interface()); err != nil {
					fv.SetZero()
					setExtra(v, p, key, val)
					*errs = append(*errs, &FieldError{Path: join(path, key), Value: clone(val), Want: want(fv.Type()), Err: err})
				}
				return true
			}
			if p.addl >= 0 {
				ev := reflect.New(p.addlElem)
				if json.Unmarshal(val, ev.Interface()) == nil {
					am := v.Field(p.addl)
					if am.IsNil() {
						am.Set(reflect.MakeMap(am.Type()))
					}
					am.SetMapIndex(reflect.ValueOf(key), ev.Elem())
					return true
				}
			}
			setExtra(v, p, key, val)
			return true
		})
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func clone(b []byte) json.RawMessage { return append(json.RawMessage(nil), b...) }

// want names the JSON type a Go type decodes from.
func want(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Bool](), reflect.TypeFor[OptBool]():
		return "boolean"
	case reflect.TypeFor[Int](), reflect.TypeFor[OptInt]():
		return "integer"
	case reflect.TypeFor[Float](), reflect.TypeFor[OptFloat]():
		return "number"
	case reflect.TypeFor[String](), reflect.TypeFor[OptString]():
		return "string"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	}
	return t.String()
}
