// Package sqlite is proxboxd's store: the NetBox endpoint, the Proxmox
// endpoints, API keys (as SHA-256 hashes), auth lockouts and the sync-run
// history, in one SQLite file with versioned migrations. NetBox tokens and
// Proxmox passwords and token secrets are encrypted with AES-256-GCM.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// ErrNotFound and ErrConflict are the root package's, for callers that
// know the store as *sqlite.Store.
var (
	ErrNotFound = proxbox.ErrNotFound
	ErrConflict = proxbox.ErrConflict
)

// The types of the root package's store interfaces, under their former
// sqlite names.
type (
	APIKey  = proxbox.APIKey
	KeyHash = proxbox.KeyHash
	Lockout = proxbox.Lockout
	SyncRun = proxbox.SyncRun
)

// Store implements the root package's store interfaces.
var (
	_ proxbox.Store         = (*Store)(nil)
	_ proxbox.EndpointStore = (*Store)(nil)
	_ proxbox.KeyStore      = (*Store)(nil)
	_ proxbox.RunStore      = (*Store)(nil)
)

// Options configure Open.
type Options struct {
	// EncryptionKey is the key material (PROXBOX_ENCRYPTION_KEY). When empty,
	// KeyFile is read, or created with mode 0600 on first start.
	EncryptionKey string
	// KeyFile defaults to "<db>.key" next to the database.
	KeyFile string
}

// Store is safe for concurrent use.
type Store struct {
	db     *sql.DB
	sealer *Sealer
	path   string
	// KeyFileCreated reports whether Open created a new key file.
	KeyFileCreated bool

	gen atomic.Int64 // bumped on every endpoint change

	keyMu    sync.RWMutex
	keyCache []proxbox.KeyHash // active keys; nil = not loaded

	lockMu   sync.Mutex
	lockouts map[string]proxbox.Lockout
}

// Open opens (creating when needed) the database at path and migrates it.
// path ":memory:" opens a private in-memory database (tests); it then needs
// Options.EncryptionKey.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	material := []byte(opts.EncryptionKey)
	created := false
	dsn := "file::memory:?_busy_timeout=5000&_foreign_keys=on"
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: db dir: %w", err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		_ = f.Close()
		if len(material) == 0 {
			kf := opts.KeyFile
			if kf == "" {
				kf = path + ".key"
			}
			material, created, err = LoadOrCreateKeyFile(kf)
			if err != nil {
				return nil, err
			}
		}
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=on&_synchronous=NORMAL"
	}
	if len(material) == 0 {
		return nil, errors.New("sqlite: an encryption key is required for an in-memory store")
	}
	sealer, err := NewSealer(material)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; reads are short
	s := &Store{db: db, sealer: sealer, path: path, KeyFileCreated: created, lockouts: map[string]proxbox.Lockout{}}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.checkKey(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.loadLockouts(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the handle (tests, admin).
func (s *Store) DB() *sql.DB { return s.db }

// Generation changes whenever an endpoint row changes; connectors use it to
// invalidate cached clients.
func (s *Store) Generation() int64 { return s.gen.Load() }

// checkKey stores an encrypted canary on first use and verifies it later, so a
// wrong key fails at startup instead of on the first sync.
func (s *Store) checkKey(ctx context.Context) error {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k='key_check'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		sealed, err := s.sealer.Seal("meta.key_check", "proxboxd")
		if err != nil {
			return err
		}
		_, err = s.db.ExecContext(ctx, `INSERT INTO meta(k,v) VALUES('key_check',?)`, sealed)
		if err != nil {
			return fmt.Errorf("sqlite: key check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: key check: %w", err)
	}
	if p, err := s.sealer.Open("meta.key_check", v); err != nil || p != "proxboxd" {
		return errors.New("sqlite: the encryption key does not match this database")
	}
	return nil
}

func nowEpoch() float64 { return float64(time.Now().UnixNano()) / 1e9 }

func epochTime(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}
