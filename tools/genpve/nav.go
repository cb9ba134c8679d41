package main

import (
	"fmt"
	"go/token"
	"regexp"
	"strings"
	"unicode"
)

// navNode is one node of the navigator: a path the chain can stop at.
type navNode struct {
	Type      string // Go type; "" for the root (*Client)
	Path      string // template path, e.g. /nodes/{node}
	Accessors []*accessor
	Ops       []navOp
}

// accessor is a method that moves from a node to a child node.
type accessor struct {
	Name      string
	Param     string // Go parameter name; "" when the step has none
	ParamType string // "string" or "int"
	Expr      string // Go expression appended to the parent path
	Target    *navNode
}

// navOp is one operation method on a node.
type navOp struct {
	Verb string
	operation
}

// step is one accessor in the chain of a path.
type step struct {
	name, param, paramName, static string
	path                           string // template path after the step
}

var verbs = map[string]string{"GET": "Get", "POST": "Post", "PUT": "Put", "DELETE": "Delete"}

// reserved are the method names every node already has.
var reserved = map[string]bool{"Get": true, "Post": true, "Put": true, "Delete": true,
	"GetRaw": true, "PostRaw": true, "PutRaw": true, "DeleteRaw": true, "Path": true}

var paramSeg = regexp.MustCompile(`^\{([^{}]+)\}$`)

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// camel mirrors tools/pveschema: non-alphanumerics separate words, each
// word gets an upper-case first letter.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r >= unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
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

// goParam is the Go parameter name of a path parameter.
func goParam(p string) string {
	c := camel(p)
	name := strings.ToLower(c[:1]) + c[1:]
	if token.IsKeyword(name) || name == "n" || name == "c" || name == "ctx" || name == "params" {
		name += "Arg"
	}
	return name
}

// steps splits a path into navigator steps (the rule of NAVIGATOR.md):
// a static segment followed by a {param} is one step taking the param;
// the static segment alone (the collection) is the same name + "Index";
// any other static segment is a step without argument; a {param} right
// after a {param} is a step named after the param.
func steps(path string, paramChild map[string]string, renamed map[string]bool) []step {
	segs := split(path)
	var out []step
	cur := ""
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		if m := paramSeg.FindStringSubmatch(seg); m != nil {
			cur += "/" + seg
			out = append(out, step{name: camel(m[1]), param: m[1], paramName: goParam(m[1]), path: cur})
			continue
		}
		if _, ok := paramChild[cur+"/"+seg]; ok {
			if i+1 < len(segs) {
				m := paramSeg.FindStringSubmatch(segs[i+1])
				name := camel(seg)
				if renamed[cur+"/"+seg+"/"+segs[i+1]] {
					name += "By" + camel(m[1])
				}
				cur += "/" + seg + "/" + segs[i+1]
				out = append(out, step{name: name, param: m[1], paramName: goParam(m[1]), static: seg, path: cur})
				i++
				continue
			}
			cur += "/" + seg
			out = append(out, step{name: camel(seg) + "Index", static: seg, path: cur})
			continue
		}
		cur += "/" + seg
		out = append(out, step{name: camel(seg), static: seg, path: cur})
	}
	return out
}

func typeName(path string) string {
	var b strings.Builder
	b.WriteString("Nav")
	for _, s := range split(path) {
		b.WriteString(camel(s))
	}
	return b.String()
}

