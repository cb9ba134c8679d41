package contract

import (
	"net/url"
	"strconv"
	"strings"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// Stage describes one of the plugin's sync stages (plugin-contract §4).
type Stage struct {
	// ID is the plugin's sync_type slug; the sync engine's proxbox.Stage.
	ID proxbox.Stage
	// Path is the stream path, with a leading slash (the plugin joins
	// f"{url}/{path}" with a path that has none).
	Path string
	// VMPath is the per-VM stream path of a targeted run (netbox_vm_ids),
	// with "{vm_id}" for the NetBox VM id, or "" when the stage has none.
	VMPath string
	// All is what a Full update ("all") run adds to the base query of this
	// stage, in the plugin's wire form (Python's capitalised True).
	All url.Values
}

// VMIDPlaceholder is the per-VM path's variable, as the plugin spells it.
const VMIDPlaceholder = "{vm_id}"

// Stages are the 12 stages in the plugin's dependency order, which is also
// the order of an "all" run. Do not modify.
var Stages = []Stage{
	{ID: proxbox.StageDevices, Path: "/dcim/devices/create/stream"},
	{ID: proxbox.StageStorage, Path: "/virtualization/virtual-machines/storage/create/stream"},
	{ID: proxbox.StageVirtualMachines, Path: "/virtualization/virtual-machines/create/stream",
		VMPath: "/virtualization/virtual-machines/{vm_id}/create/stream",
		All:    url.Values{"sync_vm_network": {"false"}}}, // vm-interfaces and ip-addresses run too
	{ID: proxbox.StageTaskHistory, Path: "/virtualization/virtual-machines/task-history/create/stream"},
	{ID: proxbox.StageVMDisks, Path: "/virtualization/virtual-machines/virtual-disks/create/stream",
		VMPath: "/virtualization/virtual-machines/{vm_id}/virtual-disks/create/stream"},
	{ID: proxbox.StageVMBackups, Path: "/virtualization/virtual-machines/backups/all/create/stream",
		VMPath: "/virtualization/virtual-machines/{vm_id}/backups/create/stream",
		All:    url.Values{"delete_nonexistent_backup": {"True"}}},
	{ID: proxbox.StageVMSnapshots, Path: "/virtualization/virtual-machines/snapshots/all/create/stream",
		VMPath: "/virtualization/virtual-machines/{vm_id}/snapshots/create/stream",
		All:    url.Values{"delete_nonexistent_snapshot": {"True"}}},
	{ID: proxbox.StageNetworkInterfaces, Path: "/dcim/devices/interfaces/create/stream"},
	{ID: proxbox.StageVMInterfaces, Path: "/virtualization/virtual-machines/interfaces/create/stream"},
	{ID: proxbox.StageIPAddresses, Path: "/virtualization/virtual-machines/interfaces/ip-address/create/stream"},
	{ID: proxbox.StageReplications, Path: "/proxmox/replication/stream"},
	{ID: proxbox.StageBackupRoutines, Path: "/proxmox/cluster/backup/stream"},
}

// Slug is the plugin's sync_type.
func (s Stage) Slug() string { return string(s.ID) }

// PathForVM is the per-VM stream path for NetBox VM id, or "" when the
// stage has no per-VM variant.
func (s Stage) PathForVM(id int) string {
	if s.VMPath == "" {
		return ""
	}
	return strings.Replace(s.VMPath, VMIDPlaceholder, strconv.Itoa(id), 1)
}

// AllQuery returns base with what an "all" run adds for this stage (a new
// map; base is not changed).
func (s Stage) AllQuery(base url.Values) url.Values {
	q := make(url.Values, len(base)+len(s.All))
	for k, v := range base {
		q[k] = append([]string(nil), v...)
	}
	for k, v := range s.All {
		q[k] = append([]string(nil), v...)
	}
	return q
}

// AllParams returns base as an "all" run changes it for this stage: the
// same rule as the backend reading AllQuery (ApplyQuery).
func (s Stage) AllParams(base proxbox.StageParams) proxbox.StageParams {
	p, err := ApplyQuery(base, s.All)
	if err != nil { // the table holds valid values (TestStagesTable)
		return base
	}
	return p
}

// Lookup returns the description of st.
func Lookup(st proxbox.Stage) (Stage, bool) {
	for _, s := range Stages {
		if s.ID == st {
			return s, true
		}
	}
	return Stage{}, false
}

// BySlug returns the stage whose sync_type is slug.
func BySlug(slug string) (Stage, bool) { return Lookup(proxbox.Stage(slug)) }

// Settings are the plugin settings that become the base query of every
// stage (ProxboxPluginSettings, plugin-contract §4 and §6).
type Settings struct {
	UseGuestAgentInterfaceName bool
	FetchMaxConcurrency        int
	IgnoreIPv6LinkLocal        bool
	PrimaryIPPreference        string
	ProxmoxEndpointIDs         []int // plugin PKs; sent only when the job is scoped
	NetBoxEndpointIDs          []int
}

// DefaultSettings are the plugin's defaults.
func DefaultSettings() Settings {
	return Settings{UseGuestAgentInterfaceName: true, FetchMaxConcurrency: 8, IgnoreIPv6LinkLocal: true, PrimaryIPPreference: "ipv4"}
}

// Query is the base query of every stage: booleans as "true"/"false",
// endpoint ids as comma-separated lists, only when set.
func (s Settings) Query() url.Values {
	q := url.Values{}
	q.Set("use_guest_agent_interface_name", strconv.FormatBool(s.UseGuestAgentInterfaceName))
	q.Set("fetch_max_concurrency", strconv.Itoa(max(1, s.FetchMaxConcurrency)))
	q.Set("ignore_ipv6_link_local_addresses", strconv.FormatBool(s.IgnoreIPv6LinkLocal))
	pref := s.PrimaryIPPreference
	if pref == "" {
		pref = "ipv4"
	}
	q.Set("primary_ip_preference", pref)
	if len(s.ProxmoxEndpointIDs) > 0 {
		q.Set("proxmox_endpoint_ids", joinInts(s.ProxmoxEndpointIDs))
	}
	if len(s.NetBoxEndpointIDs) > 0 {
		q.Set("netbox_endpoint_ids", joinInts(s.NetBoxEndpointIDs))
	}
	return q
}

func joinInts(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ",")
}
