package netboxsdk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

// recorder collects what an observer saw; safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	seen []netboxsdk.Response
}

func (r *recorder) observe(resp *netboxsdk.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, *resp)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
}

func (r *recorder) all() []netboxsdk.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]netboxsdk.Response(nil), r.seen...)
}

func (r *recorder) statuses() []int {
	var out []int
	for _, s := range r.all() {
		out = append(out, s.StatusCode)
	}
	return out
}

func observerServer(t *testing.T, opts ...netboxsdk.Option) (*netboxtest.Server, *netboxsdk.Client) {
	t.Helper()
	srv := netboxtest.NewServer()
	t.Cleanup(srv.Close)
	all := append([]netboxsdk.Option{netboxsdk.WithRetry(netboxsdk.RetryPolicy{MaxAttempts: 3,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryConnErrors: true})}, opts...)
	c, err := srv.Client(all...)
	require.NoError(t, err)
	return srv, c
}

func TestResponseObserverSeesRequestIDAndDate(t *testing.T) {
	_, nb := observerServer(t)
	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	sites := nb.Objects("/api/dcim/sites/")

	site, err := sites.Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err)
	_, err = sites.Patch(ctx, int(site["id"].(float64)), netboxsdk.Object{"description": "x"})
	require.NoError(t, err)
	require.NoError(t, sites.Delete(ctx, int(site["id"].(float64))))

	seen := rec.all()
	require.Len(t, seen, 3)
	assert.Equal(t, []int{201, 200, 204}, rec.statuses())
	ids := map[string]bool{}
	for _, r := range seen {
		assert.NotEmpty(t, r.RequestID)
		assert.Equal(t, r.Header.Get("X-Request-Id"), r.RequestID)
		assert.Equal(t, -1, r.Count, "pagination fields are not filled in for observers")
		d, err := http.ParseTime(r.Header.Get("Date"))
		require.NoError(t, err, "Date header %q", r.Header.Get("Date"))
		assert.WithinDuration(t, time.Now(), d, time.Minute)
		ids[r.RequestID] = true
	}
	assert.Len(t, ids, 3, "one request id per request")

	// the returned Response of Do is the value the observer saw
	rec.reset()
	resp, err := nb.Do(ctx, http.MethodGet, "/api/status/", nil, nil, nil)
	require.NoError(t, err)
	require.Len(t, rec.all(), 1)
	assert.Equal(t, resp.RequestID, rec.all()[0].RequestID)
}

func TestResponseObserverErrorsAndRetries(t *testing.T) {
	srv, nb := observerServer(t)
	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	sites := nb.Objects("/api/dcim/sites/")

	_, err := sites.Get(ctx, 999)
	require.ErrorIs(t, err, netboxsdk.ErrNotFound)
	_, err = sites.Create(ctx, netboxsdk.Object{"name": "no slug"})
	require.ErrorIs(t, err, netboxsdk.ErrValidation)
	assert.Equal(t, []int{404, 400}, rec.statuses())

	// every attempt that got a response, the retried ones included
	rec.reset()
	srv.FailNext("GET", "/api/dcim/sites/", 503, 2, "")
	_, err = sites.All(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{503, 503, 200}, rec.statuses())
	seen := rec.all()
	assert.NotEqual(t, seen[0].RequestID, seen[2].RequestID)
}

func TestResponseObserverBulkWrites(t *testing.T) {
	_, nb := observerServer(t)
	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	tags := nb.Objects("/api/extras/tags/")

	out, err := tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b", "slug": "b"}})
	require.NoError(t, err)
	ids := []int{int(out[0]["id"].(float64)), int(out[1]["id"].(float64))}
	_, err = tags.BulkPatch(ctx, []netboxsdk.Object{{"id": ids[0], "description": "x"}, {"id": ids[1], "description": "y"}})
	require.NoError(t, err)
	require.NoError(t, tags.BulkDelete(ctx, ids))
	assert.Equal(t, []int{201, 200, 204}, rec.statuses())
	for _, r := range rec.all() {
		assert.NotEmpty(t, r.RequestID)
	}

	// List with several pages: one call per page
	rec.reset()
	_, err = tags.BulkCreate(context.Background(), []netboxsdk.Object{{"name": "c", "slug": "c"}, {"name": "d", "slug": "d"}, {"name": "e", "slug": "e"}})
	require.NoError(t, err)
	all, err := tags.All(ctx, netboxsdk.NewFilter().Limit(2))
	require.NoError(t, err)
	assert.Len(t, all, 3)
	assert.Len(t, rec.all(), 2)
}

