package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// TestUniqueIsTyped: a duplicate name is told by the driver's extended
// result code and comes back as proxbox.ErrConflict with the driver's error
// still in the chain; an error that only says the words is not a conflict.
func TestUniqueIsTyped(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, ":memory:", Options{EncryptionKey: "unit-test-key"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	a, err := s.CreateProxmoxEndpoint(ctx, proxbox.ProxmoxEndpoint{Name: "a (nb:1)"})
	require.NoError(t, err)
	_, err = s.CreateProxmoxEndpoint(ctx, proxbox.ProxmoxEndpoint{Name: "a (nb:1)"})
	require.ErrorIs(t, err, proxbox.ErrConflict)
	var se sqlite3.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sqlite3.ErrConstraintUnique, se.ExtendedCode)

	b, err := s.CreateProxmoxEndpoint(ctx, proxbox.ProxmoxEndpoint{Name: "b (nb:2)"})
	require.NoError(t, err)
	b.Name = a.Name
	_, err = s.UpdateProxmoxEndpoint(ctx, b)
	require.ErrorIs(t, err, proxbox.ErrConflict, "a rename onto a taken name")

	_, err = s.GetProxmoxEndpoint(ctx, 999)
	require.ErrorIs(t, err, proxbox.ErrNotFound)

	assert.False(t, isUnique(errors.New("UNIQUE constraint failed: proxmox_endpoint.name")), "message text is not a classification")
	assert.True(t, isUnique(fmt.Errorf("wrapped: %w", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintPrimaryKey})))
	assert.False(t, isUnique(sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintNotNull}))
	assert.False(t, isUnique(nil))
}
