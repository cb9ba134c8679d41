package netboxsdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Sentinel errors. Every *APIError matches the sentinel of its status code with
// errors.Is; ErrMultiple is returned by GetBy when more than one object matches.
var (
	ErrNotFound     = errors.New("netbox: not found")
	ErrMultiple     = errors.New("netbox: more than one object matches")
	ErrConflict     = errors.New("netbox: conflict")
	ErrUnauthorized = errors.New("netbox: unauthorized")
	ErrForbidden    = errors.New("netbox: forbidden")
	ErrRateLimited  = errors.New("netbox: rate limited")
	// ErrValidation matches a 400 response (NetBox validation errors).
	ErrValidation = errors.New("netbox: validation failed")
	// ErrUnknownFilter is returned before any request when a strict filter names a
	// filter the collection does not have.
	ErrUnknownFilter = errors.New("netbox: unknown filter")
)

// APIError is a non-2xx response from NetBox.
type APIError struct {
	Method     string
	URL        string // request URL (never contains credentials)
	StatusCode int
	// Fields holds NetBox's validation errors by field ({"name": ["…"]}). Nested
	// errors are flattened with dots ("custom_fields.proxmox_vm_id"); errors of a bulk
	// request are prefixed with the item index ("[3].name").
	Fields map[string][]string
	// Items holds the per-item errors of a bulk create, in request order (an empty
	// map for items without errors); nil for single-object requests.
	Items []map[string][]string
	// ItemsByID holds the per-object errors of a bulk PATCH, PUT or DELETE by
	// object id: NetBox 4.7 names the failing objects by id, not by position
	// ({"errors": [{"id": 8, "errors": {"status": ["…"]}}]}).
	ItemsByID map[int]map[string][]string
	Detail    string // "detail" (or "error") of the body, or the body when it is not JSON
	RequestID string // X-Request-Id response header
	Body      []byte // response body, with the token redacted
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netbox: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(strings.Join(e.Fields[k], " "))
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Is maps the status code to the package sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.bulkNotFound()
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// FieldError returns the first error message of field ("" if none).
func (e *APIError) FieldError(field string) string {
	if v := e.Fields[field]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseErrorBody fills Fields/Items/Detail from a NetBox error body.
func (e *APIError) parseErrorBody(body []byte) {
	trim := strings.TrimSpace(string(body))
	if trim == "" {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		if len(trim) > 512 {
			trim = trim[:512] + "…"
		}
		if strings.HasPrefix(trim, "<") {
			trim = "non-JSON (HTML) response"
		}
		e.Detail = trim
		return
	}
	fields := map[string][]string{}
	switch t := v.(type) {
	case map[string]any:
		// NetBox 4.7 bulk shapes: {"detail": "1 of 2 objects could not be
		// created.", "errors": [{"index": 1, "errors": {"slug": [...]}}]}, and
		// {"id": 8, ...} entries instead of "index" for bulk PATCH/PUT/DELETE.
		if byIndex, ok := keyedItemErrors(t["errors"], "index"); ok {
			e.Detail, _ = t["detail"].(string)
			maxIndex := -1
			for i := range byIndex {
				maxIndex = max(maxIndex, i)
			}
			e.Items = make([]map[string][]string, maxIndex+1)
			for i := range e.Items {
				if e.Items[i] = byIndex[i]; e.Items[i] == nil {
					e.Items[i] = map[string][]string{}
				}
			}
			addItemFields(fields, byIndex, "[")
			break
		}
		if byID, ok := keyedItemErrors(t["errors"], "id"); ok {
			e.Detail, _ = t["detail"].(string)
			e.ItemsByID = byID
			addItemFields(fields, byID, "[id=")
			break
		}
		for _, k := range []string{"detail", "error"} {
			if s, ok := t[k].(string); ok {
				e.Detail = s
				delete(t, k)
				break
			}
		}
		if e.Detail != "" {
			// 500 bodies carry exception/netbox_version/python_version; keep them out of Fields.
			delete(t, "exception")
			delete(t, "netbox_version")
			delete(t, "python_version")
		}
		flattenErrors("", t, fields)
	case []any:
		allStrings := true
		for _, it := range t {
			if _, ok := it.(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			msgs := make([]string, 0, len(t))
			for _, it := range t {
				msgs = append(msgs, it.(string))
			}
			e.Detail = strings.Join(msgs, " ")
			break
		}
		e.Items = make([]map[string][]string, len(t))
		for i, it := range t {
			item := map[string][]string{}
			flattenErrors("", it, item)
			e.Items[i] = item
			for k, msgs := range item {
				fields["["+strconv.Itoa(i)+"]."+k] = msgs
			}
		}
	case string:
		e.Detail = t
	}
	if len(fields) > 0 {
		e.Fields = fields
	}
}

func flattenErrors(prefix string, v any, out map[string][]string) {
	key := prefix
	if key == "" {
		key = "non_field_errors"
	}
	switch t := v.(type) {
	case map[string]any:
		for k, sub := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flattenErrors(p, sub, out)
		}
	case []any:
		for i, sub := range t {
			switch s := sub.(type) {
			case string:
				out[key] = append(out[key], s)
			case nil:
			default:
				flattenErrors(key+"["+strconv.Itoa(i)+"]", s, out)
			}
		}
	case string:
		out[key] = append(out[key], t)
	case nil:
	default:
		b, _ := json.Marshal(t)
		out[key] = append(out[key], string(b))
	}
}

// sizeItems pads Items with empty maps to the n objects of the bulk request,
// so that Items[i] is always the error of request object i (NetBox 4.7 names
// only the failing ones).
func (e *APIError) sizeItems(n int) {
	if len(e.Items) == 0 || n <= len(e.Items) || n > 1e6 {
		return
	}
	for len(e.Items) < n {
		e.Items = append(e.Items, map[string][]string{})
	}
}

// keyedItemErrors decodes NetBox 4.7's per-item bulk errors, a list of
// {key: n, "errors": {...}} (key "index" for creates, "id" for updates and
// deletes), into flattened errors by n. ok is false for any other shape.
func keyedItemErrors(v any, key string) (map[int]map[string][]string, bool) {
	list, isList := v.([]any)
	if !isList || len(list) == 0 {
		return nil, false
	}
	out := map[int]map[string][]string{}
	for _, it := range list {
		m, isMap := it.(map[string]any)
		if !isMap {
			return nil, false
		}
		f, isNum := m[key].(float64)
		if !isNum || f < 0 || f != float64(int(f)) || (key == "index" && f > 1e6) {
			return nil, false
		}
		item := map[string][]string{}
		flattenErrors("", m["errors"], item)
		out[int(f)] = item
	}
	return out, true
}

// addItemFields copies per-item errors into Fields as "<prefix>n].field".
func addItemFields(fields map[string][]string, items map[int]map[string][]string, prefix string) {
	for n, item := range items {
		for k, msgs := range item {
			fields[prefix+strconv.Itoa(n)+"]."+k] = msgs
		}
	}
}

// bulkNotFound reports a NetBox 4.7 bulk PATCH/PUT/DELETE that failed only
// because objects do not exist: a 400 whose every per-object error is on "id"
// ({"errors": [{"id": 9, "errors": {"id": ["Object with ID 9 does not exist"]}}]}).
// Older NetBox versions answer such requests with a 404.
func (e *APIError) bulkNotFound() bool {
	if e.StatusCode != http.StatusBadRequest || len(e.ItemsByID) == 0 {
		return false
	}
	for _, item := range e.ItemsByID {
		if len(item) != 1 || len(item["id"]) == 0 {
			return false
		}
		for _, msg := range item["id"] {
			if !strings.Contains(msg, "does not exist") {
				return false
			}
		}
	}
	return true
}
