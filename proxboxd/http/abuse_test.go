package http_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

func TestAbuseBodies(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, path := range []string{"/netbox/endpoint", "/proxmox/endpoints", "/auth/register-key", "/auth/keys"} {
		code, _ := e.do("POST", path, big, nil)
		require.Equal(t, 413, code, "%s oversized", path)
		for _, body := range []string{`{"name":`, `[1,2]`, `"str"`, `{"port":"443"}`, `{} {}`, `null`, "\x00\x01"} {
			code, b := e.do("POST", path, body, nil)
			if path == "/auth/keys" && (body == `{"port":"443"}`) {
				continue // unknown fields are ignored there
			}
			require.Equal(t, 400, code, "%s %q: %s", path, body, b)
			require.Contains(t, string(b), `"detail"`, "%s %q", path, body)
		}
	}
	// field validation
	for _, body := range []map[string]any{
		{"name": "x", "ip_address": "not-an-ip", "port": 443, "token": "t"},
		{"name": "x", "ip_address": "10.0.0.1", "port": 70000, "token": "t"},
		{"name": "x", "domain": "evil.com/@x", "port": 443, "token": "t"},
		{"name": "x", "ip_address": "10.0.0.1", "port": 443, "token_version": "v3", "token": "t"},
		{"name": "x", "ip_address": "10.0.0.1", "port": 443, "token_version": "v2", "token": "t"},
		{"name": "x", "ip_address": "10.0.0.1", "port": 443, "token": "a\r\nX-Injected: 1"},
	} {
		code, b := e.do("POST", "/netbox/endpoint", body, nil)
		require.Equal(t, 400, code, "netbox %v: %s", body, b)
	}
	// path traversal and junk path parameters
	for _, p := range []string{
		"/proxmox/nodes/..%2f..%2fetc/storage/local/content",
		"/proxmox/nodes/pve1/storage/..%2F/content",
		"/proxmox/pve1/qemu/100;rm/config",
		"/proxmox/..%2f/qemu/100/config",
		"/netbox/endpoint/-1", "/netbox/endpoint/abc", "/proxmox/endpoints/1e9",
		"/virtualization/virtual-machines/abc/create/stream",
		"/proxmox/api2/access/../../etc/passwd",
	} {
		code, _ := e.do("GET", p, nil, nil)
		require.Contains(t, []int{400, 404, 422}, code, p)
	}
	// revoked / deleted key
	code, b := e.do("POST", "/auth/keys", map[string]string{"label": "tmp"}, nil)
	k := mustJSON[map[string]any](t, b)
	require.Equal(t, 201, code, string(b))
	require.GreaterOrEqual(t, len(k["raw_key"].(string)), 32)
	raw, id := k["raw_key"].(string), int(k["id"].(float64))
	code, _ = e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: raw})
	require.Equal(t, 200, code, "new key")
	code, _ = e.do("DELETE", "/auth/keys/"+strconv.Itoa(id), nil, nil)
	require.Equal(t, 204, code, "delete key")
	code, _ = e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: raw})
	require.Equal(t, 401, code, "deleted key still accepted")
	code, _ = e.do("DELETE", "/auth/keys/999", nil, nil)
	require.Equal(t, 404, code, "delete missing")
	// the sync engine never sees a request for junk
	require.Empty(t, e.fake.reqs, "syncer called")
	_ = proxbox.StageDevices
}

func TestSSRF(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	for _, ip := range []string{"169.254.169.254", "169.254.10.1", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "::ffff:169.254.169.254"} {
		code, b := e.do("POST", "/proxmox/endpoints", map[string]any{"name": "m (nb:1)", "ip_address": ip, "port": 8006, "username": "root@pam", "password": "x"}, nil)
		require.Equal(t, 400, code, "%s: %s", ip, b)
		require.Contains(t, string(b), "refused", ip)
		code, _ = e.do("POST", "/netbox/endpoint", map[string]any{"name": "n", "ip_address": ip, "port": 443, "token": "t"}, nil)
		require.Equal(t, 400, code, "netbox %s", ip)
	}
	// a domain that resolves to loopback is fine with allow_private_ips (default)
	code, b := e.do("POST", "/proxmox/endpoints", map[string]any{"name": "ok (nb:2)", "ip_address": "127.0.0.1", "domain": "localhost", "port": 8006, "username": "root@pam", "password": "x"}, nil)
	require.Equal(t, 200, code, "loopback: %s", b)
	// an existing endpoint cannot be moved to the metadata address by PUT
	code, _ = e.do("PUT", "/proxmox/endpoints/1", map[string]any{"ip_address": "169.254.169.254", "domain": ""}, nil)
	require.Equal(t, 400, code, "PUT to metadata")
	// allowed when the operator says so
	a := newEnv(t, pbhttp.Config{AllowLinkLocal: true}, true)
	code, b = a.do("POST", "/proxmox/endpoints", map[string]any{"name": "ll (nb:3)", "ip_address": "169.254.10.1", "port": 8006, "username": "root@pam", "password": "x"}, nil)
	require.Equal(t, 200, code, "allowed link-local: %s", b)
}
