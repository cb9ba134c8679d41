package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxboxd/connector"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// fuzzServer is a server with a registered key for body fuzzing.
func fuzzServer(f *testing.F) http.Handler {
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "fuzz"})
	require.NoError(f, err)
	f.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.DiscardHandler)
	srv := pbhttp.New(pbhttp.Config{RateLimit: -1, LockoutAttempts: 1 << 30},
		pbhttp.Deps{Store: st, Syncer: newFake(), Connector: connector.New(st, connector.Options{Logger: log}), Logger: log})
	_, err = st.RegisterFirstKey(context.Background(), pbhttp.HashKey(testKey), "fuzz")
	require.NoError(f, err)
	return srv.Handler()
}

func fuzzBody(f *testing.F, method, path string, seeds ...string) {
	h := fuzzServer(f)
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(pbhttp.HeaderAPIKey, testKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, "%s %s %q: %s", method, path, body, rec.Body.String())
		if rec.Body.Len() > 0 {
			require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json"), "non-JSON answer %q", rec.Header().Get("Content-Type"))
			require.True(t, json.Valid(rec.Body.Bytes()), "invalid JSON answer %q", rec.Body.String())
		}
		for _, secret := range []string{"SECRETPW", "SECRETTOK"} {
			require.NotContains(t, rec.Body.String(), secret, "secret echoed")
		}
	})
}

func FuzzRegisterKeyBody(f *testing.F) {
	fuzzBody(f, "POST", "/auth/register-key", `{"api_key":"`+strings.Repeat("k", 64)+`","label":"netbox-proxbox-plugin"}`,
		`{"api_key":"short"}`, `{"api_key":123}`, `{}`, `[]`, `{"api_key":"`+strings.Repeat("\u00e9", 40)+`"}`)
}

func FuzzCreateKeyBody(f *testing.F) {
	fuzzBody(f, "POST", "/auth/keys", `{"label":"ci"}`, `{"label":null}`, `{"label":["x"]}`, ``)
}

func FuzzNetBoxEndpointBody(f *testing.F) {
	fuzzBody(f, "POST", "/netbox/endpoint",
		`{"name":"NetBox Endpoint","ip_address":"127.0.0.1","domain":"","port":443,"verify_ssl":true,"token_version":"v1","token":"SECRETTOK"}`,
		`{"name":"n","ip_address":"10.0.0.1/24","domain":"netbox.local","port":8443,"verify_ssl":false,"token_version":"v2","token":"SECRETTOK","token_key":"abc"}`,
		`{"port":-1}`, `{"token_version":null}`, `{"name":"x","ip_address":"169.254.169.254","port":443,"token":"t"}`)
}

func FuzzNetBoxEndpointPut(f *testing.F) {
	fuzzBody(f, "PUT", "/netbox/endpoint/1", `{"name":"renamed"}`, `{"token_version":"v2"}`, `{"port":0}`)
}

func FuzzProxmoxEndpointBody(f *testing.F) {
	fuzzBody(f, "POST", "/proxmox/endpoints",
		`{"name":"pve (nb:1)","ip_address":"10.0.0.5","domain":null,"port":8006,"username":"root@pam","password":"SECRETPW","verify_ssl":false,"token_name":null,"token_value":null}`,
		`{"name":"pve (nb:2)","ip_address":"10.0.0.6","port":8006,"token_name":"root@pam!t","token_value":"SECRETTOK"}`,
		`{"name":"(nb:1)","port":8006,"password":"x","ip_address":"fe80::1"}`, `{"name":""}`)
}

func FuzzProxmoxEndpointPut(f *testing.F) {
	fuzzBody(f, "PUT", "/proxmox/endpoints/1", `{"password":"SECRETPW"}`, `{"domain":"pve.example.com"}`)
}
