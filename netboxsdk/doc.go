// Package netboxsdk is a NetBox REST client: a generated low-level client per
// NetBox app (see gen/) under a hand-written fluent layer with typed
// collections, lazy pagination, retries, caching and precise errors.
package netboxsdk
