package harness

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// PVE is the PVE mock served over HTTPS (self-signed) on loopback, the way
// `pvemock serve` does, in this process so tests can mutate it (node down)
// and read its request counters. A fault proxy sits in front of it.
type PVE struct {
	Mock  *pvemock.Mock
	Proxy *faultproxy.Server // what proxboxd talks to
	URL   string             // the mock itself
	srv   *http.Server
}

// StartPVE serves a mock of sc and a counting fault proxy in front of it.
func StartPVE(sc pvemock.Scenario, seed int64) (*PVE, error) {
	m := pvemock.New(sc)
	cert, err := faultproxy.SelfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("harness: pve listen: %w", err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	tl := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	go func() { _ = srv.Serve(tl) }()
	p := &PVE{Mock: m, srv: srv, URL: "https://" + ln.Addr().String()}
	fp, err := faultproxy.New(faultproxy.Config{Upstream: p.URL, UpstreamInsecure: true, Seed: seed, HoldMax: 10 * time.Second, SlowDelay: time.Second})
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	if p.Proxy, err = faultproxy.Listen(fp, "127.0.0.1:0", true); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return p, nil
}

// Close stops the proxy and the mock.
func (p *PVE) Close() {
	_ = p.Proxy.Close()
	_ = p.srv.Close()
}

// Token returns the API token split the way the plugin's endpoint form
// holds it: username "root@pam", token name, secret.
func (p *PVE) Token() (user, name, secret string) {
	id, secret := p.Mock.Token()
	user, name, _ = strings.Cut(id, "!")
	return user, name, secret
}

// SetNodeDown makes reads of node fail like an unreachable node.
func (p *PVE) SetNodeDown(node string, down bool) error {
	if err := p.Mock.SetNodeDown(node, down); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// Requests is the mock's own request count by method.
func (p *PVE) Requests() map[string]int {
	out := map[string]int{}
	for k, v := range p.Mock.Requests() {
		method, _, _ := strings.Cut(k, " ")
		out[method] += int(v)
	}
	return out
}
