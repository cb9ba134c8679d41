package pve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	gen "github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// The generated models proxboxd reads, under shorter names.
type (
	StatusItem     = gen.GetClusterStatusItem
	NodeItem       = gen.GetNodesItem
	ResourceItem   = gen.GetClusterResourcesItem
	StorageItem    = gen.GetStorageItem
	ContentItem    = gen.GetNodesNodeStorageStorageContentItem
	Verification   = gen.GetNodesNodeStorageStorageContentItemVerification
	TaskItem       = gen.GetNodesNodeTasksItem
	NetworkItem    = gen.GetNodesNodeNetworkItem
	ReplicationJob = gen.GetClusterReplicationItem
	BackupJob      = gen.GetClusterBackupItem
	PoolData       = gen.GetPoolsPoolidData
	VersionData    = gen.GetVersionData
	QemuConfig     = gen.GetNodesNodeQemuVmidConfigData
	LXCConfig      = gen.GetNodesNodeLxcVmidConfigData
	CPUModel       = gen.GetNodesNodeCapabilitiesQemuCpuItem
)

// Guest types as PVE names them in paths and /cluster/resources.
const (
	TypeQemu = "qemu"
	TypeLXC  = "lxc"
)

// ErrNotConfigured: the Reader has no Proxmox client.
var ErrNotConfigured = errors.New("pve: proxmox client not configured")

// ErrGuestType: a guest type other than qemu or lxc.
var ErrGuestType = errors.New("pve: guest type must be qemu or lxc")

// Reader reads one PVE endpoint. The zero value and a Reader over a nil
// client answer every read with ErrNotConfigured.
type Reader struct{ px *proxmoxsdk.Client }

// NewReader returns a Reader over px.
func NewReader(px *proxmoxsdk.Client) *Reader { return &Reader{px: px} }

// Client is the underlying client (nil when not configured).
func (r *Reader) Client() *proxmoxsdk.Client {
	if r == nil {
		return nil
	}
	return r.px
}

func (r *Reader) client() (*proxmoxsdk.Client, error) {
	if r == nil || r.px == nil {
		return nil, ErrNotConfigured
	}
	return r.px, nil
}

// tolerate drops decode problems of a read that succeeded: fields PVE sent
// in an unexpected shape (kept raw in Extra, zero in the model) and list
// items that are not objects. Call failures are returned unchanged.
func tolerate(err error) error {
	if err == nil {
		return nil
	}
	var ae *proxmoxsdk.APIError
	if errors.As(err, &ae) {
		return err
	}
	var ie *proxmoxsdk.ItemError
	var fe *pvetypes.FieldError
	if errors.As(err, &ie) || errors.As(err, &fe) {
		return nil
	}
	return err
}

// ClusterStatus reads /cluster/status: the typed records and the data as
// PVE sent it (for routes that pass it through).
func (r *Reader) ClusterStatus(ctx context.Context) ([]StatusItem, json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, nil, err
	}
	raw, err := px.Cluster().Status().GetRaw(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []StatusItem
	if err := tolerate(proxmoxsdk.DecodeListInto(raw, &out)); err != nil {
		return nil, nil, fmt.Errorf("pve: /cluster/status: %w", err)
	}
	return out, raw, nil
}

// Nodes reads /nodes.
func (r *Reader) Nodes(ctx context.Context) ([]NodeItem, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	out, err := px.NodesIndex().Get(ctx)
	return out, tolerate(err)
}

// Resources reads /cluster/resources, of one type ("vm", "storage",
// "node", "sdn") or all ("").
func (r *Reader) Resources(ctx context.Context, typ string) ([]ResourceItem, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	var p *gen.GetClusterResourcesParams
	if typ != "" {
		t := gen.GetClusterResourcesParamsType(typ)
		p = &gen.GetClusterResourcesParams{Type: &t}
	}
	out, err := px.Cluster().Resources().Get(ctx, p)
	return out, tolerate(err)
}

