package netboxsdk

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// Collection is one NetBox list endpoint ("/api/dcim/devices/") with typed
// records: T is what NetBox returns, C what Create/Update send, P what Patch sends
// (a P must marshal only the fields to change: Object, or a struct of Nullable /
// generated nullable fields with omitempty/omitzero).
//
// The methods are thin typed wrappers over untyped code (see endpoint): the
// generated app packages instantiate Collection ~200 times, so its methods must stay small.
type Collection[T, C, P any] struct {
	e endpoint
}

// NewCollection returns the collection at path on c.
func NewCollection[T, C, P any](c *Client, path string) *Collection[T, C, P] {
	return &Collection[T, C, P]{e: newEndpoint(c, path)}
}

// Path returns the list path, e.g. "/api/dcim/devices/".
func (col *Collection[T, C, P]) Path() string { return col.e.path }

// Client returns the client the collection belongs to.
func (col *Collection[T, C, P]) Client() *Client { return col.e.c }

// Untyped returns the same collection with untyped records (Object): for
// callers that read only some fields (Filter.Fields) and compare records by
// their JSON field names, as a sync engine diffing desired against current
// state does. Build what you send as C and convert it, so the compiler checks
// the field names.
func (col *Collection[T, C, P]) Untyped() *Collection[Object, Object, Object] {
	return &Collection[Object, Object, Object]{e: col.e}
}

// On returns the same collection on client c: declare collections once (for
// example from an app built with a nil client) and bind them to a client later.
func (col *Collection[T, C, P]) On(c *Client) *Collection[T, C, P] {
	return &Collection[T, C, P]{e: newEndpoint(c, col.e.path)}
}

// Get returns the object with id; a missing object is an *APIError matching ErrNotFound.
func (col *Collection[T, C, P]) Get(ctx context.Context, id int) (T, error) {
	var out T
	err := col.e.get(ctx, id, nil, &out)
	return out, err
}

// GetWith is Get with field selection (Fields, Omit, Brief of f; filters are ignored).
func (col *Collection[T, C, P]) GetWith(ctx context.Context, id int, f *Filter) (T, error) {
	var out T
	err := col.e.get(ctx, id, f, &out)
	return out, err
}

// GetBy returns the single object matching f. No match returns an error matching
// ErrNotFound, several matches one matching ErrMultiple.
func (col *Collection[T, C, P]) GetBy(ctx context.Context, f *Filter) (T, error) {
	var res []T
	if err := col.e.getBy(ctx, f, &res); err != nil {
		var zero T
		return zero, err
	}
	return res[0], nil
}

// Count returns the number of objects matching f (one request with limit=1).
func (col *Collection[T, C, P]) Count(ctx context.Context, f *Filter) (int, error) {
	return col.e.count(ctx, f)
}

// Create creates one object.
func (col *Collection[T, C, P]) Create(ctx context.Context, obj C) (T, error) {
	var out T
	err := col.e.do(ctx, http.MethodPost, col.e.path, obj, &out)
	return out, err
}

// BulkCreate creates objs in one request. NetBox applies it all or nothing; on a
// validation error the *APIError has one entry per object in Items.
func (col *Collection[T, C, P]) BulkCreate(ctx context.Context, objs []C) ([]T, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	var out []T
	err := col.e.do(withBulkItems(ctx, len(objs)), http.MethodPost, col.e.path, objs, &out)
	return out, err
}

// Update replaces object id (PUT).
func (col *Collection[T, C, P]) Update(ctx context.Context, id int, obj C) (T, error) {
	var out T
	err := col.e.do(ctx, http.MethodPut, col.e.detail(id), obj, &out)
	return out, err
}

// Patch changes the fields of object id that patch sets. With an Object patch, a
// key absent is left alone, a key with a value is set and a key with nil is set
// to null. NetBox merges custom_fields: only the custom fields given change.
func (col *Collection[T, C, P]) Patch(ctx context.Context, id int, patch P) (T, error) {
	var out T
	err := col.e.do(ctx, http.MethodPatch, col.e.detail(id), patch, &out)
	return out, err
}

// BulkPatch patches several objects in one request; each patch must carry "id".
func (col *Collection[T, C, P]) BulkPatch(ctx context.Context, patches []P) ([]T, error) {
	if len(patches) == 0 {
		return nil, nil
	}
	var out []T
	err := col.e.do(withBulkItems(ctx, len(patches)), http.MethodPatch, col.e.path, patches, &out)
	return out, err
}

// Delete deletes object id.
func (col *Collection[T, C, P]) Delete(ctx context.Context, id int) error {
	return col.e.do(ctx, http.MethodDelete, col.e.detail(id), nil, nil)
}

// BulkDelete deletes the objects ids in one request (body [{"id": n}, …]).
func (col *Collection[T, C, P]) BulkDelete(ctx context.Context, ids []int) error {
	return col.e.bulkDelete(ctx, ids)
}

// Choices returns the allowed values of the choice fields of the collection, from
// OPTIONS (the POST action, else PUT).
func (col *Collection[T, C, P]) Choices(ctx context.Context) (map[string][]Choice, error) {
	return col.e.choices(ctx)
}

// Action calls a detail action of object id, e.g.
// Action(ctx, "GET", 7, "available-ips", nil, nil, &ips) for
// /api/ipam/prefixes/7/available-ips/, or "trace", "paths", "render-config", "sync".
func (col *Collection[T, C, P]) Action(ctx context.Context, method string, id int, action string, query url.Values, body, out any) (*Response, error) {
	return col.e.action(ctx, method, id, action, query, body, out)
}

// List iterates over every object matching f, fetching pages lazily (page size
// f.Limit or the client page size, up to NetBox's MAX_PAGE_SIZE) and following
// the server's "next" links. On NetBox >= 4.6 it uses cursor pagination
// (?start=), which stays fast on large tables, unless f sets an ordering or an
// offset. While the caller consumes a page the next one is already being fetched.
// An error is yielded once, as the last element.
func (col *Collection[T, C, P]) List(ctx context.Context, f *Filter) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		err := col.e.pages(ctx, f, newResults[T], func(page any) bool {
			for _, item := range *page.(*[]T) {
				if !yield(item, nil) {
					return false
				}
			}
			return true
		})
		if err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// All returns every object matching f.
func (col *Collection[T, C, P]) All(ctx context.Context, f *Filter) ([]T, error) {
	var out []T
	err := col.e.pages(ctx, f, newResults[T], func(page any) bool {
		if out == nil {
			out = *page.(*[]T)
		} else {
			out = append(out, *page.(*[]T)...)
		}
		return true
	})
	return out, err
}

func newResults[T any]() any { return new([]T) }
