package pvetypes

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds arbitrary JSON to every type: decoding never panics, and
// a value that decodes marshals to JSON that decodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`1`, `"1"`, `true`, `null`, `""`, `"abc"`, `1.5`, `-0`, `1e400`, `[]`, `{}`, `"yes"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Bool
		if json.Unmarshal(data, &b) == nil {
			roundTrip(t, b, new(Bool))
		}
		var i Int
		if json.Unmarshal(data, &i) == nil {
			roundTrip(t, i, new(Int))
		}
		var fl Float
		if json.Unmarshal(data, &fl) == nil {
			roundTrip(t, fl, new(Float))
		}
		var s String
		if json.Unmarshal(data, &s) == nil {
			roundTrip(t, s, new(String))
		}
	})
}

func roundTrip[T comparable](t *testing.T, v T, into *T) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	if err := json.Unmarshal(out, into); err != nil {
		t.Fatalf("re-decode %s: %v", out, err)
	}
	if *into != v {
		t.Fatalf("round trip %v -> %s -> %v", v, out, *into)
	}
}
