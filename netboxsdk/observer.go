package netboxsdk

import "context"

// ResponseObserver is called with each HTTP response the client receives; see
// WithResponseObserver.
type ResponseObserver func(*Response)

type observersKey struct{}

// WithResponseObserver returns a copy of ctx that makes every Client call made
// with it (or with a context derived from it) call obs once per HTTP response
// received: every attempt that got a response, retried ones and errors
// (4xx/5xx) included, and also the requests of calls that return no *Response
// (Collection.Create, BulkPatch, BulkDelete, List, …). Requests that got no
// response (connection refused, timeout) and GETs answered from the cache
// (WithCache) are not observed.
//
// A caller uses it to learn what the server said about its own requests: the
// X-Request-Id of each write (Response.RequestID, which NetBox also stores in
// the change log as request_id) and the server's clock (the Date header).
//
// obs gets the response's StatusCode, Header and RequestID; Count, Next and
// Previous are not filled in yet (Count is -1). Treat the Response as
// read-only: the caller of the client method may receive the same value.
//
// obs may be called concurrently: from calls made in parallel with the same
// context and from List, which fetches the next page while the caller consumes
// the current one. It runs on the goroutine of the request, before the client
// method returns, while the request holds its WithMaxConcurrency slot: keep it
// short and make it safe for concurrent use.
//
// Observers stack: a context derived from one that already carries observers
// calls them all, in the order they were added (outermost first). A nil obs
// returns ctx unchanged.
func WithResponseObserver(ctx context.Context, obs ResponseObserver) context.Context {
	if obs == nil {
		return ctx
	}
	parent, _ := ctx.Value(observersKey{}).([]ResponseObserver)
	// A fresh slice: contexts derived from the same parent must not share
	// (and overwrite) one backing array.
	list := make([]ResponseObserver, len(parent), len(parent)+1)
	copy(list, parent)
	return context.WithValue(ctx, observersKey{}, append(list, obs))
}

// observe calls the observers ctx carries with r.
func observe(ctx context.Context, r *Response) {
	list, _ := ctx.Value(observersKey{}).([]ResponseObserver)
	for _, obs := range list {
		obs(r)
	}
}
