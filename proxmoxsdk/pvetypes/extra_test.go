package pvetypes

import (
	"encoding/json"
	"errors"
	"testing"
)

type inner struct {
	Mhz   OptFloat `json:"mhz,omitzero"`
	Extra Extra    `json:"-"`
}

func (a inner) MarshalJSON() ([]byte, error) {
	type plain inner
	return MarshalWithExtra(plain(a), a.Extra)
}

type outer struct {
	Name    OptString          `json:"name,omitzero"`
	Vmid    Int                `json:"vmid"`
	CPU     *inner             `json:"cpuinfo,omitempty"`
	Members *[]inner           `json:"members,omitempty"`
	ByID    map[string]inner   `json:"byid,omitempty"`
	Free    map[string]any     `json:"free,omitempty"`
	Extra   Extra              `json:"-"`
	_       struct{}           `json:"-"`
	Tags    []String           `json:"tags,omitempty"`
	Raw     json.RawMessage    `json:"raw,omitempty"`
	More    map[string]*inner  `json:"more,omitempty"`
	Opt     OptBool            `json:"opt,omitzero"`
	Nested  []map[string]inner `json:"nested,omitempty"`
	Listed  []inner            `json:"listed,omitempty"`
	Ignored int                `json:"-"`
}

func (a outer) MarshalJSON() ([]byte, error) {
	type plain outer
	return MarshalWithExtra(plain(a), a.Extra)
}

func roundTripJSON(t *testing.T, in string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, c any
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	ab, _ := json.Marshal(a)
	cb, _ := json.Marshal(c)
	if string(ab) != string(cb) {
		t.Errorf("round trip:\n in  %s\n out %s", ab, cb)
	}
	return string(b)
}

// TestUnmarshalKeepsUnknownKeys: keys without a field, at every depth,
// land in Extra and marshal back inline.
func TestUnmarshalKeepsUnknownKeys(t *testing.T) {
	in := `{"name":"web","vmid":100,"uptime":42,"cpuinfo":{"mhz":2400.5,"flags":"sse2 \"x\""},
		"members":[{"mhz":1,"a":[1,{"b":"}"}]},{"c":null}],"byid":{"x":{"mhz":3,"d":true}},
		"more":{"y":{"e":"f"}},"listed":[{"g":1}],"nested":[{"k":{"h":2}}],"we\"ird":{"k":[]}}`
	var v outer
	if err := Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if n, _ := v.Extra.Int("uptime"); n != 42 || !v.Extra.Has(`we"ird`) {
		t.Errorf("top extra %v", v.Extra)
	}
	if s, _ := v.CPU.Extra.String("flags"); s != `sse2 "x"` {
		t.Errorf("cpuinfo extra %v", v.CPU.Extra)
	}
	if !(*v.Members)[0].Extra.Has("a") || !(*v.Members)[1].Extra.Has("c") || !v.ByID["x"].Extra.Has("d") ||
		!v.More["y"].Extra.Has("e") || !v.Listed[0].Extra.Has("g") || !v.Nested[0]["k"].Extra.Has("h") {
		t.Errorf("nested extras lost: %+v", v)
	}
	roundTripJSON(t, in, v)
}

// TestUnmarshalFieldTolerance: a field that does not decode is kept raw and
// reported with its path, value and wanted type; the rest is decoded.
func TestUnmarshalFieldTolerance(t *testing.T) {
	in := `{"name":"web","vmid":"abc","cpuinfo":{"mhz":{"x":1}},"members":[{"mhz":"fast"},"bogus",{"mhz":2}],"opt":[1],"extra":1}`
	var v outer
	err := Unmarshal([]byte(in), &v)
	var fes []*FieldError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("not a FieldError: %v", e)
		}
		fes = append(fes, fe)
	}
	want := map[string]string{"vmid": "integer", "cpuinfo.mhz": "number", "members[0].mhz": "number", "members[1]": "object", "opt": "boolean"}
	if len(fes) != len(want) {
		t.Fatalf("errors %v", err)
	}
	for _, fe := range fes {
		if want[fe.Path] != fe.Want {
			t.Errorf("%s: want %q, got %q (%v)", fe.Path, want[fe.Path], fe.Want, fe)
		}
	}
	if v.Name.Get() != "web" || v.Vmid != 0 || string(v.Extra["vmid"]) != `"abc"` || len(*v.Members) != 2 || (*v.Members)[1].Mhz.Get() != 2 {
		t.Errorf("decoded %+v", v)
	}
	out := roundTripJSON(t, `{"name":"web","vmid":"abc","cpuinfo":{"mhz":{"x":1}},"members":[{"mhz":"fast"},{"mhz":2}],"opt":[1],"extra":1}`, v)
	if out == "" {
		t.Fatal("empty")
	}
}

