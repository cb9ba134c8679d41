package proxmoxsdk

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Sentinel errors. An *APIError matches them with errors.Is according to its
// status code and message, so callers never compare status codes by hand.
var (
	// ErrNotFound: HTTP 404, or HTTP 500 whose message says the object does
	// not exist (PVE reports a missing guest config as a 500).
	ErrNotFound = errors.New("proxmox: not found")
	// ErrPermission: HTTP 403 (permission check failed).
	ErrPermission = errors.New("proxmox: permission denied")
	// ErrAuth: HTTP 401, or a login that failed.
	ErrAuth = errors.New("proxmox: authentication failed")
	// ErrParameter: HTTP 400 (parameter verification failed); the PVE
	// per-parameter messages are in APIError.Errors.
	ErrParameter = errors.New("proxmox: parameter verification failed")
	// ErrNotImplemented: HTTP 501 (unknown path or method on this version).
	ErrNotImplemented = errors.New("proxmox: method not implemented")
	// ErrNodeUnreachable: HTTP 595/596 from pveproxy when a cluster node
	// cannot be reached.
	ErrNodeUnreachable = errors.New("proxmox: node unreachable")
	// ErrTFARequired: the login asks for a second factor and no TOTP source
	// was configured.
	ErrTFARequired = errors.New("proxmox: second factor required")
	// ErrTaskFailed: a task ended with an exit status other than OK.
	ErrTaskFailed = errors.New("proxmox: task failed")
)

// APIError is a non-2xx answer of the PVE API.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	// Message is PVE's message (the HTTP reason phrase, or the body
	// "message", or pvesh's stderr).
	Message string
	// Errors is PVE's per-parameter "errors" map (HTTP 400).
	Errors map[string]string
	// Body is the raw response body (never contains credentials).
	Body []byte
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxmox: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Message != "" {
		b.WriteString(" ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		keys := make([]string, 0, len(e.Errors))
		for k := range e.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(e.Errors[k])
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is maps the status code and message to the sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || (e.StatusCode == http.StatusInternalServerError && isNotFoundMessage(e.Message))
	case ErrPermission:
		return e.StatusCode == http.StatusForbidden
	case ErrAuth:
		return e.StatusCode == http.StatusUnauthorized
	case ErrParameter:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotImplemented:
		return e.StatusCode == http.StatusNotImplemented
	case ErrNodeUnreachable:
		return e.StatusCode == 595 || e.StatusCode == 596
	}
	return false
}

// Temporary reports whether retrying the same idempotent request may succeed:
// 408, 429 (the server refused the request unprocessed) and 5xx, except 501
// and PVE's definitive 500s (an object that does not exist, a guest or its
// QEMU guest agent that is not running).
func (e *APIError) Temporary() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout:
		return true
	case e.StatusCode < 500 || e.StatusCode == http.StatusNotImplemented:
		return false
	}
	return !errors.Is(e, ErrNotFound) && !isGuestStateMessage(e.Message)
}

// isGuestStateMessage matches PVE's answers about a guest's state ("VM 100 is
// not running", "CT 100 not running", "QEMU guest agent is not running", "No
// QEMU guest agent configured"): retrying within seconds does not change them.
func isGuestStateMessage(m string) bool {
	m = strings.ToLower(strings.TrimSpace(m))
	if strings.Contains(m, "guest agent") && (strings.Contains(m, "not running") || strings.Contains(m, "configured")) {
		return true
	}
	return (strings.HasPrefix(m, "vm ") || strings.HasPrefix(m, "ct ")) && strings.Contains(m, "not running")
}

func isNotFoundMessage(m string) bool {
	m = strings.ToLower(m)
	for _, s := range []string{"does not exist", "not found", "no such", "unable to find"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// TaskError is returned by WaitTask when a task ends with an exit status
// other than OK. errors.Is(err, ErrTaskFailed) holds.
type TaskError struct {
	UPID       string
	ExitStatus string
	// LogTail holds the last lines of the task log.
	LogTail []string
}

func (e *TaskError) Error() string {
	msg := fmt.Sprintf("proxmox: task %s failed: %s", e.UPID, e.ExitStatus)
	if len(e.LogTail) > 0 {
		msg += "\n" + strings.Join(e.LogTail, "\n")
	}
	return msg
}

// Is makes errors.Is(err, ErrTaskFailed) true.
func (e *TaskError) Is(target error) bool { return target == ErrTaskFailed }
