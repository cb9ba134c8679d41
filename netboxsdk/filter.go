package netboxsdk

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter builds the query of a list request: filters (typed helpers and raw keys),
// field selection and paging. The zero value and nil are "no filter". Methods
// return the receiver for chaining; a nil *Filter receiver allocates a new one.
//
//	f := netboxsdk.NewFilter().Eq("cluster_id", 3).Name("web1", "web2").CF("proxmox_vm_id", 101).Brief()
type Filter struct {
	q      url.Values
	fields []string
	omit   []string
	brief  bool
	limit  int
	take   int
	strict bool
	err    error
}

// NewFilter returns an empty filter.
func NewFilter() *Filter { return &Filter{q: url.Values{}} }

func (f *Filter) init() *Filter {
	if f == nil {
		f = &Filter{}
	}
	if f.q == nil {
		f.q = url.Values{}
	}
	return f
}

// Eq adds key=value for every value (NetBox ORs repeated values of one filter).
// Values may be strings, numbers, bools, nil ("null"), time.Time, fmt.Stringer, or
// slices of those.
func (f *Filter) Eq(key string, values ...any) *Filter {
	f = f.init()
	if key == "" {
		f.err = fmt.Errorf("%w: empty filter name", ErrUnknownFilter)
		return f
	}
	for _, v := range values {
		for _, s := range encodeValues(v) {
			f.q.Add(key, s)
		}
	}
	return f
}

// Add adds one raw key=value (no conversion beyond Eq's).
func (f *Filter) Add(key string, value any) *Filter { return f.Eq(key, value) }

// Set replaces the values of key.
func (f *Filter) Set(key string, values ...any) *Filter {
	f = f.init()
	f.q.Del(key)
	return f.Eq(key, values...)
}

// Del removes key.
func (f *Filter) Del(key string) *Filter {
	f = f.init()
	f.q.Del(key)
	return f
}

// Lookup adds field__op=value, e.g. Lookup("name", "ic", "web") for name__ic=web.
// Common ops: n, ic, nic, iew, isw, ie, nie, empty, lt, lte, gt, gte, regex.
func (f *Filter) Lookup(field, op string, values ...any) *Filter {
	return f.Eq(field+"__"+op, values...)
}

// Not adds field__n=value (not equal).
func (f *Filter) Not(field string, values ...any) *Filter { return f.Lookup(field, "n", values...) }

// IContains adds field__ic=value (case-insensitive contains).
func (f *Filter) IContains(field string, value string) *Filter { return f.Lookup(field, "ic", value) }

// ID filters by primary keys.
func (f *Filter) ID(ids ...int) *Filter {
	for _, id := range ids {
		f = f.Eq("id", id)
	}
	return f.init()
}

// Name filters by exact names.
func (f *Filter) Name(names ...string) *Filter { return f.Eq("name", toAny(names)...) }

// Slug filters by slugs.
func (f *Filter) Slug(slugs ...string) *Filter { return f.Eq("slug", toAny(slugs)...) }

// Tag filters by tag slugs (an object must carry every tag given).
func (f *Filter) Tag(slugs ...string) *Filter { return f.Eq("tag", toAny(slugs)...) }

// Status filters by status values.
func (f *Filter) Status(values ...string) *Filter { return f.Eq("status", toAny(values)...) }

// Q adds the free-text search q=.
func (f *Filter) Q(s string) *Filter { return f.Set("q", s) }

// CF filters on custom field name (cf_<name>=value).
func (f *Filter) CF(name string, values ...any) *Filter { return f.Eq("cf_"+name, values...) }

// Related filters on a foreign key by id: Related("cluster", 3) is cluster_id=3.
func (f *Filter) Related(field string, ids ...int) *Filter {
	f = f.init()
	for _, id := range ids {
		f = f.Eq(field+"_id", id)
	}
	return f
}

// Ordering sets ordering= (e.g. "name", "-id"). Ordering disables cursor pagination.
func (f *Filter) Ordering(fields ...string) *Filter {
	return f.Set("ordering", strings.Join(fields, ","))
}

// Fields asks for only these fields (fields=). Nested paths such as "site.name" are
// allowed by NetBox >= 4.2 dynamic fields.
func (f *Filter) Fields(fields ...string) *Filter {
	f = f.init()
	f.fields = append(f.fields, fields...)
	return f
}