func TestUnmarshalPlainErrors(t *testing.T) {
	var s String
	if err := Unmarshal([]byte(`{"a":1}`), &s); err == nil {
		t.Error("a model-less type must fail like json.Unmarshal")
	}
	var v outer
	if err := Unmarshal([]byte(`{"name":`), &v); err == nil {
		t.Error("invalid JSON must fail")
	}
	if err := Unmarshal([]byte(`"x"`), &v); err == nil {
		t.Error("a non-object for a model must fail")
	}
}

func TestAppendExtra(t *testing.T) {
	got, err := AppendExtra([]byte(`{"a":1,"b":"x"}`), Extra{"b": json.RawMessage(`[2]`), "c": json.RawMessage(` {"d":null} `)})
	if err != nil || string(got) != `{"a":1,"b":[2],"c":{"d":null}}` {
		t.Errorf("got %s, %v", got, err)
	}
	got, err = AppendExtra([]byte(`{}`), Extra{"k": json.RawMessage(`1`)})
	if err != nil || string(got) != `{"k":1}` {
		t.Errorf("got %s, %v", got, err)
	}
	if _, err := AppendExtra([]byte(`[]`), Extra{"k": json.RawMessage(`1`)}); err == nil {
		t.Error("extra on an array must fail")
	}
	e := Extra{"n": json.RawMessage(`"7"`), "b": json.RawMessage(`1`), "f": json.RawMessage(`"1.5"`)}
	if n, ok := e.Int("n"); !ok || n != 7 {
		t.Error("Int")
	}
	if b, ok := e.Bool("b"); !ok || !b {
		t.Error("Bool")
	}
	if f, ok := e.Float("f"); !ok || f != 1.5 {
		t.Error("Float")
	}
	if _, ok := e.String("missing"); ok {
		t.Error("missing key")
	}
	if err := e.Decode("missing", new(int)); !errors.Is(err, ErrNoKey) {
		t.Errorf("Decode missing: %v", err)
	}
}

func FuzzScan(f *testing.F) {
	var anyList []any
	for _, s := range []string{`{"a":1,"b":[1,{"c":"}"}]}`, `[1,"a\"b",{}]`, `{"\u0041":"x"}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil {
			n := 0
			if err := eachMember(data, func(k, v, _ []byte) bool {
				n++
				if !json.Valid(v) {
					t.Fatalf("member %q value %q invalid", k, v)
				}
				return true
			}); err != nil {
				t.Fatalf("eachMember(%s): %v", data, err)
			}
			if m != nil && n < len(m) {
				t.Fatalf("eachMember(%s): %d members, encoding/json has %d", data, n, len(m))
			}
		}
		var a []json.RawMessage
		if json.Unmarshal(data, &a) == nil && a != nil {
			if n, _ := Prescan(data, &anyList); n != len(a) {
				t.Fatalf("Prescan(%s) = %d, want %d", data, n, len(a))
			}
			n := 0
			if err := eachElement(data, func([]byte) bool { n++; return true }); err != nil || n != len(a) {
				t.Fatalf("eachElement(%s) = %d, %v; want %d", data, n, err, len(a))
			}
		}
	})
}

// TestPrescanCount: the presizing count matches encoding/json's element
// count, whatever the strings contain, and extra is reported for a key
// without a field.
func TestPrescanCount(t *testing.T) {
	for in, want := range map[string]int{
		`[]`: 0, ` [ ] `: 0, `null`: 0, `{}`: 0, `[1]`: 1, `[1,2,3]`: 3,
		`[{"a":[1,2,{"b":","}]},"x,y",null]`:     3,
		`["q\"],[", "\\", "\\\"", {"k":"]"}]`:    4,
		`[ "a" , [ ] , { } , -1.5e3 , true ]`:    5,
		`["\u005c\"", "tail\\\\"]`:               2,
		`[{"name":"vm,1","tags":"a;b"},{"x":1}]`: 2,
	} {
		var out []any
		if n, _ := Prescan([]byte(in), &out); n != want {
			t.Errorf("Prescan(%s) = %d, want %d", in, n, want)
		}
	}
	var list []inner
	if n, extra := Prescan([]byte(`[{"mhz":1},{"mhz":2}]`), &list); n != 2 || extra {
		t.Errorf("known keys: %d, %v", n, extra)
	}
	if _, extra := Prescan([]byte(`[{"mhz":1},{"mhz":2,"new":1}]`), &list); !extra {
		t.Error("unknown key not reported")
	}
	var o outer
	if _, extra := Prescan([]byte(`{"name":"x","cpuinfo":{"mhz":1,"flags":"f"}}`), &o); !extra {
		t.Error("nested unknown key not reported")
	}
	if _, extra := Prescan([]byte(`{"name":"x","cpuinfo":{"mhz":1}}`), &o); extra {
		t.Error("no unknown key, extra reported")
	}
}
