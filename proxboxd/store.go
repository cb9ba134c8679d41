package proxbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by a store when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by a store on a uniqueness violation (a duplicate
// Proxmox endpoint name, a second bootstrap key, a second NetBox endpoint).
var ErrConflict = errors.New("conflict")

// APIKey is a stored API key; the raw key is never stored, only its hash.
type APIKey struct {
	ID        int     `json:"id"`
	Label     string  `json:"label"`
	IsActive  bool    `json:"is_active"`
	CreatedAt float64 `json:"created_at"`
}

// KeyHash is an active key's id and hex SHA-256 hash.
type KeyHash struct {
	ID   int
	Hash string
}

// Lockout is the authentication failure record of one client.
type Lockout struct {
	Attempts int
	First    time.Time
}

// SyncRun is one stage stream, full update or individual sync in the run
// history.
type SyncRun struct {
	ID          int             `json:"id"`
	OperationID string          `json:"operation_id"`
	Kind        string          `json:"kind"` // stage, full-update, individual
	Stage       string          `json:"stage"`
	Path        string          `json:"path"`
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  *time.Time      `json:"finished_at"`
	DurationS   float64         `json:"duration_s"`
	OK          *bool           `json:"ok"`
	Message     string          `json:"message"`
	Result      json.RawMessage `json:"result,omitempty"`
}

// EndpointStore keeps the NetBox endpoint (one) and the Proxmox endpoints
// the plugin pushes, with their secrets in the clear for the caller: a
// caller never returns or logs them. Missing rows are ErrNotFound,
// uniqueness violations ErrConflict.
type EndpointStore interface {
	ListNetBoxEndpoints(ctx context.Context) ([]NetBoxEndpoint, error)
	GetNetBoxEndpoint(ctx context.Context, id int) (NetBoxEndpoint, error)
	// CreateNetBoxEndpoint refuses a second endpoint with ErrConflict.
	CreateNetBoxEndpoint(ctx context.Context, e NetBoxEndpoint) (NetBoxEndpoint, error)
	UpdateNetBoxEndpoint(ctx context.Context, e NetBoxEndpoint) error
	DeleteNetBoxEndpoint(ctx context.Context, id int) error

	ListProxmoxEndpoints(ctx context.Context) ([]ProxmoxEndpoint, error)
	GetProxmoxEndpoint(ctx context.Context, id int) (ProxmoxEndpoint, error)
	// CreateProxmoxEndpoint refuses a duplicate name with ErrConflict.
	CreateProxmoxEndpoint(ctx context.Context, e ProxmoxEndpoint) (ProxmoxEndpoint, error)
	// UpdateProxmoxEndpoint reports whether the row changed.
	UpdateProxmoxEndpoint(ctx context.Context, e ProxmoxEndpoint) (bool, error)
	DeleteProxmoxEndpoint(ctx context.Context, id int) error

	// Generation changes whenever an endpoint does (connection caches
	// compare it).
	Generation() int64
}

// KeyStore keeps API keys (as hashes) and the authentication lockouts.
type KeyStore interface {
	// ActiveKeyHashes returns the active keys; it is called on every
	// authenticated request and must be cheap.
	ActiveKeyHashes(ctx context.Context) ([]KeyHash, error)
	// RegisterFirstKey stores hash only while no active key exists;
	// otherwise ErrConflict.
	RegisterFirstKey(ctx context.Context, hash, label string) (APIKey, error)
	CreateKey(ctx context.Context, hash, label string) (APIKey, error)
	ListKeys(ctx context.Context) ([]APIKey, error)
	SetKeyActive(ctx context.Context, id int, active bool) (APIKey, error)
	DeleteKey(ctx context.Context, id int) error

	GetLockout(client string) (Lockout, bool)
	// RecordFailure counts a failed authentication; a record older than
	// window restarts at 1. It returns the new record.
	RecordFailure(ctx context.Context, client string, now time.Time, window time.Duration) Lockout
	ClearLockout(ctx context.Context, client string)
}

// RunStore keeps the sync run history.
type RunStore interface {
	// StartRun records a started run and returns its id.
	StartRun(ctx context.Context, r SyncRun) (int, error)
	// FinishRun records the outcome of run id; result is stored as JSON.
	FinishRun(ctx context.Context, id int, ok bool, message string, duration time.Duration, result any) error
	// ListRuns returns the newest runs first.
	ListRuns(ctx context.Context, limit int) ([]SyncRun, error)
	// LastRunPerStage returns the newest run of every kind and stage.
	LastRunPerStage(ctx context.Context) ([]SyncRun, error)
}

// Store is everything the service keeps: the sqlite package implements it.
type Store interface {
	EndpointStore
	KeyStore
	RunStore
}
