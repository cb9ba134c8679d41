package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// isUnique reports a UNIQUE or PRIMARY KEY constraint violation, by the
// driver's extended result code.
func isUnique(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- NetBox endpoint ----

const nbCols = `id, name, ip_address, domain, port, token_version, token_key_enc, token_enc, verify_ssl`

func (s *Store) scanNetBox(row interface{ Scan(...any) error }) (proxbox.NetBoxEndpoint, error) {
	var e proxbox.NetBoxEndpoint
	var keyEnc, tokEnc string
	var verify int
	if err := row.Scan(&e.ID, &e.Name, &e.IPAddress, &e.Domain, &e.Port, &e.TokenVersion, &keyEnc, &tokEnc, &verify); err != nil {
		return e, err
	}
	e.VerifySSL = verify != 0
	var err error
	if e.TokenKey, err = s.sealer.Open("netbox_endpoint.token_key", keyEnc); err != nil {
		return e, err
	}
	if e.Token, err = s.sealer.Open("netbox_endpoint.token", tokEnc); err != nil {
		return e, err
	}
	return e, nil
}

// ListNetBoxEndpoints returns every NetBox endpoint (at most one in practice),
// with decrypted secrets; callers must never return or log them.
func (s *Store) ListNetBoxEndpoints(ctx context.Context) ([]proxbox.NetBoxEndpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+nbCols+` FROM netbox_endpoint ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list netbox endpoints: %w", err)
	}
	defer rows.Close()
	out := []proxbox.NetBoxEndpoint{}
	for rows.Next() {
		e, err := s.scanNetBox(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: netbox endpoint: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetNetBoxEndpoint returns one row or proxbox.ErrNotFound.
func (s *Store) GetNetBoxEndpoint(ctx context.Context, id int) (proxbox.NetBoxEndpoint, error) {
	e, err := s.scanNetBox(s.db.QueryRowContext(ctx, `SELECT `+nbCols+` FROM netbox_endpoint WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, proxbox.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: netbox endpoint %d: %w", id, err)
	}
	return e, nil
}

