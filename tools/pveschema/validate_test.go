package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSchemasValidate: the committed schemas and the converted fragment are
// valid OpenAPI 3.0 for kin-openapi (the loader oapi-codegen uses):
// defaults fit their schemas, patterns compile, every $ref resolves.
func TestSchemasValidate(t *testing.T) {
	ctx := context.Background()
	docs := map[string][]byte{}
	frag, _ := convertFragment(t)
	b, err := marshal(frag)
	if err != nil {
		t.Fatal(err)
	}
	docs["fragment"] = b
	for _, v := range []string{"8.1", "9.1"} {
		f := filepath.Join("..", "..", "schemas", "proxmox", "pve-"+v+".json")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Logf("skip %s: %v", f, err)
			continue
		}
		docs[f] = b
	}
	for name, b := range docs {
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			t.Errorf("%s: load: %v", name, err)
			continue
		}
		if err := doc.Validate(ctx); err != nil {
			s := err.Error()
			if len(s) > 500 {
				s = s[:500] + "…"
			}
			t.Errorf("%s: %s", name, s)
		}
	}
}
