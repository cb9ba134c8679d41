package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/proxbox-go/proxbox/proxboxd/connector"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/internal/sseclient"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
)

// FuzzSSEFrame: whatever the event name and payload, the writer produces
// exactly one frame that the plugin's parser reads back unchanged, and a
// complete frame always validates.
func FuzzSSEFrame(f *testing.F) {
	for _, s := range [][2]string{
		{"step", "hello"}, {"discovery", "line1\nline2"}, {"ev\r\nent: complete", "data: {\"ok\":false}\n\n"},
		{"", ""}, {":comment", ": keepalive"}, {"item_progress", "\u2028\u2029<>&"}, {"x", "\x00\xff"},
	} {
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, name, payload string, ok bool) {
		var buf bytes.Buffer
		w := pbhttp.NewSSEWriter(&buf)
		if name == "complete" {
			name = "completed"
		}
		if err := w.Event(name, map[string]any{"m": payload}); err != nil {
			t.Fatal(err)
		}
		if err := w.Complete(pbhttp.CompletePayload{OK: ok, Message: payload, Errors: []pbhttp.ErrorItem{{Detail: payload}}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Complete(pbhttp.CompletePayload{OK: true}); err == nil {
			t.Fatal("second complete accepted")
		}
		var frames []sseclient.Frame
		if err := sseclient.Parse(bytes.NewReader(buf.Bytes()), func(fr sseclient.Frame) { frames = append(frames, fr) }); err != nil {
			t.Fatal(err)
		}
		if len(frames) != 2 || frames[1].Event != "complete" {
			t.Fatalf("frames %+v from %q", frames, buf.String())
		}
		if frames[0].Event == "complete" {
			t.Fatalf("event name injected a complete: %q", name)
		}
		if utf8.ValidString(payload) && frames[0].Data["m"] != payload {
			t.Fatalf("payload changed: %q -> %v", payload, frames[0].Data["m"])
		}
		c, err := sseclient.ValidateComplete(frames[1].Data)
		if err != nil || c.OK != ok {
			t.Fatalf("complete invalid: %v %+v", err, frames[1].Data)
		}
	})
}

// fuzzServer is a server with a registered key for body fuzzing.
func fuzzServer(f *testing.F) http.Handler {
	st, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{EncryptionKey: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.DiscardHandler)
	srv := pbhttp.New(pbhttp.Config{RateLimit: -1, LockoutAttempts: 1 << 30},
		pbhttp.Deps{Store: st, Syncer: newFake(), Connector: connector.New(st, connector.Options{Logger: log}), Logger: log})
	if _, err := st.RegisterFirstKey(context.Background(), pbhttp.HashKey(testKey), "fuzz"); err != nil {
		f.Fatal(err)
	}
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
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q -> %d %s", method, path, body, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); rec.Body.Len() > 0 && !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("non-JSON answer %q", ct)
		}
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON answer %q", rec.Body.String())
		}
		for _, secret := range []string{"SECRETPW", "SECRETTOK"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Fatalf("secret echoed: %s", rec.Body.String())
			}
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

func FuzzStageQuery(f *testing.F) {
	for _, s := range []string{"use_guest_agent_interface_name=True&fetch_max_concurrency=8", "netbox_vm_ids=1,2,,3&dry_run=1",
		"fetch_max_concurrency=0", "primary_ip_preference=IPV6&proxmox_endpoint_ids=a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := urlParseQuery(raw)
		if err != nil {
			return
		}
		p, err := pbhttp.ParseStageParams(q)
		if err == nil && (p.FetchMaxConcurrency < 1 || (p.PrimaryIPPreference != "ipv4" && p.PrimaryIPPreference != "ipv6")) {
			t.Fatalf("invalid params accepted: %+v", p)
		}
	})
}

func urlParseQuery(s string) (map[string][]string, error) { return url.ParseQuery(s) }
