package main

import (
	"regexp"
	"strings"
	"unicode"
)

// camel turns a PVE name or path segment into an exported Go-style word:
// every run of characters other than ASCII letters and digits separates
// words, each word gets an upper-case first letter, the rest is kept.
// "get-fsinfo" -> "GetFsinfo", "{vmid}" -> "Vmid", "node_id" -> "NodeId".
// A result that would start with a digit gets the prefix "N".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		isAlnum := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !isAlnum {
			up = true
			continue
		}
		if up {
			b.WriteRune(unicode.ToUpper(r))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "N" + out
	}
	return out
}

// methodWord is the operationId prefix of an HTTP method.
func methodWord(method string) string {
	m := strings.ToLower(method)
	return camel(m)
}

// operationID is method + CamelCase of every path segment, braces removed:
// GET /nodes/{node}/qemu/{vmid}/config -> GetNodesNodeQemuVmidConfig.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(methodWord(method))
	for _, seg := range splitPath(path) {
		b.WriteString(camel(seg))
	}
	return b.String()
}

func splitPath(path string) []string {
	p := strings.Trim(path, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

var paramSegRe = regexp.MustCompile(`^\{([^{}]+)\}$`)

// pathParams returns the names of the {x} segments of a path, in order.
func pathParams(path string) []string {
	var out []string
	for _, seg := range splitPath(path) {
		if m := paramSegRe.FindStringSubmatch(seg); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// tagOf is the first path segment, or nodes-<third segment> below
// /nodes/{node}/.
func tagOf(path string) string {
	segs := splitPath(path)
	if len(segs) == 0 {
		return "root"
	}
	if segs[0] == "nodes" && len(segs) >= 3 {
		return "nodes-" + segs[2]
	}
	return segs[0]
}

// indexedRe matches indexed property names such as net[n] or scsi[n].
var indexedRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)\[n\]$`)

// placeholderRe matches placeholder property names such as {id} or {node}.
var placeholderRe = regexp.MustCompile(`^\{[^{}]+\}$`)
