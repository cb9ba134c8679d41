package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testToken = "0123456789abcdef0123456789abcdef01234567"

// Keys deliberately out of order; a number with many digits must survive.
const testSchema = `{"paths":{"/api/plugins/proxbox/x/":{"get":{},"post":{}},
"/api/dcim/sites/":{"post":{},"get":{},"parameters":[]},"/api/status/":{"get":{}}},
"openapi":"3.0.3","info":{"version":"4.7.3 (4.7)","title":"NetBox REST API","x":12345678901234567890},
"components":{"schemas":{"B":{"description":"<b>&"},"A":{}}}}`

func newServer(t *testing.T, status string) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Token "+testToken {
			http.Error(w, `{"detail":"Invalid token"}`, http.StatusForbidden)
			return
		}
		if r.Header.Get("Accept") != "application/json" {
			http.Error(w, "want json", http.StatusNotAcceptable)
			return
		}
		switch {
		case r.URL.Path == "/api/status/" && status != "":
			_, _ = w.Write([]byte(status))
		case r.URL.Path == "/api/schema/" && r.URL.Query().Get("format") == "json":
			_, _ = w.Write([]byte(testSchema))
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestDumpDeterministic(t *testing.T) {
	srv := newServer(t, `{"netbox-version":"4.7.3","python-version":"3.12.1"}`)
	defer srv.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	args := []string{"-url", srv.URL + "/", "-token", testToken, "-out", dir}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(out.String(), testToken) {
		t.Fatalf("output leaks the token: %s", out.String())
	}
	if !strings.Contains(out.String(), "3 paths, 5 operations (1 plugin paths, 2 plugin operations)") {
		t.Fatalf("unexpected summary: %s", out.String())
	}
	file := filepath.Join(dir, "netbox-4.7.3.json")
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("second run: %v", err)
	}
	second, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two dumps of the same schema differ")
	}
	s := string(first)
	for _, want := range []string{`"<b>&"`, `12345678901234567890`, "\n  \"components\": {"} {
		if !strings.Contains(s, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	// sorted keys: components < info < openapi < paths; A before B; /api/dcim before /api/plugins.
	order := []string{`"components"`, `"A"`, `"B"`, `"info"`, `"openapi"`, `"paths"`, `"/api/dcim/sites/"`, `"/api/plugins/proxbox/x/"`, `"/api/status/"`}
	last := -1
	for _, k := range order {
		i := strings.Index(s, k)
		if i <= last {
			t.Fatalf("key %s out of order in dump", k)
		}
		last = i
	}
	if !strings.HasSuffix(s, "}\n") {
		t.Error("dump does not end with a newline")
	}
}

func TestVersionFromSchemaWhenStatusFails(t *testing.T) {
	srv := newServer(t, "")
	defer srv.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", srv.URL, "-token", testToken, "-out", dir}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "netbox-4.7.3.json")); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	srv := newServer(t, `{"netbox-version":"4.7.3"}`)
	defer srv.Close()
	t.Setenv("NETBOX_URL", "")
	t.Setenv("NETBOX_TOKEN", "")
	cases := map[string][]string{
		"no url":    {"-token", "x"},
		"no token":  {"-url", srv.URL},
		"bad url":   {"-url", "ftp://x", "-token", "x"},
		"bad token": {"-url", srv.URL, "-token", "wrongtoken", "-out", t.TempDir()},
	}
	for name, args := range cases {
		err := run(context.Background(), args, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s: want error", name)
			continue
		}
		if strings.Contains(err.Error(), "wrongtoken") {
			t.Errorf("%s: error leaks the token: %v", name, err)
		}
	}
}

func TestEnvDefaults(t *testing.T) {
	srv := newServer(t, `{"netbox-version":"4.7.3"}`)
	defer srv.Close()
	t.Setenv("NETBOX_URL", srv.URL)
	t.Setenv("NETBOX_TOKEN", testToken)
	dir := t.TempDir()
	if err := run(context.Background(), []string{"-out", dir}, &bytes.Buffer{}); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestCleanVersion(t *testing.T) {
	for in, want := range map[string]string{"4.7.3": "4.7.3", "v4.7.0": "4.7.0", "4.7.3-Docker-3.2": "4.7.3-Docker-3.2"} {
		got, err := cleanVersion(in)
		if err != nil || got != want {
			t.Errorf("cleanVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "../x", "4.7 /x"} {
		if _, err := cleanVersion(bad); err == nil {
			t.Errorf("cleanVersion(%q): want error", bad)
		}
	}
}

func TestAuthHeader(t *testing.T) {
	if got := authHeader("nbt_abc.def"); got != "Bearer nbt_abc.def" {
		t.Errorf("v2: %q", got)
	}
	if got := authHeader(testToken); got != "Token "+testToken {
		t.Errorf("v1: %q", got)
	}
}
