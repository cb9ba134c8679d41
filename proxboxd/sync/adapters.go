package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// nbAdapter implements netboxAPI over *netboxsdk.Client.
type nbAdapter struct{ c *netboxsdk.Client }

func newNetBoxAdapter(c *netboxsdk.Client) netboxAPI { return nbAdapter{c} }

func nbErr(err error) error {
	if errors.Is(err, netboxsdk.ErrNotFound) {
		return fmt.Errorf("%w: %w", errPathNotFound, err)
	}
	return err
}

func (a nbAdapter) List(ctx context.Context, path string, q url.Values) ([]obj, error) {
	f := netboxsdk.NewFilter().Limit(1000)
	for k, vs := range q {
		if k == "fields" {
			continue // fields= is requested below
		}
		for _, v := range vs {
			f.Add(k, v)
		}
	}
	if fs := q.Get("fields"); fs != "" {
		f.Fields(splitComma(fs)...)
	}
	out, err := a.c.Objects(path).All(ctx, f)
	if err != nil {
		return nil, nbErr(err)
	}
	res := make([]obj, len(out))
	copy(res, out)
	return res, nil
}

func (a nbAdapter) Count(ctx context.Context, path string, q url.Values) (int, error) {
	f := netboxsdk.NewFilter()
	for k, vs := range q {
		if k == "fields" {
			continue
		}
		for _, v := range vs {
			f.Add(k, v)
		}
	}
	n, err := a.c.Objects(path).Count(ctx, f)
	if err != nil {
		return 0, nbErr(err)
	}
	return n, nil
}

func (a nbAdapter) Create(ctx context.Context, path string, items []obj) ([]obj, error) {
	in := make([]netboxsdk.Object, len(items))
	copy(in, items)
	out, err := a.c.Objects(path).BulkCreate(ctx, in)
	if err != nil {
		return nil, nbErr(err)
	}
	res := make([]obj, len(out))
	copy(res, out)
	return res, nil
}

func (a nbAdapter) Patch(ctx context.Context, path string, items []obj) ([]obj, error) {
	in := make([]netboxsdk.Object, len(items))
	copy(in, items)
	out, err := a.c.Objects(path).BulkPatch(ctx, in)
	if err != nil {
		return nil, nbErr(err)
	}
	res := make([]obj, len(out))
	copy(res, out)
	return res, nil
}

func (a nbAdapter) Delete(ctx context.Context, path string, ids []int) error {
	return nbErr(a.c.Objects(path).BulkDelete(ctx, ids))
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
