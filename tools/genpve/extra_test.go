package main

import (
	"go/format"
	"strings"
	"testing"
)

func TestAddExtra(t *testing.T) {
	src := `package pve

type GetXData struct {
	Name pvetypes.OptString ` + "`json:\"name,omitzero\"`" + `
}

type PutXRequest struct {
	Name *string
}

type GetYData struct {
	AdditionalProperties map[string]pvetypes.String ` + "`json:\"-\"`" + `
}

// Override default JSON handling for GetYData to handle AdditionalProperties
func (a GetYData) MarshalJSON() ([]byte, error) { return nil, nil }
`
	out, n, err := addExtra(src, map[string]bool{"GetXData": true, "GetYData": true})
	if err != nil || n != 2 {
		t.Fatalf("n %d, err %v", n, err)
	}
	if _, err := format.Source([]byte(out)); err != nil {
		t.Fatalf("not Go: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Extra pvetypes.Extra `json:\"-\"`\n}\n\ntype PutXRequest",
		"func (a GetYData) marshalFields() ([]byte, error)",
		"// marshalFields is oapi-codegen's MarshalJSON",
		"func (a GetXData) MarshalJSON() ([]byte, error) {\n\ttype plain GetXData\n\treturn pvetypes.MarshalWithExtra(plain(a), a.Extra)",
		"func (a GetYData) MarshalJSON() ([]byte, error) {\n\tb, err := a.marshalFields()",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "Extra pvetypes.Extra") != 2 {
		t.Errorf("the request type must not get Extra:\n%s", out)
	}
}

func TestResponseModels(t *testing.T) {
	doc := map[string]any{
		"paths": map[string]any{"/x": map[string]any{"get": map[string]any{"responses": map[string]any{"200": map[string]any{
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"properties": map[string]any{
				"data": map[string]any{"$ref": "#/components/schemas/GetXData"}}}}}}}},
			"put": map[string]any{"requestBody": map[string]any{"$ref": "#/components/schemas/PutXRequest"}}}},
		"components": map[string]any{"schemas": map[string]any{
			"GetXData":     map[string]any{"properties": map[string]any{"sub": map[string]any{"$ref": "#/components/schemas/GetXDataSub"}}},
			"GetXDataSub":  map[string]any{"type": "object"},
			"PutXRequest":  map[string]any{"type": "object"},
			"Unreferenced": map[string]any{"type": "object"},
		}},
	}
	got := responseModels(doc)
	if !got["GetXData"] || !got["GetXDataSub"] || got["PutXRequest"] || got["Unreferenced"] {
		t.Errorf("responseModels = %v", got)
	}
}
