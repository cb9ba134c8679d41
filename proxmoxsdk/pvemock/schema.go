package pvemock

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// generic answers a schema operation without stateful handler with data
// generated from its return schema, deterministic per concrete path.
func (m *Mock) generic(op *indexedOp, c *call) *proxmoxsdk.Response {
	if !op.hasVersion(m.sc.Version) {
		return errResp(http.StatusNotImplemented, "Method '"+c.req.Method+" /api2/json"+c.req.Path+"' not implemented", nil)
	}
	if op.schema == nil {
		return okResp(nil)
	}
	if c.req.Method != http.MethodGet && schemaType(asMap(op.schema)) == "string" {
		// Asynchronous PVE calls answer a task id; make it a real task so
		// WaitTask works. (Caller holds the write lock.)
		typ := "pvemock"
		for i := len(op.segs) - 1; i >= 0; i-- {
			if !strings.HasPrefix(op.segs[i], "{") {
				typ = strings.NewReplacer("_", "", "-", "").Replace(op.segs[i])
				break
			}
		}
		return okResp(m.newTaskLocked(nodeOr(c.vars["node"]), typ, c.vars["vmid"], "OK", 0))
	}
	h := fnv.New64a()
	h.Write([]byte(c.req.Method + " " + c.req.Path))
	g := &valueGen{m: m, c: c, rng: rand.New(rand.NewPCG(h.Sum64(), uint64(m.sc.Seed)))}
	return okResp(g.value(op.schema, "", 0))
}

type valueGen struct {
	m   *Mock
	c   *call
	rng *rand.Rand
}

func asMap(s any) map[string]any { m, _ := s.(map[string]any); return m }

// schemaType resolves the JSON type of a schema node.
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, e := range t {
			if str, ok := e.(string); ok && str != "null" {
				return str
			}
		}
		return "null"
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	if _, ok := s["items"]; ok {
		return "array"
	}
	if _, ok := s["enum"]; ok {
		return "string"
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			return schemaType(asMap(alts[0]))
		}
	}
	return "any"
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func (g *valueGen) value(s any, field string, depth int) any {
	sm := asMap(s)
	if sm == nil {
		return nil
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := sm[k].([]any); ok && len(alts) > 0 {
			return g.value(alts[0], field, depth)
		}
	}
	if e, ok := sm["enum"].([]any); ok && len(e) > 0 {
		return e[g.rng.IntN(len(e))]
	}
	switch schemaType(sm) {
	case "null":
		return nil
	case "boolean":
		return g.rng.IntN(2) // PVE encodes booleans as 0/1
	case "integer":
		return g.integer(sm, field)
	case "number":
		lo, hi := 0.0, 100.0
		if v, ok := num(sm["minimum"]); ok {
			lo = v
		}
		if v, ok := num(sm["maximum"]); ok {
			hi = v
		}
		return lo + float64(g.rng.IntN(1000))/1000*(hi-lo)
	case "string":
		return g.str(sm, field)
	case "array":
		n := 2
		if depth > 2 {
			n = 1
		}
		if it := sm["items"]; it != nil {
			out := make([]any, 0, n)
			for i := 0; i < n; i++ {
				out = append(out, g.value(it, field, depth+1))
			}
			return out
		}
		return []any{}
	case "object":
		props := asMap(sm["properties"])
		out := make(map[string]any, len(props))
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if depth > 6 {
				break
			}
			out[k] = g.value(props[k], k, depth+1)
		}
		return out
	}
	return g.str(sm, field) // "any": a string is always acceptable
}

func (g *valueGen) integer(sm map[string]any, field string) any {
	if v, ok := g.c.vars[field]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	lo, hi := 0, 1000
	switch field {
	case "vmid":
		lo, hi = 100, 999
	case "port":
		lo, hi = 1024, 65535
	}
	if v, ok := num(sm["minimum"]); ok {
		lo = int(v)
		if hi < lo {
			hi = lo + 1000
		}
	}
	if v, ok := num(sm["maximum"]); ok {
		hi = int(v)
		if lo > hi {
			lo = hi
		}
	}
	if hi <= lo {
		return lo
	}
	return lo + g.rng.IntN(hi-lo+1)
}

