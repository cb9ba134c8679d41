package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

// TestRealNetBoxNBX runs nbx against a real NetBox (make e2e runs it; by hand:
// make netbox-up, source .netbox/env). It only touches objects whose slug
// starts with a prefix unique to the run, and deletes them at the end.
func TestRealNetBoxNBX(t *testing.T) {
	url, token := os.Getenv("NETBOX_URL"), os.Getenv("NETBOX_TOKEN")
	if url == "" || token == "" {
		t.Skip("no real NetBox: run `make netbox-up` and `source .netbox/env` (make e2e does both)")
	}
	v2 := os.Getenv("NETBOX_TOKEN_V2")
	t.Setenv(netboxsdk.EnvAPIMode, "real")
	t.Setenv("NBX_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	prefix := fmt.Sprintf("nbx-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000)

	// Clean-up with the SDK: every site of the run, whatever the test left.
	nb, err := netboxsdk.New(url, netboxsdk.WithToken(token))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sites := nb.Objects("/api/dcim/sites/")
		all, err := sites.All(ctx, netboxsdk.NewFilter().Lookup("slug", "isw", prefix))
		if err != nil {
			t.Logf("clean-up: %v", err)
			return
		}
		var ids []int
		for _, s := range all {
			if id, ok := s["id"].(float64); ok && strings.HasPrefix(fmt.Sprint(s["slug"]), prefix) {
				ids = append(ids, int(id))
			}
		}
		if len(ids) > 0 {
			if err := sites.BulkDelete(ctx, ids); err != nil {
				t.Logf("clean-up: %v", err)
			}
		}
	})

	r := nbx(t, "status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^netbox-version\s+4\.`, r.stdout)

	var ids []string
	for i := range 3 {
		slug := fmt.Sprintf("%s-%d", prefix, i)
		r = nbx(t, "create", "dcim.sites", "name="+slug, "slug="+slug, "status=planned", "-o", "json")
		require.Equal(t, 0, r.code, r.stderr)
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &obj))
		ids = append(ids, fmt.Sprint(obj["id"]))
	}

	r = nbx(t, "ls", "dcim.sites", "--filter", "slug__isw="+prefix, "-o", "csv", "--columns", "slug,status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, fmt.Sprintf("slug,status\n%[1]s-0,planned\n%[1]s-1,planned\n%[1]s-2,planned\n", prefix), r.stdout)

	r = nbx(t, "update", "dcim.sites", ids[0], "status=active", "description=set by nbx")
	require.Equal(t, 0, r.code, r.stderr)
	r = nbx(t, "get", "dcim.sites", "--filter", "slug="+prefix+"-0", "-o", "yaml")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "description: set by nbx")

	r = nbx(t, "count", "dcim.sites", "--filter", "slug__isw="+prefix, "--filter", "status=active")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "1\n", r.stdout)

	r = nbx(t, "choices", "dcim.sites", "status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^status\s+active\s+Active$`, r.stdout)

	// Bad input against the real NetBox: refused before sending, or by NetBox.
	requireOneLineError(t, nbx(t, "ls", "dcim.sites", "--filter", "slgu="+prefix), `unknown filter "slgu"`)
	requireOneLineError(t, nbx(t, "create", "dcim.sites", "name="+prefix+"-0", "slug="+prefix+"-0"), "400 Bad Request")
	t.Run("403 with a wrong token", func(t *testing.T) {
		r := nbx(t, "--token", "0123456789012345678901234567890123456789", "create", "dcim.sites", "name="+prefix+"-x", "slug="+prefix+"-x")
		requireOneLineError(t, r, "403")
	})
	t.Run("v2 token", func(t *testing.T) {
		if v2 == "" {
			t.Skip("NETBOX_TOKEN_V2 not set")
		}
		r := nbx(t, "--token", v2, "count", "dcim.sites", "--filter", "slug__isw="+prefix)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "3\n", r.stdout)
	})

	r = nbx(t, append([]string{"delete", "dcim.sites"}, ids...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "deleted 3 dcim.sites\n", r.stdout)
	r = nbx(t, "count", "dcim.sites", "--filter", "slug__isw="+prefix)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "0\n", r.stdout)
}
