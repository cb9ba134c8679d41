package netboxtest

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The change log: like NetBox, every create, update and delete of an object
// made through the API records an ObjectChange, served read-only at
// /api/core/object-changes/ with NetBox 4.7.3's shape and filters.
//
// What is recorded, as in NetBox:
//   - one change per object, also for bulk requests, all with the request's
//     X-Request-Id as request_id;
//   - cascaded deletes (a VM's interfaces and disks, an interface's IP
//     addresses, …) and the updates of objects whose reference to a deleted
//     object becomes null (a VM's primary_ip4 when its IP is deleted) or whose
//     tag list loses a deleted tag, in the same request;
//   - nothing for an update that left the object's data as it was (a PATCH
//     with the current values);
//   - nothing for a request that failed (NetBox rolls the transaction back)
//     and nothing for Seed (no request, like changes made outside NetBox's
//     change-logging context).
//
// Differences: prechange_data/postchange_data hold netboxtest's stored form
// (NetBox's serialize_object: ids for relations, tag names, raw choice
// values, custom_fields; without id, created and last_updated), so fields
// netboxtest does not model are missing and a generic relation
// (assigned_object_type) stays "app.model" where NetBox stores a content type
// id; the order of the changes of one cascade may differ from NetBox's.
const pObjectChanges = "/api/core/object-changes/"

// DefaultUsername is the user the accepted tokens belong to; change records
// carry it as user and user_name.
const (
	DefaultUsername = "admin"
	defaultUserID   = 1
)

// changeLabels are NetBox's labels of ObjectChangeActionChoices.
var changeLabels = map[string]string{"create": "Created", "update": "Updated", "delete": "Deleted"}

// noChangeFields are never part of a change's data (NetBox's serialize_object
// leaves them out).
var noChangeFields = map[string]bool{"id": true, "created": true, "last_updated": true}

// appLabels are the verbose names of the apps in a change's display.
var appLabels = map[string]string{"dcim": "DCIM", "ipam": "IPAM", "vpn": "VPN", "netbox_proxbox": "Proxbox"}

// modelLabels are verbose names NetBox uses in a change's display, where the
// model name alone ("virtualmachine") is not it.
var modelLabels = map[string]string{
	"virtualization.virtualmachine": "virtual machine", "virtualization.vminterface": "interface",
	"virtualization.virtualdisk": "virtual disk", "virtualization.clustertype": "cluster type",
	"virtualization.clustergroup": "cluster group", "dcim.devicetype": "device type", "dcim.devicerole": "device role",
	"dcim.macaddress": "MAC address", "ipam.ipaddress": "IP address", "ipam.vlan": "VLAN", "ipam.vrf": "VRF",
	"extras.customfield": "custom field", "extras.journalentry": "journal entry",
}

// noCustomFields are object types without custom fields (no "custom_fields"
// in their change data).
var noCustomFields = map[string]bool{"extras.tag": true, "extras.customfield": true, "extras.journalentry": true}

// pendingChange is a change of the current request; it becomes an
// ObjectChange when the request succeeds.
type pendingChange struct {
	action    string
	objType   string
	objID     int
	repr      string
	pre, post map[string]any // nil for a create's pre and a delete's post
	time      string
}

// recordChange notes a change of object id in c; pre and post are stored
// objects (nil for create/delete).
func (rc *reqCtx) recordChange(action string, c *coll, id int, pre, post map[string]any) {
	if c.m.path == pObjectChanges {
		return
	}
	pc := pendingChange{action: action, objType: c.m.objType, objID: id, time: rc.n.stamp()}
	obj := post
	if obj == nil {
		obj = pre
	}
	pc.repr = rc.display(c, obj)
	if pre != nil {
		pc.pre = rc.changeData(c, pre)
	}
	if post != nil {
		pc.post = rc.changeData(c, post)
	}
	if action == "update" && reflect.DeepEqual(pc.pre, pc.post) {
		return // NetBox records an update only when the object's data changed
	}
	rc.changes = append(rc.changes, pc)
}

// commitChanges stores the request's changes as ObjectChanges.
func (rc *reqCtx) commitChanges() {
	if len(rc.changes) == 0 {
		return
	}
	oc := rc.n.coll(pObjectChanges)
	for _, pc := range rc.changes {
		id := oc.nextID
		oc.nextID++
		oc.set(id, map[string]any{
			"id": id, "time": pc.time, "user_id": defaultUserID, "user_name": DefaultUsername,
			"request_id": rc.reqID, "action": pc.action, "changed_object_type": pc.objType,
			"changed_object_id": pc.objID, "object_repr": pc.repr, "message": "",
			"prechange_data": pc.pre, "postchange_data": pc.post,
		})
	}
	rc.changes = nil
}

