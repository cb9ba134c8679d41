package http_test

import (
	"strconv"
	"strings"
	"testing"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

func TestAbuseBodies(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, path := range []string{"/netbox/endpoint", "/proxmox/endpoints", "/auth/register-key", "/auth/keys"} {
		if code, _ := e.do("POST", path, big, nil); code != 413 {
			t.Fatalf("%s oversized = %d", path, code)
		}
		for _, body := range []string{`{"name":`, `[1,2]`, `"str"`, `{"port":"443"}`, `{} {}`, `null`, "\x00\x01"} {
			code, b := e.do("POST", path, body, nil)
			if path == "/auth/keys" && (body == `{"port":"443"}`) {
				continue // unknown fields are ignored there
			}
			if code != 400 {
				t.Fatalf("%s %q = %d %s", path, body, code, b)
			}
			if !strings.Contains(string(b), `"detail"`) {
				t.Fatalf("%s %q: no detail: %s", path, body, b)
			}
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
		if code, b := e.do("POST", "/netbox/endpoint", body, nil); code != 400 {
			t.Fatalf("netbox %v = %d %s", body, code, b)
		}
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
		if code != 400 && code != 404 && code != 422 {
			t.Fatalf("%s = %d", p, code)
		}
	}
	// revoked / deleted key
	code, b := e.do("POST", "/auth/keys", map[string]string{"label": "tmp"}, nil)
	k := mustJSON[map[string]any](t, b)
	if code != 201 || len(k["raw_key"].(string)) < 32 {
		t.Fatalf("create key: %d %s", code, b)
	}
	raw, id := k["raw_key"].(string), int(k["id"].(float64))
	if code, _ := e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: raw}); code != 200 {
		t.Fatalf("new key = %d", code)
	}
	if code, _ := e.do("DELETE", "/auth/keys/"+strconv.Itoa(id), nil, nil); code != 204 {
		t.Fatalf("delete key = %d", code)
	}
	if code, _ := e.do("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: raw}); code != 401 {
		t.Fatalf("deleted key still accepted: %d", code)
	}
	if code, _ := e.do("DELETE", "/auth/keys/999", nil, nil); code != 404 {
		t.Fatalf("delete missing = %d", code)
	}
	// the sync engine never sees a request for junk
	if len(e.fake.reqs) != 0 {
		t.Fatalf("syncer called: %+v", e.fake.reqs)
	}
	_ = proxbox.StageDevices
}

func TestSSRF(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	for _, ip := range []string{"169.254.169.254", "169.254.10.1", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "::ffff:169.254.169.254"} {
		code, b := e.do("POST", "/proxmox/endpoints", map[string]any{"name": "m (nb:1)", "ip_address": ip, "port": 8006, "username": "root@pam", "password": "x"}, nil)
		if code != 400 || !strings.Contains(string(b), "refused") {
			t.Fatalf("%s = %d %s", ip, code, b)
		}
		code, _ = e.do("POST", "/netbox/endpoint", map[string]any{"name": "n", "ip_address": ip, "port": 443, "token": "t"}, nil)
		if code != 400 {
			t.Fatalf("netbox %s = %d", ip, code)
		}
	}
	// a domain that resolves to loopback is fine with allow_private_ips (default)
	if code, b := e.do("POST", "/proxmox/endpoints", map[string]any{"name": "ok (nb:2)", "ip_address": "127.0.0.1", "domain": "localhost", "port": 8006, "username": "root@pam", "password": "x"}, nil); code != 200 {
		t.Fatalf("loopback = %d %s", code, b)
	}
	// an existing endpoint cannot be moved to the metadata address by PUT
	if code, _ := e.do("PUT", "/proxmox/endpoints/1", map[string]any{"ip_address": "169.254.169.254", "domain": ""}, nil); code != 400 {
		t.Fatalf("PUT to metadata = %d", code)
	}
	// allowed when the operator says so
	a := newEnv(t, pbhttp.Config{AllowLinkLocal: true}, true)
	if code, b := a.do("POST", "/proxmox/endpoints", map[string]any{"name": "ll (nb:3)", "ip_address": "169.254.10.1", "port": 8006, "username": "root@pam", "password": "x"}, nil); code != 200 {
		t.Fatalf("allowed link-local = %d %s", code, b)
	}
}
