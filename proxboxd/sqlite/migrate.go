package sqlite

import (
	"context"
	"fmt"
)

// migrations are applied in order, each in its own transaction; the applied
// version is recorded in schema_migrations. Never edit a released entry: add
// a new one.
var migrations = []string{
	// 1: initial schema
	`CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE netbox_endpoint (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	ip_address TEXT NOT NULL DEFAULT '',
	domain TEXT NOT NULL DEFAULT '',
	port INTEGER NOT NULL DEFAULT 443,
	token_version TEXT NOT NULL DEFAULT 'v1',
	token_key_enc TEXT NOT NULL DEFAULT '',
	token_enc TEXT NOT NULL DEFAULT '',
	verify_ssl INTEGER NOT NULL DEFAULT 1,
	created_at REAL NOT NULL,
	updated_at REAL NOT NULL
);
CREATE TABLE proxmox_endpoint (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	ip_address TEXT NOT NULL DEFAULT '',
	domain TEXT NOT NULL DEFAULT '',
	port INTEGER NOT NULL DEFAULT 8006,
	username TEXT NOT NULL DEFAULT '',
	password_enc TEXT NOT NULL DEFAULT '',
	token_name TEXT NOT NULL DEFAULT '',
	token_value_enc TEXT NOT NULL DEFAULT '',
	verify_ssl INTEGER NOT NULL DEFAULT 0,
	created_at REAL NOT NULL,
	updated_at REAL NOT NULL
);
CREATE TABLE api_key (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	label TEXT NOT NULL DEFAULT '',
	key_hash TEXT NOT NULL UNIQUE,
	is_active INTEGER NOT NULL DEFAULT 1,
	created_at REAL NOT NULL,
	last_used_at REAL
);
CREATE TABLE auth_lockout (
	client TEXT PRIMARY KEY,
	attempts INTEGER NOT NULL,
	first_attempt REAL NOT NULL
);
CREATE TABLE sync_run (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	operation_id TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	stage TEXT NOT NULL DEFAULT '',
	path TEXT NOT NULL DEFAULT '',
	started_at REAL NOT NULL,
	finished_at REAL,
	duration_s REAL,
	ok INTEGER,
	message TEXT NOT NULL DEFAULT '',
	result_json TEXT NOT NULL DEFAULT ''
);`,
	// 2: indexes for the admin page and the hot endpoint lookups
	`CREATE INDEX sync_run_stage ON sync_run(stage, id);
CREATE INDEX proxmox_endpoint_domain ON proxmox_endpoint(domain);
CREATE INDEX proxmox_endpoint_ip ON proxmox_endpoint(ip_address);`,
}

// SchemaVersion is the version the binary migrates to.
func SchemaVersion() int { return len(migrations) }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	var cur int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version),0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("sqlite: schema version: %w", err)
	}
	if cur > len(migrations) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this binary (%d)", cur, len(migrations))
	}
	for v := cur + 1; v <= len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqlite: migrate %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES(?,?)`, v, nowEpoch()); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqlite: migrate %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate %d: %w", v, err)
		}
	}
	return nil
}
