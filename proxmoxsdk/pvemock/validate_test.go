package pvemock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// validate checks v against the subset of JSON Schema the PVE return
// schemas use: type (PVE booleans may be 0/1), enum, properties, required,
// patternProperties, additionalProperties, items, minimum/maximum,
// minLength/maxLength, pattern (when RE2 can compile it), oneOf/anyOf.
func validate(schema any, v any, at string) []string {
	s, _ := schema.(map[string]any)
	if s == nil {
		return nil
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[k].([]any); ok {
			for _, a := range alts {
				if len(validate(a, v, at)) == 0 {
					return nil
				}
			}
			return []string{at + ": matches no alternative of " + k}
		}
	}
	if e, ok := s["enum"].([]any); ok && v != nil {
		found := false
		for _, x := range e {
			if fmt.Sprint(x) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			return []string{fmt.Sprintf("%s: %v not in enum %v", at, v, e)}
		}
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, fmt.Sprint(x))
		}
	}
	if len(types) == 0 {
		switch {
		case s["properties"] != nil:
			types = []string{"object"}
		case s["items"] != nil:
			types = []string{"array"}
		default:
			return nil
		}
	}
	var errs []string
	for _, t := range types {
		if e := validateType(s, t, v, at); e == nil {
			return nil
		} else if errs == nil {
			errs = e
		}
	}
	return errs
}

func validateType(s map[string]any, t string, v any, at string) []string {
	bad := []string{fmt.Sprintf("%s: %T %v is not %s", at, v, short(v), t)}
	switch t {
	case "null":
		if v != nil {
			return bad
		}
	case "boolean":
		switch x := v.(type) {
		case bool:
		case json.Number:
			if x != "0" && x != "1" {
				return bad
			}
		default:
			return bad
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return bad
		}
		f, err := n.Float64()
		if err != nil || t == "integer" && strings.ContainsAny(string(n), ".eE") {
			return bad
		}
		if m, ok := s["minimum"].(float64); ok && f < m {
			return []string{fmt.Sprintf("%s: %v < minimum %v", at, f, m)}
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			return []string{fmt.Sprintf("%s: %v > maximum %v", at, f, m)}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad
		}
		if m, ok := s["maxLength"].(float64); ok && len(str) > int(m) {
			return []string{fmt.Sprintf("%s: longer than %v", at, m)}
		}
		if m, ok := s["minLength"].(float64); ok && len(str) < int(m) {
			return []string{fmt.Sprintf("%s: shorter than %v", at, m)}
		}
		if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil && !re.MatchString(str) {
				return []string{fmt.Sprintf("%s: %q does not match %s", at, str, p)}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return bad
		}
		var errs []string
		for i, e := range arr {
			errs = append(errs, validate(s["items"], e, fmt.Sprintf("%s[%d]", at, i))...)
		}
		return errs
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return bad
		}
		var errs []string
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: missing required %q", at, r))
				}
			}
		}
		pats, _ := s["patternProperties"].(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				errs = append(errs, validate(ps, obj[k], at+"."+k)...)
				continue
			}
			matched := false
			for p, ps := range pats {
				if re, err := regexp.Compile(p); err == nil && re.MatchString(k) {
					matched = true
					errs = append(errs, validate(ps, obj[k], at+"."+k)...)
				}
			}
			if matched {
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap && props != nil {
					errs = append(errs, fmt.Sprintf("%s: unexpected property %q", at, k))
				}
			case map[string]any:
				errs = append(errs, validate(ap, obj[k], at+"."+k)...)
			}
		}
		return errs
	}
	return nil
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// fixture picks path parameter values that exist in the scenario.
type fixture struct {
	qemu, lxc int
	upid, job string
}

