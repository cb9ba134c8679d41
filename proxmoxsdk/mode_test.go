package proxmoxsdk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestMockModeFromEnvironment(t *testing.T) {
	t.Setenv(proxmoxsdk.EnvAPIMode, "mock")
	t.Setenv(proxmoxsdk.EnvMockScenario, "")
	// The configured transport and credentials are ignored in mock mode.
	px, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS("https://pve.invalid:8006"), proxmoxsdk.WithAPIToken("a@pam!b", "wrong"))
	require.NoError(t, err)
	cfg, err := px.Nodes("pve1").Qemu(100).Config().Get(context.Background(), nil)
	require.NoError(t, err)
	assert.NotEmpty(t, cfg.Name.Get())

	// Clients of one scenario share one cluster: a write is seen by the next client.
	require.NoError(t, px.Call(context.Background(), "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": 3072}, nil))
	px2, err := proxmoxsdk.New()
	require.NoError(t, err)
	cfg, err = px2.Nodes("pve1").Qemu(100).Config().Get(context.Background(), nil)
	require.NoError(t, err)
	m, err := pvemock.Shared("")
	require.NoError(t, err)
	assert.Positive(t, m.RequestCount("GET", "/nodes/{node}/qemu/{vmid}/config"))
	assert.Equal(t, "3072", cfg.Memory.Get())
}

func TestMockModeOption(t *testing.T) {
	t.Setenv(proxmoxsdk.EnvAPIMode, "")
	px, err := proxmoxsdk.New(proxmoxsdk.WithMock("pvemock/testdata/cluster.yaml"))
	require.NoError(t, err)
	var nodes []map[string]any
	require.NoError(t, px.Call(context.Background(), "GET", "/nodes", nil, &nodes))
	assert.NotEmpty(t, nodes)

	_, err = proxmoxsdk.New(proxmoxsdk.WithMock("no-such-scenario"))
	assert.ErrorContains(t, err, `unknown scenario "no-such-scenario"`)

	// WithAPIMode(real) wins over the environment.
	t.Setenv(proxmoxsdk.EnvAPIMode, "mock")
	_, err = proxmoxsdk.New(proxmoxsdk.WithAPIMode(proxmoxsdk.ModeReal))
	assert.ErrorContains(t, err, "no transport")
}

func TestMockModeErrors(t *testing.T) {
	t.Setenv(proxmoxsdk.EnvAPIMode, "fake")
	_, err := proxmoxsdk.New()
	assert.ErrorContains(t, err, `PROXMOX_API_MODE: proxmox: API mode "fake": want "real" or "mock"`)

	_, err = proxmoxsdk.New(proxmoxsdk.WithAPIMode("fake"))
	assert.Error(t, err)

	proxmoxsdk.RegisterMock(nil)
	defer proxmoxsdk.RegisterMock(func(s string) (proxmoxsdk.Transport, error) {
		m, err := pvemock.Shared(s)
		if err != nil {
			return nil, err
		}
		return m.Transport(), nil
	})
	_, err = proxmoxsdk.New(proxmoxsdk.WithMock(""))
	assert.True(t, errors.Is(err, proxmoxsdk.ErrNoMock))
}
