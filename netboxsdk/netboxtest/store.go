package netboxtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var readOnly = map[string]bool{"id": true, "url": true, "display": true, "display_url": true, "created": true,
	"last_updated": true, "family": true, "_occupied": true, "cable": true, "assigned_object": true,
	"primary_ip": true, "interface_count": true, "virtual_disk_count": true, "device_count": true,
	"virtualmachine_count": true, "tagged_items": true, "singleton_key": true}

// fieldOf returns the spec of field name in c (model field, else a common FK/M2M).
func (rc *reqCtx) fieldOf(c *coll, name string) (field, bool) {
	if f, ok := c.m.fields[name]; ok {
		return f, true
	}
	if t, ok := commonFK[name]; ok {
		return field{kind: kFK, target: t, nullable: true}, true
	}
	if t, ok := commonM2M[name]; ok {
		return field{kind: kM2M, target: t}, true
	}
	return field{}, false
}

// apply validates input in against base (nil for a create) and returns the new
// stored form, or the field errors.
func (rc *reqCtx) apply(c *coll, base, in map[string]any) (map[string]any, errMap) {
	full := base == nil || base["last_updated"] == nil
	o := map[string]any{}
	if base != nil {
		maps.Copy(o, base)
		if cf, ok := base["custom_fields"].(map[string]any); ok {
			o["custom_fields"] = maps.Clone(cf)
		}
	}
	errs := errMap{}
	for k, v := range in {
		if readOnly[k] {
			continue
		}
		if k == "custom_fields" {
			rc.applyCF(c, o, v, errs)
			continue
		}
		if sv, isStr := v.(string); isStr {
			// DRF's CharField strips leading and trailing whitespace.
			sv = strings.TrimSpace(sv)
			v = sv
			if limit := maxLengths[c.m.path][k]; limit > 0 && utf8.RuneCountInString(sv) > limit {
				errs[k] = append(errs[k], fmt.Sprintf("Ensure this field has no more than %d characters.", limit))
				continue
			}
		}
		f, ok := rc.fieldOf(c, k)
		if !ok {
			o[k] = normNumber(v)
			continue
		}
		if v == nil {
			if slices.Contains(c.m.required, k) {
				errs[k] = append(errs[k], "This field may not be null.")
				continue
			}
			if f.kind == kM2M || f.notNull {
				errs[k] = append(errs[k], "This field may not be null.")
				continue
			}
			o[k] = nil
			continue
		}
		if f.notBlank {
			if l, ok := v.([]any); ok && len(l) == 0 {
				errs[k] = append(errs[k], "This field cannot be blank.")
				continue
			}
		}
		switch f.kind {
		case kFK:
			id, msg := rc.resolveRef(f.target, v)
			if msg != "" {
				errs[k] = append(errs[k], msg)
				continue
			}
			o[k] = id
		case kM2M:
			list, ok := v.([]any)
			if !ok {
				errs[k] = append(errs[k], fmt.Sprintf("Expected a list of items but got type %q.", jsonType(v)))
				continue
			}
			ids := []int{}
			for _, it := range list {
				id, msg := rc.resolveRef(f.target, it)
				if msg != "" {
					errs[k] = append(errs[k], msg)
					continue
				}
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			o[k] = ids
		case kChoice:
			s, ok := v.(string)
			if m, isMap := v.(map[string]any); isMap {
				s, ok = m["value"].(string)
			}
			if !ok || (len(f.choices) > 0 && !slices.Contains(f.choices, s)) {
				errs[k] = append(errs[k], fmt.Sprintf("%q is not a valid choice.", str(v)))
				continue
			}
			if s == "" && len(f.choices) == 0 {
				errs[k] = append(errs[k], "This field may not be blank.")
				continue
			}
			o[k] = s
		case kInt:
			n, ok := toInt(v)
			if _, isStr := v.(string); !ok || isStr {
				errs[k] = append(errs[k], "A valid integer is required.")
				continue
			}
			o[k] = n
		default:
			o[k] = normNumber(v)
		}
	}
	if full {
		for name, f := range c.m.fields {
			if _, ok := o[name]; !ok && f.def != nil {
				o[name] = cloneDefault(f.def)
			}
		}
		for _, def := range rc.customFields(c.m.objType) {
			name := str(def["name"])
			cf, _ := o["custom_fields"].(map[string]any)
			if cf == nil {
				cf = map[string]any{}
				o["custom_fields"] = cf
			}
			if _, ok := cf[name]; !ok && def["default"] != nil {
				cf[name] = def["default"]
			}
		}
		for _, r := range c.m.required {
			if _, bad := errs[r]; bad {
				continue
			}
			if v, ok := o[r]; !ok || v == nil || v == "" {
				if _, given := in[r]; given && v == "" {
					errs[r] = append(errs[r], "This field may not be blank.")
				} else {
					errs[r] = append(errs[r], "This field is required.")
				}
			}
		}
	} else {
		for _, r := range c.m.required {
			if v, given := in[r]; given && v == "" && errs[r] == nil {
				errs[r] = append(errs[r], "This field may not be blank.")
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	id, _ := toInt(o["id"])
	if c.m.validate != nil {
		if e := c.m.validate(rc.n, o, id); len(e) > 0 {
			return nil, e
		}
	}
	if e := rc.checkUnique(c, o, id); e != nil {
		return nil, e
	}
	return o, nil
}

func cloneDefault(v any) any {
	switch t := v.(type) {
	case []any:
		return slices.Clone(t)
	case map[string]any:
		return maps.Clone(t)
	}
	return v
}

// normNumber turns json.Number into int or float64 for storage.
func normNumber(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(t.String()); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normNumber(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normNumber(e)
		}
		return out
	}
	return v
}

// resolveRef turns an id or a dict of attributes into the id of an object of target.
func (rc *reqCtx) resolveRef(target string, v any) (int, string) {
	tc := rc.n.coll(target)
	switch t := v.(type) {
	case map[string]any:
		if id, ok := toInt(t["id"]); ok && len(t) == 1 {
			v = id
			break
		}
		if tc == nil {
			return 0, "Related object not found using the provided attributes: " + str(t)
		}
		var found []int
		for _, id := range sortedIDs(tc) {
			o := tc.objs[id]
			match := true
			for k, want := range t {
				if k == "id" {
					if i, _ := toInt(want); i != id {
						match = false
					}
					continue
				}
				if str(o[k]) != str(want) {
					match = false
				}
			}
			if match {
				found = append(found, id)
			}
		}
		switch len(found) {
		case 0:
			return 0, "Related object not found using the provided attributes: " + str(t)
		case 1:
			return found[0], ""
		}
		return 0, "Multiple objects match the provided attributes: " + str(t)
	}
	id, ok := toInt(v)
	if _, isStr := v.(string); !ok || isStr {
		return 0, fmt.Sprintf("Related objects must be referenced by numeric ID or by dictionary of attributes. Received an unrecognized value: %s", str(v))
	}
	if tc == nil || tc.objs[id] == nil {
		return 0, fmt.Sprintf("Related object not found using the provided numeric ID: %d", id)
	}
	return id, ""
}

// customFields returns the custom field definitions that apply to objType.
func (rc *reqCtx) customFields(objType string) []map[string]any {
	if rc.cfs == nil {
		rc.cfs = map[string][]map[string]any{}
		cfc := rc.n.colls[pCustomField]
		for _, id := range sortedIDs(cfc) {
			def := cfc.objs[id]
			ots, _ := def["object_types"].([]any)
			for _, ot := range ots {
				rc.cfs[str(ot)] = append(rc.cfs[str(ot)], def)
			}
		}
	}
	return rc.cfs[objType]
}

func (rc *reqCtx) applyCF(c *coll, o map[string]any, v any, errs errMap) {
	in, ok := v.(map[string]any)
	if !ok {
		errs["custom_fields"] = append(errs["custom_fields"], "Invalid data format. Custom field data must be passed as a dictionary mapping field names to their values.")
		return
	}
	defs := map[string]map[string]any{}
	for _, d := range rc.customFields(c.m.objType) {
		defs[str(d["name"])] = d
	}
	cf, _ := o["custom_fields"].(map[string]any)
	if cf == nil {
		cf = map[string]any{}
	} else {
		cf = maps.Clone(cf)
	}
	for name, val := range in {
		def, ok := defs[name]
		if !ok {
			// NetBox 4.7: {"custom_fields": {"<name>": "Custom field '<name>' does not exist for this object type."}}
			errs[cfErrPrefix+name] = append(errs[cfErrPrefix+name], fmt.Sprintf("Custom field '%s' does not exist for this object type.", name))
			continue
		}
		if val == nil {
			cf[name] = nil
			continue
		}
		typ := str(def["type"])
		bad := ""
		switch typ {
		case "integer":
			if _, isStr := val.(string); isStr {
				bad = "Value must be an integer."
			} else if n, ok := toInt(val); !ok {
				bad = "Value must be an integer."
			} else {
				val = n
			}
		case "decimal":
			if _, ok := toFloat(val); !ok {
				bad = "Value must be a decimal."
			} else {
				val = normNumber(val)
			}
		case "boolean":
			if _, ok := val.(bool); !ok {
				bad = "Value must be true or false."
			}
		case "text", "longtext", "url", "date", "datetime", "select":
			if _, ok := val.(string); !ok {
				bad = "Value must be a string."
			}
		case "object":
			if m, ok := val.(map[string]any); ok {
				val = m["id"]
			}
			if id, ok := toInt(val); ok {
				val = id
			} else {
				bad = "Value must be an object ID."
			}
		default:
			val = normNumber(val)
		}
		if bad != "" {
			// NetBox 4.7 reports a wrong value type from the model's clean(): "__all__".
			errs["__all__"] = append(errs["__all__"], fmt.Sprintf("Invalid value for custom field '%s': %s", name, bad))
			continue
		}
		cf[name] = val
	}
	o["custom_fields"] = cf
}

// checkUnique enforces the model's unique sets against the other objects.
func (rc *reqCtx) checkUnique(c *coll, o map[string]any, selfID int) errMap {
	idx := c.index()
	for i, set := range c.m.unique {
		k, ok := uniqueKey(set, o)
		if !ok {
			continue
		}
		for _, other := range idx[i][k] {
			if other == selfID {
				continue
			}
			msg := fmt.Sprintf("The fields %s must make a unique set.", strings.Join(set, ", "))
			if i < len(c.m.uniqMsg) {
				msg = c.m.uniqMsg[i]
			}
			key := "non_field_errors"
			if len(set) == 1 {
				key = set[0]
			}
			return errMap{key: {msg}}
		}
	}
	return nil
}

// uniqueKey is the case-folded key of o for a unique set; false when the set does
// not apply (a NULL parent or name, as SQL treats NULLs as distinct).
func uniqueKey(set []string, o map[string]any) (string, bool) {
	if len(set) > 1 && (o[set[0]] == nil || o[set[len(set)-1]] == nil) {
		return "", false
	}
	if len(set) == 1 && (o[set[0]] == nil || o[set[0]] == "") {
		return "", false
	}
	var b strings.Builder
	for _, f := range set {
		b.WriteString(strings.ToLower(str(o[f])))
		b.WriteByte(0)
	}
	return b.String(), true
}

// index returns the unique-set indexes, building them on first use.
func (c *coll) index() []map[string][]int {
	if c.uidx == nil {
		c.uidx = make([]map[string][]int, len(c.m.unique))
		for i := range c.uidx {
			c.uidx[i] = map[string][]int{}
		}
		for id, o := range c.objs {
			c.indexAdd(id, o)
		}
	}
	return c.uidx
}

func (c *coll) indexAdd(id int, o map[string]any) {
	for i, set := range c.m.unique {
		if k, ok := uniqueKey(set, o); ok {
			c.uidx[i][k] = append(c.uidx[i][k], id)
		}
	}
}

func (c *coll) indexDel(id int, o map[string]any) {
	for i, set := range c.m.unique {
		if k, ok := uniqueKey(set, o); ok {
			c.uidx[i][k] = slices.DeleteFunc(c.uidx[i][k], func(x int) bool { return x == id })
			if len(c.uidx[i][k]) == 0 {
				delete(c.uidx[i], k)
			}
		}
	}
}

// set stores o under id, keeping the unique index current.
func (c *coll) set(id int, o map[string]any) {
	c.index()
	if old, ok := c.objs[id]; ok {
		c.indexDel(id, old)
	}
	c.objs[id] = o
	c.indexAdd(id, o)
}

// del removes id.
func (c *coll) del(id int) {
	c.index()
	if old, ok := c.objs[id]; ok {
		c.indexDel(id, old)
		delete(c.objs, id)
	}
}

// ---- rendering

func (rc *reqCtx) objURL(path string, id int) string {
	return rc.base + path + strconv.Itoa(id) + "/"
}

func (rc *reqCtx) display(c *coll, o map[string]any) string {
	if c.m.display != nil {
		return c.m.display(o)
	}
	for _, k := range []string{"name", "model", "address", "prefix", "slug"} {
		if s := str(o[k]); s != "" {
			return s
		}
	}
	return fmt.Sprintf("%s %v", c.m.objType, o["id"])
}

func (rc *reqCtx) brief(c *coll, id int) any {
	o, ok := c.objs[id]
	if !ok {
		return map[string]any{"id": id}
	}
	out := map[string]any{"id": id, "url": rc.objURL(c.m.path, id), "display_url": rc.uiURL(c.m.path, id), "display": rc.display(c, o)}
	fields := c.m.brief
	if fields == nil {
		fields = []string{"name", "slug", "description"}
	}
	for _, f := range fields {
		if v, ok := rc.renderField(c, o, f, true); ok {
			out[f] = v
		}
	}
	return out
}

func (rc *reqCtx) uiURL(path string, id int) string {
	return rc.base + strings.TrimPrefix(path, "/api") + strconv.Itoa(id) + "/"
}

// renderField renders one field of o; nested relations are rendered brief
// (one level only when nestedBrief).
func (rc *reqCtx) renderField(c *coll, o map[string]any, name string, nested bool) (any, bool) {
	switch name {
	case "family":
		a := str(o["address"])
		if a == "" {
			a = str(o["prefix"])
		}
		if a == "" {
			return nil, false
		}
		if strings.Contains(a, ":") {
			return map[string]any{"value": 6, "label": "IPv6"}, true
		}
		return map[string]any{"value": 4, "label": "IPv4"}, true
	}
	v, present := o[name]
	f, known := rc.fieldOf(c, name)
	if !present {
		if known && f.def != nil {
			v = f.def
		} else if known && f.kind == kFK {
			return nil, true
		} else {
			return nil, false
		}
	}
	if !known {
		return v, true
	}
	switch f.kind {
	case kFK:
		id, ok := toInt(v)
		if !ok || v == nil {
			return nil, true
		}
		tc := rc.n.colls[f.target]
		if tc == nil {
			return map[string]any{"id": id}, true
		}
		return rc.brief(tc, id), true
	case kM2M:
		ids, _ := v.([]int)
		tc := rc.n.colls[f.target]
		out := make([]any, 0, len(ids))
		for _, id := range ids {
			if tc == nil {
				out = append(out, map[string]any{"id": id})
			} else {
				out = append(out, rc.brief(tc, id))
			}
		}
		return out, true
	case kChoice:
		if v == nil || v == "" {
			return nil, true
		}
		return map[string]any{"value": v, "label": label(str(v))}, true
	}
	return v, true
}

func (rc *reqCtx) render(c *coll, o map[string]any, opts renderOpts) map[string]any {
	if c.m.path == pObjectChanges {
		return rc.renderChange(c, o, opts)
	}
	id, _ := toInt(o["id"])
	if opts.brief {
		b := rc.brief(c, id).(map[string]any)
		return selectFields(b, opts)
	}
	out := map[string]any{"id": id, "url": rc.objURL(c.m.path, id), "display_url": rc.uiURL(c.m.path, id), "display": rc.display(c, o)}
	for name := range c.m.fields {
		if v, ok := rc.renderField(c, o, name, true); ok {
			out[name] = v
		}
	}
	for name := range o {
		if name == "custom_fields" || name == "id" {
			continue
		}
		if v, ok := rc.renderField(c, o, name, true); ok {
			out[name] = v
		}
	}
	if _, ok := out["tags"]; !ok {
		out["tags"] = []any{}
	}
	cf := map[string]any{}
	stored, _ := o["custom_fields"].(map[string]any)
	for _, def := range rc.customFields(c.m.objType) {
		name := str(def["name"])
		val := stored[name]
		if str(def["type"]) == "object" && val != nil {
			if tc := rc.n.coll(objTypePath(str(def["related_object_type"]))); tc != nil {
				if id, ok := toInt(val); ok {
					val = rc.brief(tc, id)
				}
			}
		}
		cf[name] = val
	}
	out["custom_fields"] = cf
	switch c.m.path {
	case pIPs:
		out["family"], _ = rc.renderField(c, o, "family", true)
		out["assigned_object"] = rc.assignedObject(o)
	case "/api/ipam/prefixes/":
		out["family"], _ = rc.renderField(c, o, "family", true)
	case pVMs, pDevices:
		out["primary_ip"] = out["primary_ip4"]
		if out["primary_ip"] == nil {
			out["primary_ip"] = out["primary_ip6"]
		}
	}
	return selectFields(out, opts)
}

func (rc *reqCtx) assignedObject(o map[string]any) any {
	t := str(o["assigned_object_type"])
	id, ok := toInt(o["assigned_object_id"])
	if t == "" || !ok {
		return nil
	}
	tc := rc.n.coll(objTypePath(t))
	if tc == nil {
		return nil
	}
	return rc.brief(tc, id)
}

// objTypePath maps "app.model" to a collection path for the models we know.
func objTypePath(t string) string {
	for _, m := range builtinModelIndex() {
		if m.objType == t {
			return m.path
		}
	}
	return ""
}

var modelIndexCache []*model

func builtinModelIndex() []*model {
	if modelIndexCache == nil {
		modelIndexCache = builtinModels()
	}
	return modelIndexCache
}

func selectFields(out map[string]any, opts renderOpts) map[string]any {
	if len(opts.fields) > 0 {
		sel := map[string]any{}
		for _, f := range opts.fields {
			top, sub, nested := strings.Cut(strings.TrimSpace(f), ".")
			v, ok := out[top]
			if !ok {
				continue
			}
			if nested {
				if m, ok := v.(map[string]any); ok {
					cur, _ := sel[top].(map[string]any)
					if cur == nil {
						cur = map[string]any{}
					}
					if sv, ok := m[sub]; ok {
						cur[sub] = sv
					}
					sel[top] = cur
					continue
				}
			}
			sel[top] = v
		}
		out = sel
	}
	for _, f := range opts.omit {
		delete(out, strings.TrimSpace(f))
	}
	return out
}

// ---- model validators

func validatePrimaryIP(kind, ifacePath string) func(n *NetBox, o map[string]any, id int) map[string][]string {
	return func(n *NetBox, o map[string]any, id int) map[string][]string {
		for _, f := range []string{"primary_ip4", "primary_ip6"} {
			ipID, ok := toInt(o[f])
			if !ok || o[f] == nil {
				continue
			}
			ip := n.colls[pIPs].objs[ipID]
			if ip == nil {
				continue
			}
			fam := "4"
			if strings.Contains(str(ip["address"]), ":") {
				fam = "6"
			}
			if f[len(f)-1:] != fam {
				return errMap{f: {fmt.Sprintf("%s is not an IPv%s address.", str(ip["address"]), f[len(f)-1:])}}
			}
			ok = false
			ifType := "dcim.interface"
			parentField := "device"
			if kind == "vm" {
				ifType, parentField = "virtualization.vminterface", "virtual_machine"
			}
			if str(ip["assigned_object_type"]) == ifType {
				if ifID, ok2 := toInt(ip["assigned_object_id"]); ok2 {
					if iface := n.colls[ifacePath].objs[ifID]; iface != nil {
						if p, _ := toInt(iface[parentField]); p == id && id != 0 {
							ok = true
						}
					}
				}
			}
			if !ok {
				return errMap{f: {fmt.Sprintf("The specified IP address (%s) is not assigned to this %s.", str(ip["address"]), map[string]string{"vm": "VM", "device": "device"}[kind])}}
			}
		}
		return nil
	}
}

func validateVM(n *NetBox, o map[string]any, id int) map[string][]string {
	if o["site"] == nil && o["cluster"] == nil {
		return errMap{"__all__": {"A virtual machine must be assigned to a site and/or cluster."}}
	}
	if c, ok := toInt(o["cluster"]); ok && o["cluster"] != nil && o["site"] != nil {
		cl := n.colls[pClusters].objs[c]
		if cl != nil && str(cl["scope_type"]) == "dcim.site" {
			if s, _ := toInt(cl["scope_id"]); s != 0 {
				if vs, _ := toInt(o["site"]); vs != s {
					return errMap{"cluster": {"The selected cluster is not assigned to this site."}}
				}
			}
		}
	}
	return validatePrimaryIP("vm", pVMIfaces)(n, o, id)
}

func validateIP(n *NetBox, o map[string]any, id int) map[string][]string {
	a := str(o["address"])
	p, err := netip.ParsePrefix(a)
	if err != nil {
		return errMap{"address": {fmt.Sprintf("Invalid IP address format: %s", a)}}
	}
	t := str(o["assigned_object_type"])
	if t != "" || o["assigned_object_id"] != nil {
		if t != "dcim.interface" && t != "virtualization.vminterface" && t != "ipam.fhrpgroup" {
			return errMap{"assigned_object_type": {fmt.Sprintf("%q is not a valid choice.", t)}}
		}
		aid, ok := toInt(o["assigned_object_id"])
		if !ok {
			return errMap{"assigned_object_id": {"This field is required."}}
		}
		if tc := n.colls[objTypePath(t)]; tc == nil || tc.objs[aid] == nil {
			return errMap{"assigned_object_id": {fmt.Sprintf("Related object not found using the provided numeric ID: %d", aid)}}
		}
	}
	return duplicateIP(n, o, id, p.Addr())
}

// nonUniqueRoles may share an address (NetBox's IPADDRESS_ROLES_NONUNIQUE).
var nonUniqueRoles = map[string]bool{"anycast": true, "vip": true, "vrrp": true, "hsrp": true, "glbp": true, "carp": true}

// duplicateIP applies NetBox's unique IP space: in the global table
// (ENFORCE_GLOBAL_UNIQUE, on by default) and in a VRF with enforce_unique,
// an address whose host part another IP of the same VRF has is refused,
// whatever the masks, unless both are of a non-unique role.
func duplicateIP(n *NetBox, o map[string]any, id int, host netip.Addr) map[string][]string {
	vrf, inVRF := toInt(o["vrf"]) // no VRF: 0, false
	table := "global table"
	if inVRF {
		v := n.colls["/api/ipam/vrfs/"].objs[vrf]
		if v == nil || v["enforce_unique"] == false {
			return nil
		}
		table = "VRF " + str(v["name"])
	}
	for oid, other := range n.colls[pIPs].objs {
		if ov, oin := toInt(other["vrf"]); oid == id || oin != inVRF || ov != vrf {
			continue
		}
		op, err := netip.ParsePrefix(str(other["address"]))
		if err != nil || op.Addr() != host {
			continue
		}
		if !nonUniqueRoles[str(o["role"])] || !nonUniqueRoles[str(other["role"])] {
			return errMap{"address": {fmt.Sprintf("Duplicate IP address found in %s: %s", table, o["address"])}}
		}
	}
	return nil
}

func validatePrefix(n *NetBox, o map[string]any, id int) map[string][]string {
	a := str(o["prefix"])
	p, err := netip.ParsePrefix(a)
	if err != nil {
		return errMap{"prefix": {fmt.Sprintf("Invalid IP prefix format: %s", a)}}
	}
	if p.Masked() != p {
		return errMap{"prefix": {fmt.Sprintf("%s is not a valid prefix. Did you mean %s?", a, p.Masked())}}
	}
	return nil
}

func validateVLAN(n *NetBox, o map[string]any, id int) map[string][]string {
	v, _ := toInt(o["vid"])
	if v < 1 || v > 4094 {
		return errMap{"vid": {"Ensure this value is less than or equal to 4094."}}
	}
	return nil
}

func validateCustomField(n *NetBox, o map[string]any, id int) map[string][]string {
	name := str(o["name"])
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errMap{"name": {"Only alphanumeric characters and underscores are allowed."}}
		}
	}
	ots, ok := o["object_types"].([]any)
	if !ok || len(ots) == 0 {
		return errMap{"object_types": {"This list may not be empty."}}
	}
	if str(o["type"]) == "object" && o["related_object_type"] == nil {
		return errMap{"related_object_type": {"Object fields must define an object type."}}
	}
	return nil
}