// Omit asks NetBox to leave these fields out (omit=).
func (f *Filter) Omit(fields ...string) *Filter {
	f = f.init()
	f.omit = append(f.omit, fields...)
	return f
}

// Brief asks for the brief representation (brief=true).
func (f *Filter) Brief() *Filter {
	f = f.init()
	f.brief = true
	return f
}

// Limit sets the page size of each request (default: the client page size).
func (f *Filter) Limit(n int) *Filter {
	f = f.init()
	f.limit = n
	return f
}

// Take stops List after n objects (0 = all).
func (f *Filter) Take(n int) *Filter {
	f = f.init()
	f.take = n
	return f
}

// Strict makes the request fail with ErrUnknownFilter, before anything is sent,
// when a filter name is not a filter of the collection (NetBox silently ignores
// unknown filters and returns the whole table). cf_<name> filters and the paging
// and selection keys are always allowed. Collections without a known filter list
// (plugins the schema does not describe) are not checked.
func (f *Filter) Strict() *Filter {
	f = f.init()
	f.strict = true
	return f
}

// Clone returns a deep copy.
func (f *Filter) Clone() *Filter {
	if f == nil {
		return NewFilter()
	}
	g := *f
	g.q = url.Values{}
	for k, v := range f.q {
		g.q[k] = slices.Clone(v)
	}
	g.fields = slices.Clone(f.fields)
	g.omit = slices.Clone(f.omit)
	return &g
}

// Values returns the query parameters (filters and selection, without paging).
func (f *Filter) Values() url.Values {
	out := url.Values{}
	if f == nil {
		return out
	}
	for k, v := range f.q {
		out[k] = slices.Clone(v)
	}
	if len(f.fields) > 0 {
		out.Set("fields", strings.Join(f.fields, ","))
	}
	if len(f.omit) > 0 {
		out.Set("omit", strings.Join(f.omit, ","))
	}
	if f.brief {
		out.Set("brief", "true")
	}
	return out
}

// Encode returns Values().Encode().
func (f *Filter) Encode() string { return f.Values().Encode() }

// Get returns the values of key.
func (f *Filter) Get(key string) []string {
	if f == nil {
		return nil
	}
	return f.q[key]
}

func (f *Filter) has(key string) bool {
	if f == nil {
		return false
	}
	_, ok := f.q[key]
	return ok
}

// metaKeys are query keys that are not filters.
var metaKeys = map[string]bool{
	"limit": true, "offset": true, "start": true, "ordering": true, "brief": true,
	"fields": true, "omit": true, "format": true, "exclude": true, "q": true,
}

// validate checks the filter names against the generated filter table.
func (f *Filter) validate(path string, strict bool) error {
	if f == nil {
		return nil
	}
	if f.err != nil {
		return f.err
	}
	if !strict && !f.strict {
		return nil
	}
	known, ok := FilterNames(path)
	if !ok {
		return nil
	}
	for k := range f.q {
		if metaKeys[k] || strings.HasPrefix(k, "cf_") {
			continue
		}
		if _, found := slices.BinarySearch(known, k); found {
			continue
		}
		return fmt.Errorf("%w %q for %s", ErrUnknownFilter, k, path)
	}
	return nil
}

// FilterNames returns the sorted filter names the schema defines for the list
// operation of collection path, and false when the collection is unknown.
func FilterNames(path string) ([]string, bool) {
	filterOnce.Do(loadFilterTable)
	names, ok := filterTable[collectionOf(path)]
	return names, ok
}

func toAny[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

func encodeValues(v any) []string {
	switch t := v.(type) {
	case nil:
		return []string{"null"}
	case string:
		return []string{t}
	case []string:
		return t
	case int:
		return []string{strconv.Itoa(t)}
	case []int:
		out := make([]string, len(t))
		for i, n := range t {
			out[i] = strconv.Itoa(n)
		}
		return out
	case int64:
		return []string{strconv.FormatInt(t, 10)}
	case bool:
		return []string{strconv.FormatBool(t)}
	case float64:
		return []string{strconv.FormatFloat(t, 'f', -1, 64)}
	case time.Time:
		return []string{t.Format(time.RFC3339)}
	case fmt.Stringer:
		return []string{t.String()}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		var out []string
		for i := range rv.Len() {
			out = append(out, encodeValues(rv.Index(i).Interface())...)
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return []string{"null"}
		}
		return encodeValues(rv.Elem().Interface())
	}
	return []string{fmt.Sprint(v)}
}
