// Package sync is proxboxd's sync engine: the 12 stages of the netbox-proxbox
// plugin (devices, storage, virtual machines, task history, virtual disks,
// backups, snapshots, node interfaces, VM interfaces, VM IP addresses,
// replications, backup routines) as plan-then-apply reconciliation.
//
// # Engine
//
// Every stage reads, plans, then applies:
//
//   - read: Proxmox through proxboxd/pve (typed models; identity by
//     pve.Identify), concurrently (cluster status and resources, guest
//     configs, guest-agent interfaces, storage content, snapshots, task
//     archives, node networks, replication and backup jobs), at most
//     fetch_max_concurrency requests in flight per endpoint kind; NetBox with
//     one fully paged list per object type, narrowed with fields= and to what
//     proxbox manages (the clusters' VMs, their children by
//     virtual_machine_id, the nodes' devices by device_id, tag proxbox).
//   - plan: creates, and patches of only the fields that differ (custom fields
//     compared key by key, user tags and custom fields kept); orphans per
//     OrphanPolicy; parents before children.
//   - apply: bulk POST/PATCH/DELETE in batches (default 50); ids of new parents
//     feed their children; a failed batch is retried item by item and each
//     failed item is reported (StageResult.Failures, error_detail events).
//
// A full update shares one Proxmox read snapshot and the NetBox tables
// across its stages; so do the stage streams of one plugin job (job.go),
// with a changelog check for changes by others before each reuse. A re-sync with nothing changed makes no NetBox write.
// Dry runs (StageParams.DryRun) return the plan (proxbox.Change, old → new)
// and write nothing; objects that would be created get negative placeholder
// ids so their children can be planned too.
//
// Identity: a VM is (cluster, proxmox_vm_id, proxmox_vm_type); rows without a
// type match when unambiguous; an unmanaged VM of the same cluster is adopted
// by exact name, never one of another cluster. Devices: the node name within
// the cluster (or its site). IPs: (VRF, address) — WithClusterVRFNames
// (proxboxd's cluster_vrfs setting) or WithClusterVRF puts a cluster's node
// and VM addresses in a VRF. Disks, interfaces: (parent, name). Plugin
// models: storage (cluster, name), backups (VM, volume id), snapshots (VM,
// name), tasks (VM, UPID), replications and backup routines (endpoint, id).
// netbox-proxbox's VMSnapshot is also unique on (vmid, name, node) and its
// task history on the UPID, across clusters: a create whose key another
// record holds is reported as a failed item before any write
// (ErrPluginUniqueTaken), so twin clusters re-sync without writes.
// MAC addresses (NetBox >= 4.2, dcim.MACAddress): (interface, MAC); the VM
// interface stage writes one per NIC and makes it the interface's
// primary_mac_address (skipped when NetBox has no /api/dcim/mac-addresses/).
//
// MinRequests (and FullResult.MinRequests) is the request floor of a result:
// one paged read per object type plus one write per batch; benchmarks print
// the ratio of the real count to it.
//
// Orphans (objects tagged proxbox whose Proxmox object is gone): keep, mark
// (status offline / stale, tag proxbox-orphan, custom field
// proxbox_last_seen; deleted after AfterDays when set) or delete. Defaults:
// devices and VMs are marked, interfaces, disks and IPs of a VM that was read
// completely are deleted, storages are kept, replications and backup
// routines are marked stale, snapshots are marked stale unless
// delete_nonexistent_snapshot, backups are deleted only with
// delete_nonexistent_backup. Nothing is marked or deleted for a cluster, node,
// guest or storage whose read failed (StageResult.Partial).
//
// Proxmox read failures: the Proxmox client retries transient failures of
// its reads (5xx, 429 honouring Retry-After, resets, per-request timeouts;
// proxmoxsdk.RetryPolicy). A read that still fails leaves its part "not
// read" for the run: a guest whose config, guest-agent interfaces or
// snapshot list is missing keeps its NetBox children and fields as they are
// (nothing is created, patched, blanked, marked or deleted from the missing
// data), a guest whose run state PVE reports as unknown keeps its status, a
// node or storage that was not listed keeps its interfaces and backups. Each
// is reported as an item failure (object type proxmox.guest, proxmox.node or
// proxmox.storage; the guests of an offline node once per node, and their
// reads are not attempted); the stage stays ok and is partial, and a later
// sync completes what was missed.
//
// Writes: creates, updates and deletes of one object type go to NetBox in
// bulk requests of WriteTuning.BatchSize objects (50), WriteTuning.Concurrency
// of them in flight at once (1); proxboxd takes both from the plugin's
// bulk_batch_size and netbox_max_concurrent settings for each run. Unlike
// the Python backend it does not sleep bulk_batch_delay_ms between batches:
// each batch already waits for NetBox's answer, and the concurrency bound is
// the throttle. Reads run up to 4 at a time (WithNetBoxConcurrency, raised to
// the write concurrency when that is higher).
//
// Locking: syncs touching the same Proxmox endpoint are serialised; a later
// one waits (emitting a step "progress" frame) until the earlier ends or its
// context is cancelled.
//
// The netbox-proxbox plugin is optional: when /api/plugins/proxbox/ answers
// 404 the plugin stages end ok with "plugin not installed … skipped" and no
// counts.
//
// # Layout
//
//   - stages.go: the stage registry (plugin slug → implementation) and the
//     scope shared by stages; stage_<slug>.go: one file per plugin stage;
//     plugin_stages.go: what the six netbox-proxbox model stages share;
//     deps.go: the objects every stage needs (cluster type, site, cluster,
//     device type, role).
//   - The reconcile core, by concern: table.go (a NetBox object type read
//     into memory, keyed by identity), load.go (reads), plan.go (desired
//     state → creates and patches of the fields that differ), values.go
//     (value normalisation for the diff), orphans.go (orphan policy),
//     apply.go (bulk writes, batching, per-item retry), names.go and
//     limits.go (names NetBox accepts), refusals.go (writes NetBox refused).
//   - engine.go: the public Engine (RunStage, FullUpdate, RunAll), locking;
//     options.go its options; stage_run.go the events around one stage;
//     report.go per-item results.
//
// # QUIRKs of proxbox-api 6cf8592 fixed here
//
//   - Every object was PATCHed on every run (fresh proxmox_last_updated in the
//     desired state): the timestamp is only written with a real change.
//   - User-added tags were stripped: tags are merged; custom fields are
//     patched key by key.
//   - Non-strict VM lookups adopted any VM with the same name, across
//     clusters: identity is (cluster, VMID, type); name adoption only within
//     the cluster and only of VMs without a VMID.
//   - qemu 100 and lxc 100 in one cluster collided (type not in the key); the
//     VM index of stages 9/10 ignored the cluster (VMID collisions across
//     clusters cross-wired).
//   - Unpaginated lists silently truncated at 50 (clusters, storages, the
//     backup VM cache, replication prefetch, snapshot orphan list): every list
//     is fully paged.
//   - IP lookups were global by address: identity is (VRF, address); an IP
//     that moved between VMs is reassigned (primary IPs cleared first, as
//     NetBox requires), not duplicated.
//   - A per-VM backup run with delete_nonexistent_backup deleted every other
//     VM's backups; a storage that failed to list made its backups look stale:
//     deletions are limited to the VMs in scope whose storages were all read.
//   - A cluster with no backups failed stage 6: it is a normal, ok result.
//   - Task history always recorded vm_type qemu, ran twice per full run,
//     re-listed the whole table per VM and made one status call per task: the
//     type comes from the guest, each node's archive is read once (paged by
//     500) and the status comes from the archive rows.
//   - The node-interface stage was a no-op: it writes node interfaces,
//     bridges (bridge ports → bridge), bonds (slaves → lag), VLAN interfaces
//     (parent, untagged VLAN) and their IPs.
//   - The VM stream ignored sync_vm_network: with it false the stage writes
//     VMs only; with it true disks, interfaces and IPs are synced once after
//     the VMs (not per VM).
//   - NIC parsing stopped at the first missing netN and read MACs of virtio
//     NICs only: every netN is read, any model's MAC, LXC hwaddr, name, ip and
//     ip6, and QEMU cloud-init ipconfigN addresses.
//   - Disk sizes in B and K were read as MiB; LXC rootfs was not a disk.
//   - The qemu "agent" option "enabled=1,fstrim=1" parsed as false.
//   - Backup and snapshot times were naive local time: they are UTC RFC 3339.
//   - Backup-routine stale marking crossed endpoints: it is per endpoint.
//   - A backup journal entry was written on every update: none are written.
//   - One unreachable Proxmox endpoint failed every request: the others sync,
//     the stage is partial and the endpoint is reported as a failure.
//   - NetBox 4 rejects a VM disk size different from its virtual disks' sum:
//     the VM disk field is left to NetBox (it sums the virtual disks).
//   - Proxmox allows duplicate guest names, NetBox not within a cluster: the
//     guest whose VM holds the name keeps it, the others get "name (vmid)";
//     an orphaned VM whose name a live guest needs is renamed
//     "name (orphan vmid)" in the same run, whenever it was orphaned; swaps
//     and chains of names go through temporary names; names over 64
//     characters end in "~vmid" with the full name in proxmox_name
//     (names.go). Free text is cut to NetBox's limits (limits.go).
//   - Objects not written were dropped without a word (an address on two
//     guests, a disk without a size, backups of a VMID no guest has, the
//     children of a VM NetBox refused): each is a skipped item with its
//     reason, and a stage with failed or skipped items is partial, with the
//     counts in its message.
//   - A write NetBox refused was sent again, unchanged, on every run: it is
//     remembered and not re-sent until it changes (refusals.go).
//   - An orphaned VM kept its active addresses, primary IPs and active
//     snapshots: its addresses become deprecated, its primaries are cleared,
//     its snapshots stale, and a live guest of the cluster that reuses its
//     VMID takes over a snapshot record whose plugin key it needs.
//   - A link-local IPv4 (169.254.0.0/16) could become the primary IPv4:
//     link-local addresses are recorded, never primary.
//   - Stale snapshot deletion used an unpaginated list and could miss or hit
//     other VMs: it is per VM, over fully read VMs only.
package sync
