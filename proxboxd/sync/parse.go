package sync

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
)

// This file holds the pure parsers for Proxmox configuration strings and
// guest-agent output. None of them panics on any input (see the fuzz tests).

// parseSize converts a Proxmox size ("32G", "512M", "1T", "100K", "4096B";
// a bare number is bytes, as in PVE's parse_size) into bytes. ok is false for
// anything that is not a positive size.
func parseSize(s string) (bytes float64, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	mult := float64(1)
	switch unit := strings.ToUpper(s[len(s)-1:]); unit {
	case "B":
		mult = 1
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	case "P":
		mult = 1 << 50
	}
	num := s
	if c := s[len(s)-1]; c < '0' || c > '9' {
		num = s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return 0, false
	}
	b := f * mult
	if math.IsInf(b, 0) || b > 1<<62 {
		return 0, false
	}
	return b, true
}

// bytesToMiB rounds up to whole MiB (NetBox sizes are integer MB); a non-empty
// disk is at least 1.
func bytesToMiB(b float64) int {
	if b <= 0 {
		return 0
	}
	return int(math.Ceil(b / (1 << 20)))
}

var diskKeyRE = regexp.MustCompile(`^(scsi|ide|sata|virtio|mp)(\d+)$`)

// vmDisk is one disk of a guest config.
type vmDisk struct {
	Name    string // config key: scsi0, virtio1, rootfs, mp0
	Storage string // storage id before ":" ("" for a bare path)
	Volume  string // full volume id
	SizeMiB int
	Format  string
	NoSize  bool // the config gives no (readable) size
}

// parseDisk parses one config entry into a disk. ok is false for keys that are
// not disks, cdroms and "none" volumes; a disk whose size is missing or
// unreadable has NoSize set (the stage reports it instead of writing it).
// QUIRK fixed: units B and K are converted (the original read them as MiB), and
// the LXC rootfs counts as a disk.
func parseDisk(key, value string) (vmDisk, bool) {
	if key != "rootfs" && !diskKeyRE.MatchString(key) {
		return vmDisk{}, false
	}
	bare, kv := pve.SplitProps(value)
	if bare == "" {
		bare = kv["volume"]
	}
	if bare == "" || bare == "none" || kv["media"] == "cdrom" || strings.HasSuffix(bare, ".iso") {
		return vmDisk{}, false
	}
	d := vmDisk{Name: key, Volume: bare, Format: kv["format"]}
	if b, ok := parseSize(kv["size"]); ok {
		d.SizeMiB = bytesToMiB(b)
	} else if z := strings.TrimRight(strings.TrimSpace(kv["size"]), "BKMGTPbkmgtp"); z != "" && strings.Trim(z, "0.") == "" {
		d.SizeMiB = 0 // "size=0": PVE says so, NetBox accepts it
	} else {
		d.NoSize = true // not written: NetBox needs a size (reported by the stage)
	}
	if st, _, found := strings.Cut(bare, ":"); found {
		d.Storage = st
	}
	if d.Format == "" {
		switch {
		case strings.HasSuffix(bare, ".qcow2"):
			d.Format = "qcow2"
		case strings.HasSuffix(bare, ".vmdk"):
			d.Format = "vmdk"
		case strings.HasSuffix(bare, ".raw"):
			d.Format = "raw"
		}
	}
	return d, true
}

