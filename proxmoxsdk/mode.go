package proxmoxsdk

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// API modes: ModeReal (the default) talks to the configured PVE; ModeMock
// replaces the transport with an in-process pvemock.
const (
	ModeReal = "real"
	ModeMock = "mock"
)

// Environment variables read by New when no option says otherwise.
const (
	// EnvAPIMode selects the mode: "real" (default) or "mock".
	EnvAPIMode = "PROXMOX_API_MODE"
	// EnvMockScenario names the mock's scenario: s100 (default), s1000,
	// s5000, or a cluster file (JSON or YAML, see pvemock.ClusterFile).
	EnvMockScenario = "PROXMOX_MOCK_SCENARIO"
)

// ErrNoMock is returned by New in mock mode when no mock is linked into the
// program (import _ "github.com/proxbox-go/proxbox/proxmoxsdk/pvemock").
var ErrNoMock = errors.New("proxmox: mock mode, but no mock is linked in (import _ \"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock\")")

// MockFactory returns the in-process transport of a mock cluster for a
// scenario name or cluster file ("" means the default scenario).
type MockFactory func(scenario string) (Transport, error)

var (
	mockMu      sync.RWMutex
	mockFactory MockFactory
)

// RegisterMock installs the factory that mock mode uses. Package pvemock
// calls it from its init function, so importing pvemock (even as _) is what
// makes mock mode available: this package cannot import pvemock (pvemock
// imports it), and programs that never import the mock do not pay for it.
func RegisterMock(f MockFactory) {
	mockMu.Lock()
	mockFactory = f
	mockMu.Unlock()
}

// WithAPIMode selects ModeReal or ModeMock, overriding PROXMOX_API_MODE.
func WithAPIMode(mode string) Option {
	return func(c *config) error {
		m, err := parseMode(mode)
		if err != nil {
			return err
		}
		c.mode = m
		return nil
	}
}

// WithMock selects mock mode with a scenario (s100, s1000, s5000 or a
// cluster file; "" reads PROXMOX_MOCK_SCENARIO, default s100).
func WithMock(scenario string) Option {
	return func(c *config) error {
		c.mode = ModeMock
		c.mockScenario = scenario
		return nil
	}
}

func parseMode(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", ModeReal:
		return ModeReal, nil
	case ModeMock:
		return ModeMock, nil
	}
	return "", fmt.Errorf("proxmox: API mode %q: want %q or %q", s, ModeReal, ModeMock)
}

// Mode reports the API mode New would pick from the environment alone.
func Mode() (string, error) { return parseMode(os.Getenv(EnvAPIMode)) }

// mockTransport resolves mock mode: the registered factory's transport for
// the configured or environment scenario.
func mockTransport(scenario string) (Transport, error) {
	mockMu.RLock()
	f := mockFactory
	mockMu.RUnlock()
	if f == nil {
		return nil, ErrNoMock
	}
	if scenario == "" {
		scenario = os.Getenv(EnvMockScenario)
	}
	t, err := f(scenario)
	if err != nil {
		return nil, fmt.Errorf("proxmox: mock scenario: %w", err)
	}
	return t, nil
}
