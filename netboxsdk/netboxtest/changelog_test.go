package netboxtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

// fakeClock advances by a microsecond per reading, from a start a test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func clockServer(t *testing.T) (*netboxtest.Server, *netboxsdk.Client, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	srv := netboxtest.NewServer(netboxtest.WithClock(clk.now))
	t.Cleanup(srv.Close)
	nb, err := srv.Client(netboxsdk.WithRetry(netboxsdk.RetryPolicy{}))
	require.NoError(t, err)
	return srv, nb, clk
}

// lastResponse returns a context whose observer keeps the last response.
func lastResponse() (context.Context, func() *netboxsdk.Response) {
	var mu sync.Mutex
	var last *netboxsdk.Response
	ctx := netboxsdk.WithResponseObserver(context.Background(), func(r *netboxsdk.Response) {
		mu.Lock()
		last = r
		mu.Unlock()
	})
	return ctx, func() *netboxsdk.Response {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func changes(t *testing.T, nb *netboxsdk.Client, q string) []netboxsdk.Object {
	t.Helper()
	var page netboxsdk.Page[netboxsdk.Object]
	_, err := nb.Do(context.Background(), http.MethodGet, "/api/core/object-changes/?"+q, nil, nil, &page)
	require.NoError(t, err)
	return page.Results
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

var microTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestChangeLogCreateUpdateDelete(t *testing.T) {
	_, nb, _ := clockServer(t)
	ctx, last := lastResponse()
	sites := nb.Objects("/api/dcim/sites/")

	site, err := sites.Create(ctx, netboxsdk.Object{"name": "s1", "slug": "s1", "tags": []any{}})
	require.NoError(t, err)
	createID := last().RequestID
	id := num(site["id"])
	_, err = sites.Patch(ctx, id, netboxsdk.Object{"description": "patched"})
	require.NoError(t, err)
	patchID := last().RequestID
	_, err = sites.Update(ctx, id, netboxsdk.Object{"name": "s1", "slug": "s1b"})
	require.NoError(t, err)
	putID := last().RequestID
	_, err = sites.Patch(ctx, id, netboxsdk.Object{"slug": "s1b", "description": ""})
	require.NoError(t, err, "a PATCH with the current values")
	require.NoError(t, sites.Delete(ctx, id))
	deleteID := last().RequestID

	rows := changes(t, nb, "ordering=id")
	require.Len(t, rows, 4)
	for i, want := range []struct{ action, label, reqID string }{
		{"create", "Created", createID}, {"update", "Updated", patchID}, {"update", "Updated", putID}, {"delete", "Deleted", deleteID},
	} {
		r := rows[i]
		assert.Equal(t, map[string]any{"value": want.action, "label": want.label}, r["action"], "row %d", i)
		assert.Equal(t, want.reqID, r["request_id"], "row %d", i)
		assert.Equal(t, "dcim.site", r["changed_object_type"])
		assert.Equal(t, float64(id), r["changed_object_id"])
		assert.Equal(t, "admin", r["user_name"])
		assert.Equal(t, "", r["message"])
		user, _ := r["user"].(map[string]any)
		assert.Equal(t, "admin", user["username"])
		assert.NotNil(t, user["id"])
		assert.Regexp(t, microTime, r["time"])
		assert.Nil(t, r["changed_object"], "the site is gone")
		assert.Contains(t, r["url"], "/api/core/object-changes/")
		assert.Contains(t, r["display_url"], "/core/changelog/")
	}
	assert.Equal(t, "DCIM | site s1 created by admin", rows[0]["display"])
	assert.Equal(t, map[string]any{}, rows[0]["prechange_data"], "a create has no pre-change data")
	post, _ := rows[0]["postchange_data"].(map[string]any)
	assert.Equal(t, "s1", post["name"])
	assert.Equal(t, "active", post["status"], "choices as their raw value")
	assert.Equal(t, []any{}, post["tags"])
	assert.Equal(t, map[string]any{}, post["custom_fields"])
	for _, k := range []string{"id", "created", "last_updated"} {
		assert.NotContains(t, post, k)
	}
	pre1, _ := rows[1]["prechange_data"].(map[string]any)
	post1, _ := rows[1]["postchange_data"].(map[string]any)
	assert.Equal(t, "", pre1["description"])
	assert.Equal(t, "patched", post1["description"])
	post2, _ := rows[2]["postchange_data"].(map[string]any)
	assert.Equal(t, "s1b", post2["slug"])
	assert.Equal(t, "", post2["description"], "PUT replaces")
	pre3, _ := rows[3]["prechange_data"].(map[string]any)
	assert.Equal(t, "s1b", pre3["slug"])
	assert.Equal(t, map[string]any{}, rows[3]["postchange_data"])

	// newest first by default, as NetBox orders the change log
	def := changes(t, nb, "")
	require.Len(t, def, 4)
	assert.Equal(t, rows[3]["id"], def[0]["id"])
	// cursor pages go by id upwards
	cur := changes(t, nb, "start=0&limit=2")
	require.Len(t, cur, 2)
	assert.Equal(t, rows[0]["id"], cur[0]["id"])

	// changed_object is the object's brief form while it exists
	tag, err := nb.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": "t", "slug": "t"})
	require.NoError(t, err)
	r := changes(t, nb, "changed_object_type=extras.tag")
	require.Len(t, r, 1)
	co, _ := r[0]["changed_object"].(map[string]any)
	assert.Equal(t, tag["id"], co["id"])
	assert.Equal(t, "t", co["name"])
	post, _ = r[0]["postchange_data"].(map[string]any)
	assert.NotContains(t, post, "custom_fields", "tags have no custom fields")
}

func TestChangeLogBulkAndFailures(t *testing.T) {
	_, nb, _ := clockServer(t)
	ctx, last := lastResponse()
	tags := nb.Objects("/api/extras/tags/")
	out, err := tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "a", "slug": "a"}, {"name": "b", "slug": "b"}, {"name": "c", "slug": "c"}})
	require.NoError(t, err)
	createID := last().RequestID
	ids := []int{num(out[0]["id"]), num(out[1]["id"]), num(out[2]["id"])}
	_, err = tags.BulkPatch(ctx, []netboxsdk.Object{{"id": ids[0], "description": "x"}, {"id": ids[1], "description": "y"}})
	require.NoError(t, err)
	patchID := last().RequestID
	require.NoError(t, tags.BulkDelete(ctx, ids))
	deleteID := last().RequestID

	for reqID, want := range map[string]string{createID: "create", patchID: "update", deleteID: "delete"} {
		rows := changes(t, nb, "request_id="+reqID)
		n := 3
		if want == "update" {
			n = 2
		}
		require.Len(t, rows, n, want)
		for _, r := range rows {
			assert.Equal(t, want, r["action"].(map[string]any)["value"])
			assert.Equal(t, reqID, r["request_id"])
		}
	}

	// failed requests change nothing and record nothing
	before := len(changes(t, nb, "limit=1000"))
	_, err = tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "d", "slug": "d"}, {"name": "e"}})
	require.ErrorIs(t, err, netboxsdk.ErrValidation)
	_, err = tags.BulkCreate(ctx, []netboxsdk.Object{{"name": "f", "slug": "f"}, {"name": "f", "slug": "f"}})
	require.Error(t, err, "a conflict inside the batch rolls back")
	_, err = tags.Create(ctx, netboxsdk.Object{"name": "g"})
	require.Error(t, err)
	assert.Len(t, changes(t, nb, "limit=1000"), before)
}

