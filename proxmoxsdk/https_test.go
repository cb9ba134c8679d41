package proxmoxsdk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

type resource struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	VMID   int    `json:"vmid"`
	Name   string `json:"name"`
	Node   string `json:"node"`
	Status string `json:"status"`
}

func TestHTTPSToken(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	url, fp, ca := tlsServer(t, m)
	id, secret := m.Token()
	for name, opt := range map[string]proxmoxsdk.HTTPSOption{
		"fingerprint": proxmoxsdk.WithFingerprint(fp),
		"ca-bundle":   proxmoxsdk.WithCABundle(ca),
	} {
		t.Run(name, func(t *testing.T) {
			px := newClient(t, proxmoxsdk.WithHTTPS(url, opt), proxmoxsdk.WithAPIToken(id, secret))
			res, errs := proxmoxsdk.GetList[resource](ctxT(t), px, "/cluster/resources", map[string]any{"type": "vm"})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(res) != 100 {
				t.Fatalf("got %d guests, want 100", len(res))
			}
			if res[0].ID != "qemu/100" || res[0].Node != "pve1" || res[0].Name == "" {
				t.Fatalf("first resource %+v", res[0])
			}
		})
	}
}

func TestHTTPSVerification(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	url, _, _ := tlsServer(t, m)
	id, secret := m.Token()
	wrong := strings.Repeat("AB:", 31) + "AB"
	px := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(wrong)), proxmoxsdk.WithAPIToken(id, secret))
	_, err := px.CallRaw(ctxT(t), "GET", "/version", nil)
	if !errors.Is(err, proxmoxsdk.ErrFingerprintMismatch) {
		t.Fatalf("wrong pin: got %v, want ErrFingerprintMismatch", err)
	}
	// Default verification (system roots) rejects the self-signed certificate.
	px = newClient(t, proxmoxsdk.WithHTTPS(url), proxmoxsdk.WithAPIToken(id, secret))
	if _, err := px.CallRaw(ctxT(t), "GET", "/version", nil); err == nil {
		t.Fatal("self-signed certificate accepted without pin or CA")
	}
	if _, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint("zz"))); err == nil {
		t.Fatal("bad fingerprint accepted")
	}
	if _, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS("ftp://x")); err == nil {
		t.Fatal("bad scheme accepted")
	}
	if _, err := proxmoxsdk.New(); err == nil {
		t.Fatal("no transport accepted")
	}
	if _, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithAPIToken("nobang", "x")); err == nil {
		t.Fatal("bad token id accepted")
	}
}

func TestHTTPSBadToken(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	url, fp, _ := tlsServer(t, m)
	id, _ := m.Token()
	px := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)), proxmoxsdk.WithAPIToken(id, "not-the-secret"))
	_, err := px.CallRaw(ctxT(t), "GET", "/nodes", nil)
	var ae *proxmoxsdk.APIError
	if !errors.Is(err, proxmoxsdk.ErrAuth) || !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Fatalf("got %v, want 401 ErrAuth", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Fatal("secret leaked into the error")
	}
}
