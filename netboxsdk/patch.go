package netboxsdk

import (
	"bytes"
	"encoding/json"
)

// Nullable is a field with three states for PATCH bodies: unset (the zero value,
// left out of the JSON with the `omitzero` tag option), null, or a value.
//
//	type vmPatch struct {
//		ID       int                    `json:"id,omitzero"`
//		Comments netboxsdk.Nullable[string] `json:"comments,omitzero"`
//		Tenant   netboxsdk.Nullable[int]    `json:"tenant,omitzero"`
//	}
//	vmPatch{Comments: netboxsdk.Value("x"), Tenant: netboxsdk.Null[int]()}
type Nullable[T any] struct {
	state uint8 // 0 unset, 1 null, 2 value
	v     T
}

// Value returns a set Nullable.
func Value[T any](v T) Nullable[T] { return Nullable[T]{state: 2, v: v} }

// Null returns a Nullable that encodes as JSON null.
func Null[T any]() Nullable[T] { return Nullable[T]{state: 1} }

// IsZero reports whether the field is unset (used by `omitzero`).
func (n Nullable[T]) IsZero() bool { return n.state == 0 }

// IsNull reports whether the field is set to null.
func (n Nullable[T]) IsNull() bool { return n.state == 1 }

// Get returns the value and whether it is set to a non-null value.
func (n Nullable[T]) Get() (T, bool) { return n.v, n.state == 2 }

// MarshalJSON encodes null or the value (an unset field also encodes as null
// when not omitted).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.state != 2 {
		return []byte("null"), nil
	}
	return json.Marshal(n.v)
}

// UnmarshalJSON decodes null or a value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Value(v)
	return nil
}
