package http_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
)

// memStore is an in-memory proxbox.Store: the HTTP layer needs nothing of
// the SQLite store but the root package's interfaces.
type memStore struct {
	mu       sync.Mutex
	gen      int64
	nb       []proxbox.NetBoxEndpoint
	px       []proxbox.ProxmoxEndpoint
	keys     []proxbox.APIKey
	hashes   map[int]string
	lockouts map[string]proxbox.Lockout
	runs     []proxbox.SyncRun
	nextID   int
}

var _ proxbox.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{hashes: map[int]string{}, lockouts: map[string]proxbox.Lockout{}}
}

func (m *memStore) id() int { m.nextID++; return m.nextID }

func (m *memStore) ListNetBoxEndpoints(context.Context) ([]proxbox.NetBoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]proxbox.NetBoxEndpoint{}, m.nb...), nil
}

func (m *memStore) GetNetBoxEndpoint(_ context.Context, id int) (proxbox.NetBoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.nb {
		if e.ID == id {
			return e, nil
		}
	}
	return proxbox.NetBoxEndpoint{}, fmt.Errorf("mem: netbox endpoint %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) CreateNetBoxEndpoint(_ context.Context, e proxbox.NetBoxEndpoint) (proxbox.NetBoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.nb) > 0 {
		return e, fmt.Errorf("mem: a second NetBox endpoint: %w", proxbox.ErrConflict)
	}
	e.ID = m.id()
	m.nb = append(m.nb, e)
	m.gen++
	return e, nil
}

func (m *memStore) UpdateNetBoxEndpoint(_ context.Context, e proxbox.NetBoxEndpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.nb {
		if m.nb[i].ID == e.ID {
			m.nb[i] = e
			m.gen++
			return nil
		}
	}
	return fmt.Errorf("mem: %w", proxbox.ErrNotFound)
}

func (m *memStore) DeleteNetBoxEndpoint(_ context.Context, id int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.nb {
		if m.nb[i].ID == id {
			m.nb = append(m.nb[:i], m.nb[i+1:]...)
			m.gen++
			return nil
		}
	}
	return fmt.Errorf("mem: %w", proxbox.ErrNotFound)
}

func (m *memStore) ListProxmoxEndpoints(context.Context) ([]proxbox.ProxmoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]proxbox.ProxmoxEndpoint{}, m.px...), nil
}

func (m *memStore) GetProxmoxEndpoint(_ context.Context, id int) (proxbox.ProxmoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.px {
		if e.ID == id {
			return e, nil
		}
	}
	return proxbox.ProxmoxEndpoint{}, fmt.Errorf("mem: proxmox endpoint %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) CreateProxmoxEndpoint(_ context.Context, e proxbox.ProxmoxEndpoint) (proxbox.ProxmoxEndpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.px {
		if o.Name == e.Name {
			return e, fmt.Errorf("mem: name %q: %w", e.Name, proxbox.ErrConflict)
		}
	}
	e.ID = m.id()
	m.px = append(m.px, e)
	m.gen++
	return e, nil
}

func (m *memStore) UpdateProxmoxEndpoint(_ context.Context, e proxbox.ProxmoxEndpoint) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.px {
		if m.px[i].ID == e.ID {
			changed := m.px[i] != e
			m.px[i] = e
			m.gen++
			return changed, nil
		}
	}
	return false, fmt.Errorf("mem: %w", proxbox.ErrNotFound)
}

func (m *memStore) DeleteProxmoxEndpoint(_ context.Context, id int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.px {
		if m.px[i].ID == id {
			m.px = append(m.px[:i], m.px[i+1:]...)
			m.gen++
			return nil
		}
	}
	return fmt.Errorf("mem: proxmox endpoint %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) Generation() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen
}

func (m *memStore) ActiveKeyHashes(context.Context) ([]proxbox.KeyHash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []proxbox.KeyHash{}
	for _, k := range m.keys {
		if k.IsActive {
			out = append(out, proxbox.KeyHash{ID: k.ID, Hash: m.hashes[k.ID]})
		}
	}
	return out, nil
}

func (m *memStore) RegisterFirstKey(ctx context.Context, hash, label string) (proxbox.APIKey, error) {
	if ks, _ := m.ActiveKeyHashes(ctx); len(ks) > 0 {
		return proxbox.APIKey{}, fmt.Errorf("mem: a key exists: %w", proxbox.ErrConflict)
	}
	return m.CreateKey(ctx, hash, label)
}

func (m *memStore) CreateKey(_ context.Context, hash, label string) (proxbox.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := proxbox.APIKey{ID: m.id(), Label: label, IsActive: true, CreatedAt: float64(time.Now().Unix())}
	m.keys = append(m.keys, k)
	m.hashes[k.ID] = hash
	return k, nil
}

func (m *memStore) ListKeys(context.Context) ([]proxbox.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]proxbox.APIKey{}, m.keys...), nil
}

