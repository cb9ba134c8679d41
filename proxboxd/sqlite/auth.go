package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

func (s *Store) invalidateKeys() {
	s.keyMu.Lock()
	s.keyCache = nil
	s.keyMu.Unlock()
}

// ActiveKeyHashes returns the active keys' hashes (cached in memory).
func (s *Store) ActiveKeyHashes(ctx context.Context) ([]proxbox.KeyHash, error) {
	s.keyMu.RLock()
	c := s.keyCache
	s.keyMu.RUnlock()
	if c != nil {
		return c, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, key_hash FROM api_key WHERE is_active=1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	out := []proxbox.KeyHash{}
	for rows.Next() {
		var k proxbox.KeyHash
		if err := rows.Scan(&k.ID, &k.Hash); err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	s.keyMu.Lock()
	s.keyCache = out
	s.keyMu.Unlock()
	return out, nil
}

// RegisterFirstKey stores hash only while no active key exists (atomic);
// otherwise it returns proxbox.ErrConflict.
func (s *Store) RegisterFirstKey(ctx context.Context, hash, label string) (proxbox.APIKey, error) {
	now := nowEpoch()
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_key(label, key_hash, is_active, created_at)
SELECT ?,?,1,? WHERE NOT EXISTS (SELECT 1 FROM api_key WHERE is_active=1)`, label, hash, now)
	if isUnique(err) {
		return proxbox.APIKey{}, fmt.Errorf("sqlite: register key: %w (%w)", proxbox.ErrConflict, err)
	}
	if err != nil {
		return proxbox.APIKey{}, fmt.Errorf("sqlite: register key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return proxbox.APIKey{}, proxbox.ErrConflict
	}
	s.invalidateKeys()
	id, _ := res.LastInsertId()
	return proxbox.APIKey{ID: int(id), Label: label, IsActive: true, CreatedAt: now}, nil
}

// CreateKey stores an additional key.
func (s *Store) CreateKey(ctx context.Context, hash, label string) (proxbox.APIKey, error) {
	now := nowEpoch()
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_key(label, key_hash, is_active, created_at) VALUES(?,?,1,?)`, label, hash, now)
	if isUnique(err) {
		return proxbox.APIKey{}, fmt.Errorf("sqlite: create key: %w (%w)", proxbox.ErrConflict, err)
	}
	if err != nil {
		return proxbox.APIKey{}, fmt.Errorf("sqlite: create key: %w", err)
	}
	s.invalidateKeys()
	id, _ := res.LastInsertId()
	return proxbox.APIKey{ID: int(id), Label: label, IsActive: true, CreatedAt: now}, nil
}

// ListKeys returns all keys, newest first (no hashes).
func (s *Store) ListKeys(ctx context.Context) ([]proxbox.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, label, is_active, created_at FROM api_key ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	defer rows.Close()
	out := []proxbox.APIKey{}
	for rows.Next() {
		var k proxbox.APIKey
		var act int
		if err := rows.Scan(&k.ID, &k.Label, &act, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("sqlite: list keys: %w", err)
		}
		k.IsActive = act != 0
		out = append(out, k)
	}
	return out, rows.Err()
}

// GetKey returns one key.
func (s *Store) GetKey(ctx context.Context, id int) (proxbox.APIKey, error) {
	var k proxbox.APIKey
	var act int
	err := s.db.QueryRowContext(ctx, `SELECT id, label, is_active, created_at FROM api_key WHERE id=?`, id).Scan(&k.ID, &k.Label, &act, &k.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return k, proxbox.ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: key: %w", err)
	}
	k.IsActive = act != 0
	return k, nil
}

// SetKeyActive activates or revokes a key.
func (s *Store) SetKeyActive(ctx context.Context, id int, active bool) (proxbox.APIKey, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE api_key SET is_active=? WHERE id=?`, b2i(active), id)
	if err != nil {
		return proxbox.APIKey{}, fmt.Errorf("sqlite: key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return proxbox.APIKey{}, proxbox.ErrNotFound
	}
	s.invalidateKeys()
	return s.GetKey(ctx, id)
}

// DeleteKey removes a key.
func (s *Store) DeleteKey(ctx context.Context, id int) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_key WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return proxbox.ErrNotFound
	}
	s.invalidateKeys()
	return nil
}

// ---- lockouts (in memory, written through) ----

func (s *Store) loadLockouts(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT client, attempts, first_attempt FROM auth_lockout`)
	if err != nil {
		return fmt.Errorf("sqlite: lockouts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var l proxbox.Lockout
		var f float64
		if err := rows.Scan(&c, &l.Attempts, &f); err != nil {
			return fmt.Errorf("sqlite: lockouts: %w", err)
		}
		l.First = epochTime(f)
		s.lockouts[c] = l
	}
	return rows.Err()
}

// GetLockout returns the failure record of client, if any.
func (s *Store) GetLockout(client string) (proxbox.Lockout, bool) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	l, ok := s.lockouts[client]
	return l, ok
}

// RecordFailure counts a failed authentication of client; a record older
// than window restarts at 1. It returns the new record.
func (s *Store) RecordFailure(ctx context.Context, client string, now time.Time, window time.Duration) proxbox.Lockout {
	s.lockMu.Lock()
	l, ok := s.lockouts[client]
	if !ok || now.Sub(l.First) >= window {
		l = proxbox.Lockout{Attempts: 1, First: now}
	} else {
		l.Attempts++
	}
	s.lockouts[client] = l
	s.lockMu.Unlock()
	_, _ = s.db.ExecContext(ctx, `INSERT INTO auth_lockout(client, attempts, first_attempt) VALUES(?,?,?)
ON CONFLICT(client) DO UPDATE SET attempts=excluded.attempts, first_attempt=excluded.first_attempt`,
		client, l.Attempts, float64(l.First.UnixNano())/1e9)
	return l
}

// ClearLockout forgets client's failures.
func (s *Store) ClearLockout(ctx context.Context, client string) {
	s.lockMu.Lock()
	_, ok := s.lockouts[client]
	delete(s.lockouts, client)
	s.lockMu.Unlock()
	if ok {
		_, _ = s.db.ExecContext(ctx, `DELETE FROM auth_lockout WHERE client=?`, client)
	}
}
