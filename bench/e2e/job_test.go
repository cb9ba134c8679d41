package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/bench/internal/harness"
	"github.com/proxbox-go/proxbox/bench/plugin"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// TestJobSeesNetBoxChangesBetweenStages is issue 17's "changes by others are
// never missed" against the real NetBox: the stage streams of one plugin job
// share proxboxd's read snapshot, and a change made in NetBox by someone
// else between two of them is seen by the next one. A VM is deleted after
// the virtual-machines stage; the vm-disks stage that follows in the same
// job must not write disks for it (it re-reads the VMs the changelog names)
// and reports the guest as not in NetBox. The next full job restores the VM,
// and a re-sync writes nothing.
func TestJobSeesNetBoxChangesBetweenStages(t *testing.T) {
	sc := pvemock.Scenario{Name: "e2e-job", Nodes: 2, QEMU: 6, LXC: 1, NICs: 2, Disks: 2, Seed: 47}
	env, ctx := setup(t, sc, 47, "")
	mustSync(t, ctx, env, "first sync")

	stage := func(slug string) *harness.SyncRun {
		t.Helper()
		st, ok := plugin.StageBySlug(slug)
		require.True(t, ok, slug)
		run := env.Sync(ctx, []plugin.Stage{st})
		require.True(t, run.OK, "%s: %s", slug, run.Error)
		return run
	}
	stage("virtual-machines") // a new job starts

	vm := untidyVM(ctx, t, env, sc.Name, 100, "qemu")
	require.NotNil(t, vm, "VM 100 is in NetBox")
	code, err := env.NB.Do(ctx, http.MethodDelete, fmt.Sprintf("/api/virtualization/virtual-machines/%v/", vm["id"]), nil, nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code, "someone else deletes VM 100")

	disks := stage("vm-disks") // the same job: the snapshot is reused
	for _, s := range disks.Stages {
		assert.Empty(t, s.Errors, "no disk written for the deleted VM")
	}
	skipped := strings.Join(skippedItems(disks), "\n")
	assert.Contains(t, skipped, "qemu/100", "the guest whose VM was deleted is reported as not in NetBox")
	assert.Nil(t, untidyVM(ctx, t, env, sc.Name, 100, "qemu"), "nothing re-created it")

	mustSync(t, ctx, env, "full job after the deletion")
	assert.NotNil(t, untidyVM(ctx, t, env, sc.Name, 100, "qemu"), "the next job restores the VM")
	resyncWritesNothing(t, ctx, env, "re-sync")
}
