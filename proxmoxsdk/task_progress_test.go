package proxmoxsdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestWaitTaskProgress(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()))
	require.NoError(t, err)
	upid := m.AddTask("pve1", "qmstart", 100, "OK", 2, "step one", "step two")
	var lines []string
	polls := 0
	st, err := px.WaitTask(context.Background(), upid,
		proxmoxsdk.WithPollInterval(time.Millisecond, time.Millisecond),
		proxmoxsdk.WithProgress(func(p proxmoxsdk.TaskProgress) {
			polls++
			lines = append(lines, p.NewLines...)
		}))
	require.NoError(t, err)
	assert.Equal(t, "OK", st.ExitStatus)
	assert.GreaterOrEqual(t, polls, 3)
	assert.Equal(t, []string{"starting qmstart 100", "step one", "step two", "TASK OK"}, lines, "every line once, in order")
}
