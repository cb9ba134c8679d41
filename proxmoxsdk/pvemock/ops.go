package pvemock

import (
	"encoding/json"
	"strings"
	"sync"
)

// Operation is one (method, path) of the PVE schema with the JSON schema of
// its "data" (nil when it returns null) and the PVE versions that have it.
type Operation struct {
	Method, Path string
	Versions     []string
	Returns      json.RawMessage
}

var (
	opsMu      sync.Mutex
	schemaOps  []Operation
	defaultIdx *opIndex
)

// RegisterOperations adds schema operations answered generically (the
// generated pve.Operations table is registered by ops_pve.go).
func RegisterOperations(ops []Operation) {
	opsMu.Lock()
	defer opsMu.Unlock()
	schemaOps = append(schemaOps, ops...)
	defaultIdx = nil
}

// Operations returns the registered schema operations.
func Operations() []Operation {
	opsMu.Lock()
	defer opsMu.Unlock()
	return append([]Operation(nil), schemaOps...)
}

type indexedOp struct {
	Operation
	segs     []string
	literals int
	schema   any
}

type opIndex struct {
	byKey map[string][]*indexedOp // method + segment count
}

func defaultOps() *opIndex {
	opsMu.Lock()
	defer opsMu.Unlock()
	if defaultIdx != nil {
		return defaultIdx
	}
	idx := &opIndex{byKey: map[string][]*indexedOp{}}
	for _, o := range schemaOps {
		io := &indexedOp{Operation: o, segs: splitTmpl(o.Path)}
		if o.Path == "/" {
			io.segs = nil
		}
		for _, s := range io.segs {
			if !strings.HasPrefix(s, "{") {
				io.literals++
			}
		}
		if len(o.Returns) > 0 && string(o.Returns) != "null" {
			_ = json.Unmarshal(o.Returns, &io.schema)
		}
		k := opKey(o.Method, len(io.segs))
		idx.byKey[k] = append(idx.byKey[k], io)
	}
	defaultIdx = idx
	return idx
}

func opKey(method string, n int) string { return method + "/" + string(rune('0'+n)) }

// find returns the operation whose template matches best (most literal
// segments).
// Among equals, the one the scenario's version has wins (8.1 and 9.1 name
// some path parameters differently).
func (x *opIndex) find(method string, segs []string, version string) (*indexedOp, map[string]string, bool) {
	var best *indexedOp
	var bestVars map[string]string
	bestHas := false
	for _, o := range x.byKey[opKey(method, len(segs))] {
		vars, ok := match(o.segs, segs)
		if !ok {
			continue
		}
		has := o.hasVersion(version)
		if best == nil || o.literals > best.literals || o.literals == best.literals && has && !bestHas {
			best, bestVars, bestHas = o, vars, has
		}
	}
	return best, bestVars, best != nil
}

// hasVersion reports whether the op exists in the scenario's PVE release
// (ops without a version list exist everywhere).
func (o *indexedOp) hasVersion(version string) bool {
	if len(o.Versions) == 0 {
		return true
	}
	for _, v := range o.Versions {
		if strings.HasPrefix(version+".", v+".") || version == v {
			return true
		}
	}
	return false
}