// Config reads the config of a guest (typ qemu or lxc).
func (r *Reader) Config(ctx context.Context, node, typ string, vmid int) (*Config, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeQemu:
		raw, err := px.Nodes(node).Qemu(vmid).Config().GetRaw(ctx, nil)
		if err != nil {
			return nil, err
		}
		if isNull(raw) {
			return nil, nil
		}
		var c QemuConfig
		if err := tolerate(pvetypes.Unmarshal(raw, &c)); err != nil {
			return nil, fmt.Errorf("pve: qemu %d config: %w", vmid, err)
		}
		return &Config{Qemu: &c}, nil
	case TypeLXC:
		raw, err := px.Nodes(node).Lxc(vmid).Config().GetRaw(ctx, nil)
		if err != nil {
			return nil, err
		}
		if isNull(raw) {
			return nil, nil
		}
		var c LXCConfig
		if err := tolerate(pvetypes.Unmarshal(raw, &c)); err != nil {
			return nil, fmt.Errorf("pve: lxc %d config: %w", vmid, err)
		}
		return &Config{LXC: &c}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrGuestType, typ)
}

// AgentInterfaces reads the QEMU guest agent's network-get-interfaces
// answer, undecoded (ParseAgentInterfaces reads it).
func (r *Reader) AgentInterfaces(ctx context.Context, node string, vmid int) (json.RawMessage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	return px.Nodes(node).Qemu(vmid).Agent().NetworkGetInterfaces().GetRaw(ctx)
}

// Storage is one /storage entry: the typed item and the entry as PVE sent
// it.
type Storage struct {
	StorageItem
	Raw json.RawMessage
}

// Storages reads /storage.
func (r *Reader) Storages(ctx context.Context) ([]Storage, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	raw, err := px.StorageIndex().GetRaw(ctx, nil)
	if err != nil {
		return nil, err
	}
	items, raws, err := decodeWithRaw[StorageItem](raw)
	if err != nil {
		return nil, fmt.Errorf("pve: /storage: %w", err)
	}
	out := make([]Storage, len(items))
	for i := range items {
		out[i] = Storage{StorageItem: items[i], Raw: raws[i]}
	}
	return out, nil
}

// StorageContent reads the content of a storage on a node, of one content
// type ("backup", …) or all ("").
func (r *Reader) StorageContent(ctx context.Context, node, storage, content string) ([]ContentItem, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	var p *gen.GetNodesNodeStorageStorageContentParams
	if content != "" {
		p = &gen.GetNodesNodeStorageStorageContentParams{Content: &content}
	}
	out, err := px.Nodes(node).Storage(storage).ContentIndex().Get(ctx, p)
	return out, tolerate(err)
}

// Snapshot is one entry of a guest's snapshot list (QEMU and LXC lists
// share these fields; Vmstate is QEMU's).
type Snapshot struct {
	Name        string
	Description string
	Parent      string
	Snaptime    int64 // Unix seconds, 0 when unknown
	Vmstate     bool
	Extra       pvetypes.Extra
}

// Snapshots reads a guest's snapshot list, including PVE's "current" entry.
func (r *Reader) Snapshots(ctx context.Context, node, typ string, vmid int) ([]Snapshot, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeQemu:
		items, err := px.Nodes(node).Qemu(vmid).SnapshotIndex().Get(ctx)
		if err = tolerate(err); err != nil {
			return nil, err
		}
		out := make([]Snapshot, len(items))
		for i, s := range items {
			out[i] = Snapshot{Name: s.Name.Get(), Description: s.Description.Get(), Parent: s.Parent.Get(),
				Snaptime: s.Snaptime.Value, Vmstate: s.Vmstate.Get(), Extra: s.Extra}
		}
		return out, nil
	case TypeLXC:
		items, err := px.Nodes(node).Lxc(vmid).SnapshotIndex().Get(ctx)
		if err = tolerate(err); err != nil {
			return nil, err
		}
		out := make([]Snapshot, len(items))
		for i, s := range items {
			out[i] = Snapshot{Name: s.Name.Get(), Description: s.Description.Get(), Parent: s.Parent.Get(),
				Snaptime: s.Snaptime.Value, Extra: s.Extra}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrGuestType, typ)
}

