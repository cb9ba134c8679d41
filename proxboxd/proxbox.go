// Package proxbox holds the domain types of proxboxd, the Go backend for the
// netbox-proxbox plugin. Subpackages implement them per dependency: sqlite
// (store), http (routes, SSE, auth), sync (the 12 stages); wiring is in cmd/.
package proxbox

import (
	"context"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// Stage is one of the 12 sync stages, named by the plugin's sync_type slug.
type Stage string

// The stages in the plugin's dependency order (plugin-contract §4).
const (
	StageDevices           Stage = "devices"
	StageStorage           Stage = "storage"
	StageVirtualMachines   Stage = "virtual-machines"
	StageTaskHistory       Stage = "task-history"
	StageVMDisks           Stage = "vm-disks"
	StageVMBackups         Stage = "vm-backups"
	StageVMSnapshots       Stage = "vm-snapshots"
	StageNetworkInterfaces Stage = "network-interfaces"
	StageVMInterfaces      Stage = "vm-interfaces"
	StageIPAddresses       Stage = "ip-addresses"
	StageReplications      Stage = "replications"
	StageBackupRoutines    Stage = "backup-routines"
)

// Stages lists every stage in execution order.
var Stages = []Stage{
	StageDevices, StageStorage, StageVirtualMachines, StageTaskHistory, StageVMDisks,
	StageVMBackups, StageVMSnapshots, StageNetworkInterfaces, StageVMInterfaces,
	StageIPAddresses, StageReplications, StageBackupRoutines,
}

// StageParams are the query parameters the plugin sends on every stage stream
// (plugin-contract §4), already parsed.
type StageParams struct {
	UseGuestAgentInterfaceName bool   // use_guest_agent_interface_name (default true)
	FetchMaxConcurrency        int    // fetch_max_concurrency (default 8)
	IgnoreIPv6LinkLocal        bool   // ignore_ipv6_link_local_addresses (default true)
	PrimaryIPPreference        string // primary_ip_preference: "ipv4" (default) or "ipv6"
	ProxmoxEndpointIDs         []int  // backend endpoint ids (plugin 0.0.24+), else plugin PKs via "(nb:<pk>)" names
	NetBoxEndpointIDs          []int  // plugin NetBoxEndpoint PKs
	NetBoxVMIDs                []int  // netbox_vm_ids: restrict VM-scoped stages to these NetBox VMs
	SyncVMNetwork              bool   // sync_vm_network (default true)
	DeleteNonexistentBackup    bool   // delete_nonexistent_backup
	DeleteNonexistentSnapshot  bool   // delete_nonexistent_snapshot
	DryRun                     bool   // dry_run: plan only, write nothing
}

// DefaultStageParams returns the parameters a stage runs with when the
// request names none.
func DefaultStageParams() StageParams {
	return StageParams{
		UseGuestAgentInterfaceName: true,
		FetchMaxConcurrency:        8,
		IgnoreIPv6LinkLocal:        true,
		PrimaryIPPreference:        "ipv4",
		SyncVMNetwork:              true,
	}
}

// StageRequest asks a Syncer to run one stage. VMID, when non-zero, is the
// NetBox id of the one VM a per-VM route (…/virtual-machines/{id}/…) targets.
type StageRequest struct {
	Stage  Stage
	Params StageParams
	VMID   int
}

// Event is one SSE frame: Name is the event name (step, discovery, substep,
// item_progress, phase_summary, error_detail, error); Data marshals to a
// single JSON object. The http layer writes the final `complete` itself from
// the StageResult.
type Event struct {
	Name string
	Data map[string]any
}

// Emitter receives events as a stage runs. It must be cheap and must not block
// for long; implementations drop nothing.
type Emitter func(Event)

// Counts are the per-object-type outcome of a stage.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	// Skipped counts objects the engine decided not to write (StageResult.Skipped
	// says which and why).
	Skipped int `json:"skipped"`
}

// ItemFailure reports one object that could not be written.
type ItemFailure struct {
	ObjectType string `json:"object_type"`
	Name       string `json:"name"`
	Detail     string `json:"detail"`
}

