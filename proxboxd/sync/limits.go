package sync

// NetBox refuses a string longer than its field allows ("Ensure this field
// has no more than N characters."), and one refused field loses the whole
// object and everything under it. The engine fits what it writes to these
// limits before planning, so a long Proxmox value is cut instead of refused:
//
//   - VM names: names.go (cut to 64 with "~<vmid>", the full name kept in
//     the custom field proxmox_name), because a name is an identity.
//   - Free text (descriptions, comments, notes): cut and ended with "…".
//   - Other limited fields are keys or values Proxmox itself bounds below the
//     limit (interface and disk names, node names, UPIDs, volume ids): they
//     are left whole, and NetBox's refusal, if it ever comes, is reported.
//
// TestFieldLimitsMatchNetBoxSchema checks every entry against the committed
// NetBox schema, and that every limited field a kind writes is either here
// or named in limitsLeftWhole.
var fieldMax = map[*kind]map[string]int{
	kVM:          {"description": 200},
	kDevice:      {"description": 200},
	kCluster:     {"description": 200},
	kVMIface:     {"description": 200},
	kNodeIface:   {"description": 200},
	kVDisk:       {"description": 200},
	kIP:          {"description": 200},
	kClusterType: {"description": 200},
	kRole:        {"description": 200},
	kTag:         {"description": 200},
	kReplication: {"schedule": 128},
	// storage.cfg and vzdump job values: cut rather than lose the record
	kStorage: {"storage_type": 100, "content": 255, "path": 255, "server": 255, "export": 255, "share": 255, "pool": 255,
		"monhost": 512, "namespace": 255, "datastore": 255, "subdir": 255, "mountpoint": 255, "is_mountpoint": 255,
		"preallocation": 50, "format": 100, "prune_backups": 512},
	kRoutine: {"schedule": 255, "fleecing": 255, "pbs_change_detection_mode": 50},
}

// limitsLeftWhole are limited fields the engine writes whole, with the reason.
var limitsLeftWhole = map[string]string{
	"name":               "an identity: VM names are fitted in names.go; others come from Proxmox keys (net0, scsi1, node and storage names) well under the limit",
	"slug":               "made by slugify from names well under the limit",
	"model":              "a constant",
	"color":              "a constant",
	"node":               "a Proxmox node name (a host name, at most 63 characters)",
	"parent":             "a Proxmox snapshot name (at most 40 characters)",
	"upid":               "a Proxmox UPID (bounded by its fields)",
	"task_id":            "a VMID",
	"task_type":          "a Proxmox task type",
	"task_state":         "running or stopped",
	"username":           "a Proxmox user id",
	"vm_type":            "qemu or lxc",
	"storage":            "a Proxmox storage id",
	"volume_id":          "a Proxmox volume id",
	"encrypted":          "a key fingerprint",
	"verification_state": "ok or failed",
	"verification_upid":  "a Proxmox UPID",
	"replication_id":     "a Proxmox job id (<vmid>-<n>)",
	"job_id":             "a Proxmox backup job id",
	"target":             "a Proxmox node name",
	"source":             "a Proxmox node name",
}

// fitLimits cuts the limited free-text fields of a body to their limits.
func fitLimits(k *kind, body obj) {
	for f, limit := range fieldMax[k] {
		if s, ok := body[f].(string); ok {
			body[f] = fitText(s, limit)
		}
	}
}