// Tasks reads one page of a node's task archive (source=archive).
func (r *Reader) Tasks(ctx context.Context, node string, start, limit int) ([]TaskItem, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	src := gen.GetNodesNodeTasksParamsSourceArchive
	out, err := px.Nodes(node).TasksIndex().Get(ctx, &gen.GetNodesNodeTasksParams{Source: &src, Limit: &limit, Start: &start})
	return out, tolerate(err)
}

// Network reads a node's network interfaces.
func (r *Reader) Network(ctx context.Context, node string) ([]NetworkItem, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	out, err := px.Nodes(node).NetworkIndex().Get(ctx, nil)
	return out, tolerate(err)
}

// Job is a cluster-level job (replication or vzdump): the typed item and
// the job as PVE sent it.
type Job[T any] struct {
	Item T
	Raw  json.RawMessage
}

// Replications reads /cluster/replication.
func (r *Reader) Replications(ctx context.Context) ([]Job[ReplicationJob], error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	raw, err := px.Cluster().ReplicationIndex().GetRaw(ctx)
	if err != nil {
		return nil, err
	}
	return jobs[ReplicationJob](raw, "/cluster/replication")
}

// BackupJobs reads /cluster/backup (the vzdump schedule).
func (r *Reader) BackupJobs(ctx context.Context) ([]Job[BackupJob], error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	raw, err := px.Cluster().BackupIndex().GetRaw(ctx)
	if err != nil {
		return nil, err
	}
	return jobs[BackupJob](raw, "/cluster/backup")
}

func jobs[T any](raw json.RawMessage, what string) ([]Job[T], error) {
	items, raws, err := decodeWithRaw[T](raw)
	if err != nil {
		return nil, fmt.Errorf("pve: %s: %w", what, err)
	}
	out := make([]Job[T], len(items))
	for i := range items {
		out[i] = Job[T]{Item: items[i], Raw: raws[i]}
	}
	return out, nil
}

// Pool reads a resource pool with its members.
func (r *Reader) Pool(ctx context.Context, poolid string) (PoolData, error) {
	px, err := r.client()
	if err != nil {
		return PoolData{}, err
	}
	out, err := px.Pools(poolid).Get(ctx, nil)
	return out, tolerate(err)
}

// CPUModels reads the QEMU CPU models a node offers, built-in and custom
// (/nodes/{node}/capabilities/qemu/cpu, for the node's own architecture).
func (r *Reader) CPUModels(ctx context.Context, node string) ([]CPUModel, error) {
	px, err := r.client()
	if err != nil {
		return nil, err
	}
	out, err := px.Nodes(node).Capabilities().Qemu().Cpu().Get(ctx, nil)
	return out, tolerate(err)
}

// Version reads /version.
func (r *Reader) Version(ctx context.Context) (VersionData, error) {
	px, err := r.client()
	if err != nil {
		return VersionData{}, err
	}
	out, err := px.Version().Get(ctx)
	return out, tolerate(err)
}

// decodeWithRaw decodes a list item by item into models, keeping each
// item's JSON; items that are not objects are skipped.
func decodeWithRaw[T any](raw json.RawMessage) ([]T, []json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, fmt.Errorf("data is not a list: %w", err)
	}
	out := make([]T, 0, len(items))
	raws := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		var v T
		if err := pvetypes.Unmarshal(it, &v); err != nil && !fieldErrorsOnly(err) {
			continue
		}
		out = append(out, v)
		raws = append(raws, it)
	}
	return out, raws, nil
}

// fieldErrorsOnly reports whether err holds only *pvetypes.FieldError of
// fields below an object (the object decoded; those fields are in Extra).
func fieldErrorsOnly(err error) bool {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		var fe *pvetypes.FieldError
		if !errors.As(e, &fe) || fe.Path == "" {
			return false
		}
	}
	return true
}

func isNull(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case 'n':
			return string(trimSpace(raw)) == "null"
		}
		return false
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Members returns the members of a JSON object as PVE sent it, for reading
// keys with pvetypes' tolerant accessors; nil when raw is not an object.
func Members(raw json.RawMessage) pvetypes.Extra {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return pvetypes.Extra(m)
}

// Object returns a JSON object as PVE sent it, decoded into a map (for
// records kept verbatim, such as NetBox raw_config fields); nil when raw is
// not an object.
func Object(raw json.RawMessage) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}
