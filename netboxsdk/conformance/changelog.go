package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// changeTime is how NetBox renders ObjectChange.time: UTC, microseconds.
var changeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// observed returns a context whose response observer keeps the responses of
// the calls made with it.
func observed() (context.Context, func() []*netboxsdk.Response) {
	var mu sync.Mutex
	var seen []*netboxsdk.Response
	ctx := netboxsdk.WithResponseObserver(context.Background(), func(r *netboxsdk.Response) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
	})
	return ctx, func() []*netboxsdk.Response {
		mu.Lock()
		defer mu.Unlock()
		return append([]*netboxsdk.Response(nil), seen...)
	}
}

// write runs one write with its own observer and returns the X-Request-Id
// and the Date of its (single) response.
func (e *env) write(t *testing.T, what string, do func(ctx context.Context) error) (string, time.Time) {
	t.Helper()
	ctx, seen := observed()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := do(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	rs := seen()
	if len(rs) != 1 {
		t.Fatalf("%s: the observer saw %d responses, want 1", what, len(rs))
	}
	r := rs[0]
	if r.RequestID == "" || r.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("%s: request id %q, header %q", what, r.RequestID, r.Header.Get("X-Request-Id"))
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		t.Fatalf("%s: Date header %q: %v", what, r.Header.Get("Date"), err)
	}
	return r.RequestID, date
}

