package pveapi_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pveapi"
)

func TestResolveLiteralBeatsVariable(t *testing.T) {
	m, err := pveapi.Resolve("/nodes/pve1/qemu/100/config")
	require.NoError(t, err)
	assert.Equal(t, "/nodes/{node}/qemu/{vmid}/config", m.Template)
	assert.Equal(t, map[string]string{"node": "pve1", "vmid": "100"}, m.Vars)
	assert.Contains(t, m.Ops, "GET")
	assert.Contains(t, m.Ops, "PUT")

	m, err = pveapi.Resolve("/cluster/resources")
	require.NoError(t, err)
	assert.Empty(t, m.Vars)
}

func TestUnknownPathSuggests(t *testing.T) {
	_, err := pveapi.Resolve("/nodes/pve1/qemu/100/confg")
	var upe *pveapi.UnknownPathError
	require.ErrorAs(t, err, &upe)
	assert.True(t, errors.Is(err, pveapi.ErrUnknownPath))
	assert.Contains(t, upe.Suggestions, "/nodes/{node}/qemu/{vmid}/config")
	assert.Contains(t, err.Error(), "did you mean")

	_, _, err = pveapi.Lookup("POST", "/cluster/resources")
	require.ErrorAs(t, err, &upe)
	assert.Equal(t, "/cluster/resources has no create (it has: get)", err.Error())
}

func TestValidate(t *testing.T) {
	op, m, err := pveapi.Lookup("PUT", "/nodes/pve1/qemu/100/config")
	require.NoError(t, err)
	require.NoError(t, pveapi.Validate(op, m, url.Values{"memory": {"2048"}, "net0": {"virtio,bridge=vmbr0"}, "cores": {"2"}}, ""))

	err = pveapi.Validate(op, m, url.Values{"memroy": {"2048"}, "cores": {"zero"}, "net0": {"x"}}, "")
	var pe *pveapi.ParamError
	require.ErrorAs(t, err, &pe)
	assert.True(t, errors.Is(err, pveapi.ErrInvalidParams))
	assert.Len(t, pe.Problems, 2, pe.Problems)
	assert.Contains(t, err.Error(), `unknown parameter "memroy" (did you mean memory`)
	assert.Contains(t, err.Error(), `cores="zero": not an integer`)

	err = pveapi.Validate(op, m, url.Values{"cores": {"0"}}, "")
	assert.ErrorContains(t, err, "below the minimum 1")

	// a bad path variable (vmid below 100)
	op, m, err = pveapi.Lookup("GET", "/nodes/pve1/qemu/42/config")
	require.NoError(t, err)
	assert.ErrorContains(t, pveapi.Validate(op, m, nil, ""), "path segment {vmid}")

	// required body parameter
	op, m, err = pveapi.Lookup("POST", "/nodes/pve1/qemu")
	require.NoError(t, err)
	assert.ErrorContains(t, pveapi.Validate(op, m, nil, ""), `missing required parameter "vmid"`)

	// enum
	op, m, err = pveapi.Lookup("GET", "/cluster/resources")
	require.NoError(t, err)
	require.NoError(t, pveapi.Validate(op, m, url.Values{"type": {"vm"}}, ""))
	assert.ErrorContains(t, pveapi.Validate(op, m, url.Values{"type": {"vms"}}, ""), "must be one of")
}

func TestVersions(t *testing.T) {
	assert.Equal(t, []string{"8.1", "9.1"}, pveapi.SupportedVersions)
	only9, only8, paramOnly := 0, 0, 0
	for _, op := range pveapi.Operations() {
		switch {
		case len(op.Versions) == 1 && op.Versions[0] == "9.1":
			only9++
		case len(op.Versions) == 1 && op.Versions[0] == "8.1":
			only8++
		}
		for _, p := range op.Params {
			if p.Versions != nil {
				paramOnly++
			}
		}
	}
	assert.Positive(t, only9)
	assert.Positive(t, only8)
	assert.Positive(t, paramOnly, "some parameters exist in one version only")
	assert.Len(t, pveapi.Operations(), 652)
}

func TestChildren(t *testing.T) {
	assert.Contains(t, pveapi.Children("/"), "nodes")
	assert.Equal(t, []string{"{node}"}, pveapi.Children("/nodes/"))
	assert.Contains(t, pveapi.Children("/nodes/pve1/q"), "qemu")
	assert.NotContains(t, pveapi.Children("/nodes/pve1/q"), "lxc")
	assert.Equal(t, "vmid", pveapi.VarAt("/nodes/pve1/qemu/"))
}

func TestDistance(t *testing.T) {
	assert.Equal(t, 0, pveapi.Distance("a", "a"))
	assert.Equal(t, 1, pveapi.Distance("memory", "memroy")-1)
	assert.Equal(t, 3, pveapi.Distance("", "abc"))
}