// patternExamples are tried, in order, when a string schema has a pattern
// the hint does not match.
var patternExamples = []string{
	"https://acme.example.internal/directory", "none", "10G", "1", "0", "acl;properties", "pve1", "vmbr0", "local", "root@pam",
	"5E:3C:99:0A:6B:21:4D:7F:80:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34",
	"10.10.0.11", "10.10.0.0/24", "2001:db8::1", "BC:24:11:00:00:01", "0000:01:00.0", "qemu", "enabled=1", "100", "a1",
}

func (g *valueGen) str(sm map[string]any, field string) string {
	out := g.hint(sm, field)
	if p, ok := sm["pattern"].(string); ok {
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil && !re.MatchString(out) {
			for _, ex := range patternExamples {
				if re.MatchString(ex) {
					out = ex
					break
				}
			}
		}
	}
	if v, ok := num(sm["maxLength"]); ok && len(out) > int(v) {
		out = out[:int(v)]
	}
	if v, ok := num(sm["minLength"]); ok {
		for len(out) < int(v) {
			out += "x"
		}
	}
	return out
}

func (g *valueGen) hint(sm map[string]any, field string) string {
	if v, ok := g.c.vars[field]; ok {
		return v
	}
	f := strings.ToLower(field)
	format, _ := sm["format"].(string)
	switch {
	case f == "node" || format == "pve-node":
		if n := g.c.vars["node"]; n != "" {
			return n
		}
		return "pve1"
	case f == "upid":
		return upid(nodeOr(g.c.vars["node"]), 4242, 123456, g.m.sc.Epoch.Unix(), "qmstart", "100", "root@pam")
	case f == "digest":
		return digest(g.c.req.Path, field)
	case f == "storage" || format == "pve-storage-id":
		return "local-lvm"
	case strings.Contains(f, "mac") || format == "mac-addr":
		return fmt.Sprintf("BC:24:11:%02X:%02X:%02X", g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256))
	case f == "cidr" || format == "CIDR" || format == "CIDRv4":
		return fmt.Sprintf("10.%d.%d.0/24", g.rng.IntN(250), g.rng.IntN(250))
	case f == "ip" || strings.HasSuffix(f, "address") || format == "ip" || format == "ipv4":
		return fmt.Sprintf("10.10.%d.%d", g.rng.IntN(250), 2+g.rng.IntN(250))
	case format == "ipv6" || f == "cidr6" || f == "address6":
		return fmt.Sprintf("2001:db8::%x", g.rng.IntN(65535))
	case f == "userid" || f == "user" || format == "pve-userid":
		return "root@pam"
	case f == "realm" || format == "pve-realm":
		return "pam"
	case f == "type":
		return "qemu"
	case f == "status" || f == "state":
		return "ok"
	case f == "name" || f == "hostname":
		return fmt.Sprintf("%s-%02d", roles[g.rng.IntN(len(roles))], 1+g.rng.IntN(20))
	case f == "vmid" || format == "pve-vmid":
		return strconv.Itoa(100 + g.rng.IntN(80))
	case f == "pool" || format == "pve-poolid":
		return "production"
	case f == "bridge":
		return "vmbr0"
	case f == "iface":
		return "vmbr0"
	case f == "version":
		return g.m.sc.Version
	case strings.HasSuffix(f, "url"):
		return "https://pve.example.internal:8006"
	case strings.Contains(f, "comment") || strings.Contains(f, "description"):
		return "generated by pvemock"
	case f == "":
		return "ok"
	}
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(field, "_", "-"), 1+g.rng.IntN(9))
}

func nodeOr(n string) string {
	if n == "" {
		return "pve1"
	}
	return n
}
