package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/typed"
)

// collection is one collection of the committed schema, found through the
// generated typed client (typed.Apps): its path, its dotted name, and the Go
// types of what NetBox returns and what create/update send.
type collection struct {
	Name  string // dcim.devices, plugins.proxbox.storage
	Path  string // /api/dcim/devices/
	Resp  reflect.Type
	Write reflect.Type
}

// field is one JSON field of a model.
type field struct {
	Name string
	Type reflect.Type // the Go type, pointers and nullable wrappers removed
	// Nullable: the field accepts null (pointer or nullable.Nullable).
	Nullable bool
}

var (
	catalogOnce sync.Once
	catalogList []*collection
	catalogBy   map[string]*collection
)

// catalog lists every collection of the schema the client was generated
// from, by reflection over typed.Apps: each field of each app that is a
// *netboxsdk.Collection[T, C, P] gives its path (Path()) and T and C (the
// result of Get and the argument of Create).
func catalog() ([]*collection, map[string]*collection) {
	catalogOnce.Do(func() {
		catalogBy = map[string]*collection{}
		apps := typed.NewApps(nil)
		walkApps(reflect.ValueOf(apps), 0)
		sort.Slice(catalogList, func(i, j int) bool { return catalogList[i].Name < catalogList[j].Name })
	})
	return catalogList, catalogBy
}

func walkApps(v reflect.Value, depth int) {
	if depth > 3 {
		return
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		f := v.Field(i)
		if c := asCollection(f); c != nil {
			if _, dup := catalogBy[c.Name]; !dup {
				catalogList = append(catalogList, c)
				catalogBy[c.Name] = c
			}
			continue
		}
		walkApps(f, depth+1)
	}
}

func asCollection(v reflect.Value) *collection {
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	pathM := v.MethodByName("Path")
	getM := v.MethodByName("Get")
	createM := v.MethodByName("Create")
	if !pathM.IsValid() || !getM.IsValid() || !createM.IsValid() || pathM.Type().NumIn() != 0 {
		return nil
	}
	path, ok := pathM.Call(nil)[0].Interface().(string)
	if !ok || !strings.HasPrefix(path, "/api/") {
		return nil
	}
	return &collection{
		Name:  nameOf(path),
		Path:  path,
		Resp:  getM.Type().Out(0),
		Write: createM.Type().In(1),
	}
}

// nameOf maps /api/dcim/devices/ to dcim.devices.
func nameOf(path string) string {
	return strings.ReplaceAll(strings.Trim(strings.TrimPrefix(path, "/api/"), "/"), "/", ".")
}

// lookupCollection finds a collection by dotted name, path or "app/model";
// an unknown one is an error that lists the closest names.
func lookupCollection(name string) (*collection, error) {
	list, by := catalog()
	key := strings.TrimSpace(name)
	if strings.Contains(key, "/") {
		key = nameOf("/" + strings.TrimPrefix(strings.Trim(key, "/"), "api/") + "/")
	}
	if c, ok := by[key]; ok {
		return c, nil
	}
	if c, ok := by["plugins."+key]; ok {
		return c, nil
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.Name
	}
	msg := fmt.Sprintf("unknown collection %q", name)
	if s := closest(key, names, 4); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	return nil, fmt.Errorf("%s; `nbx collections` lists them", msg)
}

// fields lists the JSON fields of a model type.
func fields(t reflect.Type) []field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		ft, nullable := unwrap(sf.Type)
		out = append(out, field{Name: name, Type: ft, Nullable: nullable})
	}
	return out
}

// unwrap removes pointers and nullable.Nullable[T] (a map[bool]T).
func unwrap(t reflect.Type) (reflect.Type, bool) {
	nullable := false
	for {
		switch {
		case t.Kind() == reflect.Pointer:
			t, nullable = t.Elem(), true
		case t.Kind() == reflect.Map && t.Key().Kind() == reflect.Bool:
			t, nullable = t.Elem(), true
		default:
			return t, nullable
		}
	}
}

// filterNames returns the filter names of a collection (schema) or nil.
func filterNames(c *collection) []string {
	names, _ := netboxsdk.FilterNames(c.Path)
	return names
}

// pagingKeys are query keys every list accepts besides its filters.
var pagingKeys = map[string]bool{"limit": true, "offset": true, "ordering": true, "q": true, "brief": true,
	"fields": true, "omit": true, "exclude": true, "start": true}

// checkFilter validates one filter name against the schema; an unknown one
// is an error listing the closest names.
func checkFilter(c *collection, name string) error {
	if pagingKeys[name] || strings.HasPrefix(name, "cf_") {
		return nil
	}
	names := filterNames(c)
	if names == nil {
		return nil // a collection without a filter table (none in the committed schema)
	}
	i := sort.SearchStrings(names, name)
	if i < len(names) && names[i] == name {
		return nil
	}
	var base []string
	for _, n := range names {
		if !strings.Contains(n, "__") {
			base = append(base, n)
		}
	}
	msg := fmt.Sprintf("unknown filter %q for %s", name, c.Name)
	if s := closest(name, append(base, names...), 4); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	return fmt.Errorf("%s", msg)
}

// closest returns up to n candidates closest to s: prefix matches first,
// then by edit distance (at most a third of the length, at least 2).
func closest(s string, candidates []string, n int) []string {
	type cand struct {
		c string
		d int
	}
	seen := map[string]bool{}
	var cs []cand
	limit := max(2, len(s)/3)
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		d := distance(s, c)
		switch {
		case strings.HasPrefix(c, s) && s != "":
			d = min(d, 2)
		case strings.Contains(c, s) && len(s) >= 3:
			d = min(d, 1)
		}
		if last := c[strings.LastIndexAny(c, "./")+1:]; last != c && distance(s, last) < d {
			d = distance(s, last)
		}
		if d <= limit {
			cs = append(cs, cand{c, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].c < cs[j].c
	})
	var out []string
	for _, c := range cs {
		if len(out) == n {
			break
		}
		out = append(out, c.c)
	}
	return out
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
