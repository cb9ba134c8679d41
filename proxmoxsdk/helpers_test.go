package proxmoxsdk_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestMain doubles as a fake pvesh binary for the local command transport:
// with PROXMOXSDK_FAKE_PVESH=1 the test binary answers like pvesh from an
// S100 mock.
func TestMain(m *testing.M) {
	if os.Getenv("PROXMOXSDK_FAKE_PVESH") == "1" {
		var out, errb bytes.Buffer
		code := pvemock.New(pvemock.S100()).Pvesh(os.Args[1:], &out, &errb)
		os.Stdout.Write(out.Bytes())
		os.Stderr.Write(errb.Bytes())
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// fakeClock is a settable clock shared by the client and the mock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tlsServer serves the mock over HTTPS and returns its URL, certificate
// fingerprint and PEM.
func tlsServer(t testing.TB, m *pvemock.Mock) (url, fingerprint string, caPEM []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(m.Handler())
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	der := srv.Certificate().Raw
	return srv.URL, proxmoxsdk.Fingerprint(der), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t testing.TB, opts ...proxmoxsdk.Option) *proxmoxsdk.Client {
	t.Helper()
	px, err := proxmoxsdk.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return px
}
