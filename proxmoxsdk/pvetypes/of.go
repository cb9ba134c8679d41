package pvetypes

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// BoolOf reads a value already decoded from PVE's JSON (into any: nil,
// bool, float64, string or json.Number; Go integers too) with Bool's rule:
// null, "" and 0 are false, "1", "true", "yes", "on" (any case) and any
// non-zero number are true. An object, an array or a word is an error.
func BoolOf(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case Bool:
		return bool(x), nil
	case float64:
		if math.IsNaN(x) {
			return false, fmt.Errorf("pvetypes: cannot read %v as a boolean", x)
		}
		return x != 0, nil
	case float32:
		return BoolOf(float64(x))
	case int:
		return x != 0, nil
	case int64:
		return x != 0, nil
	case int32:
		return x != 0, nil
	case uint:
		return x != 0, nil
	case uint64:
		return x != 0, nil
	case json.Number:
		return boolOfText(string(x))
	case string:
		return boolOfText(x)
	}
	return false, fmt.Errorf("pvetypes: cannot read a %T as a boolean", v)
}

func boolOfText(s string) (bool, error) {
	b, ok := boolText(strings.TrimSpace(s))
	if !ok {
		v := s
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return false, fmt.Errorf("pvetypes: cannot read %q as a boolean", v)
	}
	return b, nil
}

// Truthy is BoolOf where a value that is not a boolean counts as false.
func Truthy(v any) bool {
	b, err := BoolOf(v)
	return err == nil && b
}

// FloatOf reads a value already decoded from PVE's JSON with Float's rule:
// null and "" are 0, booleans 1/0, numbers and numeric strings their value.
// An object, an array, a word or a non-finite number is an error.
func FloatOf(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case Float:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("pvetypes: cannot read %v as a number", x)
		}
		return x, nil
	case float32:
		return FloatOf(float64(x))
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case json.Number:
		return floatOfText(string(x))
	case string:
		return floatOfText(x)
	}
	return 0, fmt.Errorf("pvetypes: cannot read a %T as a number", v)
}

func floatOfText(s string) (float64, error) {
	f, _, ok := numberText([]byte(strings.TrimSpace(s)))
	if !ok {
		v := s
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return 0, fmt.Errorf("pvetypes: cannot read %q as a number", v)
	}
	return f, nil
}
