package pvetypes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Extra holds the members of a JSON object that its Go model has no field
// for, by key, as the raw JSON PVE sent. Every generated response model of
// gen/pve has one (field Extra, never marshalled by itself): the decoder of
// package proxmoxsdk (and Unmarshal here) fills it, and the model's
// MarshalJSON writes its members back inline, so a decode → marshal round
// trip keeps every key and value PVE sent. A field whose value could not be
// decoded into its Go type is kept here too (and reported as a
// *FieldError).
type Extra map[string]json.RawMessage

// Has reports whether key was sent.
func (e Extra) Has(key string) bool {
	_, ok := e[key]
	return ok
}

// Raw returns the raw JSON of key.
func (e Extra) Raw(key string) (json.RawMessage, bool) {
	v, ok := e[key]
	return v, ok
}

// Keys returns the keys, sorted.
func (e Extra) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decode decodes the value of key into v. It fails with ErrNoKey when the
// key is absent.
func (e Extra) Decode(key string, v any) error {
	raw, ok := e[key]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoKey, key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("extra %q: %w", key, err)
	}
	return nil
}

// String returns the value of key read as a tolerant String; ok is false
// when the key is absent or the value is not a scalar.
func (e Extra) String(key string) (string, bool) {
	var v String
	err := e.Decode(key, &v) // before reading v: the order of a return's operands is not specified
	return string(v), err == nil
}

// Int returns the value of key read as a tolerant Int.
func (e Extra) Int(key string) (int64, bool) {
	var v Int
	err := e.Decode(key, &v) // before reading v: the order of a return's operands is not specified
	return int64(v), err == nil
}

// Float returns the value of key read as a tolerant Float.
func (e Extra) Float(key string) (float64, bool) {
	var v Float
	err := e.Decode(key, &v) // before reading v: the order of a return's operands is not specified
	return float64(v), err == nil
}

// Bool returns the value of key read as a tolerant Bool.
func (e Extra) Bool(key string) (bool, bool) {
	var v Bool
	err := e.Decode(key, &v) // before reading v: the order of a return's operands is not specified
	return bool(v), err == nil
}

// ErrNoKey is returned by Extra.Decode for an absent key.
var ErrNoKey = errors.New("pvetypes: no such key")

// MarshalWithExtra marshals v (a JSON object) and writes the members of
// extra inline; see AppendExtra. The generated models' MarshalJSON call it
// with a method-less copy of themselves.
func MarshalWithExtra(v any, extra Extra) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	return AppendExtra(b, extra)
}

// AppendExtra adds the members of extra to the JSON object obj, sorted by
// key. A member of obj with the same key as one of extra is dropped first:
// extra holds what PVE sent for a field that did not decode, and the field
// itself then only holds its zero value.
func AppendExtra(obj []byte, extra Extra) ([]byte, error) {
	if len(extra) == 0 {
		return obj, nil
	}
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("pvetypes: extra members for a non-object %.20q", obj)
	}
	out := make([]byte, 0, len(obj)+64*len(extra))
	out = append(out, '{')
	n := 0
	err := eachMember(obj, func(key, _, member []byte) bool {
		if _, dup := extra[string(key)]; dup {
			return true
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, member...)
		n++
		return true
	})
	if err != nil {
		return nil, err
	}
	for _, k := range extra.Keys() {
		if n > 0 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(out, kb...)
		out = append(out, ':')
		v := bytes.TrimSpace(extra[k])
		if len(v) == 0 {
			v = []byte("null")
		}
		out = append(out, v...)
		n++
	}
	return append(out, '}'), nil
}
