package http_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// TestSecurityHeaders: echo's Secure middleware sets the same headers the
// hand-written one did; the API's CSP is left off the admin page, which sets
// its own (inline script).
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, pbhttp.Config{PublicAdmin: true}, true)
	code, h, _ := e.send("GET", "/health", nil, nil)
	require.Equal(t, 200, code)
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Equal(t, "strict-origin-when-cross-origin", h.Get("Referrer-Policy"))
	assert.Equal(t, "geolocation=(), microphone=(), camera=()", h.Get("Permissions-Policy"))
	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"))
	assert.Empty(t, h.Get("X-XSS-Protection"), "the obsolete XSS auditor header is not sent")

	code, h, _ = e.send("GET", "/admin", nil, nil)
	require.Equal(t, 200, code)
	assert.NotEqual(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"), "the admin page sets its own CSP")
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
}

// TestCORS: allowed origins get the header and a keyless preflight; others
// get neither, and a preflight never reaches the key check.
func TestCORS(t *testing.T) {
	e := newEnv(t, pbhttp.Config{CORSOrigins: []string{"https://NetBox.example.com/"}, PublicLogs: true}, true)
	pre := map[string]string{pbhttp.HeaderAPIKey: "", "Origin": "https://netbox.example.com", "Access-Control-Request-Method": "GET"}
	code, h, _ := e.send("OPTIONS", "/auth/keys", nil, pre)
	require.Equal(t, 204, code)
	assert.Equal(t, "https://netbox.example.com", h.Get("Access-Control-Allow-Origin"), "origins compare case-insensitively, trailing slash ignored")
	assert.Contains(t, h.Get("Access-Control-Allow-Headers"), pbhttp.HeaderAPIKey)
	assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))

	pre["Origin"] = "https://evil.example.com"
	code, h, _ = e.send("OPTIONS", "/auth/keys", nil, pre)
	assert.Equal(t, 204, code)
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))

	code, h, _ = e.send("GET", "/admin/logs", nil, map[string]string{pbhttp.HeaderAPIKey: "", "Origin": "https://evil.example.com"})
	assert.Equal(t, 200, code)
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
	// the preflights were not counted as failed key attempts
	code, _, _ = e.send("GET", "/auth/keys", nil, nil)
	assert.Equal(t, 200, code)
}

// TestKeyAuthFailures: the 401 bodies the plugin matches on, the lockout,
// and a repeated header counting once.
func TestKeyAuthFailures(t *testing.T) {
	e := newEnv(t, pbhttp.Config{}, true)
	code, _, b := e.send("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: ""})
	require.Equal(t, 401, code)
	assert.JSONEq(t, `{"detail":"API key required. 4 attempts remaining."}`, b)

	req, err := http.NewRequest("GET", e.ts.URL+"/auth/keys", nil)
	require.NoError(t, err)
	req.Header.Add(pbhttp.HeaderAPIKey, "wrong-1")
	req.Header.Add(pbhttp.HeaderAPIKey, "wrong-2")
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	assert.JSONEq(t, `{"detail":"Invalid API key. 3 attempts remaining."}`, string(rb), "two header values are one attempt")

	for _, want := range []string{"2 attempts remaining", "1 attempts remaining"} {
		code, _, b = e.send("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: "wrong"})
		require.Equal(t, 401, code)
		assert.Contains(t, b, want)
	}
	code, _, b = e.send("GET", "/auth/keys", nil, map[string]string{pbhttp.HeaderAPIKey: "wrong"})
	require.Equal(t, 401, code)
	assert.JSONEq(t, `{"detail":"Invalid API key."}`, b)
	code, h, b := e.send("GET", "/auth/keys", nil, nil) // the right key, but locked out
	require.Equal(t, 429, code)
	assert.Equal(t, "300", h.Get("Retry-After"))
	assert.Contains(t, b, "Too many failed API key attempts")
	assert.NotContains(t, e.logText(), testKey)
	// exempt routes stay open to a locked-out client
	code, _, _ = e.send("GET", "/health", nil, nil)
	assert.Equal(t, 200, code)
}

// TestRateLimitRetryAfter: the 429 of the rate limit names a wait and its
// JSON detail, and the limit is per client.
func TestRateLimitRetryAfter(t *testing.T) {
	e := newEnv(t, pbhttp.Config{RateLimit: 60, RateBurst: 3}, true)
	var code int
	var h http.Header
	var b string
	for range 10 {
		if code, h, b = e.send("GET", "/version", nil, nil); code == 429 {
			break
		}
	}
	require.Equal(t, 429, code)
	assert.Equal(t, "1", h.Get("Retry-After"))
	assert.JSONEq(t, `{"detail":"Rate limit exceeded. Please try again later."}`, b)
	code, _, _ = e.send("GET", "/", nil, nil)
	assert.Equal(t, 200, code, "/ is never throttled")

	off := newEnv(t, pbhttp.Config{RateLimit: -1}, true)
	for i := range 100 {
		code, _, _ := off.send("GET", "/version", nil, nil)
		require.Equal(t, 200, code, "request %d with the limit off", i)
	}
}

// TestBodyLimit: echo's BodyLimit answers 413 with the JSON detail, by
// Content-Length and by what a chunked body turns out to hold.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t, pbhttp.Config{MaxBodyBytes: 1024}, true)
	big := `{"label":"` + strings.Repeat("a", 2048) + `"}`
	code, _, b := e.send("POST", "/auth/keys", strings.NewReader(big), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 413, code)
	assert.JSONEq(t, `{"detail":"request body too large"}`, b)
	// no Content-Length: the limit applies while reading
	code, _, b = e.send("POST", "/auth/keys", io.MultiReader(strings.NewReader(big)), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 413, code)
	assert.JSONEq(t, `{"detail":"request body too large"}`, b)
	code, _, _ = e.send("POST", "/auth/keys", strings.NewReader(`{"label":"ok"}`), map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, 201, code)
}
