package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// ParseBool parses a query boolean case-insensitively: the plugin sends
// Python's "True" as well as "true"/"false" (plugin-contract §1.3).
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on", "t", "y":
		return true, nil
	case "0", "false", "no", "off", "f", "n", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// ParseIntList parses "1,2,3" (also repeated parameters); empty items are
// skipped. At most 1000 ids.
func ParseIntList(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid id %q", f)
			}
			out = append(out, n)
			if len(out) > 1000 {
				return nil, errors.New("too many ids")
			}
		}
	}
	return out, nil
}

// ParseStageParams reads the stage query (plugin-contract §4). Unknown
// parameters are ignored; malformed known ones are an error (422).
func ParseStageParams(q url.Values) (proxbox.StageParams, error) {
	p := proxbox.DefaultStageParams()
	boolParam := func(name string, dst *bool) error {
		if v, ok := q[name]; ok && len(v) > 0 {
			b, err := ParseBool(v[len(v)-1])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*dst = b
		}
		return nil
	}
	for name, dst := range map[string]*bool{
		"use_guest_agent_interface_name":   &p.UseGuestAgentInterfaceName,
		"ignore_ipv6_link_local_addresses": &p.IgnoreIPv6LinkLocal,
		"sync_vm_network":                  &p.SyncVMNetwork,
		"delete_nonexistent_backup":        &p.DeleteNonexistentBackup,
		"delete_nonexistent_snapshot":      &p.DeleteNonexistentSnapshot,
		"dry_run":                          &p.DryRun,
	} {
		if err := boolParam(name, dst); err != nil {
			return p, err
		}
	}
	if v := strings.TrimSpace(q.Get("fetch_max_concurrency")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("fetch_max_concurrency: want an integer >= 1, got %q", v)
		}
		p.FetchMaxConcurrency = min(n, 64)
	}
	if v := strings.ToLower(strings.TrimSpace(q.Get("primary_ip_preference"))); v != "" {
		if v != "ipv4" && v != "ipv6" {
			return p, fmt.Errorf("primary_ip_preference: want ipv4 or ipv6, got %q", v)
		}
		p.PrimaryIPPreference = v
	}
	var err error
	if p.ProxmoxEndpointIDs, err = ParseIntList(q["proxmox_endpoint_ids"]); err != nil {
		return p, fmt.Errorf("proxmox_endpoint_ids: %w", err)
	}
	if p.NetBoxEndpointIDs, err = ParseIntList(q["netbox_endpoint_ids"]); err != nil {
		return p, fmt.Errorf("netbox_endpoint_ids: %w", err)
	}
	if p.NetBoxVMIDs, err = ParseIntList(q["netbox_vm_ids"]); err != nil {
		return p, fmt.Errorf("netbox_vm_ids: %w", err)
	}
	return p, nil
}

// decodeJSON decodes one JSON object body into dst. Bodies are limited by the
// body-limit middleware; errors become 400/413 with a detail.
func decodeJSON(c echo.Context, dst any) error {
	r := c.Request()
	if r.Body == nil {
		return fail(c, http.StatusBadRequest, "request body required")
	}
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return fail(c, http.StatusRequestEntityTooLarge, "request body too large")
	}
	if err != nil {
		return fail(c, http.StatusBadRequest, "cannot read request body")
	}
	return decodeJSONBytes(c, body, dst)
}

func decodeJSONBytes(c echo.Context, body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return fail(c, http.StatusBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return fail(c, http.StatusBadRequest, "malformed JSON body: "+jsonErrText(err))
	}
	if dec.More() {
		return fail(c, http.StatusBadRequest, "malformed JSON body: trailing data")
	}
	return nil
}

func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	return "invalid JSON"
}

// errHandled marks an error response that was already written.
var errHandled = errors.New("handled")

// fail writes a JSON error and returns errHandled, so callers can simply
// `return err`.
func fail(c echo.Context, code int, detail string) error {
	_ = jsonError(c, code, detail)
	return errHandled
}

func pathInt(c echo.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if err != nil || n < 0 {
		return 0, fail(c, http.StatusUnprocessableEntity, fmt.Sprintf("path parameter %s must be a non-negative integer", name))
	}
	return n, nil
}
