package proxmoxsdk_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

type createParams struct {
	VMID    int               `json:"vmid"`
	Name    string            `json:"name,omitempty"`
	Start   *bool             `json:"start,omitempty"`
	Onboot  bool              `json:"onboot"`
	Memory  float64           `json:"memory,omitempty"`
	Tags    []string          `json:"tags,omitempty"`
	Net     map[string]string `json:"net,omitempty"`
	Extra   map[string]any    `json:"extra,omitempty"`
	Skipped *string           `json:"skipped,omitempty"`
}

func TestEncodeParams(t *testing.T) {
	yes := true
	cases := []struct {
		name string
		in   any
		want url.Values
	}{
		{"nil", nil, nil},
		{"values", url.Values{"a": {"1", "2"}}, url.Values{"a": {"1", "2"}}},
		{"map[string]string", map[string]string{"node": "pve1"}, url.Values{"node": {"pve1"}}},
		{"map[string]any", map[string]any{"force": true, "dry": false, "limit": 50, "ratio": 0.5, "skip": nil, "vmid": []int{100, 101}},
			url.Values{"force": {"1"}, "dry": {"0"}, "limit": {"50"}, "ratio": {"0.5"}, "vmid": {"100", "101"}}},
		{"struct", &createParams{VMID: 100, Name: "web-01", Start: &yes, Memory: 4096, Tags: []string{"a", "b"},
			Net:   map[string]string{"0": "virtio,bridge=vmbr0", "net1": "e1000,bridge=vmbr1"},
			Extra: map[string]any{"scsi0": "local-lvm:32", "protection": true}},
			url.Values{"vmid": {"100"}, "name": {"web-01"}, "start": {"1"}, "onboot": {"0"}, "memory": {"4096"}, "tags": {"a", "b"},
				"net0": {"virtio,bridge=vmbr0"}, "net1": {"e1000,bridge=vmbr1"}, "scsi0": {"local-lvm:32"}, "protection": {"1"}}},
		{"big numbers stay exact", map[string]any{"size": json.Number("18446744073709551615")}, url.Values{"size": {"18446744073709551615"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proxmoxsdk.EncodeParams(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []any{42, "str", []int{1}, map[string]any{"x": []any{map[string]any{"a": 1}}}} {
		if _, err := proxmoxsdk.EncodeParams(bad); err == nil {
			t.Errorf("EncodeParams(%v) accepted", bad)
		}
	}
}

func TestDecodeEnvelope(t *testing.T) {
	raw, err := proxmoxsdk.DecodeEnvelope("GET", "/x", &proxmoxsdk.Response{StatusCode: 200, Body: []byte(`{"data":{"a":1}}`)})
	if err != nil || string(raw) != `{"a":1}` {
		t.Fatalf("%s %v", raw, err)
	}
	raw, err = proxmoxsdk.DecodeEnvelope("GET", "/x", &proxmoxsdk.Response{StatusCode: 200})
	if err != nil || string(raw) != "null" {
		t.Fatalf("empty body: %s %v", raw, err)
	}
	if _, err := proxmoxsdk.DecodeEnvelope("GET", "/x", &proxmoxsdk.Response{StatusCode: 200, Body: []byte(`<html>`)}); err == nil {
		t.Fatal("HTML accepted")
	}
	_, err = proxmoxsdk.DecodeEnvelope("POST", "/x", &proxmoxsdk.Response{StatusCode: 400, Status: "Parameter verification failed.",
		Body: []byte(`{"data":null,"errors":{"vmid":"invalid format","n":5}}`)})
	ae, ok := err.(*proxmoxsdk.APIError)
	if !ok || ae.Message != "Parameter verification failed." || ae.Errors["vmid"] != "invalid format" || ae.Errors["n"] != "5" {
		t.Fatalf("%#v", err)
	}
	if !strings.Contains(ae.Error(), "n: 5; vmid: invalid format") {
		t.Fatalf("message %q", ae.Error())
	}
	_, err = proxmoxsdk.DecodeEnvelope("GET", "/x", &proxmoxsdk.Response{StatusCode: 500, Status: http.StatusText(500), Body: []byte(`{"data":null,"message":"VM 1 does not exist\n"}`)})
	if ae, ok := err.(*proxmoxsdk.APIError); !ok || ae.Message != "VM 1 does not exist" {
		t.Fatalf("%#v", err)
	}
}

func TestPveshResponse(t *testing.T) {
	r := proxmoxsdk.PveshResponse([]byte("UPID:pve1:0001:0002:0003:qmstart:100:root@pam:\n"), nil, 0)
	if string(r.Body) != `{"data":"UPID:pve1:0001:0002:0003:qmstart:100:root@pam:"}` {
		t.Fatalf("non-JSON stdout: %s", r.Body)
	}
	r = proxmoxsdk.PveshResponse(nil, []byte("400 Parameter verification failed.\nvmid: invalid format\n"), 255)
	raw, err := proxmoxsdk.DecodeEnvelope("GET", "/x", r)
	ae, ok := err.(*proxmoxsdk.APIError)
	if raw != nil || !ok || ae.StatusCode != 400 || ae.Errors["vmid"] != "invalid format" {
		t.Fatalf("%v", err)
	}
	r = proxmoxsdk.PveshResponse(nil, []byte("Configuration file 'x' does not exist\n"), 2)
	if r.StatusCode != 500 {
		t.Fatalf("status %d", r.StatusCode)
	}
}

// FuzzEncodeParams: any JSON object flattens without panicking, booleans
// become 0/1 and no value is lost for scalar keys.
func FuzzEncodeParams(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":true,"b":false}`, `{"net":{"0":"virtio","net1":"e1000"}}`, `{"x":[1,2,"3"]}`, `{"n":1e400}`, `{"deep":{"a":{"b":{"c":{"d":{"e":1}}}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := proxmoxsdk.EncodeParams(json.RawMessage(b))
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return
		}
		for k, x := range m {
			switch x := x.(type) {
			case bool:
				if got := v[k]; len(got) == 0 || got[len(got)-1] != "0" && got[len(got)-1] != "1" {
					t.Fatalf("bool %q encoded as %v", k, got)
				}
			case string:
				if !contains(v[k], x) {
					t.Fatalf("string %q lost: %v", k, v[k])
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FuzzDecodeEnvelope: no body or status makes the decoder panic, and a
// 2xx answer never yields an error value of the wrong kind.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(200, []byte(`{"data":[1,2]}`))
	f.Add(500, []byte(`{"data":null,"message":"does not exist"}`))
	f.Add(400, []byte(`{"data":null,"errors":{"a":"b"}}`))
	f.Add(200, []byte(``))
	f.Add(595, []byte(`garbage`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		raw, err := proxmoxsdk.DecodeEnvelope("GET", "/x", &proxmoxsdk.Response{StatusCode: status, Body: body})
		if status >= 200 && status <= 299 {
			if err == nil && !json.Valid(raw) {
				t.Fatalf("invalid data %q", raw)
			}
			if _, isAPI := err.(*proxmoxsdk.APIError); isAPI {
				t.Fatal("APIError for a 2xx")
			}
			return
		}
		if _, isAPI := err.(*proxmoxsdk.APIError); !isAPI {
			t.Fatalf("status %d: %v", status, err)
		}
		_ = err.Error()
	})
}

// FuzzPveshResponse: any pvesh output maps to a response whose envelope
// decodes or yields an *APIError, never a panic.
func FuzzPveshResponse(f *testing.F) {
	f.Add([]byte(`[{"vmid":100}]`), []byte(""), 0)
	f.Add([]byte(""), []byte("400 Parameter verification failed.\nvmid: invalid format\n"), 255)
	f.Add([]byte("UPID:pve1:1:2:3:qmstart:100:root@pam:"), []byte(""), 0)
	f.Add([]byte(""), []byte("\n\n"), 1)
	f.Fuzz(func(t *testing.T, stdout, stderr []byte, code int) {
		r := proxmoxsdk.PveshResponse(stdout, stderr, code)
		raw, err := proxmoxsdk.DecodeEnvelope("GET", "/x", r)
		if code == 0 && (err != nil || !json.Valid(raw)) {
			t.Fatalf("exit 0: %q %v", raw, err)
		}
		if code != 0 {
			if _, ok := err.(*proxmoxsdk.APIError); !ok {
				t.Fatalf("exit %d: %v", code, err)
			}
		}
	})
}
