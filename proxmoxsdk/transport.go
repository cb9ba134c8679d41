package proxmoxsdk

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Transport carries one API request to a PVE host and returns its answer.
// Implementations: HTTPS (the default), SSH and local pvesh (command
// transports), and pvemock's in-process transport.
type Transport interface {
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(ctx context.Context, req *Request) (*Response, error)

// RoundTrip calls f.
func (f TransportFunc) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}

// Request is one API call. Path is relative to /api2/json ("/nodes/pve1/qemu")
// with each segment escaped as by url.PathEscape (see JoinPath).
type Request struct {
	Method string
	Path   string
	Params url.Values
	// Header carries authentication (Authorization, Cookie,
	// CSRFPreventionToken). Command transports ignore it.
	Header http.Header
}

// Response is the raw answer: Body is the whole PVE envelope
// {"data":…,"errors":…}.
type Response struct {
	StatusCode int
	// Status is the HTTP reason phrase; PVE puts its error message there.
	Status string
	Body   []byte
	Header http.Header
}

// JoinPath builds an API path from raw segments, escaping each one, so a
// volume id such as "local:iso/x.iso" stays one segment.
func JoinPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// SplitPath splits an escaped API path into its unescaped segments.
func SplitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if u, err := url.PathUnescape(s); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// isIdempotent reports whether a request may be retried.
func isIdempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}