func newFixture(t *testing.T, m *pvemock.Mock) fixture {
	t.Helper()
	ctx := context.Background()
	px, _ := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	f := fixture{}
	type g struct {
		VMID   int    `json:"vmid"`
		Status string `json:"status"`
	}
	qs, _ := proxmoxsdk.GetList[g](ctx, px, "/nodes/pve1/qemu", nil)
	for _, q := range qs {
		var cfg map[string]any
		_ = px.Call(ctx, "GET", fmt.Sprintf("/nodes/pve1/qemu/%d/config", q.VMID), nil, &cfg)
		if q.Status == "running" && cfg["agent"] != nil {
			f.qemu = q.VMID
			break
		}
	}
	ls, _ := proxmoxsdk.GetList[g](ctx, px, "/nodes/pve1/lxc", nil)
	for _, l := range ls {
		if l.Status == "running" {
			f.lxc = l.VMID
			break
		}
	}
	type tk struct {
		UPID string `json:"upid"`
	}
	ts, _ := proxmoxsdk.GetList[tk](ctx, px, "/nodes/pve1/tasks", nil)
	type job struct {
		ID string `json:"id"`
	}
	js, _ := proxmoxsdk.GetList[job](ctx, px, "/cluster/backup", nil)
	if f.qemu == 0 || f.lxc == 0 || len(ts) == 0 || len(js) == 0 {
		t.Fatalf("scenario lacks fixtures: %+v", f)
	}
	f.upid, f.job = ts[0].UPID, js[0].ID
	return f
}

func (f fixture) fill(tmpl string) string {
	segs := strings.Split(strings.Trim(tmpl, "/"), "/")
	out := make([]string, len(segs))
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			out[i] = s
			continue
		}
		name := strings.Trim(s, "{}")
		prev := ""
		if i > 0 {
			prev = segs[i-1]
		}
		v := "test"
		switch name {
		case "node":
			v = "pve1"
		case "vmid":
			v = fmt.Sprint(f.qemu)
			if prev == "lxc" {
				v = fmt.Sprint(f.lxc)
			}
		case "storage":
			v = "local"
		case "volume":
			v = "local:iso/debian-12.7.0-amd64-netinst.iso"
		case "iface":
			v = "vmbr0"
		case "upid":
			v = f.upid
		case "snapname":
			v = "before-upgrade"
		case "id":
			switch prev {
			case "replication":
				v = "100-0"
			case "backup":
				v = f.job
			}
		}
		out[i] = url.PathEscape(v)
	}
	return "/" + strings.Join(out, "/")
}

// TestEveryGETValidates: every GET of the 8.1 ∪ 9.1 schema, with path
// parameters taken from the scenario, answers with data that validates
// against its return schema.
func TestEveryGETValidates(t *testing.T) {
	ops := pvemock.Operations()
	if len(ops) < 600 {
		t.Fatalf("only %d operations registered", len(ops))
	}
	mocks := map[string]*pvemock.Mock{}
	fixtures := map[string]fixture{}
	for _, v := range []string{"8.1", "9.1"} {
		sc := pvemock.S100()
		sc.Version = v + ".2"
		mocks[v] = pvemock.New(sc)
		fixtures[v] = newFixture(t, mocks[v])
	}
	ctx := context.Background()
	gets, failed := 0, 0
	for _, op := range ops {
		if op.Method != "GET" {
			continue
		}
		gets++
		ver := op.Versions[0]
		m := mocks[ver]
		p := fixtures[ver].fill(op.Path)
		resp, err := m.Transport().RoundTrip(ctx, &proxmoxsdk.Request{Method: "GET", Path: p})
		if err != nil || resp.StatusCode != 200 {
			failed++
			t.Errorf("GET %s (%s): status %v %s", p, op.Path, err, resp.Body)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(resp.Body))
		dec.UseNumber()
		var env struct {
			Data any `json:"data"`
		}
		if err := dec.Decode(&env); err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		var schema any
		if len(op.Returns) > 0 {
			if err := json.Unmarshal(op.Returns, &schema); err != nil {
				t.Fatalf("%s: schema: %v", op.Path, err)
			}
		} else if env.Data != nil {
			t.Errorf("GET %s: schema says null, got %s", p, short(env.Data))
		}
		if errs := validate(schema, env.Data, "data"); len(errs) > 0 {
			failed++
			if len(errs) > 5 {
				errs = append(errs[:5], fmt.Sprintf("… %d more", len(errs)-5))
			}
			t.Errorf("GET %s (%s):\n  %s", p, op.Path, strings.Join(errs, "\n  "))
		}
	}
	t.Logf("%d GET operations checked, %d failed", gets, failed)
	if gets < 300 {
		t.Fatalf("only %d GET operations", gets)
	}
}
