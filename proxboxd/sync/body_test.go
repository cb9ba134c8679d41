package sync

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

// bodyOf sends what the generated type marshals to, with Go kinds the diff
// compares: unset optionals absent, explicit nulls nil, enums strings.
func TestBodyOfFollowsTheGeneratedTypesJSON(t *testing.T) {
	cf := map[string]any{"proxmox_vm_id": 100, "proxmox_name": nil}
	got := bodyOf(virtualization.WritableVirtualMachineRequest{
		Name:         "web",
		Cluster:      val(7),
		Device:       null[int](),
		Vcpus:        val(2.0),
		Status:       ptr(virtualization.VirtualMachineStatusEnum("active")),
		CustomFields: &cf,
	})
	assert.Equal(t, obj{
		"name": "web", "cluster": 7, "device": nil, "vcpus": 2.0, "status": "active",
		"custom_fields": obj{"proxmox_vm_id": 100, "proxmox_name": nil},
	}, got)

	// a required scalar is sent even when zero (a disk of 0 MiB)
	d := bodyOf(virtualization.VirtualDiskRequest{VirtualMachine: 3, Name: "scsi0"})
	assert.Equal(t, obj{"virtual_machine": 3, "name": "scsi0", "size": 0}, d)
}

func TestWantOfMovesCreateOnlyFields(t *testing.T) {
	w := wantOf("c", "c", virtualization.WritableClusterRequest{Name: "c", Type: 2,
		ScopeType: val("dcim.site"), ScopeId: val(5)}, "scope_type", "scope_id", "not_set")
	assert.Equal(t, obj{"name": "c", "type": 2}, w.Body)
	assert.Equal(t, obj{"scope_type": "dcim.site", "scope_id": 5}, w.CreateOnly)
}
