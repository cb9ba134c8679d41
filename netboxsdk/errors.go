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
		if items, ok := indexedItemErrors(t["errors"]); ok {
			// NetBox 4.7 bulk shape: {"detail": "1 of 2 objects could not be
			// created.", "errors": [{"index": 1, "errors": {"slug": [...]}}]}.
			e.Detail, _ = t["detail"].(string)
			e.Items = items
			for i, item := range items {
				for k, msgs := range item {
					fields["["+strconv.Itoa(i)+"]."+k] = msgs
				}
			}
			break
		}
		if byID, ok := idItemErrors(t["errors"]); ok {
			e.Detail, _ = t["detail"].(string)
			e.ItemsByID = byID
			for id, item := range byID {
				for k, msgs := range item {
					fields["[id="+strconv.Itoa(id)+"]."+k] = msgs
				}
			}
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

// indexedItemErrors decodes NetBox 4.7's per-item bulk errors, a list of
// {"index": i, "errors": {...}}, into one map per item up to the highest
// index (items NetBox did not name get an empty map). ok is false for any
// other shape.
func indexedItemErrors(v any) (items []map[string][]string, ok bool) {
	list, isList := v.([]any)
	if !isList || len(list) == 0 {
		return nil, false
	}
	byIndex := map[int]map[string][]string{}
	maxIndex := -1
	for _, it := range list {
		m, isMap := it.(map[string]any)
		if !isMap {
			return nil, false
		}
		f, isNum := m["index"].(float64)
		if !isNum || f < 0 || f != float64(int(f)) || f > 1e6 {
			return nil, false
		}
		i := int(f)
		item := map[string][]string{}
		flattenErrors("", m["errors"], item)
		byIndex[i] = item
		maxIndex = max(maxIndex, i)
	}
	items = make([]map[string][]string, maxIndex+1)
	for i := range items {
		if item, found := byIndex[i]; found {
			items[i] = item
		} else {
			items[i] = map[string][]string{}
		}
	}
	return items, true
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

// idItemErrors decodes NetBox 4.7's per-object bulk update and delete errors,
// a list of {"id": n, "errors": {...}}. ok is false for any other shape.
func idItemErrors(v any) (byID map[int]map[string][]string, ok bool) {
	list, isList := v.([]any)
	if !isList || len(list) == 0 {
		return nil, false
	}
	byID = map[int]map[string][]string{}
	for _, it := range list {
		m, isMap := it.(map[string]any)
		if !isMap {
			return nil, false
		}
		f, isNum := m["id"].(float64)
		if !isNum || f != float64(int(f)) {
			return nil, false
		}
		item := map[string][]string{}
		flattenErrors("", m["errors"], item)
		byID[int(f)] = item
	}
	return byID, true
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