// testChangelog reads the change log as a sync engine does before it reuses
// state it read earlier: which objects changed since T (NetBox's clock, from
// a response's Date header, minus a second) and by which requests.
func (e *env) testChangelog(t *testing.T) {
	p := e.prefix
	tags := e.nb.Objects("/api/extras/tags/")
	changes := e.nb.Objects("/api/core/object-changes/")

	// A change from before T: T comes from a Date header (whole seconds),
	// minus one second, so T is later than this change only once the server
	// clock has moved on by two seconds.
	before := e.create(t, tags.Path(), netboxsdk.Object{"name": p + "-clold", "slug": p + "-clold"})
	time.Sleep(2100 * time.Millisecond)

	var tag netboxsdk.Object
	createID, date := e.write(t, "create", func(ctx context.Context) error {
		var err error
		tag, err = tags.Create(ctx, netboxsdk.Object{"name": p + "-cl", "slug": p + "-cl", "description": "one"})
		if err == nil {
			e.cleanupLater(tags.Path(), id(tag))
		}
		return err
	})
	since := date.Add(-time.Second)
	patchID, _ := e.write(t, "patch", func(ctx context.Context) error {
		_, err := tags.Patch(ctx, id(tag), netboxsdk.Object{"description": "two"})
		return err
	})
	noopID, _ := e.write(t, "patch without a change", func(ctx context.Context) error {
		_, err := tags.Patch(ctx, id(tag), netboxsdk.Object{"description": "two"})
		return err
	})
	deleteID, lastDate := e.write(t, "delete", func(ctx context.Context) error {
		return tags.Delete(ctx, id(tag))
	})

	fields := []string{"id", "changed_object_type", "changed_object_id", "request_id", "time", "action"}
	after := since.UTC().Format(time.RFC3339)
	check := func(t *testing.T, rows []netboxsdk.Object, action, reqID string) {
		t.Helper()
		if len(rows) != 1 {
			t.Fatalf("%s (request %s): %d changes, want 1: %v", action, reqID, len(rows), rows)
		}
		r := rows[0]
		if choiceValue(r, "action") != action || r["request_id"] != reqID ||
			r["changed_object_type"] != "extras.tag" || id(netboxsdk.Object{"id": r["changed_object_id"]}) != id(tag) {
			t.Fatalf("%s: change %v, want request %s on extras.tag %d", action, r, reqID, id(tag))
		}
		s, _ := r["time"].(string)
		if !changeTime.MatchString(s) {
			t.Fatalf("%s: time %q is not UTC with microseconds", action, s)
		}
		ct, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || ct.Before(since) || ct.After(lastDate.Add(time.Second)) {
			t.Fatalf("%s: time %s outside [%s, %s] (the Date headers' clock): %v", action, s, since, lastDate.Add(time.Second), err)
		}
	}

	// one change per write, found by time_after and request_id (NetBox's
	// request_id filter takes a single value: one query per request)
	for _, w := range []struct{ action, reqID string }{{"create", createID}, {"update", patchID}, {"delete", deleteID}} {
		rows, err := changes.All(e.ctx, netboxsdk.NewFilter().Eq("time_after", after).Eq("request_id", w.reqID).Fields(fields...))
		if err != nil {
			t.Fatalf("changes of request %s: %v", w.reqID, err)
		}
		check(t, rows, w.action, w.reqID)
	}
	// a PATCH that changes nothing records nothing
	rows, err := changes.All(e.ctx, netboxsdk.NewFilter().Eq("request_id", noopID).Fields(fields...))
	if err != nil || len(rows) != 0 {
		t.Fatalf("changes of a PATCH without a change: %v %v", rows, err)
	}

	// everything since T on both tags: the three changes of the new tag, in
	// order, and not the one from before T
	both := netboxsdk.NewFilter().Eq("changed_object_type", "extras.tag").Eq("changed_object_id", id(tag), id(before))
	rows, err = changes.All(e.ctx, both.Clone().Eq("time_after", after).Ordering("id").Fields(fields...))
	if err != nil || len(rows) != 3 {
		t.Fatalf("changes since %s: %d %v: %v", after, len(rows), err, rows)
	}
	for i, w := range []struct{ action, reqID string }{{"create", createID}, {"update", patchID}, {"delete", deleteID}} {
		check(t, rows[i:i+1], w.action, w.reqID)
	}
	old, err := changes.All(e.ctx, netboxsdk.NewFilter().Eq("changed_object_type", "extras.tag").
		Eq("changed_object_id", id(before)).Fields(fields...))
	if err != nil || len(old) != 1 || choiceValue(old[0], "action") != "create" {
		t.Fatalf("the change before %s: %v %v", after, old, err)
	}
	if ot, _ := old[0]["time"].(string); ot >= since.UTC().Format("2006-01-02T15:04:05.000000Z") {
		t.Fatalf("the earlier change at %s is not before T %s", ot, after)
	}

	// Deleting a tag takes it off the objects that carry it: the request that
	// deleted the tag also records an update of each (so a request of one's
	// own may change objects it did not name).
	tg := e.create(t, tags.Path(), netboxsdk.Object{"name": p + "-cltag", "slug": p + "-cltag"})
	site := e.create(t, "/api/dcim/sites/", netboxsdk.Object{"name": p + "-clsite", "slug": p + "-clsite", "tags": []int{id(tg)}})
	tagDel, _ := e.write(t, "delete a tag in use", func(ctx context.Context) error { return tags.Delete(ctx, id(tg)) })
	cas, err := changes.All(e.ctx, netboxsdk.NewFilter().Eq("request_id", tagDel).Ordering("id"))
	if err != nil || len(cas) != 2 {
		t.Fatalf("changes of deleting a tag in use: %d %v", len(cas), err)
	}
	pre, _ := cas[1]["prechange_data"].(map[string]any)
	post, _ := cas[1]["postchange_data"].(map[string]any)
	if choiceValue(cas[0], "action") != "delete" || cas[0]["changed_object_type"] != "extras.tag" ||
		choiceValue(cas[1], "action") != "update" || cas[1]["changed_object_type"] != "dcim.site" ||
		id(netboxsdk.Object{"id": cas[1]["changed_object_id"]}) != id(site) ||
		fmt.Sprint(pre["tags"]) != "["+p+"-cltag]" || fmt.Sprint(post["tags"]) != "[]" {
		t.Fatalf("changes of deleting a tag in use: %v", cas)
	}

	// NetBox 4.7.3 ignores the negation of changed_object_type__n: it
	// selects the type like changed_object_type (netboxtest does the same)
	neg, err := changes.All(e.ctx, netboxsdk.NewFilter().Eq("changed_object_type__n", "extras.tag").
		Eq("changed_object_id", id(tag)).Eq("time_after", after).Fields("id", "changed_object_type"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range neg {
		if r["changed_object_type"] != "extras.tag" {
			t.Fatalf("changed_object_type__n=extras.tag returned %v", r)
		}
	}
	if len(neg) != 3 {
		t.Fatalf("changed_object_type__n=extras.tag: %d changes, want the 3 of the tag (NetBox 4.7.3 behaviour)", len(neg))
	}

	// a bad time is a 400 naming the model field, not the filter
	_, err = changes.All(e.ctx, netboxsdk.NewFilter().Eq("time_after", "yesterday"))
	var ae *netboxsdk.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || len(ae.Fields["time"]) == 0 {
		t.Fatalf("time_after=yesterday: %v", err)
	}
	// the change log is read-only
	_, err = changes.Create(e.ctx, netboxsdk.Object{"action": "create"})
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the change log: %v", err)
	}
	t.Logf("change log: T=%s, requests create %s, patch %s, delete %s", after, createID, patchID, deleteID)
}
