package netboxsdk_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// FuzzFilterEncode checks that any key and values survive encoding: the query
// parses back to exactly the values given, in order, and nothing panics.
func FuzzFilterEncode(f *testing.F) {
	seeds := [][3]string{
		{"name", "web1", "web2"},
		{"cf_proxmox_vm_id", "101", ""},
		{"name__ic", "a&b=c", "%zz"},
		{"tag", "proxbox", "prod env"},
		{"q", "ünïcödé ✓", "\x00\r\n"},
		{"site_id", "null", "1,2,3"},
		{"description__isw", "+plus", "#hash?"},
		{"fields", "x", "y"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, key, v1, v2 string) {
		flt := netboxsdk.NewFilter().Eq(key, v1, v2)
		enc := flt.Encode()
		q, err := url.ParseQuery(enc)
		if key == "" {
			return // rejected at request time (ErrUnknownFilter)
		}
		if err != nil {
			t.Fatalf("encoded query %q does not parse: %v", enc, err)
		}
		// fields/omit/brief are selection keys with their own encoding
		if key == "fields" || key == "omit" || key == "brief" {
			return
		}
		if got := q[key]; !slices.Equal(got, []string{v1, v2}) {
			t.Fatalf("key %q: got %q, want %q (query %q)", key, got, []string{v1, v2}, enc)
		}
		if strings.ContainsAny(enc, "\r\n ") {
			t.Fatalf("unescaped characters in %q", enc)
		}
		// Values is a copy: changing it does not change the filter
		vals := flt.Values()
		vals.Set(key, "changed")
		if flt.Encode() != enc {
			t.Fatal("Values() aliases the filter")
		}
	})
}

func TestFilterValues(t *testing.T) {
	type id int
	f := netboxsdk.NewFilter().Eq("id", []int{1, 2}).Eq("x", true, nil, 1.5, []string{"a", "b"}).Eq("y", id(7)).
		ID(3).Set("x", "only").Del("nope").Fields("id", "name").Omit("comments").Brief()
	want := "brief=true&fields=id%2Cname&id=1&id=2&id=3&omit=comments&x=only&y=7"
	if got := f.Encode(); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	var nilF *netboxsdk.Filter
	if nilF.Encode() != "" || len(nilF.Get("x")) != 0 {
		t.Fatal("nil filter")
	}
	if g := nilF.Name("a").Encode(); g != "name=a" {
		t.Fatalf("nil receiver chaining: %s", g)
	}
	c := f.Clone().Eq("id", 9)
	if len(f.Get("id")) != 3 || len(c.Get("id")) != 4 {
		t.Fatal("Clone aliases")
	}
}