func TestChangeLogCascades(t *testing.T) {
	_, nb, _ := clockServer(t)
	ctx, last := lastResponse()
	ct, err := nb.Objects("/api/virtualization/cluster-types/").Create(ctx, netboxsdk.Object{"name": "pve", "slug": "pve"})
	require.NoError(t, err)
	cl, err := nb.Objects("/api/virtualization/clusters/").Create(ctx, netboxsdk.Object{"name": "c1", "type": ct["id"]})
	require.NoError(t, err)
	tag, err := nb.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": "Proxbox", "slug": "proxbox"})
	require.NoError(t, err)
	vm, err := nb.Objects("/api/virtualization/virtual-machines/").Create(ctx, netboxsdk.Object{"name": "vm1", "cluster": cl["id"], "tags": []any{tag["id"]}})
	require.NoError(t, err)
	vmRows := changes(t, nb, "changed_object_type=virtualization.virtualmachine")
	require.Len(t, vmRows, 1)
	post, _ := vmRows[0]["postchange_data"].(map[string]any)
	assert.Equal(t, []any{"Proxbox"}, post["tags"], "tags by name")
	assert.Equal(t, cl["id"], post["cluster"], "relations by id")

	nic, err := nb.Objects("/api/virtualization/interfaces/").Create(ctx, netboxsdk.Object{"name": "net0", "virtual_machine": vm["id"]})
	require.NoError(t, err)
	_, err = nb.Objects("/api/virtualization/virtual-disks/").Create(ctx, netboxsdk.Object{"name": "scsi0", "virtual_machine": vm["id"], "size": 1})
	require.NoError(t, err)
	ip, err := nb.Objects("/api/ipam/ip-addresses/").Create(ctx, netboxsdk.Object{"address": "10.0.0.1/24",
		"assigned_object_type": "virtualization.vminterface", "assigned_object_id": nic["id"]})
	require.NoError(t, err)
	_, err = nb.Objects("/api/virtualization/virtual-machines/").Patch(ctx, num(vm["id"]), netboxsdk.Object{"primary_ip4": ip["id"]})
	require.NoError(t, err)

	// deleting the primary IP nulls the VM's primary_ip4: an update in the same request
	require.NoError(t, nb.Objects("/api/ipam/ip-addresses/").Delete(ctx, num(ip["id"])))
	rows := changes(t, nb, "ordering=id&request_id="+last().RequestID)
	require.Len(t, rows, 2)
	assert.Equal(t, "delete", rows[0]["action"].(map[string]any)["value"])
	assert.Equal(t, "ipam.ipaddress", rows[0]["changed_object_type"])
	assert.Equal(t, "update", rows[1]["action"].(map[string]any)["value"])
	assert.Equal(t, "virtualization.virtualmachine", rows[1]["changed_object_type"])
	assert.Equal(t, ip["id"], rows[1]["prechange_data"].(map[string]any)["primary_ip4"])
	assert.Nil(t, rows[1]["postchange_data"].(map[string]any)["primary_ip4"])

	// deleting a tag updates the objects that carried it
	require.NoError(t, nb.Objects("/api/extras/tags/").Delete(ctx, num(tag["id"])))
	rows = changes(t, nb, "request_id="+last().RequestID)
	require.Len(t, rows, 2)
	types := []string{rows[0]["changed_object_type"].(string), rows[1]["changed_object_type"].(string)}
	sort.Strings(types)
	assert.Equal(t, []string{"extras.tag", "virtualization.virtualmachine"}, types)

	// deleting the VM deletes its interface and disk: one change each, one request
	require.NoError(t, nb.Objects("/api/virtualization/virtual-machines/").Delete(ctx, num(vm["id"])))
	rows = changes(t, nb, "request_id="+last().RequestID)
	var got []string
	for _, r := range rows {
		assert.Equal(t, "delete", r["action"].(map[string]any)["value"])
		got = append(got, r["changed_object_type"].(string))
	}
	sort.Strings(got)
	assert.Equal(t, []string{"virtualization.virtualdisk", "virtualization.virtualmachine", "virtualization.vminterface"}, got)
}

