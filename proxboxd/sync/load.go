package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// load lists a kind into a table (fully paginated, narrowed by q and fields=).
func (r *run) load(ctx context.Context, k *kind, q url.Values, keyFn func(obj) string) (*table, error) {
	t := newTable(k, keyFn)
	if err := r.loadInto(ctx, t, q); err != nil {
		return nil, err
	}
	return t, nil
}

func (r *run) loadInto(ctx context.Context, t *table, q url.Values) error {
	objs, err := r.nb.List(ctx, t.k, t.k.query(q))
	if err != nil {
		return fmt.Errorf("list %s: %w", t.k.Path, err)
	}
	t.qs = append(t.qs, q)
	for _, o := range objs {
		t.put(o)
	}
	return nil
}

// chunkIDs is how many ids one filtered list carries (URL length: NetBox
// behind gunicorn rejects request lines over 4094 bytes).
const chunkIDs = 100

// loadChunked lists with a repeated filter key over ids in chunks of chunkIDs.
func (r *run) loadChunked(ctx context.Context, t *table, key string, ids []int, extra url.Values) error {
	ids = uniqInts(ids)
	for len(ids) > 0 && ids[0] <= 0 {
		ids = ids[1:] // dry-run placeholders of objects not yet created
	}
	for i := 0; i < len(ids); i += chunkIDs {
		j := min(i+chunkIDs, len(ids))
		q := url.Values{}
		for k, v := range extra {
			q[k] = append([]string(nil), v...)
		}
		for _, id := range ids[i:j] {
			q.Add(key, strconv.Itoa(id))
		}
		if err := r.loadInto(ctx, t, q); err != nil {
			return err
		}
	}
	return nil
}

// errPathNotFound marks a NetBox path that answered 404 (a plugin that is not
// installed).
var errPathNotFound = errors.New("netbox path not found")
