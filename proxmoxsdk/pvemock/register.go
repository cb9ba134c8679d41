package pvemock

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Importing pvemock makes mock mode of proxmoxsdk.New available
// (PROXMOX_API_MODE=mock, proxmoxsdk.WithMock): proxmoxsdk cannot import this
// package (it imports proxmoxsdk), so the mock registers itself.
func init() {
	proxmoxsdk.RegisterMock(func(scenario string) (proxmoxsdk.Transport, error) {
		m, err := Shared(scenario)
		if err != nil {
			return nil, err
		}
		return m.Transport(), nil
	})
}

// ScenarioFor returns the scenario named by spec: s100 (also ""), s1000,
// s5000, or the path of a cluster file (JSON, or YAML when it ends in
// .yaml/.yml).
func ScenarioFor(spec string) (Scenario, error) {
	if spec == "" {
		return S100(), nil
	}
	if sc, ok := ByName(spec); ok {
		return sc, nil
	}
	f, err := LoadClusterFile(spec)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Scenario{}, fmt.Errorf("unknown scenario %q (s100, s1000, s5000 or a cluster file)", spec)
		}
		return Scenario{}, err
	}
	return Scenario{Cluster: f}, nil
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Mock{}
)

// Shared returns the process-wide mock of a scenario (see ScenarioFor),
// built on first use: every client in mock mode with the same scenario sees
// the same cluster, and the writes of one are visible to the others.
func Shared(spec string) (*Mock, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if m, ok := shared[spec]; ok {
		return m, nil
	}
	sc, err := ScenarioFor(spec)
	if err != nil {
		return nil, err
	}
	m := New(sc)
	shared[spec] = m
	return m, nil
}