// parseDisks returns the disks of a guest config, ordered by name.
func parseDisks(cfg *pve.Config) []vmDisk {
	var out []vmDisk
	for k, s := range cfg.Props() {
		if d, ok := parseDisk(k, s); ok {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	return out
}

// naturalLess orders "net2" before "net10".
func naturalLess(a, b string) bool {
	pa, na := splitNum(a)
	pb, nb := splitNum(b)
	if pa != pb {
		return pa < pb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func splitNum(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

var netKeyRE = regexp.MustCompile(`^net(\d+)$`)

// netKeyOptions are the documented non-model keys of a netN value.
var netKeyOptions = map[string]bool{
	"bridge": true, "firewall": true, "link_down": true, "macaddr": true, "mtu": true,
	"queues": true, "rate": true, "tag": true, "trunks": true, "hwaddr": true, "name": true,
	"ip": true, "ip6": true, "gw": true, "gw6": true, "type": true, "host_mtu": true, "model": true,
}

// vmNIC is one netN entry of a guest config.
type vmNIC struct {
	Key    string // net0
	Name   string // LXC name= or the key
	Model  string // virtio, e1000, veth…
	MAC    string // lowercase
	Bridge string
	VLAN   int // tag=, 0 when untagged
	IPs    []string
}

// parseNIC parses a netN value. QUIRK fixed: every NIC model yields its MAC
// (the original only knew virtio), and LXC hwaddr/name/ip/ip6 are read.
func parseNIC(key, value string) (vmNIC, bool) {
	if !netKeyRE.MatchString(key) {
		return vmNIC{}, false
	}
	_, kv := pve.SplitProps(value)
	n := vmNIC{Key: key, Name: key, Bridge: kv["bridge"]}
	if nm := kv["name"]; nm != "" {
		n.Name = nm
	}
	n.MAC = kv["hwaddr"]
	if n.MAC == "" {
		n.MAC = kv["macaddr"]
	}
	// qemu: "<model>=<MAC>" is the first option; pick any unknown key whose value looks like a MAC.
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if netKeyOptions[k] {
			continue
		}
		if n.Model == "" {
			n.Model = k
		}
		if n.MAC == "" && looksLikeMAC(kv[k]) {
			n.MAC = kv[k]
			n.Model = k
		}
	}
	if n.Model == "" {
		n.Model = kv["model"]
		if n.Model == "" && kv["hwaddr"] != "" {
			n.Model = "veth"
		}
	}
	n.MAC = strings.ToLower(n.MAC)
	if !looksLikeMAC(n.MAC) {
		n.MAC = ""
	}
	if t, err := strconv.Atoi(kv["tag"]); err == nil && t > 0 && t < 4095 {
		n.VLAN = t
	}
	for _, k := range []string{"ip", "ip6"} {
		v := kv[k]
		if v == "" || v == "dhcp" || v == "auto" || v == "manual" {
			continue
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			n.IPs = append(n.IPs, p.String())
		}
	}
	return n, true
}

func looksLikeMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' && c != '-' {
				return false
			}
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
			return false
		}
	}
	return true
}

// parseNICs returns every netN of a config in numeric order. QUIRK fixed: the
// original stopped at the first missing index (net0, net2 lost net2).
func parseNICs(cfg *pve.Config) []vmNIC {
	var out []vmNIC
	for _, e := range cfg.Family("net") {
		if n, ok := parseNIC(e.Key, e.Value); ok {
			out = append(out, n)
		}
	}
	return out
}

// agentIface is one interface reported by the QEMU guest agent.
type agentIface struct {
	Name string
	MAC  string
	IPs  []netip.Prefix
}

type rawAgentIface struct {
	Name string `json:"name"`
	MAC  string `json:"hardware-address"`
	IPs  []struct {
		Addr   string          `json:"ip-address"`
		Type   string          `json:"ip-address-type"`
		Prefix json.RawMessage `json:"prefix"`
	} `json:"ip-addresses"`
}

// parseAgentInterfaces decodes network-get-interfaces output: either
// {"result":[…]} or the bare list. Loopback interfaces and addresses are
// dropped, and IPv6 link-local ones when dropLinkLocal. Bad items are skipped.
func parseAgentInterfaces(raw []byte, dropLinkLocal bool) ([]agentIface, error) {
	raw = []byte(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] == '{' {
		var env struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("agent output: %w", err)
		}
		raw = env.Result
		if len(raw) == 0 || string(raw) == "null" {
			return nil, nil
		}
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("agent output: %w", err)
	}
	var out []agentIface
	for _, it := range items {
		var r rawAgentIface
		if json.Unmarshal(it, &r) != nil {
			continue
		}
		if r.Name == "lo" || strings.HasPrefix(r.Name, "Loopback") {
			continue
		}
		a := agentIface{Name: r.Name, MAC: strings.ToLower(r.MAC)}
		if !looksLikeMAC(a.MAC) || a.MAC == "00:00:00:00:00:00" {
			a.MAC = ""
		}
		for _, ip := range r.IPs {
			addr, err := netip.ParseAddr(strings.TrimSpace(ip.Addr))
			if err != nil {
				continue
			}
			addr = addr.WithZone("")
			if addr.IsLoopback() || addr.IsUnspecified() || addr.IsMulticast() {
				continue
			}
			if dropLinkLocal && addr.Is6() && addr.IsLinkLocalUnicast() {
				continue
			}
			bits := addr.BitLen()
			var pl float64
			if json.Unmarshal(ip.Prefix, &pl) == nil && pl >= 0 && pl <= float64(addr.BitLen()) && pl == math.Trunc(pl) {
				bits = int(pl)
			} else {
				var ps string
				if json.Unmarshal(ip.Prefix, &ps) == nil {
					if n, err := strconv.Atoi(ps); err == nil && n >= 0 && n <= addr.BitLen() {
						bits = n
					}
				}
			}
			if p, err := addr.Prefix(bits); err == nil {
				a.IPs = append(a.IPs, netip.PrefixFrom(addr, p.Bits()))
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// orderIPs puts the preferred family first ("ipv4" or "ipv6"), keeping the
// input order within each family.
func orderIPs(ips []netip.Prefix, pref string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ips))
	want6 := pref == "ipv6"
	for _, p := range ips {
		if p.Addr().Is6() == want6 {
			out = append(out, p)
		}
	}
	for _, p := range ips {
		if p.Addr().Is6() != want6 {
			out = append(out, p)
		}
	}
	return out
}

// vmStatus maps a Proxmox guest status to a NetBox VM status.
func vmStatus(s string) string {
	switch strings.ToLower(s) {
	case "running", "online", "active":
		return "active"
	case "stopped", "paused", "offline":
		return "offline"
	case "planned":
		return "planned"
	}
	return "active"
}

// slugify lowercases and turns runs of non-[a-z0-9] into "-"; empty → "cluster".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return "cluster"
	}
	return out
}

