package netboxsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// endpoint is the untyped core of a Collection: paths, paging, HTTP and
// decoding. It is not generic on purpose: a generic Collection is instantiated
// for ~200 model type triples (gen/<app>/app.gen.go), and every line of a generic method
// is compiled once per instantiation. The typed methods of Collection only
// allocate their T/[]T and hand a pointer to these methods.
type endpoint struct {
	c    *Client
	path string
}

func newEndpoint(c *Client, path string) endpoint {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return endpoint{c: c, path: path}
}

func (e *endpoint) detail(id int) string {
	return e.path + strconv.Itoa(id) + "/"
}

// do sends method to path with body and decodes the response into out.
func (e *endpoint) do(ctx context.Context, method, path string, body, out any) error {
	_, err := e.c.Do(ctx, method, path, nil, body, out)
	return err
}

// get decodes object id into out, with the field selection of f.
func (e *endpoint) get(ctx context.Context, id int, f *Filter, out any) error {
	var q url.Values
	if f != nil {
		q = (&Filter{fields: f.fields, omit: f.omit, brief: f.brief}).Values()
	}
	_, err := e.c.Do(ctx, http.MethodGet, e.detail(id), q, nil, out)
	return err
}

// rawPage is a list response whose results are decoded into the *[]T that
// Results holds (encoding/json decodes into the non-nil pointer in an interface).
type rawPage struct {
	Count    *int    `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  any     `json:"results"`
}

// getPage fetches the list page at u into results (a *[]T) and returns the
// resolved next link (nil on the last page).
func (e *endpoint) getPage(ctx context.Context, u *url.URL, results any) (*rawPage, *url.URL, error) {
	_, raw, err := e.c.roundTrip(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	page := &rawPage{Results: results}
	if err := json.Unmarshal(raw, page); err != nil {
		return nil, nil, fmt.Errorf("netboxsdk: decode page of %s: %w", e.path, err)
	}
	if page.Results == nil { // "results": null
		page.Results = results
	}
	if page.Next == nil || *page.Next == "" {
		return page, nil, nil
	}
	next, err := e.c.resolve(*page.Next, nil)
	if err != nil {
		return nil, nil, err
	}
	return page, next, nil
}

// getBy decodes the single object matching f into results (a *[]T holding
// exactly that object on success).
func (e *endpoint) getBy(ctx context.Context, f *Filter, results any) error {
	if err := f.validate(e.path, e.c.cfg.strictFilters); err != nil {
		return err
	}
	q := f.Values()
	q.Set("limit", "2")
	u, err := e.c.resolve(e.path, q)
	if err != nil {
		return err
	}
	page, _, err := e.getPage(ctx, u, results)
	if err != nil {
		return err
	}
	switch n := reflect.ValueOf(results).Elem().Len(); {
	case n == 0:
		return fmt.Errorf("%w: %s?%s", ErrNotFound, e.path, f.Encode())
	case n > 1:
		if page.Count != nil {
			n = *page.Count
		}
		return fmt.Errorf("%w: %d objects at %s?%s", ErrMultiple, n, e.path, f.Encode())
	}
	return nil
}

type pageResult struct {
	results any // *[]T
	next    *url.URL
	err     error
}

// pages fetches the pages of the list matching f, each into a fresh newResults()
// (a *[]T), prefetching the next page while each(results) runs. It stops when
// each returns false (returning nil) or on the first error (returned).
func (e *endpoint) pages(ctx context.Context, f *Filter, newResults func() any, each func(results any) bool) error {
	if err := f.validate(e.path, e.c.cfg.strictFilters); err != nil {
		return err
	}
	u, err := e.firstPageURL(f)
	if err != nil {
		return err
	}
	take := 0
	if f != nil {
		take = f.take
	}
	ctx, cancel := context.WithCancel(ctx)
	var pending <-chan pageResult
	defer func() {
		// Stopping early abandons the prefetched page: cancel it and wait for
		// its goroutine, so that no response observer (WithResponseObserver)
		// runs after the caller's List or All returned.
		cancel()
		if pending != nil {
			<-pending
		}
	}()
	fetch := func(u *url.URL) <-chan pageResult {
		ch := make(chan pageResult, 1)
		go func() {
			res := newResults()
			_, next, err := e.getPage(ctx, u, res)
			ch <- pageResult{results: res, next: next, err: err}
		}()
		return ch
	}
	pending = fetch(u)
	seen := 0
	for {
		pr := <-pending
		pending = nil
		if pr.err != nil {
			return pr.err
		}
		rv := reflect.ValueOf(pr.results).Elem()
		n := rv.Len()
		next := pr.next
		if take > 0 && seen+n >= take {
			if seen+n > take {
				n = take - seen
				rv.SetLen(n)
			}
			next = nil
		}
		if next != nil && n > 0 {
			pending = fetch(next)
		} else {
			pending = nil
		}
		if n > 0 && !each(pr.results) {
			return nil
		}
		seen += n
		if pending == nil {
			return nil
		}
	}
}

func (e *endpoint) firstPageURL(f *Filter) (*url.URL, error) {
	q := f.Values()
	size := e.c.cfg.pageSize
	if f != nil && f.limit > 0 {
		size = f.limit
	}
	if f != nil && f.take > 0 && f.take < size {
		size = f.take
	}
	q.Set("limit", strconv.Itoa(size))
	if e.c.useCursor(f) {
		q.Set("start", "0")
	}
	return e.c.resolve(e.path, q)
}

func (e *endpoint) count(ctx context.Context, f *Filter) (int, error) {
	if err := f.validate(e.path, e.c.cfg.strictFilters); err != nil {
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
	if _, err := e.c.Do(ctx, http.MethodGet, e.path, q, nil, &env); err != nil {
		return 0, err
	}
	if env.Count == nil {
		return 0, fmt.Errorf("netboxsdk: %s: response has no count", e.path)
	}
	return *env.Count, nil
}

func (e *endpoint) bulkDelete(ctx context.Context, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	body := make([]map[string]int, len(ids))
	for i, id := range ids {
		body[i] = map[string]int{"id": id}
	}
	_, err := e.c.Do(withBulkItems(ctx, len(ids)), http.MethodDelete, e.path, nil, body, nil)
	return err
}

func (e *endpoint) choices(ctx context.Context) (map[string][]Choice, error) {
	var meta struct {
		Actions map[string]map[string]struct {
			Choices []Choice `json:"choices"`
		} `json:"actions"`
	}
	if _, err := e.c.Do(ctx, http.MethodOptions, e.path, nil, nil, &meta); err != nil {
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

func (e *endpoint) action(ctx context.Context, method string, id int, action string, query url.Values, body, out any) (*Response, error) {
	action = strings.Trim(action, "/")
	if action == "" || strings.Contains(action, "..") {
		return nil, fmt.Errorf("netboxsdk: invalid action %q", action)
	}
	return e.c.Do(ctx, method, e.detail(id)+action+"/", query, body, out)
}

// useCursor decides the pagination mode of a List.
func (c *Client) useCursor(f *Filter) bool {
	switch c.cfg.pagination {
	case PaginationOffset:
		return false
	case PaginationCursor:
		return !f.has("offset")
	}
	if f.has("ordering") || f.has("offset") || f.has("start") {
		return false
	}
	// Version known from /api/status/ or from the API-Version header of any earlier
	// response; unknown means "try": NetBox < 4.6 ignores start= and pages by offset.
	c.statusMu.Lock()
	st := c.status
	c.statusMu.Unlock()
	if st != nil {
		return st.AtLeast(4, 6)
	}
	if v := c.APIVersion(); v != "" {
		ma, mi := parseVersion(v)
		return ma > 4 || ma == 4 && mi >= 6
	}
	return true
}
