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
	"unicode/utf8"
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

// scalar returns the text of a JSON string (unescaped and trimmed), number,
// boolean or null. A string without escapes is returned as a subslice of
// data: no allocation and no nested decoder on the common path.
func scalar(data []byte, goType string) (text []byte, k byte, err error) {
	data = bytes.TrimSpace(data)
	switch k = kind(data); k {
	case 's':
		if inner, ok := plainString(data); ok {
			return bytes.TrimSpace(inner), k, nil
		}
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, k, typeErr(data, goType)
		}
		return []byte(strings.TrimSpace(s)), k, nil
	case 'n':
		if string(data) != "null" {
			return nil, k, typeErr(data, goType)
		}
		return nil, k, nil
	case 'b':
		switch string(data) {
		case "true", "false":
			return data, k, nil
		}
		return nil, k, typeErr(data, goType)
	case '0':
		if !validNumber(data) {
			return nil, k, typeErr(data, goType)
		}
		return data, k, nil
	}
	return nil, k, typeErr(data, goType)
}

// plainString returns the content of a quoted JSON string that needs no
// unescaping: no backslash, no control byte, no quote inside, valid UTF-8.
// Anything else is left to encoding/json.
func plainString(data []byte) ([]byte, bool) {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return nil, false
	}
	inner := data[1 : len(data)-1]
	ascii := true
	for _, c := range inner {
		switch {
		case c == '"' || c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(inner) {
		return nil, false
	}
	return inner, true
}

// validNumber reports whether b is a JSON number (RFC 8259 grammar).
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(b)
}

// digits parses an optionally signed run of at most 18 decimal digits (no
// overflow possible) without allocating.
func digits(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	text, _, err := scalar(data, "pvetypes.Bool")
	if err != nil {
		return err
	}
	v, ok := boolText(string(text))
	if !ok {
		return typeErr(data, "pvetypes.Bool")
	}
	*b = Bool(v)
	return nil
}

// boolText is Bool's rule for the trimmed text of a scalar: "", "0",
// "false", "no", "off" are false; "1", "true", "yes", "on" are true (any
// case); any other number is true unless it is zero.
func boolText(text string) (bool, bool) {
	switch text {
	case "", "0", "false":
		return false, true
	case "1", "true":
		return true, true
	}
	switch strings.ToLower(text) {
	case "false", "no", "off":
		return false, true
	case "true", "yes", "on":
		return true, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) {
		return false, false
	}
	return f != 0, true
}

// parseNumber reads the text of a scalar as a float64 ("" is 0, booleans
// are 1/0); text is the scalar's text (nil for "" and booleans).
func parseNumber(data []byte, goType string) (float64, []byte, error) {
	text, _, err := scalar(data, goType)
	if err != nil {
		return 0, nil, err
	}
	f, numeric, ok := numberText(text)
	if !ok {
		return 0, nil, typeErr(data, goType)
	}
	if !numeric {
		return f, nil, nil
	}
	return f, text, nil
}

// numberText is the number rule for the trimmed text of a scalar: "" is
// 0, "true"/"false" (any case) are 1/0, else a finite number. numeric
// reports whether the text was a number.
func numberText(text []byte) (f float64, numeric, ok bool) {
	switch string(text) {
	case "":
		return 0, false, true
	case "true":
		return 1, false, true
	case "false":
		return 0, false, true
	}
	if n, ok := digits(text); ok {
		return float64(n), true, true
	}
	switch strings.ToLower(string(text)) {
	case "true":
		return 1, false, true
	case "false":
		return 0, false, true
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, false
	}
	return f, true, true
}

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(data []byte) error {
	// Fast path: plain digits, bare or quoted.
	if t := bytes.TrimSpace(data); len(t) > 0 && len(t) <= 19 && t[0] != '+' {
		if n, ok := digits(t); ok && validNumber(t) {
			*i = Int(n)
			return nil
		}
	}
	f, text, err := parseNumber(data, "pvetypes.Int")
	if err != nil {
		return err
	}
	if text == nil {
		*i = Int(f)
		return nil
	}
	if n, ok := digits(text); ok {
		*i = Int(n)
		return nil
	}
	// Exact path first: integers beyond 2^53 keep every digit.
	if n, perr := strconv.ParseInt(string(text), 10, 64); perr == nil {
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
		if inner, ok := plainString(data); ok {
			*s = String(inner)
			return nil
		}
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return typeErr(data, "pvetypes.String")
		}
		*s = String(v)
		return nil
	case '0':
		if !validNumber(data) {
			return typeErr(data, "pvetypes.String")
		}
		*s = String(data)
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
