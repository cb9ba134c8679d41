package sync

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
