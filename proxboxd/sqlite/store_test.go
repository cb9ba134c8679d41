package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

func TestMigrationsAndReopen(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "x", "p.db")
	s, err := Open(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.KeyFileCreated {
		t.Fatal("key file not created")
	}
	fi, _ := os.Stat(db)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("db mode %o", fi.Mode().Perm())
	}
	var v int
	_ = s.DB().QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	if v != SchemaVersion() {
		t.Fatalf("schema %d", v)
	}
	e, err := s.CreateProxmoxEndpoint(ctx, proxbox.ProxmoxEndpoint{Name: "a (nb:1)", IPAddress: "10.0.0.1", Port: 8006, Username: "root@pam", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProxmoxEndpoint(ctx, proxbox.ProxmoxEndpoint{Name: "a (nb:1)"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("dup: %v", err)
	}
	g := s.Generation()
	if changed, _ := s.UpdateProxmoxEndpoint(ctx, e); changed || s.Generation() != g {
		t.Fatal("no-op update bumped generation")
	}
	_ = s.Close()
	s, err = Open(ctx, db, Options{})
	if err != nil || s.KeyFileCreated {
		t.Fatalf("reopen: %v", err)
	}
	got, err := s.GetProxmoxEndpoint(ctx, e.ID)
	if err != nil || got.Password != "pw" {
		t.Fatalf("reopen read: %+v %v", got, err)
	}
	_ = s.Close()
	if err := os.Chmod(db+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, db, Options{}); err == nil {
		t.Fatal("world-readable key file accepted")
	}
}

func TestKeysAndLockouts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, ":memory:", Options{EncryptionKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RegisterFirstKey(ctx, "h1", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterFirstKey(ctx, "h2", "b"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second bootstrap: %v", err)
	}
	ks, _ := s.ActiveKeyHashes(ctx)
	if len(ks) != 1 || ks[0].Hash != "h1" {
		t.Fatalf("keys %v", ks)
	}
	if _, err := s.SetKeyActive(ctx, ks[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if ks, _ := s.ActiveKeyHashes(ctx); len(ks) != 0 {
		t.Fatal("cache not invalidated")
	}
	if _, err := s.RegisterFirstKey(ctx, "h3", "c"); err != nil {
		t.Fatalf("bootstrap after revoke: %v", err)
	}
	now := time.Now()
	for i := 1; i <= 5; i++ {
		if l := s.RecordFailure(ctx, "1.2.3.4", now, 300*time.Second); l.Attempts != i {
			t.Fatalf("attempt %d: %+v", i, l)
		}
	}
	if l := s.RecordFailure(ctx, "1.2.3.4", now.Add(301*time.Second), 300*time.Second); l.Attempts != 1 {
		t.Fatalf("window not reset: %+v", l)
	}
	s.ClearLockout(ctx, "1.2.3.4")
	if _, ok := s.GetLockout("1.2.3.4"); ok {
		t.Fatal("lockout not cleared")
	}
}

func TestSealer(t *testing.T) {
	a, _ := NewSealer([]byte("one"))
	b, _ := NewSealer([]byte("two"))
	c, err := a.Seal("col", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Open("col", c); err != nil || p != "secret" {
		t.Fatalf("open: %q %v", p, err)
	}
	if _, err := a.Open("other", c); err == nil {
		t.Fatal("column swap accepted")
	}
	if _, err := b.Open("col", c); err == nil {
		t.Fatal("wrong key accepted")
	}
	if _, err := a.Open("col", "plaintext"); err == nil {
		t.Fatal("plaintext accepted")
	}
}