func (m *memStore) SetKeyActive(_ context.Context, id int, active bool) (proxbox.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id {
			m.keys[i].IsActive = active
			return m.keys[i], nil
		}
	}
	return proxbox.APIKey{}, fmt.Errorf("mem: key %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) DeleteKey(_ context.Context, id int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("mem: key %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) GetLockout(client string) (proxbox.Lockout, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lockouts[client]
	return l, ok
}

func (m *memStore) RecordFailure(_ context.Context, client string, now time.Time, window time.Duration) proxbox.Lockout {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lockouts[client]
	if !ok || now.Sub(l.First) >= window {
		l = proxbox.Lockout{Attempts: 1, First: now}
	} else {
		l.Attempts++
	}
	m.lockouts[client] = l
	return l
}

func (m *memStore) ClearLockout(_ context.Context, client string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.lockouts, client)
}

func (m *memStore) StartRun(_ context.Context, r proxbox.SyncRun) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ID = m.id()
	m.runs = append(m.runs, r)
	return r.ID, nil
}

func (m *memStore) FinishRun(_ context.Context, id int, ok bool, message string, d time.Duration, _ any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.runs {
		if m.runs[i].ID == id {
			now := time.Now()
			m.runs[i].FinishedAt, m.runs[i].OK, m.runs[i].Message, m.runs[i].DurationS = &now, &ok, message, d.Seconds()
			return nil
		}
	}
	return fmt.Errorf("mem: run %d: %w", id, proxbox.ErrNotFound)
}

func (m *memStore) ListRuns(context.Context, int) ([]proxbox.SyncRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]proxbox.SyncRun, 0, len(m.runs))
	for i := len(m.runs) - 1; i >= 0; i-- {
		out = append(out, m.runs[i])
	}
	return out, nil
}

func (m *memStore) LastRunPerStage(ctx context.Context) ([]proxbox.SyncRun, error) {
	return m.ListRuns(ctx, 0)
}

// TestServerOverFakeStore: the routes the plugin uses work over any
// proxbox.Store, and store errors are told apart by errors.Is, not by their
// text.
func TestServerOverFakeStore(t *testing.T) {
	mem := newMemStore()
	log := slog.New(slog.DiscardHandler)
	srv := pbhttp.New(pbhttp.Config{RateLimit: -1},
		pbhttp.Deps{Store: mem, Syncer: newFake(), Connector: connector.New(mem, connector.Options{Logger: log}), Logger: log})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
	})
	e := &env{t: t, srv: srv, ts: ts, client: ts.Client()}

	code, _ := e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey, "label": "t"}, nil)
	require.Equal(t, 201, code)
	code, _ = e.do("POST", "/auth/register-key", map[string]string{"api_key": testKey + "x", "label": "t"}, nil)
	assert.Equal(t, 409, code, "a wrapped ErrConflict is the plugin's 409")
	code, _ = e.do("GET", "/netbox/endpoint", nil, nil)
	assert.Equal(t, 401, code, "no key")
	e.key = testKey

	code, b := e.do("POST", "/proxmox/endpoints", map[string]any{"name": "lab (nb:1)", "ip_address": "10.0.0.5", "port": 8006,
		"username": "root@pam", "password": "SECRETPW", "verify_ssl": false}, nil)
	require.Equal(t, 200, code, "%s", b)
	assert.NotContains(t, string(b), "SECRETPW")
	code, _ = e.do("DELETE", "/proxmox/endpoints/99", nil, nil)
	assert.Equal(t, 404, code, "a wrapped ErrNotFound is 404")
	code, _ = e.do("GET", "/proxmox/endpoints/99", nil, nil)
	assert.Equal(t, 404, code)

	out := runStream(t, e, ts.URL+stagePath(proxbox.StageDevices))
	assert.Equal(t, 200, out.Status, out.Detail)
	runs, err := mem.ListRuns(context.Background(), 10)
	require.NoError(t, err)
	require.NotEmpty(t, runs)
	require.NotNil(t, runs[0].OK)
	assert.True(t, *runs[0].OK)
	assert.Equal(t, "stage", runs[0].Kind)
}
