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
		var ob OptBool
		if json.Unmarshal(data, &ob) == nil {
			roundTrip(t, ob, new(OptBool))
			if ob.Set != (json.Unmarshal(data, &b) == nil && !isNull(data)) || ob.Value != bool(b) {
				t.Fatalf("OptBool %+v disagrees with Bool %v", ob, b)
			}
		}
		var oi OptInt
		if json.Unmarshal(data, &oi) == nil {
			roundTrip(t, oi, new(OptInt))
			if oi.Set && (json.Unmarshal(data, &i) != nil || oi.Value != int64(i)) {
				t.Fatalf("OptInt %+v disagrees with Int %v", oi, i)
			}
		}
		var of OptFloat
		if json.Unmarshal(data, &of) == nil {
			roundTrip(t, of, new(OptFloat))
		}
		var os OptString
		if json.Unmarshal(data, &os) == nil {
			roundTrip(t, os, new(OptString))
			if os.Set && (json.Unmarshal(data, &s) != nil || os.Value != string(s)) {
				t.Fatalf("OptString %+v disagrees with String %q", os, s)
			}
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
