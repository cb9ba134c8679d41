package sync

import (
	"reflect"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"
)

// Desired state is built as the generated NetBox request types (C of each
// kind's netboxsdk.Collection), so the compiler checks every field name and
// type against the schema the client was generated from: a field renamed or
// removed in the schema breaks `go build` after `make generate`. The engine
// then plans on the JSON field names those types define: bodyOf turns a
// request value into the map the diff compares with what NetBox returned.

// bodyOf converts a generated request struct into its JSON-named fields: a
// nil pointer, an unset nullable.Nullable or an omitempty zero is absent, a
// null Nullable is nil, enums become their string, nested structs maps.
// Values keep their Go kinds (int, float64, bool, string) so the diff
// compares them as before.
func bodyOf(v any) obj {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return obj{}
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return obj{}
	}
	out, _ := plainValue(rv).(obj)
	return out
}

// plainValue converts one value; absent reports a value to leave out.
func plainValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plainValue(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			if t.IsZero() {
				return nil // unknown (a PVE time of 0)
			}
			return t.UTC().Format(time.RFC3339)
		}
		out := obj{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, omit := jsonName(f)
			if name == "" {
				continue
			}
			fv := v.Field(i)
			if isNullable(f.Type) {
				switch {
				case fv.Len() == 0: // unspecified
					continue
				case fv.MapIndex(reflect.ValueOf(false)).IsValid(): // explicit null
					out[name] = nil
				default:
					out[name] = plainValue(fv.MapIndex(reflect.ValueOf(true)))
				}
				continue
			}
			if (f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface ||
				f.Type.Kind() == reflect.Map || f.Type.Kind() == reflect.Slice) && fv.IsNil() {
				continue
			}
			if omit && fv.IsZero() {
				continue
			}
			out[name] = plainValue(fv)
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(obj, v.Len())
		it := v.MapRange()
		for it.Next() {
			out[it.Key().String()] = plainValue(it.Value())
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plainValue(v.Index(i))
		}
		return out
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return v.Interface()
}

// jsonName returns a field's JSON name and whether it is omitempty.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
}

var nullablePkg = reflect.TypeFor[nullable.Nullable[int]]().PkgPath()

// isNullable reports whether t is a nullable.Nullable[T] (a map[bool]T).
func isNullable(t reflect.Type) bool {
	return t.Kind() == reflect.Map && t.PkgPath() == nullablePkg
}

// jsonFields returns the JSON field names of a generated request type.
func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		if name, _ := jsonName(t.Field(i)); name != "" && t.Field(i).IsExported() {
			out[name] = true
		}
	}
	return out
}

// wantOf is the want of one object built as its generated request type req
// (in full); the fields named in createOnly are sent only when it is created
// (NetBox or its user may change them afterwards).
func wantOf(key, name string, req any, createOnly ...string) *want {
	w := &want{Key: key, Name: name, Body: bodyOf(req)}
	for _, f := range createOnly {
		v, ok := w.Body[f]
		if !ok {
			continue
		}
		if w.CreateOnly == nil {
			w.CreateOnly = obj{}
		}
		w.CreateOnly[f] = v
		delete(w.Body, f)
	}
	return w
}

// Constructors for the generated types' optional fields.

// val is a set nullable value (also a reference: an object id, negative for
// an object a dry run would create).
func val[T any](v T) nullable.Nullable[T] { return nullable.NewNullableWithValue(v) }

// null is an explicit null.
func null[T any]() nullable.Nullable[T] { return nullable.NewNullNullable[T]() }

// ptr is a pointer to v.
func ptr[T any](v T) *T { return &v }

// epoch is a PVE epoch time; the zero time (sent as null) when 0 or less.
func epoch(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// unixTime is a PVE epoch time as a nullable time: 0 or less is unknown (null).
func unixTime(sec int64) nullable.Nullable[time.Time] {
	if sec <= 0 {
		return null[time.Time]()
	}
	return val(epoch(sec))
}

// refOrNull is a reference to id, null when id is 0 (not known).
func refOrNull(id int) nullable.Nullable[int] {
	if id == 0 {
		return null[int]()
	}
	return val(id)
}
