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

// TestOpt: the Opt types decode like their scalars, null and absence leave
// them unset, and unset fields are left out by omitzero.
func TestOpt(t *testing.T) {
	var v struct {
		Onboot  OptBool   `json:"onboot,omitzero"`
		Memory  OptInt    `json:"memory,omitzero"`
		CPU     OptFloat  `json:"cpu,omitzero"`
		Name    OptString `json:"name,omitzero"`
		Null    OptString `json:"null,omitzero"`
		Missing OptInt    `json:"missing,omitzero"`
	}
	v.Null = NewOptString("stale")
	in := `{"onboot":"1","memory":"2048","cpu":0.25,"name":123,"null":null,"extra":[1]}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Onboot.Get() || v.Memory.Get() != 2048 || v.CPU.Get() != 0.25 || v.Name.Get() != "123" {
		t.Fatalf("got %+v", v)
	}
	if !v.Onboot.Set || !v.Memory.Set || !v.CPU.Set || !v.Name.Set || v.Null.Set || v.Missing.Set {
		t.Fatalf("Set flags wrong: %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"onboot":true,"memory":2048,"cpu":0.25,"name":"123"}` {
		t.Errorf("marshal: %s", out)
	}
	for _, bad := range []string{`{"memory":"x"}`, `{"onboot":[]}`, `{"name":{}}`, `{"cpu":"y"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
}

// TestEscapedString: strings with escapes or non-ASCII text take the slow
// path and decode exactly like encoding/json.
func TestEscapedString(t *testing.T) {
	for _, in := range []string{`"a\"b"`, `"tab\there"`, `"\u00e9t\u00e9"`, `"été"`, "\"bad \xff utf8\"", `"a\\b"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var s String
		if err := json.Unmarshal([]byte(in), &s); err != nil || string(s) != want {
			t.Errorf("%s: got %q, %v; want %q", in, s, err, want)
		}
	}
	var s String
	if err := s.UnmarshalJSON([]byte(`"a"b"`)); err == nil {
		t.Errorf("unbalanced quote: want error, got %q", s)
	}
	if err := s.UnmarshalJSON([]byte(`01`)); err == nil {
		t.Errorf("01: want error, got %q", s)
	}
}

// TestNoAllocs: the common PVE spellings decode without allocating (a
// String still allocates its own text).
func TestNoAllocs(t *testing.T) {
	cases := []struct {
		name string
		v    json.Unmarshaler
		in   string
	}{
		{"Int", new(Int), `123456789`},
		{"Int quoted", new(Int), `"4096"`},
		{"Float", new(Float), `0.0312`},
		{"Float quoted", new(Float), `"1.5"`},
		{"Bool", new(Bool), `1`},
		{"Bool quoted", new(Bool), `"true"`},
		{"OptInt", new(OptInt), `42`},
		{"OptBool", new(OptBool), `0`},
		{"OptFloat", new(OptFloat), `2.5`},
		{"OptString null", new(OptString), `null`},
	}
	for _, c := range cases {
		data := []byte(c.in)
		if n := testing.AllocsPerRun(100, func() {
			if err := c.v.UnmarshalJSON(data); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s %s: %v allocs", c.name, c.in, n)
		}
	}
	data := []byte(`"web-01.example.com"`)
	var s OptString
	if n := testing.AllocsPerRun(100, func() { _ = s.UnmarshalJSON(data) }); n > 1 {
		t.Errorf("OptString: %v allocs, want at most 1", n)
	}
}