func TestResponseObserverStacksInOrder(t *testing.T) {
	_, nb := observerServer(t)
	var mu sync.Mutex
	var order []string
	note := func(name string) netboxsdk.ResponseObserver {
		return func(*netboxsdk.Response) {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
		}
	}
	base := netboxsdk.WithResponseObserver(context.Background(), note("outer"))
	assert.Equal(t, base, netboxsdk.WithResponseObserver(base, nil), "a nil observer changes nothing")
	a := netboxsdk.WithResponseObserver(base, note("a"))
	b := netboxsdk.WithResponseObserver(base, note("b")) // a sibling of a: must not see a's observer
	ab := netboxsdk.WithResponseObserver(a, note("a2"))

	_, err := nb.Status(ab)
	require.NoError(t, err)
	assert.Equal(t, []string{"outer", "a", "a2"}, order)

	order = nil
	_, err = nb.Status(b)
	require.NoError(t, err)
	assert.Equal(t, []string{"outer", "b"}, order)

	order = nil
	_, err = nb.Status(context.Background())
	require.NoError(t, err)
	assert.Empty(t, order, "a context without observers calls none")
}

func TestResponseObserverNotCalledWithoutResponse(t *testing.T) {
	// cache hits: no HTTP response was received
	_, nb := observerServer(t, netboxsdk.WithCache(time.Minute))
	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	sites := nb.Objects("/api/dcim/sites/")
	_, err := sites.All(ctx, nil)
	require.NoError(t, err)
	_, err = sites.All(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, rec.all(), 1, "the cached GET is not observed")

	// a connection refused gets no response
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c, err := netboxsdk.New(url, netboxsdk.WithToken("x"), netboxsdk.WithRetry(netboxsdk.RetryPolicy{}))
	require.NoError(t, err)
	rec.reset()
	_, err = c.Status(ctx)
	require.Error(t, err)
	assert.Empty(t, rec.all())
}

func TestResponseObserverConcurrent(t *testing.T) {
	_, nb := observerServer(t)
	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := "s" + string(rune('a'+i))
			_, err := nb.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": name, "slug": name})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, r := range rec.all() {
		ids[r.RequestID] = true
	}
	assert.Len(t, ids, n)
}

// TestResponseObserverNotAfterListReturns: a List the caller stops early
// abandons its prefetched page; no observer call may arrive after List returned.
func TestResponseObserverNotAfterListReturns(t *testing.T) {
	srv := netboxtest.NewServer(netboxtest.WithLatency(20 * time.Millisecond))
	t.Cleanup(srv.Close)
	nb, err := srv.Client()
	require.NoError(t, err)
	tags := nb.Objects("/api/extras/tags/")
	in := make([]netboxsdk.Object, 6)
	for i := range in {
		name := "t" + string(rune('a'+i))
		in[i] = netboxsdk.Object{"name": name, "slug": name}
	}
	_, err = tags.BulkCreate(context.Background(), in)
	require.NoError(t, err)

	var rec recorder
	ctx := netboxsdk.WithResponseObserver(context.Background(), rec.observe)
	for range 5 {
		rec.reset()
		for _, err := range tags.List(ctx, netboxsdk.NewFilter().Limit(2)) {
			require.NoError(t, err)
			break
		}
		atReturn := len(rec.all())
		time.Sleep(60 * time.Millisecond)
		assert.Equal(t, atReturn, len(rec.all()))
	}
}
