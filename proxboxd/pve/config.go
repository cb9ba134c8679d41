package pve

import (
	"sort"
	"strconv"
	"strings"
)

// Config is a guest config: exactly one of Qemu and LXC is set.
type Config struct {
	Qemu *QemuConfig
	LXC  *LXCConfig
}

// Onboot is the "onboot" option.
func (c *Config) Onboot() bool {
	switch {
	case c == nil:
		return false
	case c.Qemu != nil:
		return c.Qemu.Onboot.Get()
	case c.LXC != nil:
		return c.LXC.Onboot.Get()
	}
	return false
}

// Unprivileged is the LXC "unprivileged" option (false for QEMU).
func (c *Config) Unprivileged() bool {
	return c != nil && c.LXC != nil && c.LXC.Unprivileged.Get()
}

// AgentEnabled reads the QEMU "agent" option, a property string whose
// enabled flag is its first bare value or its "enabled" key ("1",
// "enabled=1,fstrim_cloned_disks=1"); false for LXC.
func (c *Config) AgentEnabled() bool {
	if c == nil || c.Qemu == nil {
		return false
	}
	bare, kv := SplitProps(c.Qemu.Agent.Get())
	if e, ok := kv["enabled"]; ok && bare == "" {
		bare = e
	}
	return propBool(bare)
}

// Searchdomain is the "searchdomain" option.
func (c *Config) Searchdomain() string {
	switch {
	case c == nil:
		return ""
	case c.Qemu != nil:
		return c.Qemu.Searchdomain.Get()
	case c.LXC != nil:
		return c.LXC.Searchdomain.Get()
	}
	return ""
}

// Value returns an indexed key of the config (net0, ipconfig1, scsi0, mp0,
// unused0, …; the models keep them in AdditionalProperties) or the LXC
// rootfs.
func (c *Config) Value(key string) (string, bool) {
	switch {
	case c == nil:
		return "", false
	case c.Qemu != nil:
		v, ok := c.Qemu.Get(key)
		return v.String(), ok
	case c.LXC != nil:
		if key == "rootfs" {
			return c.LXC.Rootfs.Get(), c.LXC.Rootfs.Set
		}
		v, ok := c.LXC.Get(key)
		return v.String(), ok
	}
	return "", false
}

// Props returns every indexed key of the config with its value, and the
// LXC rootfs.
func (c *Config) Props() map[string]string {
	out := map[string]string{}
	switch {
	case c == nil:
	case c.Qemu != nil:
		for k, v := range c.Qemu.AdditionalProperties {
			out[k] = v.String()
		}
	case c.LXC != nil:
		for k, v := range c.LXC.AdditionalProperties {
			out[k] = v.String()
		}
		if c.LXC.Rootfs.Set {
			out["rootfs"] = c.LXC.Rootfs.Get()
		}
	}
	return out
}

// Indexed is one key of an indexed family (net0, net2, …).
type Indexed struct {
	Key   string
	Index int
	Value string
}

// Family returns the keys <prefix><n> of the config in index order
// (Family("net"): net0, net2, net10).
func (c *Config) Family(prefix string) []Indexed {
	var out []Indexed
	for k, v := range c.Props() {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		out = append(out, Indexed{Key: k, Index: n, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// SplitProps splits a PVE property string "a=b,c=d" (or "bare,a=b") into its
// first bare value (a value without "=", e.g. the volume of a disk) and its
// keyed values. Keys are lowercased; later duplicates win. It never panics.
func SplitProps(s string) (bare string, kv map[string]string) {
	kv = map[string]string{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if i == 0 {
				bare = part
			}
			continue
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return bare, kv
}

// propBool is PVE's boolean in a property string.
func propBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
