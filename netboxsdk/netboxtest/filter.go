package netboxtest

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var listMeta = map[string]bool{"limit": true, "offset": true, "start": true, "ordering": true, "brief": true,
	"fields": true, "omit": true, "format": true, "exclude": true}

var lookupOps = []string{"n", "ic", "nic", "ie", "nie", "isw", "nisw", "iew", "niew", "empty", "lt", "lte", "gt", "gte", "regex", "iregex"}

type pred func(o map[string]any) bool

// filter returns the objects of c matching the query, ordered by id.
func (rc *reqCtx) filter(c *coll, q url.Values) ([]map[string]any, errMap) {
	var preds []pred
	errs := errMap{}
	for key, vals := range q {
		if listMeta[key] || len(vals) == 0 {
			continue
		}
		if c.m.path == pObjectChanges {
			base, op := splitLookup(key)
			p, handled, errKey, msg := rc.changeFilter(key, base, op, vals)
			if msg != "" {
				errs[errKey] = append(errs[errKey], msg)
				continue
			}
			if handled {
				if p != nil {
					preds = append(preds, p)
				}
				continue
			}
		}
		p, err := rc.predicate(c, key, vals)
		if err != "" {
			errs[key] = append(errs[key], err)
			continue
		}
		if p != nil {
			preds = append(preds, p)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	ids := sortedIDs(c)
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		o := c.objs[id]
		ok := true
		for _, p := range preds {
			if !p(o) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func splitCSV(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

func intSet(vals []string) (map[int]bool, bool, string) {
	set := map[int]bool{}
	null := false
	for _, v := range vals {
		if v == "null" {
			null = true
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, false, fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", v)
		}
		set[n] = true
	}
	return set, null, ""
}

func idMatch(v any, set map[int]bool, null bool) bool {
	if v == nil {
		return null
	}
	id, ok := toInt(v)
	return ok && set[id]
}

// splitLookup splits a filter name into field and lookup ("name__ic" → "name", "ic").
func splitLookup(key string) (base, op string) {
	for _, candidate := range lookupOps {
		if strings.HasSuffix(key, "__"+candidate) {
			return strings.TrimSuffix(key, "__"+candidate), candidate
		}
	}
	return key, ""
}

func (rc *reqCtx) predicate(c *coll, key string, vals []string) (pred, string) {
	base, op := splitLookup(key)
	neg := op == "n"
	wrap := func(p pred) pred {
		if neg {
			return func(o map[string]any) bool { return !p(o) }
		}
		return p
	}
	switch {
	case base == "id" && (op == "" || op == "n"):
		set, null, err := intSet(splitCSV(vals))
		if err != "" {
			return nil, err
		}
		return wrap(func(o map[string]any) bool { return idMatch(o["id"], set, null) }), ""
	case base == "q":
		needle := strings.ToLower(vals[0])
		return func(o map[string]any) bool {
			for _, k := range []string{"name", "slug", "description", "address", "prefix", "model", "dns_name", "serial", "volume_id", "upid", "job_id", "replication_id", "label", "comments"} {
				if strings.Contains(strings.ToLower(str(o[k])), needle) {
					return true
				}
			}
			return false
		}, ""
	case base == "tag" || base == "tag_id":
		tags := rc.n.colls[pTags]
		has := func(o map[string]any, want string) bool {
			ids, _ := o["tags"].([]int)
			for _, id := range ids {
				if t := tags.objs[id]; t != nil && (base == "tag" && str(t["slug"]) == want || base == "tag_id" && strconv.Itoa(id) == want) {
					return true
				}
			}
			return false
		}
		return func(o map[string]any) bool {
			for _, want := range vals {
				if has(o, want) == neg { // tag: every tag required; tag__n: none allowed
					return false
				}
			}
			return true
		}, ""
	case strings.HasPrefix(base, "cf_"):
		name := strings.TrimPrefix(base, "cf_")
		var def map[string]any
		for _, d := range rc.customFields(c.m.objType) {
			if str(d["name"]) == name {
				def = d
			}
		}
		loose := def != nil && str(def["filter_logic"]) != "exact" && (str(def["type"]) == "text" || str(def["type"]) == "longtext" || str(def["type"]) == "url")
		if op == "" && loose {
			op = "ic"
		}
		return wrap(func(o map[string]any) bool {
			cf, _ := o["custom_fields"].(map[string]any)
			return matchValue(cf[name], vals, op)
		}), ""
	}
	if p, ok := rc.specialFilter(c, base, op, vals); ok {
		return wrap(p), ""
	}
	// <fk>_id
	if strings.HasSuffix(base, "_id") && (op == "" || op == "n") {
		fname := strings.TrimSuffix(base, "_id")
		if f, ok := rc.fieldOf(c, fname); ok && (f.kind == kFK || f.kind == kM2M) {
			set, null, err := intSet(splitCSV(vals))
			if err != "" {
				return nil, err
			}
			if f.kind == kM2M {
				return wrap(func(o map[string]any) bool {
					ids, _ := o[fname].([]int)
					for _, id := range ids {
						if set[id] {
							return true
						}
					}
					return len(ids) == 0 && null
				}), ""
			}
			return wrap(func(o map[string]any) bool { return idMatch(o[fname], set, null) }), ""
		}
		// one hop through the parent (cluster_id on VM interfaces, site_id on interfaces, …)
		for _, parent := range []string{"virtual_machine", "device"} {
			pf, ok := rc.fieldOf(c, parent)
			if !ok || pf.kind != kFK || !hasField(rc, c, parent) {
				continue
			}
			pc := rc.n.coll(pf.target)
			if _, ok := rc.fieldOf(pc, fname); !ok {
				continue
			}
			set, null, err := intSet(splitCSV(vals))
			if err != "" {
				return nil, err
			}
			return wrap(func(o map[string]any) bool {
				pid, ok := toInt(o[parent])
				if !ok {
					return false
				}
				po := pc.objs[pid]
				return po != nil && idMatch(po[fname], set, null)
			}), ""
		}
	}
	f, known := rc.fieldOf(c, base)
	if known && f.kind == kFK {
		tc := rc.n.coll(f.target)
		return wrap(func(o map[string]any) bool {
			id, ok := toInt(o[base])
			if o[base] == nil || !ok {
				return slices.Contains(vals, "null")
			}
			t := tc.objs[id]
			for _, v := range vals {
				if strconv.Itoa(id) == v || t != nil && (str(t["slug"]) == v || str(t["name"]) == v) {
					return true
				}
			}
			return false
		}), ""
	}
	if known && f.kind == kM2M {
		return nil, ""
	}
	if known && f.kind == kChoice && len(f.choices) > 0 && op == "" {
		for _, v := range vals {
			if v != "null" && !slices.Contains(f.choices, v) {
				return nil, fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", v)
			}
		}
	}
	if !known && !rc.anyHas(c, base) {
		return nil, "" // NetBox ignores unknown filters
	}
	if op == "n" {
		op = ""
	}
	return wrap(func(o map[string]any) bool { return matchValue(o[base], vals, op) }), ""
}

func hasField(rc *reqCtx, c *coll, name string) bool {
	if _, ok := c.m.fields[name]; ok {
		return true
	}
	return rc.anyHas(c, name) || slices.Contains(c.m.required, name)
}

func (rc *reqCtx) anyHas(c *coll, name string) bool {
	for _, o := range c.objs {
		if _, ok := o[name]; ok {
			return true
		}
	}
	return false
}

// specialFilter handles filters that are not plain fields.
func (rc *reqCtx) specialFilter(c *coll, base, op string, vals []string) (pred, bool) {
	if c.m.path != pIPs {
		if c.m.path == pVMs || c.m.path == pDevices {
			if base == "primary_ip4_id" || base == "primary_ip6_id" {
				return nil, false
			}
		}
		return nil, false
	}
	assigned := func(o map[string]any) (string, map[string]any) {
		t := str(o["assigned_object_type"])
		id, ok := toInt(o["assigned_object_id"])
		if !ok {
			return t, nil
		}
		tc := rc.n.colls[objTypePath(t)]
		if tc == nil {
			return t, nil
		}
		return t, tc.objs[id]
	}
	inVals := func(v any) bool {
		for _, s := range splitCSV(vals) {
			if str(v) == s {
				return true
			}
		}
		return false
	}
	switch base {
	case "address":
		return func(o map[string]any) bool {
			a := str(o["address"])
			host, _, _ := strings.Cut(a, "/")
			for _, v := range vals {
				if strings.Contains(v, "/") {
					if pa, err := netip.ParsePrefix(v); err == nil {
						if pb, err := netip.ParsePrefix(a); err == nil && pa == pb {
							return true
						}
					}
					continue
				}
				if va, err := netip.ParseAddr(v); err == nil {
					if ha, err := netip.ParseAddr(host); err == nil && va == ha {
						return true
					}
				}
			}
			return false
		}, true
	case "parent":
		return func(o map[string]any) bool {
			pa, err := netip.ParsePrefix(str(o["address"]))
			if err != nil {
				return false
			}
			for _, v := range vals {
				if p, err := netip.ParsePrefix(v); err == nil && p.Contains(pa.Addr()) {
					return true
				}
			}
			return false
		}, true
	case "family":
		return func(o map[string]any) bool {
			fam := "4"
			if strings.Contains(str(o["address"]), ":") {
				fam = "6"
			}
			return slices.Contains(vals, fam)
		}, true
	case "vminterface_id", "interface_id":
		want := map[string]string{"vminterface_id": "virtualization.vminterface", "interface_id": "dcim.interface"}[base]
		return func(o map[string]any) bool {
			return str(o["assigned_object_type"]) == want && inVals(o["assigned_object_id"])
		}, true
	case "virtual_machine_id", "device_id":
		want := map[string]string{"virtual_machine_id": "virtualization.vminterface", "device_id": "dcim.interface"}[base]
		parent := strings.TrimSuffix(base, "_id")
		return func(o map[string]any) bool {
			t, iface := assigned(o)
			return t == want && iface != nil && inVals(iface[parent])
		}, true
	case "assigned_object_id":
		return func(o map[string]any) bool { return inVals(o["assigned_object_id"]) }, true
	case "assigned_object_type":
		return func(o map[string]any) bool { return inVals(o["assigned_object_type"]) }, true
	}
	return nil, false
}

// matchValue compares a stored value with the filter values under op.
func matchValue(v any, vals []string, op string) bool {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["id"]; ok {
			v = id
		} else if val, ok := m["value"]; ok {
			v = val
		}
	}
	s := str(v)
	ls := strings.ToLower(s)
	for _, want := range vals {
		lw := strings.ToLower(want)
		var hit bool
		switch op {
		case "":
			if want == "null" {
				hit = v == nil
			} else if b, ok := v.(bool); ok {
				hit = strings.EqualFold(want, strconv.FormatBool(b))
			} else {
				hit = v != nil && s == want
			}
		case "ie":
			hit = ls == lw
		case "nie":
			hit = ls != lw
		case "ic":
			hit = strings.Contains(ls, lw)
		case "nic":
			hit = !strings.Contains(ls, lw)
		case "isw":
			hit = strings.HasPrefix(ls, lw)
		case "nisw":
			hit = !strings.HasPrefix(ls, lw)
		case "iew":
			hit = strings.HasSuffix(ls, lw)
		case "niew":
			hit = !strings.HasSuffix(ls, lw)
		case "empty":
			hit = (s == "") == (lw == "true")
		case "regex", "iregex":
			expr := want
			if op == "iregex" {
				expr = "(?i)" + expr
			}
			if re, err := regexp.Compile(expr); err == nil {
				hit = re.MatchString(s)
			}
		case "lt", "lte", "gt", "gte":
			a, aok := toFloat(v)
			b, err := strconv.ParseFloat(want, 64)
			if aok && err == nil {
				hit = op == "lt" && a < b || op == "lte" && a <= b || op == "gt" && a > b || op == "gte" && a >= b
			} else {
				c := strings.Compare(s, want)
				hit = op == "lt" && c < 0 || op == "lte" && c <= 0 || op == "gt" && c > 0 || op == "gte" && c >= 0
			}
		}
		if hit {
			return true
		}
	}
	return false
}
