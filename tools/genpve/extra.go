package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// responseModels returns the components reachable from the data of any
// operation's response: the models that get an Extra field.
func responseModels(doc map[string]any) map[string]bool {
	schemas := obj(obj(doc["components"])["schemas"])
	seen := map[string]bool{}
	for _, item := range obj(doc["paths"]) {
		for _, m := range methods {
			if op := obj(obj(item)[m]); op != nil {
				for _, name := range refClosure(op["responses"], schemas) {
					seen[name] = true
				}
			}
		}
	}
	return seen
}

// addExtra rewrites oapi-codegen's models: every struct type named in
// models gets the field `Extra pvetypes.Extra` and a MarshalJSON that writes
// the Extra members inline (pvetypes.MarshalWithExtra). Where oapi-codegen
// already wrote a MarshalJSON (models with AdditionalProperties), that one
// is renamed marshalFields and the new one wraps it. It returns the number
// of models changed.
func addExtra(src string, models map[string]bool) (string, int, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "pve.gen.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return "", 0, fmt.Errorf("parse models: %w", err)
	}
	type edit struct {
		at, end int
		text    string
	}
	var edits []edit
	var names []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok || ts.Assign.IsValid() || !models[ts.Name.Name] {
				continue
			}
			names = append(names, ts.Name.Name)
			at := fset.Position(st.Fields.Closing).Offset
			edits = append(edits, edit{at, at, "\n// Extra holds the members PVE sent that have no field here (see\n" +
				"// pvetypes.Extra); MarshalJSON writes them back inline.\n" +
				"Extra pvetypes.Extra `json:\"-\"`\n"})
		}
	}
	wrapped := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || fd.Name.Name != "MarshalJSON" {
			continue
		}
		id, ok := fd.Recv.List[0].Type.(*ast.Ident)
		if !ok || !models[id.Name] {
			continue
		}
		wrapped[id.Name] = true
		at := fset.Position(fd.Name.Pos()).Offset
		edits = append(edits, edit{at, at + len("MarshalJSON"), "marshalFields"})
		if fd.Doc != nil {
			a, e := fset.Position(fd.Doc.Pos()).Offset, fset.Position(fd.Doc.End()).Offset
			edits = append(edits, edit{a, e, "// marshalFields is oapi-codegen's MarshalJSON (fields and AdditionalProperties)."})
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].at > edits[j].at })
	for _, e := range edits {
		src = src[:e.at] + e.text + src[e.end:]
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(src)
	for _, n := range names {
		fmt.Fprintf(&b, "\n// MarshalJSON writes %s with its Extra members inline.\n", n)
		if wrapped[n] {
			fmt.Fprintf(&b, "func (a %s) MarshalJSON() ([]byte, error) {\n\tb, err := a.marshalFields()\n\tif err != nil {\n\t\treturn nil, err\n\t}\n\treturn pvetypes.AppendExtra(b, a.Extra)\n}\n", n)
			continue
		}
		fmt.Fprintf(&b, "func (a %s) MarshalJSON() ([]byte, error) {\n\ttype plain %s\n\treturn pvetypes.MarshalWithExtra(plain(a), a.Extra)\n}\n", n, n)
	}
	return b.String(), len(names), nil
}
