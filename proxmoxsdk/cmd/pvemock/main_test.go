package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe runs `pvemock serve` and talks to it over HTTPS with the
// printed fingerprint and the token secret from --token-file.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	var out syncBuf
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--scenario", "s100", "--qemu", "10", "--lxc", "2", "--token-file", tokenFile}, &out, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	printed := out.String()
	fp := regexp.MustCompile(`FINGERPRINT=(\S+)`).FindStringSubmatch(printed)
	id := regexp.MustCompile(`TOKEN_ID=(\S+)`).FindStringSubmatch(printed)
	if fp == nil || id == nil || !strings.Contains(printed, "URL="+base) {
		t.Fatalf("output: %s", printed)
	}
	secret, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	px, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS(base, proxmoxsdk.WithFingerprint(fp[1])), proxmoxsdk.WithAPIToken(id[1], strings.TrimSpace(string(secret))))
	if err != nil {
		t.Fatal(err)
	}
	type r struct {
		VMID int `json:"vmid"`
	}
	guests, errs := proxmoxsdk.GetList[r](ctx, px, "/cluster/resources", map[string]any{"type": "vm"})
	if len(errs) > 0 || len(guests) != 12 {
		t.Fatalf("guests %d %v", len(guests), errs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "--scenario", "nope"}, &out, nil); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	if err := run(context.Background(), nil, &out, nil); err == nil {
		t.Fatal("missing subcommand accepted")
	}
}

// counting counts POST /access/ticket requests.
type counting struct {
	next   proxmoxsdk.Transport
	logins atomic.Int32
}

func (c *counting) RoundTrip(ctx context.Context, req *proxmoxsdk.Request) (*proxmoxsdk.Response, error) {
	if req.Method == "POST" && req.Path == "/access/ticket" {
		c.logins.Add(1)
	}
	return c.next.RoundTrip(ctx, req)
}

// TestServeTicketTOTP logs in with password + TOTP against `pvemock serve`
// whose tickets live 3 s (timestamps have 1 s resolution, as in PVE): one client sees its ticket expire mid-run and
// logs in again (401, then password + TOTP), another renews it in time.
func TestServeTicketTOTP(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps through ticket expiry")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, ready, done := serve(ctx, "--listen", "127.0.0.1:0", "--scenario", "s100", "--qemu", "3", "--lxc", "0",
		"--ticket-lifetime", "3s", "--token-file", filepath.Join(t.TempDir(), "token"))
	base := <-ready
	fp := regexp.MustCompile(`FINGERPRINT=(\S+)`).FindStringSubmatch(out.String())[1]
	client := func(renew time.Duration) (*proxmoxsdk.Client, *counting) {
		tr, err := proxmoxsdk.NewHTTPSTransport(base, proxmoxsdk.WithFingerprint(fp))
		if err != nil {
			t.Fatal(err)
		}
		c := &counting{next: tr}
		px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(c), proxmoxsdk.WithTicket("tfa@pve", pvemock.DefaultPassword),
			proxmoxsdk.WithTOTP(pvemock.DefaultTOTPSecret), proxmoxsdk.WithTicketRenewal(renew))
		if err != nil {
			t.Fatal(err)
		}
		return px, c
	}
	expiring, ce := client(time.Hour)
	renewing, cr := client(time.Second)
	for _, px := range []*proxmoxsdk.Client{expiring, renewing} {
		if _, err := px.CallRaw(ctx, "GET", "/nodes", nil); err != nil {
			t.Fatal(err)
		}
	}
	if ce.logins.Load() != 2 || cr.logins.Load() != 2 {
		t.Fatalf("first login: %d / %d requests, want 2 (password + TOTP)", ce.logins.Load(), cr.logins.Load())
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := renewing.CallRaw(ctx, "GET", "/nodes", nil); err != nil {
		t.Fatal(err)
	}
	if cr.logins.Load() != 3 {
		t.Fatalf("renewal: %d login requests, want 3", cr.logins.Load())
	}
	time.Sleep(1800 * time.Millisecond) // the first client's ticket is now 3.3 s old
	if err := expiring.Call(ctx, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": 2048}, nil); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if ce.logins.Load() != 4 {
		t.Fatalf("re-login: %d login requests, want 4", ce.logins.Load())
	}
	cancel()
	<-done
}

// TestServeClusterFile: --scenario takes the user's cluster file.
func TestServeClusterFile(t *testing.T) {
	file := filepath.Join("..", "..", "pvemock", "testdata", "cluster.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, ready, done := serve(ctx, "--listen", "127.0.0.1:0", "--http", "--scenario", file)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(out.String(), "nodes=2 qemu=2 lxc=1") {
		t.Errorf("output: %s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "--scenario", file, "--qemu", "3"}, out, nil); err == nil {
		t.Error("--qemu with a cluster file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"nodes":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"serve", "--scenario", bad}, out, nil); err == nil || !strings.Contains(err.Error(), "no nodes") {
		t.Errorf("invalid cluster file: %v", err)
	}
}

// serve runs `pvemock serve args…` in the background: its output, the
// base URL once it listens, and its result.
func serve(ctx context.Context, args ...string) (*syncBuf, chan string, chan error) {
	out := &syncBuf{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), out, ready) }()
	return out, ready, done
}