func TestChangeLogFilters(t *testing.T) {
	_, nb, clk := clockServer(t)
	ctx, last := lastResponse()
	tags := nb.Objects("/api/extras/tags/")
	_, err := tags.Create(ctx, netboxsdk.Object{"name": "old", "slug": "old"})
	require.NoError(t, err)
	oldID := last().RequestID
	clk.advance(time.Hour)
	site, err := nb.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "new", "slug": "new"})
	require.NoError(t, err)
	date, err := http.ParseTime(last().Header.Get("Date"))
	require.NoError(t, err)
	siteID := last().RequestID

	all := changes(t, nb, "ordering=id")
	require.Len(t, all, 2)
	siteTime := all[1]["time"].(string)

	// the Date header comes from the same clock as the change's time
	ct, err := time.Parse(time.RFC3339Nano, siteTime)
	require.NoError(t, err)
	assert.Equal(t, ct.Truncate(time.Second), date)

	q := func(v url.Values) []netboxsdk.Object { return changes(t, nb, v.Encode()) }
	ids := func(rows []netboxsdk.Object) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r["request_id"].(string))
		}
		return out
	}
	after := date.Add(-time.Second).Format(time.RFC3339)
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"time_after": {after}})))
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"time_after": {siteTime}})), "time_after is inclusive")
	assert.Equal(t, []string{oldID}, ids(q(url.Values{"time_before": {after}})))
	assert.Len(t, q(url.Values{"time_before": {siteTime}}), 2, "time_before is inclusive")
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"time_after": {date.Format("2006-01-02 15:04:05")}})), "naive times are UTC")
	assert.Len(t, q(url.Values{"time_after": {"2026-03-04"}}), 2, "a date alone")
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"time_after": {"2000-01-01T00:00:00Z", after}})), "the last value wins")

	assert.Equal(t, []string{oldID}, ids(q(url.Values{"request_id": {oldID}})))
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"request_id": {oldID, siteID}})), "request_id takes one value: the last")
	assert.Len(t, q(url.Values{"request_id__n": {oldID}}), 2, "request_id__n is not a NetBox filter: ignored")
	assert.Equal(t, []string{oldID}, ids(q(url.Values{"changed_object_type": {"Extras.Tag"}})))
	assert.Len(t, q(url.Values{"changed_object_type": {"extras.tag", "dcim.site"}}), 2)
	assert.Empty(t, q(url.Values{"changed_object_type": {"extras"}}))
	assert.Equal(t, []string{oldID}, ids(q(url.Values{"changed_object_type__n": {"extras.tag"}})),
		"NetBox 4.7.3 ignores the negation of changed_object_type__n")
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"changed_object_id": {strconv.Itoa(num(site["id"]))}, "changed_object_type": {"dcim.site"}})))
	assert.Len(t, q(url.Values{"action": {"create"}}), 2)
	assert.Len(t, q(url.Values{"action__n": {"create"}}), 0)
	assert.Len(t, q(url.Values{"user_name": {"admin"}}), 2)
	assert.Empty(t, q(url.Values{"user_name": {"nobody"}}))
	assert.Len(t, q(url.Values{"user": {"admin"}}), 2)
	assert.Equal(t, []string{siteID}, ids(q(url.Values{"q": {"NEW"}})))
	assert.Equal(t, []string{oldID}, ids(q(url.Values{"id": {strconv.Itoa(num(all[0]["id"]))}})))

	sel := q(url.Values{"fields": {"id,changed_object_type,request_id,time"}, "ordering": {"id"}})
	require.Len(t, sel, 2)
	keys := make([]string, 0, 4)
	for k := range sel[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"changed_object_type", "id", "request_id", "time"}, keys)
	assert.Equal(t, siteTime, sel[1]["time"])

	for _, bad := range []struct{ query, key string }{
		{"time_after=yesterday", "time"},
		{"time_before=2026-13-01", "time"},
		{"request_id=nope", "request_id"},
		{"action=bogus", "action"},
		{"changed_object_type_id=3", "changed_object_type_id"},
	} {
		_, err := nb.Do(context.Background(), http.MethodGet, "/api/core/object-changes/?"+bad.query, nil, nil, nil)
		var ae *netboxsdk.APIError
		require.ErrorAs(t, err, &ae, bad.query)
		assert.Equal(t, 400, ae.StatusCode, bad.query)
		assert.NotEmpty(t, ae.Fields[bad.key], "%s: %v", bad.query, ae.Fields)
	}
}

