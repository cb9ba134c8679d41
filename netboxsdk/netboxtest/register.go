package netboxtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// Importing netboxtest makes mock mode of netboxsdk.New available
// (NETBOX_API_MODE=mock, netboxsdk.WithMock): netboxsdk cannot import this
// package (it imports netboxsdk), so the mock registers itself.
func init() {
	netboxsdk.RegisterMock(func(dataFile string) (http.Handler, string, error) {
		n, err := Shared(dataFile)
		if err != nil {
			return nil, "", err
		}
		return n, n.Token(), nil
	})
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*NetBox{}
)

// Shared returns the process-wide NetBox seeded from dataFile ("" for none; see
// LoadData), built on first use: every client in mock mode with the same data
// file sees the same NetBox.
func Shared(dataFile string) (*NetBox, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if n, ok := shared[dataFile]; ok {
		return n, nil
	}
	n := New()
	if dataFile != "" {
		if err := n.LoadData(dataFile); err != nil {
			return nil, err
		}
	}
	shared[dataFile] = n
	return n, nil
}

// LoadData seeds the NetBox from a JSON file mapping collection paths to
// objects, applied in file order (so sites come before the devices that
// reference them): {"/api/dcim/sites/": [{"name": "a", "slug": "a"}], …}.
func (n *NetBox) LoadData(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("netboxtest: data: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("netboxtest: data %s: want a JSON object of collection paths", file)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("netboxtest: data %s: %w", file, err)
		}
		path, _ := t.(string)
		var objs []map[string]any
		if err := dec.Decode(&objs); err != nil {
			return fmt.Errorf("netboxtest: data %s: %s: %w", file, path, err)
		}
		if _, err := n.Seed(path, objs...); err != nil {
			return fmt.Errorf("netboxtest: data %s: %w", file, err)
		}
	}
	return nil
}