// changeData is o as NetBox's serialize_object stores it in a change.
func (rc *reqCtx) changeData(c *coll, o map[string]any) map[string]any {
	out := make(map[string]any, len(o)+1)
	for k, v := range o {
		if noChangeFields[k] || k == "custom_fields" {
			continue
		}
		if k == "tags" {
			names := []any{}
			ids, _ := v.([]int)
			for _, id := range ids {
				if t := rc.n.colls[pTags].objs[id]; t != nil {
					names = append(names, str(t["name"]))
				} else if name, ok := rc.goneTags[id]; ok { // deleted by this request
					names = append(names, name)
				}
			}
			slices.SortFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			out[k] = names
			continue
		}
		out[k] = deepCopy(v)
	}
	if !noCustomFields[c.m.objType] {
		cf := map[string]any{}
		stored, _ := o["custom_fields"].(map[string]any)
		for k, v := range stored {
			cf[k] = deepCopy(v)
		}
		for _, def := range rc.customFields(c.m.objType) {
			if _, ok := cf[str(def["name"])]; !ok {
				cf[str(def["name"])] = nil
			}
		}
		out["custom_fields"] = cf
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	case []int:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out
	}
	return v
}

// renderChange renders a stored ObjectChange as NetBox 4.7.3 does (brief=
// is ignored, as NetBox does for this endpoint; fields= and omit= apply).
func (rc *reqCtx) renderChange(c *coll, o map[string]any, opts renderOpts) map[string]any {
	id, _ := toInt(o["id"])
	action := str(o["action"])
	objType := str(o["changed_object_type"])
	var changed any
	if tc := rc.n.coll(objTypePath(objType)); tc != nil && objTypePath(objType) != "" {
		if oid, ok := toInt(o["changed_object_id"]); ok && tc.objs[oid] != nil {
			changed = rc.brief(tc, oid)
		}
	}
	data := func(k string) any {
		if m, ok := o[k].(map[string]any); ok && m != nil {
			return m
		}
		return map[string]any{} // NetBox 4.7.3 renders a create's prechange_data and a delete's postchange_data as {}
	}
	out := map[string]any{
		"id": id, "url": rc.objURL(c.m.path, id), "display_url": rc.base + "/core/changelog/" + strconv.Itoa(id) + "/",
		"display": fmt.Sprintf("%s | %s %s %s by %s", appLabel(objType), modelLabel(objType), str(o["object_repr"]),
			strings.ToLower(changeLabels[action]), str(o["user_name"])),
		"time": o["time"],
		"user": map[string]any{"id": o["user_id"], "url": rc.base + "/api/users/users/" + str(o["user_id"]) + "/",
			"display": o["user_name"], "username": o["user_name"]},
		"user_name": o["user_name"], "request_id": o["request_id"],
		"action":              map[string]any{"value": action, "label": changeLabels[action]},
		"changed_object_type": objType, "changed_object_id": o["changed_object_id"], "changed_object": changed,
		"object_repr": o["object_repr"], "message": o["message"],
		"prechange_data": data("prechange_data"), "postchange_data": data("postchange_data"),
	}
	return selectFields(out, renderOpts{fields: opts.fields, omit: opts.omit})
}

func appLabel(objType string) string {
	app, _, _ := strings.Cut(objType, ".")
	if l, ok := appLabels[app]; ok {
		return l
	}
	return label(app)
}

func modelLabel(objType string) string {
	if l, ok := modelLabels[objType]; ok {
		return l
	}
	_, m, _ := strings.Cut(objType, ".")
	return m
}

