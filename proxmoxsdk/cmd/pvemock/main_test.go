package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
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