func TestChangeLogIsReadOnly(t *testing.T) {
	_, nb, _ := clockServer(t)
	ctx := context.Background()
	_, err := nb.Objects("/api/extras/tags/").Create(ctx, netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err)
	oc := nb.Objects("/api/core/object-changes/")
	rows, err := oc.All(ctx, nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	got, err := oc.Get(ctx, num(rows[0]["id"]))
	require.NoError(t, err)
	assert.Equal(t, rows[0]["request_id"], got["request_id"])
	_, err = oc.Get(ctx, 999)
	var ae *netboxsdk.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "No ObjectChange matches the given query.", ae.Detail)

	_, err = oc.Create(ctx, netboxsdk.Object{"action": "create"})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusMethodNotAllowed, ae.StatusCode)
	assert.Equal(t, `Method "POST" not allowed.`, ae.Detail)
	_, err = oc.Patch(ctx, num(rows[0]["id"]), netboxsdk.Object{"object_repr": "x"})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusMethodNotAllowed, ae.StatusCode)
	require.ErrorAs(t, oc.Delete(ctx, num(rows[0]["id"])), &ae)
	assert.Equal(t, http.StatusMethodNotAllowed, ae.StatusCode)
	resp, err := nb.Do(ctx, http.MethodDelete, "/api/core/object-changes/", nil, []map[string]int{{"id": 1}}, nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"))
	rows, err = oc.All(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, rows, 1, "the failed writes changed nothing")
}

