package pvemock

import "fmt"

// Mutations that make the cluster as untidy as real ones are: guests without
// NICs, disks whose config gives no size, backups left behind by a deleted
// guest, QEMU guests created with a reused VMID, link-local addresses.
// Renames to duplicate or swapped names use RenameGuest.

// CreateQEMU adds a running QEMU guest on node (the generator's defaults for
// disks, NICs, addresses and snapshots).
func (m *Mock) CreateQEMU(vmid int, name, node string) error {
	return m.createGuest(vmid, "qemu", name, node, 130363, "qmcreate")
}

// RemoveNICs removes every network interface of a guest.
func (m *Mock) RemoveNICs(vmid int) error {
	return m.mutate(vmid, func(g *guest) error { g.nics = nil; return nil })
}

// SetDiskSize sets the size in GiB of a guest's disk (config key: scsi0,
// rootfs, mp0…); a negative size leaves size= out of the config.
func (m *Mock) SetDiskSize(vmid int, key string, sizeGiB int) error {
	return m.mutate(vmid, func(g *guest) error {
		for i := range g.disks {
			if g.disks[i].key == key {
				g.disks[i].sizeGiB = sizeGiB
				return nil
			}
		}
		return fmt.Errorf("pvemock: guest %d has no disk %s", vmid, key)
	})
}

// SetAddress sets the IPv4 address (with prefix, e.g. 169.254.10.5/16) of a
// guest's NIC by index, as its config and guest agent report it.
func (m *Mock) SetAddress(vmid, nicIndex int, ipv4 string) error {
	return m.mutate(vmid, func(g *guest) error {
		for i := range g.nics {
			if g.nics[i].index == nicIndex {
				g.nics[i].ipv4 = ipv4
				return nil
			}
		}
		return fmt.Errorf("pvemock: guest %d has no NIC %d", vmid, nicIndex)
	})
}

// DestroyGuestKeepBackups removes a guest as PVE's destroy does: its backups
// stay on their storages (listed with the VMID no guest has any more).
func (m *Mock) DestroyGuestKeepBackups(vmid int) error {
	return m.mutate(vmid, func(g *guest) error { delete(m.guests, g.vmid); return nil })
}

// Snapshots returns the snapshot names of a guest.
func (m *Mock) Snapshots(vmid int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.guests[vmid]
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.snapshots))
	for _, s := range g.snapshots {
		out = append(out, s.name)
	}
	return out
}

// SetSnapshots replaces a guest's snapshots by ones with these names (a
// chain, oldest first).
func (m *Mock) SetSnapshots(vmid int, names ...string) error {
	return m.mutate(vmid, func(g *guest) error {
		g.snapshots = nil
		for i, n := range names {
			s := snapshot{name: n, snaptime: m.sc.Epoch.Unix() - int64(3600*(len(names)-i))}
			if i > 0 {
				s.parent = names[i-1]
			}
			g.snapshots = append(g.snapshots, s)
		}
		return nil
	})
}

// GuestName returns a guest's name.
func (m *Mock) GuestName(vmid int) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g := m.guests[vmid]; g != nil {
		return g.name, true
	}
	return "", false
}
