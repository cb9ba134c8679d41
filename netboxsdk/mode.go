package netboxsdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// API modes: ModeReal (the default) talks to the NetBox at the base URL;
// ModeMock serves every request in process from netboxtest.
const (
	ModeReal = "real"
	ModeMock = "mock"
)

// Environment variables read by New when no option says otherwise.
const (
	// EnvAPIMode selects the mode: "real" (default) or "mock".
	EnvAPIMode = "NETBOX_API_MODE"
	// EnvMockData names a JSON file of objects the mock starts with:
	// {"/api/dcim/sites/": [{"name": "a", "slug": "a"}], …}, in dependency order.
	EnvMockData = "NETBOX_MOCK_DATA"
)

// ErrNoMock is returned by New in mock mode when no mock is linked into the
// program (import _ "github.com/proxbox-go/proxbox/netboxsdk/netboxtest").
var ErrNoMock = errors.New("netboxsdk: mock mode, but no mock is linked in (import _ \"github.com/proxbox-go/proxbox/netboxsdk/netboxtest\")")

// MockFactory returns the in-process NetBox for a data file ("" for an empty
// one) and the token it accepts.
type MockFactory func(dataFile string) (h http.Handler, token string, err error)

var (
	mockMu      sync.RWMutex
	mockFactory MockFactory
)

// RegisterMock installs the factory mock mode uses. Package netboxtest calls it
// from its init function: netboxsdk cannot import netboxtest (netboxtest
// imports netboxsdk), and a program that never imports the mock pays nothing.
func RegisterMock(f MockFactory) {
	mockMu.Lock()
	mockFactory = f
	mockMu.Unlock()
}

// WithAPIMode selects ModeReal or ModeMock, overriding NETBOX_API_MODE.
func WithAPIMode(mode string) Option {
	return func(c *config) error {
		m, err := parseMode(mode)
		if err != nil {
			return err
		}
		c.mode = m
		return nil
	}
}

// WithMock selects mock mode; dataFile ("" reads NETBOX_MOCK_DATA, which may
// be unset) seeds the mock.
func WithMock(dataFile string) Option {
	return func(c *config) error {
		c.mode, c.mockData = ModeMock, dataFile
		return nil
	}
}

func parseMode(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", ModeReal:
		return ModeReal, nil
	case ModeMock:
		return ModeMock, nil
	}
	return "", fmt.Errorf("netboxsdk: API mode %q: want %q or %q", s, ModeReal, ModeMock)
}

// Mode reports the API mode New would pick from the environment alone.
func Mode() (string, error) { return parseMode(os.Getenv(EnvAPIMode)) }

// mockBaseURL is the base URL of a client in mock mode when none was given.
const mockBaseURL = "http://netbox.mock"

// applyMock resolves mock mode: an http.Client that serves every request in
// process, and the mock's token.
func (c *config) applyMock() error {
	mockMu.RLock()
	f := mockFactory
	mockMu.RUnlock()
	if f == nil {
		return ErrNoMock
	}
	data := c.mockData
	if data == "" {
		data = os.Getenv(EnvMockData)
	}
	h, token, err := f(data)
	if err != nil {
		return fmt.Errorf("netboxsdk: mock: %w", err)
	}
	c.httpClient = &http.Client{Transport: handlerTransport{h}}
	c.tlsSet = false
	c.token, c.tokenSet = token, true
	return nil
}

// handlerTransport answers requests with an http.Handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	w := &memWriter{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: r,
	}, nil
}

// memWriter is the http.ResponseWriter of handlerTransport (net/http/httptest
// is not used: it registers a command-line flag in every program).
type memWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *memWriter) Header() http.Header { return w.header }

func (w *memWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *memWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
