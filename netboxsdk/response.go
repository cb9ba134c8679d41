package netboxsdk

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Object is an untyped NetBox record.
type Object = map[string]any

// Response describes an HTTP response. Count, Next and Previous are set for list
// responses (Count is -1 when the server omitted it, as cursor pages do).
type Response struct {
	StatusCode int
	Header     http.Header
	Count      int
	Next       string
	Previous   string
	RequestID  string
	// FromCache is true when the response was served from the GET cache.
	FromCache bool
}

// Page is the envelope of a NetBox list response.
type Page[T any] struct {
	Count    *int    `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// Status is the body of /api/status/.
type Status struct {
	NetBoxVersion     string            `json:"netbox-version"`
	NetBoxFullVersion string            `json:"netbox-full-version,omitempty"`
	DjangoVersion     string            `json:"django-version"`
	PythonVersion     string            `json:"python-version"`
	Hostname          string            `json:"hostname,omitempty"`
	InstalledApps     map[string]string `json:"installed-apps"`
	Plugins           map[string]string `json:"plugins"`
	RQWorkersRunning  int               `json:"rq-workers-running"`
}

// Version returns the major and minor NetBox version (0, 0 when unparseable).
func (s *Status) Version() (major, minor int) {
	return parseVersion(s.NetBoxVersion)
}

// AtLeast reports whether the NetBox version is >= major.minor.
func (s *Status) AtLeast(major, minor int) bool {
	ma, mi := s.Version()
	return ma > major || (ma == major && mi >= minor)
}

func parseVersion(v string) (major, minor int) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return ma, mi
}

// Choice is one allowed value of a choice field, as reported by OPTIONS.
type Choice struct {
	Value json.RawMessage `json:"value"` // usually a JSON string; some fields use numbers
	Label string          `json:"display_name"`
}

// String returns the value as text (JSON strings unquoted).
func (c Choice) String() string {
	var s string
	if json.Unmarshal(c.Value, &s) == nil {
		return s
	}
	return string(c.Value)
}

// Ref is the brief form NetBox uses for a related object.
type Ref struct {
	ID          int    `json:"id"`
	URL         string `json:"url,omitempty"`
	Display     string `json:"display,omitempty"`
	Name        string `json:"name,omitempty"`
	Slug        string `json:"slug,omitempty"`
	Description string `json:"description,omitempty"`
}

// ChoiceValue is how NetBox renders a choice field: {"value": "active", "label": "Active"}.
type ChoiceValue struct {
	Value string `json:"value"`
	Label string `json:"label"`
}
