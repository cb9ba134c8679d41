package netboxsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Collection is one NetBox list endpoint ("/api/dcim/devices/") with typed
// records: T is what NetBox returns, C what Create/Update send, P what Patch sends
// (a P must marshal only the fields to change: Object, or a struct of Nullable /
// generated nullable fields with omitempty/omitzero).
type Collection[T, C, P any] struct {
	c    *Client
	path string
}

// NewCollection returns the collection at path on c.
func NewCollection[T, C, P any](c *Client, path string) *Collection[T, C, P] {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return &Collection[T, C, P]{c: c, path: path}
}

// Path returns the list path, e.g. "/api/dcim/devices/".
func (col *Collection[T, C, P]) Path() string { return col.path }

// Client returns the client the collection belongs to.
func (col *Collection[T, C, P]) Client() *Client { return col.c }

func (col *Collection[T, C, P]) detail(id int) string {
	return col.path + strconv.Itoa(id) + "/"
}

// Get returns the object with id; a missing object is an *APIError matching ErrNotFound.
func (col *Collection[T, C, P]) Get(ctx context.Context, id int) (T, error) {
	return col.GetWith(ctx, id, nil)
}

// GetWith is Get with field selection (Fields, Omit, Brief of f; filters are ignored).
func (col *Collection[T, C, P]) GetWith(ctx context.Context, id int, f *Filter) (T, error) {
	var out T
	var q url.Values
	if f != nil {
		q = (&Filter{fields: f.fields, omit: f.omit, brief: f.brief}).Values()
	}
	_, err := col.c.Do(ctx, http.MethodGet, col.detail(id), q, nil, &out)
	return out, err
}

// GetBy returns the single object matching f. No match returns an error matching
// ErrNotFound, several matches one matching ErrMultiple.
func (col *Collection[T, C, P]) GetBy(ctx context.Context, f *Filter) (T, error) {
	var zero T
	if err := f.validate(col.path, col.c.cfg.strictFilters); err != nil {
		return zero, err
	}
	q := f.Values()
	q.Set("limit", "2")
	u, err := col.c.resolve(col.path, q)
	if err != nil {
		return zero, err
	}
	_, raw, err := col.c.roundTrip(ctx, http.MethodGet, u, nil)
	if err != nil {
		return zero, err
	}
	var page Page[T]
	if err := json.Unmarshal(raw, &page); err != nil {
		return zero, fmt.Errorf("netboxsdk: decode %s: %w", col.path, err)
	}
	switch {
	case len(page.Results) == 0:
		return zero, fmt.Errorf("%w: %s?%s", ErrNotFound, col.path, f.Encode())
	case len(page.Results) > 1:
		n := len(page.Results)
		if page.Count != nil {
			n = *page.Count
		}
		return zero, fmt.Errorf("%w: %d objects at %s?%s", ErrMultiple, n, col.path, f.Encode())
	}
	return page.Results[0], nil
}

// Count returns the number of objects matching f (one request with limit=1).
func (col *Collection[T, C, P]) Count(ctx context.Context, f *Filter) (int, error) {
	if err := f.validate(col.path, col.c.cfg.strictFilters); err != nil {
		return 0, err
	}
	q := f.Values()
	q.Del("fields")
	q.Del("omit")
	q.Set("brief", "true")
	q.Set("limit", "1")
	var env struct {
		Count *int `json:"count"`
	}
	if _, err := col.c.Do(ctx, http.MethodGet, col.path, q, nil, &env); err != nil {
		return 0, err
	}
	if env.Count == nil {
		return 0, fmt.Errorf("netboxsdk: %s: response has no count", col.path)
	}
	return *env.Count, nil
}

// Create creates one object.
func (col *Collection[T, C, P]) Create(ctx context.Context, obj C) (T, error) {
	var out T
	_, err := col.c.Do(ctx, http.MethodPost, col.path, nil, obj, &out)
	return out, err
}

// BulkCreate creates objs in one request. NetBox applies it all or nothing; on a
// validation error the *APIError has one entry per object in Items.
func (col *Collection[T, C, P]) BulkCreate(ctx context.Context, objs []C) ([]T, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	var out []T
	_, err := col.c.Do(ctx, http.MethodPost, col.path, nil, objs, &out)
	return out, err
}

// Update replaces object id (PUT).
func (col *Collection[T, C, P]) Update(ctx context.Context, id int, obj C) (T, error) {
	var out T
	_, err := col.c.Do(ctx, http.MethodPut, col.detail(id), nil, obj, &out)
	return out, err
}

// Patch changes the fields of object id that patch sets. With an Object patch, a
// key absent is left alone, a key with a value is set and a key with nil is set
// to null. NetBox merges custom_fields: only the custom fields given change.
func (col *Collection[T, C, P]) Patch(ctx context.Context, id int, patch P) (T, error) {
	var out T
	_, err := col.c.Do(ctx, http.MethodPatch, col.detail(id), nil, patch, &out)
	return out, err
}

// BulkPatch patches several objects in one request; each patch must carry "id".
func (col *Collection[T, C, P]) BulkPatch(ctx context.Context, patches []P) ([]T, error) {
	if len(patches) == 0 {
		return nil, nil
	}
	var out []T
	_, err := col.c.Do(ctx, http.MethodPatch, col.path, nil, patches, &out)
	return out, err
}

// Delete deletes object id.
func (col *Collection[T, C, P]) Delete(ctx context.Context, id int) error {
	_, err := col.c.Do(ctx, http.MethodDelete, col.detail(id), nil, nil, nil)
	return err
}

// BulkDelete deletes the objects ids in one request (body [{"id": n}, …]).
func (col *Collection[T, C, P]) BulkDelete(ctx context.Context, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	body := make([]map[string]int, len(ids))
	for i, id := range ids {
		body[i] = map[string]int{"id": id}
	}
	_, err := col.c.Do(ctx, http.MethodDelete, col.path, nil, body, nil)
	return err
}

// Choices returns the allowed values of the choice fields of the collection, from
// OPTIONS (the POST action, else PUT).
func (col *Collection[T, C, P]) Choices(ctx context.Context) (map[string][]Choice, error) {
	var meta struct {
		Actions map[string]map[string]struct {
			Choices []Choice `json:"choices"`
		} `json:"actions"`
	}
	if _, err := col.c.Do(ctx, http.MethodOptions, col.path, nil, nil, &meta); err != nil {
		return nil, err
	}
	fields := meta.Actions["POST"]
	if fields == nil {
		fields = meta.Actions["PUT"]
	}
	out := map[string][]Choice{}
	for name, f := range fields {
		if len(f.Choices) > 0 {
			out[name] = f.Choices
		}
	}
	return out, nil
}

// Action calls a detail action of object id, e.g.
// Action(ctx, "GET", 7, "available-ips", nil, nil, &ips) for
// /api/ipam/prefixes/7/available-ips/, or "trace", "paths", "render-config", "sync".
func (col *Collection[T, C, P]) Action(ctx context.Context, method string, id int, action string, query url.Values, body, out any) (*Response, error) {
	action = strings.Trim(action, "/")
	if action == "" || strings.Contains(action, "..") {
		return nil, fmt.Errorf("netboxsdk: invalid action %q", action)
	}
	return col.c.Do(ctx, method, col.detail(id)+action+"/", query, body, out)
}
