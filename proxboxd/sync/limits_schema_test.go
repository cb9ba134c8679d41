package sync

import (
	"strings"
	"testing"
)

// TestFieldLimitsMatchNetBoxSchema: every limit the engine fits values to is
// NetBox's own (the committed schema's maxLength of the kind's write
// request), VM names are fitted to the VM name limit, and every field a kind
// writes that NetBox limits is either fitted or listed with the reason it
// is written whole. netboxtest enforces the same limits, but only this test
// ties them to NetBox.
func TestFieldLimitsMatchNetBoxSchema(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref   string `json:"$ref"`
						OneOf []struct {
							Ref string `json:"$ref"`
						} `json:"oneOf"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					MaxLength int `json:"maxLength"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	committedNetBoxSchema(t, &doc)
	limits := func(kd *kind) map[string]int {
		sch := doc.Paths[kd.Path]["post"].RequestBody.Content["application/json"].Schema
		ref := sch.Ref
		if ref == "" && len(sch.OneOf) > 0 {
			ref = sch.OneOf[0].Ref
		}
		if ref == "" {
			t.Fatalf("%s: no request schema for POST %s", kd.Type, kd.Path)
		}
		out := map[string]int{}
		for f, p := range doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Properties {
			if p.MaxLength > 0 {
				out[f] = p.MaxLength
			}
		}
		return out
	}
	if got := limits(kVM)["name"]; got != maxName {
		t.Errorf("VM name limit: NetBox %d, names.go %d", got, maxName)
	}
	for kd, fields := range fieldMax {
		nb := limits(kd)
		for f, n := range fields {
			if nb[f] != n {
				t.Errorf("%s.%s: fitted to %d, NetBox allows %d", kd.Type, f, n, nb[f])
			}
		}
	}
	for _, kd := range allKinds {
		nb := limits(kd)
		for _, f := range kd.Fields {
			if nb[f] == 0 {
				continue
			}
			if _, fitted := fieldMax[kd][f]; !fitted && limitsLeftWhole[f] == "" {
				t.Errorf("%s.%s: NetBox limits it to %d characters; fit it (fieldMax) or say why not (limitsLeftWhole)", kd.Type, f, nb[f])
			}
		}
	}
}