// backupFormat maps a Proxmox backup volume format to the plugin choice.
func backupFormat(format, volid string) string {
	switch f := strings.ToLower(format); f {
	case "vma.zst", "vma.zstd", "zst":
		return "zst"
	case "tar.zst", "tzst":
		return "tzst"
	case "tar.gz", "tgz":
		return "tgz"
	case "tar.bz2", "tbz":
		return "tbz"
	case "pbs-ct", "pbs-vm", "qcow2", "raw", "tar", "iso":
		return f
	}
	switch {
	case strings.Contains(volid, "backup/ct/"):
		return "pbs-ct"
	case strings.Contains(volid, "backup/vm/"):
		return "pbs-vm"
	case strings.HasSuffix(volid, ".vma.zst"):
		return "zst"
	case strings.HasSuffix(volid, ".tar.zst"):
		return "tzst"
	case strings.HasSuffix(volid, ".tar.gz") || strings.HasSuffix(volid, ".tgz"):
		return "tgz"
	}
	return "undefined"
}

// backupSubtype returns qemu or lxc for a backup volume.
func backupSubtype(subtype, volid string) string {
	switch strings.ToLower(subtype) {
	case "qemu", "vm":
		return "qemu"
	case "lxc", "ct":
		return "lxc"
	}
	switch {
	case strings.Contains(volid, "vzdump-lxc-") || strings.Contains(volid, "/ct/"):
		return "lxc"
	case strings.Contains(volid, "vzdump-qemu-") || strings.Contains(volid, "/vm/"):
		return "qemu"
	}
	return "undefined"
}

// taskAction names the action of a PVE task type for its description.
func taskAction(typ string) string {
	t := strings.ToLower(typ)
	for _, kw := range []string{"start", "shutdown", "reboot", "stop", "pause", "resume", "suspend", "delete",
		"create", "clone", "move", "backup", "restore", "snapshot", "rollback", "migrate", "convert"} {
		if strings.Contains(t, kw) {
			return strings.ToUpper(kw[:1]) + kw[1:]
		}
	}
	if t == "vzdump" {
		return "Backup"
	}
	if typ == "" {
		return "Task"
	}
	return strings.ToUpper(typ[:1]) + typ[1:]
}

// nodeIfaceType maps a PVE node network type to a NetBox interface type.
func nodeIfaceType(t string) string {
	switch t {
	case "bridge", "OVSBridge":
		return "bridge"
	case "bond", "OVSBond":
		return "lag"
	case "vlan", "OVSIntPort":
		return "virtual"
	case "loopback":
		return "virtual"
	}
	return "other"
}

// vlanOfNodeIface returns the VLAN id and raw device of a PVE vlan interface
// ("vmbr0.100", "vlan100" with vlan-raw-device, or vlan-id).
func vlanOfNodeIface(name string, it pve.NetworkItem) (vid int, parent string) {
	if v := it.VlanId.Get(); v > 0 {
		vid = v
	}
	parent = it.VlanRawDevice.Get()
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			if vid == 0 {
				vid = n
			}
			if parent == "" {
				parent = name[:i]
			}
		}
	}
	if vid <= 0 || vid >= 4095 {
		vid = 0
	}
	return vid, parent
}

// scalar helpers for decoded NetBox JSON (map reads). PVE data is typed
// (proxboxd/pve) and never read through these.

func asStr(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case bool:
		if t {
			return "1"
		}
		return "0"
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(v)
}

func asFloat(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f
	case bool:
		if t {
			return 1
		}
	}
	return 0
}

func asInt(v any) int {
	f := asFloat(v)
	if math.IsNaN(f) || f > math.MaxInt32*1e6 || f < -math.MaxInt32*1e6 {
		return 0
	}
	return int(f)
}
