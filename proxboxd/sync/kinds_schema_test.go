package sync

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKindPathsInNetBoxSchema: every collection the engine reads or writes is
// in the NetBox schema we generate from (NetBox 4.7.3 with netbox-proxbox
// 0.0.29.post6). netboxtest serves whatever path it is given, so only this
// catches a path the real NetBox answers 404.
func TestKindPathsInNetBoxSchema(t *testing.T) {
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	file := committedNetBoxSchema(t, &doc)
	if len(allKinds) < 20 {
		t.Fatalf("only %d kinds registered", len(allKinds))
	}
	for _, kd := range allKinds {
		if _, ok := doc.Paths[kd.Path]; !ok {
			t.Errorf("%s: %s is not a path of %s", kd.Type, kd.Path, file)
		}
	}
}

// committedNetBoxSchema decodes the newest committed NetBox schema into doc
// and returns its file name.
func committedNetBoxSchema(t *testing.T, doc any) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "schemas", "netbox", "netbox-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed NetBox schema: %v", err)
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, doc); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(files[len(files)-1])
}

// TestManagedFieldsInGeneratedTypesAndSchema: every field a kind reads and
// writes is a JSON field of the generated request type its desired state is
// built as, and a property of that request schema in the committed NetBox
// schema. (Desired state itself is built as those types, so the compiler
// checks the fields proxboxd sets: tools/schema-rename-check.sh shows a
// renamed schema field breaking `go build ./proxboxd/...`.)
func TestManagedFieldsInGeneratedTypesAndSchema(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	file := committedNetBoxSchema(t, &doc)
	for _, kd := range allKinds {
		require.NotNil(t, kd.write, kd.Type)
		fields := jsonFields(kd.write)
		sch, ok := doc.Components.Schemas[kd.write.Name()]
		if !assert.True(t, ok, "%s: request schema %s not in %s", kd.Type, kd.write.Name(), file) {
			continue
		}
		for _, f := range kd.Fields {
			assert.True(t, fields[f], "%s: %s is not a field of %s", kd.Type, f, kd.write)
			_, inSchema := sch.Properties[f]
			assert.True(t, inSchema, "%s: %s is not a property of %s in %s", kd.Type, f, kd.write.Name(), file)
		}
	}
}
