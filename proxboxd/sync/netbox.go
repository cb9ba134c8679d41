package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// ocol is a generated collection seen with untyped records: the engine reads
// only the fields it manages and diffs them by their JSON names (body.go).
type ocol = *netboxsdk.Collection[netboxsdk.Object, netboxsdk.Object, netboxsdk.Object]

// declare makes the kind of one generated collection: C, its request type,
// is what desired state is built as.
func declare[T, C, P any](typ string, col *netboxsdk.Collection[T, C, P], o kind, fields ...string) *kind {
	kd := &o
	kd.Type = typ
	kd.Fields = fields
	kd.col = func(c *netboxsdk.Client) ocol { return col.On(c).Untyped() }
	kd.Path = col.Path()
	kd.write = reflect.TypeFor[C]()
	allKinds = append(allKinds, kd)
	return kd
}

// nbAdapter implements netboxAPI over the generated collections of a client.
type nbAdapter struct{ c *netboxsdk.Client }

func newNetBoxAdapter(c *netboxsdk.Client) netboxAPI { return nbAdapter{c} }

func nbErr(err error) error {
	if errors.Is(err, netboxsdk.ErrNotFound) {
		return fmt.Errorf("%w: %w", errPathNotFound, err)
	}
	return err
}

// filterOf turns the engine's query into a netboxsdk.Filter; fields= is
// requested with Filter.Fields when withFields (a count asks for none).
func filterOf(q url.Values, withFields bool) *netboxsdk.Filter {
	f := netboxsdk.NewFilter()
	for k, vs := range q {
		if k == "fields" {
			continue // fields= is requested below
		}
		for _, v := range vs {
			f.Add(k, v)
		}
	}
	if fs := q.Get("fields"); fs != "" && withFields {
		f.Fields(splitComma(fs)...)
	}
	return f
}

func (a nbAdapter) List(ctx context.Context, k *kind, q url.Values) ([]obj, error) {
	out, err := k.col(a.c).All(ctx, filterOf(q, true).Limit(1000))
	return out, nbErr(err)
}

func (a nbAdapter) Count(ctx context.Context, k *kind, q url.Values) (int, error) {
	n, err := k.col(a.c).Count(ctx, filterOf(q, false))
	if err != nil {
		return 0, nbErr(err)
	}
	return n, nil
}

func (a nbAdapter) Create(ctx context.Context, k *kind, items []obj) ([]obj, error) {
	out, err := k.col(a.c).BulkCreate(ctx, items) // obj is netboxsdk.Object
	return out, nbErr(err)
}

func (a nbAdapter) Patch(ctx context.Context, k *kind, items []obj) ([]obj, error) {
	out, err := k.col(a.c).BulkPatch(ctx, items) // obj is netboxsdk.Object
	return out, nbErr(err)
}

func (a nbAdapter) Delete(ctx context.Context, k *kind, ids []int) error {
	return nbErr(k.col(a.c).BulkDelete(ctx, ids))
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

// Changes reads the changelog since a time of NetBox's clock, typed
// (core.ObjectChange), only the fields the job check needs.
func (a nbAdapter) Changes(ctx context.Context, since time.Time) ([]change, error) {
	f := netboxsdk.NewFilter().Add("time_after", since.UTC().Format(time.RFC3339Nano)).
		Fields("id", "changed_object_type", "request_id").Limit(1000)
	rows, err := nbgen.core.ObjectChanges.On(a.c).All(ctx, f)
	if err != nil {
		return nil, nbErr(err)
	}
	out := make([]change, len(rows))
	for i, row := range rows {
		out[i] = change{ID: row.Id, Type: row.ChangedObjectType, RequestID: row.RequestId.String()}
	}
	return out, nil
}
