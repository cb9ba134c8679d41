package netboxtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxLengthsMatchSchema: every limit netboxtest enforces is NetBox's own
// (the committed schema's maxLength on the collection's write request), so
// the fake refuses what the real NetBox refuses and nothing else.
func TestMaxLengthsMatchSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "schemas", "netbox", "netbox-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed NetBox schema: %v", err)
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
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
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for path, fields := range maxLengths {
		one := doc.Paths[path]["post"].RequestBody.Content["application/json"].Schema.OneOf
		if len(one) == 0 {
			t.Errorf("%s: no POST request schema", path)
			continue
		}
		props := doc.Components.Schemas[strings.TrimPrefix(one[0].Ref, "#/components/schemas/")].Properties
		for f, n := range fields {
			if props[f].MaxLength != n {
				t.Errorf("%s %s: netboxtest limits it to %d, NetBox to %d", path, f, n, props[f].MaxLength)
			}
		}
	}
}
