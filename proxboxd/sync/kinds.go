package sync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"

	"github.com/proxbox-go/proxbox/netboxsdk/gen/extras"
)

const (
	tagProxbox    = "proxbox"
	tagOrphan     = "proxbox-orphan"
	cfLastUpdated = "proxmox_last_updated"
	cfLastSeen    = "proxbox_last_seen"
)

// allKinds lists every declared kind, for the tests that check each path and
// managed field against the committed NetBox schema.
var allKinds []*kind

// Kind options, by what the engine does to objects of a kind.
var (
	tagged  = kind{Tagged: true, Stamp: true}               // proxbox tag and proxmox_last_updated
	marked  = kind{Tagged: true, Stamp: true, CFMark: true} // also proxbox_last_seen on orphans
	plugin  = kind{Plugin: true}                            // a netbox-proxbox model
	offline = kind{Tagged: true, Stamp: true, CFMark: true, Status: "offline"}
)

func with(k kind, f func(*kind)) kind { f(&k); return k }

// The NetBox object types the engine manages, each declared by its generated
// collection (so its path and request type come from the schema) and the
// fields the engine reads and writes.
var (
	kTag          = declare("extras.tag", nbgen.extras.Tags, kind{}, "name", "slug", "color", "description")
	kCF           = declare("extras.customfield", nbgen.extras.CustomFields, kind{}, "name", "type", "object_types", "related_object_type")
	kClusterType  = declare("virtualization.clustertype", nbgen.virt.ClusterTypes, tagged, "name", "slug", "description")
	kManufacturer = declare("dcim.manufacturer", nbgen.dcim.Manufacturers, tagged, "name", "slug")
	kDeviceType   = declare("dcim.devicetype", nbgen.dcim.DeviceTypes, tagged, "model", "slug", "manufacturer")
	kRole         = declare("dcim.devicerole", nbgen.dcim.DeviceRoles, tagged, "name", "slug", "color", "vm_role", "description")
	kSite         = declare("dcim.site", nbgen.dcim.Sites, tagged, "name", "slug", "status")
	kCluster      = declare("virtualization.cluster", nbgen.virt.Clusters, tagged, "name", "type", "scope_type", "scope_id", "status", "description")
	kDevice       = declare("dcim.device", nbgen.dcim.Devices, offline, "name", "status", "description", "cluster", "device_type", "role", "site")
	kVM           = declare("virtualization.virtualmachine", nbgen.virt.VirtualMachines, offline, "name", "status", "cluster", "device", "site", "role", "vcpus", "memory", "description", "primary_ip4", "primary_ip6")
	kVMIface      = declare("virtualization.vminterface", nbgen.virt.Interfaces, marked, "virtual_machine", "name", "enabled", "mode", "untagged_vlan", "description", "primary_mac_address")
	kVDisk        = declare("virtualization.virtualdisk", nbgen.virt.VirtualDisks, marked, "virtual_machine", "name", "size", "description")
	kVLAN         = declare("ipam.vlan", nbgen.ipam.VLANs, tagged, "vid", "name", "status", "group")
	kIP           = declare("ipam.ipaddress", nbgen.ipam.IPAddresses, marked, "address", "vrf", "status", "assigned_object_type", "assigned_object_id", "description")
	kNodeIface    = declare("dcim.interface", nbgen.dcim.Interfaces, marked, "device", "name", "type", "enabled", "mtu", "mode", "untagged_vlan", "parent", "lag", "bridge", "description", "primary_mac_address")

	kStorage     = declare("netbox_proxbox.proxmoxstorage", nbgen.plugin.Storage, with(plugin, func(k *kind) { k.Tagged = true }), "cluster", "name", "storage_type", "content", "path", "nodes", "shared", "enabled", "server", "port", "username", "export", "share", "pool", "monhost", "namespace", "datastore", "subdir", "mountpoint", "is_mountpoint", "preallocation", "format", "prune_backups", "max_protected_backups", "raw_config")
	kBackup      = declare("netbox_proxbox.vmbackup", nbgen.plugin.Backups, plugin, "storage", "proxmox_storage", "virtual_machine", "subtype", "format", "creation_time", "size", "used", "encrypted", "verification_state", "verification_upid", "volume_id", "notes", "vmid")
	kSnapshot    = declare("netbox_proxbox.vmsnapshot", nbgen.plugin.Snapshots, with(plugin, func(k *kind) { k.Status = "stale" }), "virtual_machine", "name", "description", "vmid", "node", "snaptime", "parent", "subtype", "status")
	kTask        = declare("netbox_proxbox.vmtaskhistory", nbgen.plugin.TaskHistory, plugin, "virtual_machine", "vm_type", "upid", "node", "pid", "pstart", "task_id", "task_type", "username", "start_time", "end_time", "description", "status", "task_state", "exitstatus")
	kReplication = declare("netbox_proxbox.replication", nbgen.plugin.Replications, with(plugin, func(k *kind) { k.Status = "stale" }), "replication_id", "endpoint", "guest", "target", "job_type", "schedule", "rate", "comment", "disable", "source", "jobnum", "remove_job", "virtual_machine", "proxmox_node", "raw_config", "status")
	kRoutine     = declare("netbox_proxbox.backuproutine", nbgen.plugin.BackupRoutines, with(plugin, func(k *kind) { k.Status = "stale" }), "job_id", "endpoint", "enabled", "schedule", "comment", "notes_template", "selection", "keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "keep_all", "bwlimit", "zstd", "io_workers", "fleecing", "repeat_missed", "pbs_change_detection_mode", "raw_config", "status")
	kPEndpoint   = declare("netbox_proxbox.proxmoxendpoint", nbgen.plugin.EndpointsProxmox, plugin, "name", "domain", "ip_address")
	kPNode       = declare("netbox_proxbox.proxmoxnode", nbgen.plugin.ProxmoxNodes, plugin, "name", "endpoint")
)

// customField is one custom field the engine writes.
type customField struct {
	Name, Label, Type string
	Types             []string
	Related           string
	Plugin            bool // needs the plugin installed
}

var (
	vmT    = "virtualization.virtualmachine"
	devT   = "dcim.device"
	coreTs = []string{"dcim.device", "dcim.devicerole", "dcim.devicetype", "dcim.interface", "dcim.manufacturer", "dcim.site",
		"ipam.ipaddress", "ipam.vlan", "virtualization.cluster", "virtualization.clustertype", "virtualization.virtualdisk",
		"virtualization.virtualmachine", "virtualization.vminterface"}
	markTs = []string{"dcim.device", "virtualization.virtualmachine", "virtualization.vminterface", "virtualization.virtualdisk", "ipam.ipaddress", "dcim.interface"}
)

var customFields = []customField{
	{Name: "proxmox_vm_id", Label: "Proxmox VM ID", Type: "integer", Types: []string{vmT}},
	{Name: "proxmox_vm_type", Label: "Proxmox VM Type", Type: "text", Types: []string{vmT}},
	// set only when the NetBox name differs from the Proxmox one (names.go)
	{Name: "proxmox_name", Label: "Proxmox Name", Type: "text", Types: []string{vmT}},
	{Name: "proxmox_start_at_boot", Label: "Start at Boot", Type: "boolean", Types: []string{vmT}},
	{Name: "proxmox_unprivileged_container", Label: "Unprivileged Container", Type: "boolean", Types: []string{vmT}},
	{Name: "proxmox_qemu_agent", Label: "QEMU Guest Agent", Type: "boolean", Types: []string{vmT}},
	{Name: "proxmox_search_domain", Label: "Search Domain", Type: "text", Types: []string{vmT}},
	{Name: "proxmox_status", Label: "Proxmox Status", Type: "text", Types: []string{vmT}},
	{Name: "proxmox_node", Label: "Proxmox Node", Type: "text", Types: []string{vmT, devT}},
	{Name: "proxmox_cluster", Label: "Proxmox Cluster", Type: "text", Types: []string{vmT, devT}},
	{Name: "proxmox_link", Label: "Proxmox Link", Type: "url", Types: []string{vmT, devT}},
	{Name: cfLastUpdated, Label: "Proxmox Last Updated", Type: "datetime", Types: coreTs},
	{Name: cfLastSeen, Label: "Proxbox Last Seen (orphan)", Type: "date", Types: markTs},
	{Name: "proxbox_bridge", Label: "Bridge", Type: "object", Types: []string{"virtualization.vminterface"}, Related: "dcim.interface"},
	{Name: "proxbox_storage_id", Label: "Proxmox Storage", Type: "object", Types: []string{"virtualization.virtualdisk"}, Related: "netbox_proxbox.proxmoxstorage", Plugin: true},
}

func (r *run) tagRef(slug string) obj {
	if id := r.tagIDs[slug]; id > 0 {
		return obj{"id": id}
	}
	return obj{"slug": slug}
}

// prepare ensures the proxbox tags and custom fields (once per run).
func (r *run) prepare(ctx context.Context) error {
	if r.prepared {
		return nil
	}
	q := url.Values{"slug": {tagProxbox, tagOrphan}}
	tags, err := r.load(ctx, kTag, q, func(o obj) string { return asStr(o["slug"]) })
	if err != nil {
		return fmt.Errorf("ensure proxbox tag: %w", err)
	}
	wants := []*want{
		wantOf(tagProxbox, "Proxbox", extras.TagRequest{Name: "Proxbox", Slug: tagProxbox, Color: ptr("ff5722"),
			Description: ptr("Proxbox Identifier (used to identify the items the plugin created)")}),
		wantOf(tagOrphan, "Proxbox orphan", extras.TagRequest{Name: "Proxbox orphan", Slug: tagOrphan, Color: ptr("9e9e9e"),
			Description: ptr("Proxbox: the Proxmox object of this item is gone")}),
	}
	r.apply(ctx, tags, r.plan(tags, wants))
	for _, w := range wants {
		r.tagIDs[w.Key] = w.id
	}
	if r.tagIDs[tagProxbox] == 0 && !r.dry {
		return errors.New("ensure proxbox tag: could not create it")
	}
	plugin := r.pluginInstalled(ctx)
	names := url.Values{}
	for _, cf := range customFields {
		names.Add("name", cf.Name)
	}
	cfs, err := r.load(ctx, kCF, names, func(o obj) string { return asStr(o["name"]) })
	if err != nil {
		return fmt.Errorf("ensure custom fields: %w", err)
	}
	var cws []*want
	for _, cf := range customFields {
		if cf.Plugin && !plugin {
			continue
		}
		types := append([]string(nil), cf.Types...)
		if ex := cfs.byKey[cf.Name]; ex != nil {
			// keep object types someone else added
			have := map[string]bool{}
			for _, t := range types {
				have[t] = true
			}
			if l, ok := ex["object_types"].([]any); ok {
				for _, t := range l {
					if s := asStr(t); !have[s] {
						types = append(types, s)
						have[s] = true
					}
				}
			}
		}
		req := extras.WritableCustomFieldRequest{Name: cf.Name, ObjectTypes: sortedStrings(types),
			Label: &cf.Label, Type: ptr(extras.CustomFieldTypeEnum(cf.Type)), GroupName: ptr("Proxmox"),
			UiVisible: ptr(extras.CustomFieldUiVisibleEnum("if-set")), UiEditable: ptr(extras.CustomFieldUiEditableEnum("hidden")),
			Weight: ptr(100), FilterLogic: ptr(extras.CustomFieldFilterLogicEnum("loose")), SearchWeight: ptr(1000)}
		if cf.Related != "" {
			req.RelatedObjectType = val(cf.Related)
		}
		cws = append(cws, wantOf(cf.Name, cf.Name, req, "label", "type", "group_name", "ui_visible", "ui_editable",
			"weight", "filter_logic", "search_weight", "related_object_type"))
	}
	r.apply(ctx, cfs, r.plan(cfs, cws))
	for _, w := range cws {
		if w.id != 0 {
			r.cfOK[w.Key] = true
		}
	}
	r.prepared = true
	return nil
}

func sortedStrings(in []string) []string {
	s := slices.Clone(in)
	slices.Sort(s)
	return s
}

// pluginInstalled reports whether the netbox-proxbox plugin API answers; it
// loads the plugin storage table as a side effect.
func (r *run) pluginInstalled(ctx context.Context) bool {
	if r.plugin != nil {
		return *r.plugin
	}
	ok := true
	t, err := r.load(ctx, kStorage, nil, func(o obj) string { return strconv.Itoa(refID(o, "cluster")) + "|" + asStr(o["name"]) })
	if err != nil {
		ok = false
		if !errors.Is(err, errPathNotFound) {
			r.e.log.Warn("proxbox plugin API unusable; plugin stages skipped", "err", err)
		}
	} else {
		r.tables["storage"] = t
	}
	r.plugin = &ok
	return ok
}

var nbPKRE = regexp.MustCompile(`\(nb:(\d+)\)\s*$`)