func TestChangeLogSeedAndWipe(t *testing.T) {
	srv, nb, _ := clockServer(t)
	_, err := srv.Seed("/api/extras/tags/", map[string]any{"name": "seeded", "slug": "seeded"})
	require.NoError(t, err)
	assert.Zero(t, srv.Len("/api/core/object-changes/"), "seeded objects have no change records")
	_, err = nb.Objects("/api/extras/tags/").Create(context.Background(), netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Len("/api/core/object-changes/"))
	srv.Wipe()
	assert.Zero(t, srv.Len("/api/core/object-changes/"))
}

func TestDateHeaderFollowsTheClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	srv := netboxtest.NewServer(netboxtest.WithClock(func() time.Time { return at }))
	t.Cleanup(srv.Close)
	nb, err := srv.Client()
	require.NoError(t, err)
	for _, path := range []string{"/api/status/", "/api/dcim/sites/999/", "/nowhere"} {
		resp, _ := nb.Do(context.Background(), http.MethodGet, path, nil, nil, nil)
		require.NotNil(t, resp, path)
		assert.Equal(t, "Wed, 02 Jan 2030 03:04:05 GMT", resp.Header.Get("Date"), path)
	}
}

// TestObjectChangeMatchesSchema: an ObjectChange has exactly the fields of the
// committed schema's ObjectChange, and every filter netboxtest serves on the
// change log is one NetBox defines.
func TestObjectChangeMatchesSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "schemas", "netbox", "netbox-*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no committed NetBox schema")
	b, err := os.ReadFile(files[len(files)-1])
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))

	_, nb, _ := clockServer(t)
	_, err = nb.Objects("/api/extras/tags/").Create(context.Background(), netboxsdk.Object{"name": "a", "slug": "a"})
	require.NoError(t, err)
	rows := changes(t, nb, "")
	require.Len(t, rows, 1)
	var keys []string
	for k := range rows[0] {
		keys = append(keys, k)
	}
	want := slices.Clone(doc.Components.Schemas["ObjectChange"].Required)
	require.NotEmpty(t, want)
	sort.Strings(keys)
	sort.Strings(want)
	assert.Equal(t, want, keys)

	params := map[string]bool{}
	for _, p := range doc.Paths["/api/core/object-changes/"]["get"].Parameters {
		params[p.Name] = true
	}
	for _, f := range []string{"id", "id__n", "id__gt", "time_after", "time_before", "request_id", "action", "action__n",
		"changed_object_type", "changed_object_type__n", "changed_object_id", "changed_object_id__gte", "object_repr__ic",
		"user", "user__n", "user_id", "user_name", "user_name__ic", "q", "fields", "omit", "ordering", "limit", "offset", "start"} {
		assert.True(t, params[f], "%s is not a filter of NetBox's /api/core/object-changes/", f)
	}
}
