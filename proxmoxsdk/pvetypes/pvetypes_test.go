package pvetypes

import (
	"encoding/json"
	"math"
	"testing"
)

func TestBool(t *testing.T) {
	cases := map[string]bool{
		`true`: true, `false`: false, `1`: true, `0`: false, `2`: true, `0.0`: false,
		`"1"`: true, `"0"`: false, `"true"`: true, `"false"`: false, `"TRUE"`: true,
		`"yes"`: true, `"no"`: false, `"on"`: true, `"off"`: false, `""`: false, `null`: false, ` 1 `: true,
	}
	for in, want := range cases {
		var b Bool = !Bool(want)
		if err := json.Unmarshal([]byte(in), &b); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if bool(b) != want {
			t.Errorf("%s: got %v want %v", in, b, want)
		}
	}
	for _, bad := range []string{`"maybe"`, `[]`, `{}`, `"1x"`} {
		var b Bool
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
	out, _ := json.Marshal(struct{ A, B Bool }{true, false})
	if string(out) != `{"A":true,"B":false}` {
		t.Errorf("marshal: %s", out)
	}
}

func TestInt(t *testing.T) {
	cases := map[string]int64{
		`42`: 42, `-7`: -7, `"42"`: 42, `" 42 "`: 42, `1.9`: 1, `-1.9`: -1, `"1e3"`: 1000, `1e3`: 1000,
		`true`: 1, `false`: 0, `null`: 0, `""`: 0, `9007199254740993`: 9007199254740993,
		`"9223372036854775807"`: math.MaxInt64,
	}
	for in, want := range cases {
		var i Int = 99
		if err := json.Unmarshal([]byte(in), &i); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if int64(i) != want {
			t.Errorf("%s: got %d want %d", in, i, want)
		}
	}
	for _, bad := range []string{`"abc"`, `[1]`, `{}`, `1e300`, `"NaN"`, `"Inf"`} {
		var i Int
		if err := json.Unmarshal([]byte(bad), &i); err == nil {
			t.Errorf("%s: want error, got %d", bad, i)
		}
	}
	out, _ := json.Marshal(Int(5))
	if string(out) != `5` {
		t.Errorf("marshal: %s", out)
	}
}

func TestFloat(t *testing.T) {
	cases := map[string]float64{`1.5`: 1.5, `"1.5"`: 1.5, `3`: 3, `null`: 0, `""`: 0, `true`: 1, `"-0.25"`: -0.25}
	for in, want := range cases {
		var f Float = 99
		if err := json.Unmarshal([]byte(in), &f); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if float64(f) != want {
			t.Errorf("%s: got %v want %v", in, f, want)
		}
	}
	var f Float
	if err := json.Unmarshal([]byte(`"x"`), &f); err == nil {
		t.Error("want error")
	}
	out, _ := json.Marshal(Float(0.5))
	if string(out) != `0.5` {
		t.Errorf("marshal: %s", out)
	}
}

func TestString(t *testing.T) {
	cases := map[string]string{`"web"`: "web", `100`: "100", `1.50`: "1.50", `true`: "1", `false`: "0", `null`: "", `"  x "`: "  x "}
	for in, want := range cases {
		var s String = "zz"
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if string(s) != want {
			t.Errorf("%s: got %q want %q", in, s, want)
		}
	}
	for _, bad := range []string{`[]`, `{"a":1}`} {
		var s String
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
	out, _ := json.Marshal(String("a"))
	if string(out) != `"a"` {
		t.Errorf("marshal: %s", out)
	}
}

// TestStruct decodes a PVE-like object with drifting types; a pointer field
// that is absent stays nil and its Get is the zero value.
func TestStruct(t *testing.T) {
	var v struct {
		Onboot  *Bool   `json:"onboot"`
		Memory  *Int    `json:"memory"`
		CPU     *Float  `json:"cpu"`
		Name    *String `json:"name"`
		Missing *Int    `json:"missing"`
	}
	if err := json.Unmarshal([]byte(`{"onboot":"1","memory":"2048","cpu":0.25,"name":123,"extra":[1]}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Onboot.Get() || v.Memory.Get() != 2048 || v.CPU.Get() != 0.25 || v.Name.Get() != "123" || v.Missing.Get() != 0 {
		t.Fatalf("got %+v", v)
	}
}
