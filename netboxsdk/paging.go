package netboxsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// List iterates over every object matching f, fetching pages lazily (page size
// f.Limit or the client page size, up to NetBox's MAX_PAGE_SIZE) and following
// the server's "next" links. On NetBox >= 4.6 it uses cursor pagination
// (?start=), which stays fast on large tables, unless f sets an ordering or an
// offset. While the caller consumes a page the next one is already being fetched.
// An error is yielded once, as the last element.
func (col *Collection[T, C, P]) List(ctx context.Context, f *Filter) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := f.validate(col.path, col.c.cfg.strictFilters); err != nil {
			yield(zero, err)
			return
		}
		u, err := col.firstPageURL(f)
		if err != nil {
			yield(zero, err)
			return
		}
		take := 0
		if f != nil {
			take = f.take
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		pending := col.fetchPage(ctx, u)
		seen := 0
		for {
			pr := <-pending
			if pr.err != nil {
				yield(zero, pr.err)
				return
			}
			next := pr.next
			if take > 0 && seen+len(pr.results) >= take {
				next = nil
			}
			if next != nil && len(pr.results) > 0 {
				pending = col.fetchPage(ctx, next)
			} else {
				pending = nil
			}
			for _, item := range pr.results {
				if !yield(item, nil) {
					return
				}
				seen++
				if take > 0 && seen >= take {
					return
				}
			}
			if pending == nil {
				return
			}
		}
	}
}

// All returns every object matching f.
func (col *Collection[T, C, P]) All(ctx context.Context, f *Filter) ([]T, error) {
	var out []T
	for item, err := range col.List(ctx, f) {
		if err != nil {
			return out, err
		}
		out = append(out, item)
	}
	return out, nil
}

type pageResult[T any] struct {
	results []T
	next    *url.URL
	err     error
}

func (col *Collection[T, C, P]) fetchPage(ctx context.Context, u *url.URL) <-chan pageResult[T] {
	ch := make(chan pageResult[T], 1)
	go func() {
		ch <- col.getPage(ctx, u)
	}()
	return ch
}

func (col *Collection[T, C, P]) getPage(ctx context.Context, u *url.URL) pageResult[T] {
	_, raw, err := col.c.roundTrip(ctx, http.MethodGet, u, nil)
	if err != nil {
		return pageResult[T]{err: err}
	}
	var page Page[T]
	if err := json.Unmarshal(raw, &page); err != nil {
		return pageResult[T]{err: fmt.Errorf("netboxsdk: decode page of %s: %w", col.path, err)}
	}
	pr := pageResult[T]{results: page.Results}
	if page.Next != nil && *page.Next != "" {
		next, err := col.c.resolve(*page.Next, nil)
		if err != nil {
			return pageResult[T]{err: err}
		}
		pr.next = next
	}
	return pr
}

func (col *Collection[T, C, P]) firstPageURL(f *Filter) (*url.URL, error) {
	q := f.Values()
	size := col.c.cfg.pageSize
	if f != nil && f.limit > 0 {
		size = f.limit
	}
	if f != nil && f.take > 0 && f.take < size {
		size = f.take
	}
	q.Set("limit", strconv.Itoa(size))
	if col.c.useCursor(f) {
		q.Set("start", "0")
	}
	return col.c.resolve(col.path, q)
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