// changeFilter is the filter set of /api/core/object-changes/ (NetBox
// 4.7.3's ObjectChangeFilterSet). handled is false for the filters the
// generic code serves (id, changed_object_id, object_repr, user_name, action
// lookups); ok false and a non-empty msg is a 400 for key.
func (rc *reqCtx) changeFilter(key, base, op string, vals []string) (p pred, handled bool, errKey, msg string) {
	last := vals[len(vals)-1] // single-valued filters: Django's QueryDict.get takes the last value
	switch base {
	case "time_after", "time_before":
		if op != "" {
			return nil, true, "", "" // no lookups: an unknown filter, ignored
		}
		t, ok := parseFilterTime(last)
		if !ok {
			return nil, true, "time", "Enter a valid date/time." // NetBox names the field, not the filter
		}
		after := base == "time_after"
		return func(o map[string]any) bool {
			ct, err := time.Parse(time.RFC3339Nano, str(o["time"]))
			if err != nil {
				return false
			}
			if after {
				return !ct.Before(t) // time__gte
			}
			return !ct.After(t) // time__lte
		}, true, "", ""
	case "request_id":
		if op != "" {
			return nil, true, "", "" // request_id__n and friends do not exist: ignored
		}
		want, ok := canonicalUUID(last)
		if !ok {
			return nil, true, key, "Enter a valid UUID."
		}
		return func(o map[string]any) bool { return str(o["request_id"]) == want }, true, "", ""
	case "action":
		if op != "" {
			return nil, false, "", ""
		}
		if changeLabels[last] == "" {
			return nil, true, key, fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", last)
		}
		return func(o map[string]any) bool { return str(o["action"]) == last }, true, "", ""
	case "changed_object_type":
		if op != "" && op != "n" {
			return nil, true, "", ""
		}
		// NetBox 4.7.3's ContentTypeFilter ignores the negation of
		// changed_object_type__n: it selects the given types, like
		// changed_object_type. Mirrored here so that code relying on it
		// fails in tests as it fails against NetBox.
		want := map[string]bool{}
		for _, v := range vals {
			want[strings.ToLower(v)] = true
		}
		return func(o map[string]any) bool { return want[str(o["changed_object_type"])] }, true, "", ""
	case "user", "user_id":
		if op != "" && op != "n" {
			return nil, true, "", ""
		}
	}
	switch base {
	case "user":
		return func(o map[string]any) bool { return (op == "n") != slices.Contains(vals, str(o["user_name"])) }, true, "", ""
	case "user_id":
		set, null, err := intSet(splitCSV(vals))
		if err != "" {
			return nil, true, key, err
		}
		return func(o map[string]any) bool { return (op == "n") != idMatch(o["user_id"], set, null) }, true, "", ""
	case "q":
		needle := strings.ToLower(last)
		return func(o map[string]any) bool {
			return strings.Contains(strings.ToLower(str(o["user_name"])), needle) ||
				strings.Contains(strings.ToLower(str(o["object_repr"])), needle)
		}, true, "", ""
	case "changed_object_type_id", "related_object_type", "related_object_id":
		// NetBox has them; netboxtest has no content type ids or related
		// objects. Fail loudly rather than ignore them and return every change.
		return nil, true, key, "netboxtest does not implement this filter of /api/core/object-changes/"
	case "id", "changed_object_id", "object_repr", "user_name":
		return nil, false, "", ""
	}
	return nil, true, "", "" // not a filter of ObjectChange: NetBox ignores it
}

// parseFilterTime parses a datetime as Django's DateTimeField does: ISO 8601
// with "T" or a space, optional seconds fraction and offset, or a date
// alone; without an offset the time is in NetBox's TIME_ZONE (UTC).
func parseFilterTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04Z07:00", "2006-01-02 15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// canonicalUUID returns s as a lowercase hyphenated UUID (Django's UUIDField
// also accepts 32 hex digits without hyphens and upper case).
func canonicalUUID(s string) (string, bool) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(h) != 32 {
		return "", false
	}
	for _, r := range h {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return "", false
		}
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// changeOrdering keeps the ordering keys NetBox accepts for ObjectChange
// (unknown ones are ignored; none left means the default, newest first).
func changeOrdering(keys []string) []string {
	known := map[string]bool{"id": true, "time": true, "user_name": true, "request_id": true, "action": true,
		"changed_object_type": true, "changed_object_id": true, "object_repr": true}
	var out []string
	for _, k := range keys {
		if known[strings.TrimPrefix(strings.TrimSpace(k), "-")] {
			out = append(out, strings.TrimSpace(k))
		}
	}
	if len(out) == 0 {
		return []string{"-time", "-id"}
	}
	return out
}

// readOnlyCollection answers a write to a read-only collection as NetBox does.
func (rc *reqCtx) readOnlyCollection(method string) (int, any) {
	rc.allow = "GET, HEAD, OPTIONS"
	return http.StatusMethodNotAllowed, detail(fmt.Sprintf("Method %q not allowed.", method))
}

// snapshot is a shallow copy of a stored object taken before it changes in place.
func snapshot(o map[string]any) map[string]any { return maps.Clone(o) }