// CreateNetBoxEndpoint inserts the single NetBox endpoint; a second one is
// proxbox.ErrConflict.
func (s *Store) CreateNetBoxEndpoint(ctx context.Context, e proxbox.NetBoxEndpoint) (proxbox.NetBoxEndpoint, error) {
	keyEnc, err := s.sealer.Seal("netbox_endpoint.token_key", e.TokenKey)
	if err != nil {
		return e, err
	}
	tokEnc, err := s.sealer.Seal("netbox_endpoint.token", e.Token)
	if err != nil {
		return e, err
	}
	now := nowEpoch()
	res, err := s.db.ExecContext(ctx, `INSERT INTO netbox_endpoint(name, ip_address, domain, port, token_version, token_key_enc, token_enc, verify_ssl, created_at, updated_at)
SELECT ?,?,?,?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM netbox_endpoint)`,
		e.Name, e.IPAddress, e.Domain, e.Port, e.TokenVersion, keyEnc, tokEnc, b2i(e.VerifySSL), now, now)
	if err != nil {
		return e, fmt.Errorf("sqlite: create netbox endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return e, fmt.Errorf("only one NetBox endpoint is allowed: %w", proxbox.ErrConflict)
	}
	id, _ := res.LastInsertId()
	e.ID = int(id)
	s.gen.Add(1)
	return e, nil
}

// UpdateNetBoxEndpoint replaces the row e.ID.
func (s *Store) UpdateNetBoxEndpoint(ctx context.Context, e proxbox.NetBoxEndpoint) error {
	keyEnc, err := s.sealer.Seal("netbox_endpoint.token_key", e.TokenKey)
	if err != nil {
		return err
	}
	tokEnc, err := s.sealer.Seal("netbox_endpoint.token", e.Token)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE netbox_endpoint SET name=?, ip_address=?, domain=?, port=?, token_version=?, token_key_enc=?, token_enc=?, verify_ssl=?, updated_at=? WHERE id=?`,
		e.Name, e.IPAddress, e.Domain, e.Port, e.TokenVersion, keyEnc, tokEnc, b2i(e.VerifySSL), nowEpoch(), e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update netbox endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return proxbox.ErrNotFound
	}
	s.gen.Add(1)
	return nil
}

// DeleteNetBoxEndpoint removes a row.
func (s *Store) DeleteNetBoxEndpoint(ctx context.Context, id int) error {
	return s.deleteRow(ctx, "netbox_endpoint", id)
}

func (s *Store) deleteRow(ctx context.Context, table string, id int) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", table, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return proxbox.ErrNotFound
	}
	s.gen.Add(1)
	return nil
}

// ---- Proxmox endpoints ----

const pxCols = `id, name, ip_address, domain, port, username, password_enc, token_name, token_value_enc, verify_ssl`

func (s *Store) scanProxmox(row interface{ Scan(...any) error }) (proxbox.ProxmoxEndpoint, error) {
	var e proxbox.ProxmoxEndpoint
	var pwEnc, tvEnc string
	var verify int
	if err := row.Scan(&e.ID, &e.Name, &e.IPAddress, &e.Domain, &e.Port, &e.Username, &pwEnc, &e.TokenName, &tvEnc, &verify); err != nil {
		return e, err
	}
	e.VerifySSL = verify != 0
	var err error
	if e.Password, err = s.sealer.Open("proxmox_endpoint.password", pwEnc); err != nil {
		return e, err
	}
	if e.TokenValue, err = s.sealer.Open("proxmox_endpoint.token_value", tvEnc); err != nil {
		return e, err
	}
	return e, nil
}

// ListProxmoxEndpoints returns all rows ordered by id (decrypted secrets).
func (s *Store) ListProxmoxEndpoints(ctx context.Context) ([]proxbox.ProxmoxEndpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+pxCols+` FROM proxmox_endpoint ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list proxmox endpoints: %w", err)
	}
	defer rows.Close()
	out := []proxbox.ProxmoxEndpoint{}
	for rows.Next() {
		e, err := s.scanProxmox(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: proxmox endpoint: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetProxmoxEndpoint returns one row or proxbox.ErrNotFound.
func (s *Store) GetProxmoxEndpoint(ctx context.Context, id int) (proxbox.ProxmoxEndpoint, error) {
	e, err := s.scanProxmox(s.db.QueryRowContext(ctx, `SELECT `+pxCols+` FROM proxmox_endpoint WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, proxbox.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: proxmox endpoint %d: %w", id, err)
	}
	return e, nil
}

// CreateProxmoxEndpoint inserts a row; a duplicate name is proxbox.ErrConflict.
func (s *Store) CreateProxmoxEndpoint(ctx context.Context, e proxbox.ProxmoxEndpoint) (proxbox.ProxmoxEndpoint, error) {
	pwEnc, err := s.sealer.Seal("proxmox_endpoint.password", e.Password)
	if err != nil {
		return e, err
	}
	tvEnc, err := s.sealer.Seal("proxmox_endpoint.token_value", e.TokenValue)
	if err != nil {
		return e, err
	}
	now := nowEpoch()
	res, err := s.db.ExecContext(ctx, `INSERT INTO proxmox_endpoint(name, ip_address, domain, port, username, password_enc, token_name, token_value_enc, verify_ssl, created_at, updated_at)
VALUES(?,?,?,?,?,?,?,?,?,?,?)`, e.Name, e.IPAddress, e.Domain, e.Port, e.Username, pwEnc, e.TokenName, tvEnc, b2i(e.VerifySSL), now, now)
	if isUnique(err) {
		return e, fmt.Errorf("sqlite: proxmox endpoint name %q already exists: %w (%w)", e.Name, proxbox.ErrConflict, err)
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: create proxmox endpoint: %w", err)
	}
	id, _ := res.LastInsertId()
	e.ID = int(id)
	s.gen.Add(1)
	return e, nil
}

// UpdateProxmoxEndpoint replaces row e.ID. It reports whether anything
// changed, so the hot upsert path does not bump the generation needlessly.
func (s *Store) UpdateProxmoxEndpoint(ctx context.Context, e proxbox.ProxmoxEndpoint) (bool, error) {
	old, err := s.GetProxmoxEndpoint(ctx, e.ID)
	if err != nil {
		return false, err
	}
	if old == e {
		return false, nil
	}
	pwEnc, err := s.sealer.Seal("proxmox_endpoint.password", e.Password)
	if err != nil {
		return false, err
	}
	tvEnc, err := s.sealer.Seal("proxmox_endpoint.token_value", e.TokenValue)
	if err != nil {
		return false, err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE proxmox_endpoint SET name=?, ip_address=?, domain=?, port=?, username=?, password_enc=?, token_name=?, token_value_enc=?, verify_ssl=?, updated_at=? WHERE id=?`,
		e.Name, e.IPAddress, e.Domain, e.Port, e.Username, pwEnc, e.TokenName, tvEnc, b2i(e.VerifySSL), nowEpoch(), e.ID)
	if isUnique(err) {
		return false, fmt.Errorf("sqlite: proxmox endpoint name %q already exists: %w (%w)", e.Name, proxbox.ErrConflict, err)
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: update proxmox endpoint: %w", err)
	}
	s.gen.Add(1)
	return true, nil
}

// DeleteProxmoxEndpoint removes a row.
func (s *Store) DeleteProxmoxEndpoint(ctx context.Context, id int) error {
	return s.deleteRow(ctx, "proxmox_endpoint", id)
}
