package proxmoxsdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// CommandError reports a command transport that could not run pvesh at all
// (binary missing, bad parameter name). It is never retried.
type CommandError struct {
	Command string
	Err     error
}

func (e *CommandError) Error() string {
	var se *SSHError
	if errors.As(e.Err, &se) {
		return se.Error() // says it all; no second prefix
	}
	return fmt.Sprintf("proxmox: %s: %v", e.Command, e.Err)
}
func (e *CommandError) Unwrap() error { return e.Err }

var pveshVerbs = map[string]string{
	http.MethodGet:    "get",
	http.MethodPost:   "create",
	http.MethodPut:    "set",
	http.MethodDelete: "delete",
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-\[\]]*$`)

// PveshArgs maps a request onto pvesh arguments:
// <get|create|set|delete> <path> --output-format json [--key value…].
func PveshArgs(req *Request) ([]string, error) {
	verb, ok := pveshVerbs[req.Method]
	if !ok {
		return nil, &CommandError{Command: "pvesh", Err: fmt.Errorf("method %s has no pvesh verb", req.Method)}
	}
	path := "/" + strings.Join(SplitPath(req.Path), "/")
	args := []string{verb, path, "--output-format", "json"}
	keys := make([]string, 0, len(req.Params))
	for k := range req.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !paramNameRE.MatchString(k) || k == "output-format" {
			return nil, &CommandError{Command: "pvesh", Err: fmt.Errorf("invalid parameter name %q", k)}
		}
		for _, v := range req.Params[k] {
			args = append(args, "--"+k, v)
		}
	}
	return args, nil
}

var statusLineRE = regexp.MustCompile(`^(\d{3})\s+(.*)$`)

// PveshResponse turns the outcome of a pvesh run into a Response with the
// PVE envelope: stdout is the data; on a non-zero exit the status comes
// from a leading "NNN message" line of stderr (else 500), and following
// "param: message" lines become the errors map.
func PveshResponse(stdout, stderr []byte, exitCode int) *Response {
	if exitCode == 0 {
		out := bytes.TrimSpace(stdout)
		var body []byte
		switch {
		case len(out) == 0:
			body = []byte(`{"data":null}`)
		case json.Valid(out):
			body = make([]byte, 0, len(out)+10)
			body = append(body, `{"data":`...)
			body = append(body, out...)
			body = append(body, '}')
		default:
			s, _ := json.Marshal(string(out))
			body = append(append([]byte(`{"data":`), s...), '}')
		}
		return &Response{StatusCode: http.StatusOK, Body: body, Header: http.Header{}}
	}
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	code, msg := http.StatusInternalServerError, strings.TrimSpace(lines[0])
	if m := statusLineRE.FindStringSubmatch(msg); m != nil {
		if c, err := strconv.Atoi(m[1]); err == nil && c >= 400 && c < 600 {
			code, msg = c, m[2]
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("pvesh exited with status %d", exitCode)
	}
	errs := map[string]string{}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok && paramNameRE.MatchString(strings.TrimSpace(k)) {
			errs[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	env := map[string]any{"data": nil, "message": msg}
	if len(errs) > 0 {
		env["errors"] = errs
	}
	body, _ := json.Marshal(env)
	return &Response{StatusCode: code, Status: msg, Body: body, Header: http.Header{}}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes and joins a command line.
func ShellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
