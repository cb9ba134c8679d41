package netboxsdk_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

func TestMockModeFromEnvironment(t *testing.T) {
	t.Setenv(netboxsdk.EnvAPIMode, "mock")
	t.Setenv(netboxsdk.EnvMockData, "netboxtest/testdata/mockdata.json")
	t.Setenv("NETBOX_URL", "")
	// A configured token is replaced by the mock's.
	nb, err := netboxsdk.New("", netboxsdk.WithToken("not-the-mock-token"))
	require.NoError(t, err)
	ctx := context.Background()
	n, err := nb.Objects("/api/virtualization/virtual-machines/").Count(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = nb.Objects("/api/dcim/sites/").Create(ctx, netboxsdk.Object{"name": "Site C", "slug": "site-c"})
	require.NoError(t, err)

	// Clients of one data file share one NetBox.
	nb2, err := netboxsdk.New("")
	require.NoError(t, err)
	n, err = nb2.Objects("/api/dcim/sites/").Count(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = nb2.Objects("/api/dcim/sites/").Get(ctx, 999)
	assert.True(t, errors.Is(err, netboxsdk.ErrNotFound))
}

func TestMockModeOption(t *testing.T) {
	t.Setenv(netboxsdk.EnvAPIMode, "")
	nb, err := netboxsdk.New("", netboxsdk.WithMock(""))
	require.NoError(t, err)
	st, err := nb.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, netboxtest.DefaultVersion, st.NetBoxVersion)

	_, err = netboxsdk.New("", netboxsdk.WithMock("no-such-file.json"))
	assert.ErrorContains(t, err, "no-such-file.json")

	t.Setenv(netboxsdk.EnvAPIMode, "bogus")
	_, err = netboxsdk.New("http://x")
	assert.ErrorContains(t, err, `NETBOX_API_MODE: netboxsdk: API mode "bogus"`)

	netboxsdk.RegisterMock(nil)
	defer netboxsdk.RegisterMock(func(f string) (http.Handler, string, error) {
		n, err := netboxtest.Shared(f)
		if err != nil {
			return nil, "", err
		}
		return n, n.Token(), nil
	})
	_, err = netboxsdk.New("", netboxsdk.WithMock(""))
	assert.True(t, errors.Is(err, netboxsdk.ErrNoMock))
}
