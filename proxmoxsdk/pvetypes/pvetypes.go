// Package pvetypes holds the tolerant scalar types the generated Proxmox VE
// models (gen/pve) use for every response scalar. PVE is written in Perl and
// its JSON drifts: booleans arrive as 0/1, "1" or true, numbers as strings,
// strings as numbers, and any of them as null. These types accept all of
// that and marshal back as plain JSON values.
//
// Values that cannot be read as the type (an object, an array, a word where a
// number is expected) are still errors: they are reported, never guessed.
package pvetypes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bool is a boolean that decodes true/false, 0/1 (any number: non-zero is
// true), "0"/"1", "true"/"false", "yes"/"no", "on"/"off", "" and null
// (false). It marshals as a JSON boolean.
type Bool bool

// Int is an integer that decodes JSON numbers (a fraction is truncated
// toward zero), numeric strings ("42", " 42 ", "1e3"), booleans (1/0), ""
// and null (0). It marshals as a JSON number.
type Int int64

// Float is a number that decodes JSON numbers, numeric strings, booleans
// (1/0), "" and null (0). It marshals as a JSON number.
type Float float64

// String is a string that also decodes numbers (their JSON text: 100 ->
// "100"), booleans ("1"/"0", PVE's own spelling) and null (""). It
// marshals as a JSON string.
type String string

// Get returns the value, or false for a nil pointer (absent field).
func (b *Bool) Get() bool {
	if b == nil {
		return false
	}
	return bool(*b)
}

// Get returns the value, or 0 for a nil pointer (absent field).
func (i *Int) Get() int {
	if i == nil {
		return 0
	}
	return int(*i)
}

// Get returns the value, or 0 for a nil pointer (absent field).
func (f *Float) Get() float64 {
	if f == nil {
		return 0
	}
	return float64(*f)
}

// Get returns the value, or "" for a nil pointer (absent field).
func (s *String) Get() string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// String implements fmt.Stringer.
func (s String) String() string { return string(s) }

// kind classifies one JSON value by its first byte.
func kind(data []byte) byte {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return 0
	}
	switch c := data[0]; {
	case c == '"':
		return 's'
	case c == 't' || c == 'f':
		return 'b'
	case c == 'n':
		return 'n'
	case c == '-' || (c >= '0' && c <= '9'):
		return '0'
	default:
		return c
	}
}

func typeErr(data []byte, goType string) error {
	v := string(data)
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return fmt.Errorf("pvetypes: cannot decode %s into %s", v, goType)
}

// scalar returns the text of a JSON string, number, boolean or null.
func scalar(data []byte, goType string) (text string, k byte, err error) {
	data = bytes.TrimSpace(data)
	switch k = kind(data); k {
	case 's':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", k, typeErr(data, goType)
		}
		return strings.TrimSpace(s), k, nil
	case 'n':
		if string(data) != "null" {
			return "", k, typeErr(data, goType)
		}
		return "", k, nil
	case 'b':
		switch string(data) {
		case "true", "false":
			return string(data), k, nil
		}
		return "", k, typeErr(data, goType)
	case '0':
		return string(data), k, nil
	}
	return "", k, typeErr(data, goType)
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	text, _, err := scalar(data, "pvetypes.Bool")
	if err != nil {
		return err
	}
	switch strings.ToLower(text) {
	case "", "0", "false", "no", "off":
		*b = false
		return nil
	case "1", "true", "yes", "on":
		*b = true
		return nil
	}
	f, perr := strconv.ParseFloat(text, 64)
	if perr != nil || math.IsNaN(f) {
		return typeErr(data, "pvetypes.Bool")
	}
	*b = f != 0
	return nil
}

// parseNumber reads the text of a scalar as a float64 ("" is 0, booleans
// are 1/0).
func parseNumber(data []byte, goType string) (float64, string, error) {
	text, _, err := scalar(data, goType)
	if err != nil {
		return 0, "", err
	}
	switch strings.ToLower(text) {
	case "":
		return 0, text, nil
	case "true":
		return 1, "1", nil
	case "false":
		return 0, "0", nil
	}
	f, perr := strconv.ParseFloat(text, 64)
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "", typeErr(data, goType)
	}
	return f, text, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(data []byte) error {
	f, text, err := parseNumber(data, "pvetypes.Int")
	if err != nil {
		return err
	}
	// Exact path first: integers beyond 2^53 keep every digit.
	if n, perr := strconv.ParseInt(text, 10, 64); perr == nil {
		*i = Int(n)
		return nil
	}
	if f >= math.MaxInt64 || f < math.MinInt64 {
		return typeErr(data, "pvetypes.Int")
	}
	*i = Int(math.Trunc(f))
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(data []byte) error {
	v, _, err := parseNumber(data, "pvetypes.Float")
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch kind(data) {
	case 's':
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return typeErr(data, "pvetypes.String")
		}
		*s = String(v)
		return nil
	case '0':
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return typeErr(data, "pvetypes.String")
		}
		*s = String(n.String())
		return nil
	case 'b':
		switch string(data) {
		case "true":
			*s = "1"
			return nil
		case "false":
			*s = "0"
			return nil
		}
	case 'n':
		if string(data) == "null" {
			*s = ""
			return nil
		}
	}
	return typeErr(data, "pvetypes.String")
}
