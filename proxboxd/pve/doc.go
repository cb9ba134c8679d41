// Package pve is proxboxd's read side of Proxmox VE: every PVE read the sync
// engine and the HTTP Proxmox routes make, through proxmoxsdk's navigator,
// with typed results (the generated models of proxmoxsdk/gen/pve, whose
// scalars are pvetypes' tolerant types), and the one rule for a cluster's
// identity (Identify).
//
// Reader has one method per PVE read; each sends exactly one request (Tasks
// one per page). A field PVE sent in a shape its model does not expect is
// left zero and kept raw in the model's Extra: such decode problems never
// fail a read (a list item that is not an object is skipped). Call failures
// are proxmoxsdk's errors, matched with errors.Is against its sentinels
// (proxmoxsdk.ErrPermission, ErrNotFound, ErrNodeUnreachable, …) or
// errors.As against *proxmoxsdk.APIError; nothing here looks at message
// text.
//
// Guest configs: QEMU and LXC configs are different models; Config holds
// either and answers what proxboxd reads from both (Onboot, Unprivileged,
// AgentEnabled, Searchdomain) and the indexed keys (netN, ipconfigN, scsiN,
// mpN, …), which the generated models keep in AdditionalProperties: Value
// reads one, Family lists one family in index order, Props every
// property-string key (plus the LXC rootfs).
package pve
