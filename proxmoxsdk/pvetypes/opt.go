package pvetypes

import (
	"encoding/json"
	"strconv"
)

// The Opt types are the optional (possibly absent) fields of the generated
// models: a value plus Set, which is false when the field was absent or
// null. They decode exactly like Bool, Int, Float and String, live in the
// struct itself (no pointer, no allocation per field), and marshal as the
// plain JSON value or null when unset; with the `omitzero` tag the
// generator emits, an unset field is left out.

// OptBool is an optional Bool.
type OptBool struct {
	Value bool
	Set   bool
}

// OptInt is an optional Int.
type OptInt struct {
	Value int64
	Set   bool
}

// OptFloat is an optional Float.
type OptFloat struct {
	Value float64
	Set   bool
}

// OptString is an optional String.
type OptString struct {
	Value string
	Set   bool
}

// NewOptBool returns a set OptBool.
func NewOptBool(v bool) OptBool { return OptBool{Value: v, Set: true} }

// NewOptInt returns a set OptInt.
func NewOptInt(v int64) OptInt { return OptInt{Value: v, Set: true} }

// NewOptFloat returns a set OptFloat.
func NewOptFloat(v float64) OptFloat { return OptFloat{Value: v, Set: true} }

// NewOptString returns a set OptString.
func NewOptString(v string) OptString { return OptString{Value: v, Set: true} }

// Get returns the value (false when unset).
func (o OptBool) Get() bool { return o.Value }

// Get returns the value (0 when unset).
func (o OptInt) Get() int { return int(o.Value) }

// Get returns the value (0 when unset).
func (o OptFloat) Get() float64 { return o.Value }

// Get returns the value ("" when unset).
func (o OptString) Get() string { return o.Value }

// String implements fmt.Stringer.
func (o OptString) String() string { return o.Value }

// IsZero reports whether the field is unset (for the omitzero tag).
func (o OptBool) IsZero() bool { return !o.Set }

// IsZero reports whether the field is unset (for the omitzero tag).
func (o OptInt) IsZero() bool { return !o.Set }

// IsZero reports whether the field is unset (for the omitzero tag).
func (o OptFloat) IsZero() bool { return !o.Set }

// IsZero reports whether the field is unset (for the omitzero tag).
func (o OptString) IsZero() bool { return !o.Set }

// isNull reports whether data is the JSON literal null (surrounding white
// space allowed).
func isNull(data []byte) bool {
	for len(data) > 0 && isSpace(data[0]) {
		data = data[1:]
	}
	for len(data) > 0 && isSpace(data[len(data)-1]) {
		data = data[:len(data)-1]
	}
	return string(data) == "null"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// UnmarshalJSON implements json.Unmarshaler; null leaves the field unset.
func (o *OptBool) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*o = OptBool{}
		return nil
	}
	var v Bool
	if err := v.UnmarshalJSON(data); err != nil {
		return err
	}
	*o = OptBool{Value: bool(v), Set: true}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; null leaves the field unset.
func (o *OptInt) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*o = OptInt{}
		return nil
	}
	var v Int
	if err := v.UnmarshalJSON(data); err != nil {
		return err
	}
	*o = OptInt{Value: int64(v), Set: true}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; null leaves the field unset.
func (o *OptFloat) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*o = OptFloat{}
		return nil
	}
	var v Float
	if err := v.UnmarshalJSON(data); err != nil {
		return err
	}
	*o = OptFloat{Value: float64(v), Set: true}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; null leaves the field unset.
func (o *OptString) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*o = OptString{}
		return nil
	}
	var v String
	if err := v.UnmarshalJSON(data); err != nil {
		return err
	}
	*o = OptString{Value: string(v), Set: true}
	return nil
}

// MarshalJSON implements json.Marshaler: the value, or null when unset.
func (o OptBool) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return strconv.AppendBool(nil, o.Value), nil
}

// MarshalJSON implements json.Marshaler: the value, or null when unset.
func (o OptInt) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, o.Value, 10), nil
}

// MarshalJSON implements json.Marshaler: the value, or null when unset.
func (o OptFloat) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// MarshalJSON implements json.Marshaler: the value, or null when unset.
func (o OptString) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}