// Change is one planned write, as a dry run reports it.
type Change struct {
	Action     string            `json:"action"` // create, update, delete, mark-orphan
	ObjectType string            `json:"object_type"`
	Name       string            `json:"name"`
	ID         int               `json:"id,omitempty"`
	Fields     map[string]Diff   `json:"fields,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// Diff is the old and new value of one field.
type Diff struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// ItemSkip reports one object the engine decided not to write, and why (an
// address already on another guest, a disk without a size, a backup of a
// VMID no guest has, a write NetBox refused earlier and that has not changed).
type ItemSkip struct {
	ObjectType string `json:"object_type"`
	Name       string `json:"name"`
	Reason     string `json:"reason"`
}

// StageResult is what a stage reports at its end. OK is false only when the
// stage could not do its job; item failures are listed in Failures.
type StageResult struct {
	Stage    Stage              `json:"stage"`
	OK       bool               `json:"ok"`
	Message  string             `json:"message"`
	Partial  bool               `json:"partial"` // some read failed, or some item failed or was skipped
	Counts   map[string]*Counts `json:"counts"`  // by object type, e.g. "virtualization.virtualmachine"
	Failures []ItemFailure      `json:"failures,omitempty"`
	Skipped  []ItemSkip         `json:"skipped,omitempty"`
	Plan     []Change           `json:"plan,omitempty"` // filled on dry runs
	Requests map[string]int     `json:"requests,omitempty"`
	// Objects is what the stage did to each object; Counts is made from it,
	// so each object counts once per stage, and the run records merge the
	// stages' Objects to count each object once per run (see Tally).
	Objects *Tally `json:"-"`
}

// IndividualRequest is a /sync/individual/{kind} call: Kind is vm, backup,
// snapshot, storage, task-history, cluster, node, interface, ip, disk or
// replication; Query carries its raw query parameters.
type IndividualRequest struct {
	Kind   string
	Query  map[string]string
	Params StageParams
}

// IndividualResult is the body /sync/individual/* returns (plugin-contract §12.7).
type IndividualResult struct {
	ObjectType         string         `json:"object_type"`
	Action             string         `json:"action"`
	ProxmoxResource    map[string]any `json:"proxmox_resource"`
	NetBoxObject       map[string]any `json:"netbox_object"`
	DryRun             bool           `json:"dry_run"`
	DependenciesSynced []string       `json:"dependencies_synced"`
	Error              *string        `json:"error"`
}

// Syncer runs sync stages. The sync package implements it; the http package
// turns its events and result into SSE frames.
type Syncer interface {
	RunStage(ctx context.Context, req StageRequest, emit Emitter) (*StageResult, error)
	SyncIndividual(ctx context.Context, req IndividualRequest) (*IndividualResult, error)
}

// FullSyncer is a Syncer that can run every stage, in order, as one run. A
// dry run needs it: a stage that writes nothing can still plan against the
// objects an earlier stage of the same run would have created (the NICs of
// a VM to be created). It returns one result per stage it ran and stops
// after the first that failed.
type FullSyncer interface {
	RunAll(ctx context.Context, params StageParams, emit Emitter) ([]*StageResult, error)
}

// NetBoxEndpoint is the one NetBox the backend writes to.
type NetBoxEndpoint struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	IPAddress    string `json:"ip_address"`
	Domain       string `json:"domain"`
	Port         int    `json:"port"`
	TokenVersion string `json:"token_version"` // "v1" or "v2"
	TokenKey     string `json:"-"`             // v2 key id; secret at rest
	Token        string `json:"-"`             // secret at rest
	VerifySSL    bool   `json:"verify_ssl"`
}

// ProxmoxEndpoint is one Proxmox VE cluster or standalone host. Its Name is
// the plugin's "<name> (nb:<pk>)".
type ProxmoxEndpoint struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	IPAddress  string `json:"ip_address"`
	Domain     string `json:"domain"`
	Port       int    `json:"port"`
	Username   string `json:"username"`
	Password   string `json:"-"` // secret at rest
	TokenName  string `json:"token_name"`
	TokenValue string `json:"-"` // secret at rest
	VerifySSL  bool   `json:"verify_ssl"`
}

// ProxmoxTarget is an opened Proxmox endpoint.
type ProxmoxTarget struct {
	Endpoint ProxmoxEndpoint
	Client   *proxmoxsdk.Client
}

// Connector opens clients for the stored endpoints. The service implements it
// from its store; the demo implements it with in-process fakes.
type Connector interface {
	NetBox(ctx context.Context) (*netboxsdk.Client, error)
	// Proxmox opens the endpoints; pluginPKs, when non-empty, restricts them to
	// those whose name ends in "(nb:<pk>)".
	Proxmox(ctx context.Context, pluginPKs []int) ([]ProxmoxTarget, error)
}
