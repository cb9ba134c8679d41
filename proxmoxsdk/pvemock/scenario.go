package pvemock

import "time"

// User is a PVE user of the mock that can log in with a password (and TOTP
// when TOTPSecret is set).
type User struct {
	Name       string // user@realm
	Password   string
	TOTPSecret string // base32; empty: no second factor
}

// Scenario describes the generated cluster. Everything is derived from Seed.
type Scenario struct {
	// Name is the cluster name.
	Name string
	// Nodes, QEMU and LXC counts. Nodes are named pve1…pveN; QEMU VMIDs
	// start at 100, LXC VMIDs follow.
	Nodes, QEMU, LXC int
	// NICs and Disks per guest (default 2 each).
	NICs, Disks int
	// Backups per guest on nfs-backup (plus one on pbs-backup), Snapshots
	// per guest, Tasks per guest (defaults 2, 1, 3).
	Backups, Snapshots, Tasks int
	Seed                      int64
	// Version is what /version reports (default 8.1.4).
	Version string
	// TicketLifetime (default 2 h, as PVE).
	TicketLifetime time.Duration
	// Users allowed to log in (default: root@pam and tfa@pve with TOTP).
	Users []User
	// Clock drives ticket expiry and TOTP (default time.Now).
	Clock func() time.Time
	// Epoch is the fixed "now" used for generated timestamps (ctime,
	// starttime) so output is deterministic (default 2026-11-20 12:00 UTC).
	Epoch time.Time
	// Cluster, when set, is the user's own cluster (LoadClusterFile): its
	// nodes, guests, storages and backups replace the generated ones, and
	// Nodes, QEMU and LXC are taken from it.
	Cluster *ClusterFile
}

// Default user credentials of the mock.
const (
	DefaultPassword   = "proxbox-mock"
	DefaultTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DP"
)

// S100 is the small scenario: 3 nodes, 80 QEMU, 20 LXC.
func S100() Scenario {
	return Scenario{Name: "lab", Nodes: 3, QEMU: 80, LXC: 20, NICs: 2, Disks: 2, Seed: 100}
}

// S1000 is the medium scenario: 4 nodes, 1,000 QEMU, 200 LXC.
func S1000() Scenario {
	return Scenario{Name: "prod", Nodes: 4, QEMU: 1000, LXC: 200, NICs: 2, Disks: 2, Seed: 1000}
}

// S5000 is the large scenario: 10 nodes, 4,000 QEMU, 1,000 LXC.
func S5000() Scenario {
	return Scenario{Name: "dc1", Nodes: 10, QEMU: 4000, LXC: 1000, NICs: 2, Disks: 2, Seed: 5000}
}

// ByName returns S100, S1000 or S5000.
func ByName(name string) (Scenario, bool) {
	switch name {
	case "s100", "S100":
		return S100(), true
	case "s1000", "S1000":
		return S1000(), true
	case "s5000", "S5000":
		return S5000(), true
	}
	return Scenario{}, false
}

func (sc *Scenario) defaults() {
	if sc.Name == "" {
		sc.Name = "lab"
	}
	if sc.Nodes <= 0 {
		sc.Nodes = 1
	}
	if sc.NICs <= 0 {
		sc.NICs = 2
	}
	if sc.Disks <= 0 {
		sc.Disks = 2
	}
	if sc.Backups == 0 {
		sc.Backups = 2
	}
	if sc.Snapshots == 0 {
		sc.Snapshots = 1
	}
	if sc.Tasks == 0 {
		sc.Tasks = 3
	}
	if sc.Version == "" {
		sc.Version = "8.1.4"
	}
	if sc.TicketLifetime <= 0 {
		sc.TicketLifetime = 2 * time.Hour
	}
	if sc.Users == nil {
		sc.Users = []User{
			{Name: "root@pam", Password: DefaultPassword},
			{Name: "tfa@pve", Password: DefaultPassword, TOTPSecret: DefaultTOTPSecret},
		}
	}
	if sc.Clock == nil {
		sc.Clock = time.Now
	}
	if sc.Epoch.IsZero() {
		sc.Epoch = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	}
}