// buildNav builds the navigator tree for the operations. newest is the
// label of the newest version: when a collection's parameter was renamed
// between versions (/nodes/{node}/hardware/pci/{pciid} in 8.1,
// .../{pci-id-or-mapping} in 9.1), the newest name keeps the plain
// accessor and the others get "By<Param>".
func buildNav(ops []operation, newest string) (*navNode, []*navNode, error) {
	paramChild := map[string]string{}
	renamed := map[string]bool{} // prefix + "/" + param segment of an older name
	for _, o := range ops {
		segs := split(o.Path)
		isNew := false
		for _, v := range o.Versions {
			isNew = isNew || v == newest
		}
		for i, s := range segs {
			if paramSeg.MatchString(s) && i > 0 && !paramSeg.MatchString(segs[i-1]) {
				prefix := "/" + strings.Join(segs[:i], "/")
				prev, ok := paramChild[prefix]
				switch {
				case !ok:
					paramChild[prefix] = s
				case prev == s:
				case isNew:
					renamed[prefix+"/"+prev] = true
					paramChild[prefix] = s
				default:
					renamed[prefix+"/"+s] = true
				}
			}
		}
	}
	for k := range renamed {
		i := strings.LastIndex(k, "/")
		if paramChild[k[:i]] == k[i+1:] {
			return nil, nil, fmt.Errorf("parameter %s is both newest and renamed", k)
		}
	}
	// paramType: int when every operation below the parameter says integer.
	paramType := func(prefix, param string) string {
		t := ""
		for _, o := range ops {
			if o.Path == prefix || strings.HasPrefix(o.Path, prefix+"/") {
				pt := o.PathParams[param]
				if t == "" {
					t = pt
				} else if t != pt {
					return "string"
				}
			}
		}
		if t == "integer" {
			return "int"
		}
		return "string"
	}
	root := &navNode{Path: ""}
	nodes := map[string]*navNode{"": root}
	var order []*navNode
	types := map[string]string{}
	for _, o := range ops {
		parent := root
		for _, st := range steps(o.Path, paramChild, renamed) {
			child := nodes[st.path]
			if child == nil {
				child = &navNode{Type: typeName(st.path), Path: st.path}
				if prev, dup := types[child.Type]; dup {
					return nil, nil, fmt.Errorf("type %s for both %s and %s", child.Type, prev, st.path)
				}
				types[child.Type] = st.path
				nodes[st.path] = child
				order = append(order, child)
			}
			var acc *accessor
			for _, a := range parent.Accessors {
				if a.Name == st.name {
					acc = a
				}
			}
			if acc == nil {
				if reserved[st.name] {
					return nil, nil, fmt.Errorf("accessor %s of %s collides with a node method", st.name, st.path)
				}
				acc = &accessor{Name: st.name, Target: child}
				if st.param != "" {
					acc.Param = st.paramName
					acc.ParamType = paramType(st.path, st.param)
				}
				acc.Expr = pathExpr(st, acc)
				parent.Accessors = append(parent.Accessors, acc)
			} else if acc.Target != child {
				return nil, nil, fmt.Errorf("accessor %s of %s leads to both %s and %s", st.name, parent.Path, acc.Target.Path, child.Path)
			}
			parent = child
		}
		if parent == root {
			return nil, nil, fmt.Errorf("operation %s %s on the root", o.Method, o.Path)
		}
		parent.Ops = append(parent.Ops, navOp{Verb: verbs[o.Method], operation: o})
	}
	return root, order, nil
}

func pathExpr(st step, acc *accessor) string {
	lit := "/"
	if st.static != "" {
		lit += st.static
		if st.param != "" {
			lit += "/"
		}
	}
	if st.param == "" {
		return fmt.Sprintf("%q", lit)
	}
	v := "url.PathEscape(" + acc.Param + ")"
	if acc.ParamType == "int" {
		v = "strconv.Itoa(" + acc.Param + ")"
	}
	return fmt.Sprintf("%q + %s", lit, v)
}

// chain is the Go expression that reaches a path from px, with sample
// arguments, and the concrete path it produces (for the generated test).
func chain(path string, root *navNode) (expr, concrete string) {
	node := root
	expr = "px"
	for node.Path != path {
		var next *accessor
		for _, a := range node.Accessors {
			if a.Target.Path == path || strings.HasPrefix(path, a.Target.Path+"/") {
				if next == nil || len(a.Target.Path) > len(next.Target.Path) {
					next = a
				}
			}
		}
		if next == nil {
			return "", ""
		}
		arg, val := "", ""
		if next.Param != "" {
			if next.ParamType == "int" {
				arg, val = "100", "100"
			} else {
				arg, val = `"a b/c"`, "a%20b%2Fc"
			}
		}
		expr += "." + next.Name + "(" + arg + ")"
		lit := strings.Trim(strings.SplitN(next.Expr, " + ", 2)[0], `"`)
		concrete += lit + val
		node = next.Target
	}
	return expr, concrete
}
