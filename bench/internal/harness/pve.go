package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// PVE is the PVE mock served over HTTPS (self-signed) on loopback, the way
// `pvemock serve` does, in this process so tests can mutate it (node down)
// and read its request counters. A fault proxy sits in front of it.
type PVE struct {
	Mock  *pvemock.Mock      // nil when the mock is a `pvemock serve` subprocess
	Proxy *faultproxy.Server // what proxboxd talks to
	URL   string             // the mock itself
	srv   *http.Server
	proc  *Proc
	token [2]string
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
	p.token[0], p.token[1] = m.Token()
	if err := p.proxy(seed); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return p, nil
}

func (p *PVE) proxy(seed int64) error {
	fp, err := faultproxy.New(faultproxy.Config{Upstream: p.URL, UpstreamInsecure: true, Seed: seed, HoldMax: 10 * time.Second, SlowDelay: time.Second})
	if err != nil {
		return err
	}
	p.Proxy, err = faultproxy.Listen(fp, "127.0.0.1:0", true)
	return err
}

// StartPVEProcess runs `pvemock serve --scenario NAME` (bin built from
// ./proxmoxsdk/cmd/pvemock) on a free loopback port, with the proxy in front.
func StartPVEProcess(ctx context.Context, bin, scenario, dir string, seed int64) (*PVE, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(dir, "pve-token")
	proc, err := StartProc(bin, []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--scenario", scenario, "--token-file", tokenFile},
		os.Environ(), filepath.Join(dir, "pvemock.log"))
	if err != nil {
		return nil, err
	}
	p := &PVE{proc: proc}
	deadline := time.Now().Add(30 * time.Second)
	for p.URL == "" || p.token[0] == "" {
		if proc.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			proc.Kill()
			return nil, fmt.Errorf("harness: pvemock serve did not start:\n%s", proc.Tail(2000))
		}
		for _, l := range strings.Split(proc.Tail(4000), "\n") {
			if v, ok := strings.CutPrefix(l, "URL="); ok {
				p.URL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "TOKEN_ID="); ok {
				p.token[0] = strings.TrimSpace(v)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		proc.Kill()
		return nil, fmt.Errorf("harness: pvemock token: %w", err)
	}
	p.token[1] = strings.TrimSpace(string(b))
	if err := p.proxy(seed); err != nil {
		proc.Kill()
		return nil, err
	}
	return p, nil
}

// Close stops the proxy and the mock.
func (p *PVE) Close() {
	if p.Proxy != nil {
		_ = p.Proxy.Close()
	}
	if p.srv != nil {
		_ = p.srv.Close()
	}
	if p.proc != nil {
		_ = p.proc.Stop(5 * time.Second)
	}
}

// Token returns the API token split the way the plugin's endpoint form
// holds it: username "root@pam", token name, secret.
func (p *PVE) Token() (user, name, secret string) {
	user, name, _ = strings.Cut(p.token[0], "!")
	return user, name, p.token[1]
}

// SetNodeDown makes reads of node fail like an unreachable node.
func (p *PVE) SetNodeDown(node string, down bool) error {
	if p.Mock == nil {
		return errors.New("harness: SetNodeDown needs the in-process mock")
	}
	if err := p.Mock.SetNodeDown(node, down); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// Requests is the mock's own request count by method (in-process mock only).
func (p *PVE) Requests() map[string]int {
	out := map[string]int{}
	if p.Mock == nil {
		return out
	}
	for k, v := range p.Mock.Requests() {
		method, _, _ := strings.Cut(k, " ")
		out[method] += int(v)
	}
	return out
}
