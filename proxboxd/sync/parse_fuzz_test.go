package sync

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/proxboxd/pve"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

func FuzzParseDisk(f *testing.F) {
	f.Add("scsi0", "local-lvm:vm-100-disk-0,size=32G,format=raw")
	f.Add("rootfs", "local-zfs:subvol-101-disk-0,size=8G")
	f.Add("ide2", "local:iso/debian.iso,media=cdrom")
	f.Add("scsi1", "local-lvm:vm-100-disk-1,size=0")
	f.Add("scsi2", "local-lvm:vm-100-disk-2")
	f.Fuzz(func(t *testing.T, key, value string) {
		d, ok := parseDisk(key, value)
		// a disk is a size in MiB (0 when PVE says 0) or says it has none
		if ok && (d.SizeMiB < 0 || (d.NoSize && d.SizeMiB != 0) || d.Name != key) {
			t.Fatalf("parseDisk(%q, %q) = %+v", key, value, d)
		}
	})
}

func FuzzParseNIC(f *testing.F) {
	f.Add("net0", "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,tag=20,firewall=1")
	f.Add("net1", "name=eth0,bridge=vmbr0,hwaddr=bc:24:11:00:00:01,ip=10.0.0.5/24,ip6=auto,type=veth")
	f.Add("net2", "e1000=52:54:00:12:34:56,bridge=vmbr1,link_down=1")
	f.Fuzz(func(t *testing.T, key, value string) {
		n, ok := parseNIC(key, value)
		if !ok {
			return
		}
		if n.MAC != "" && (!looksLikeMAC(n.MAC) || n.MAC != strings.ToLower(n.MAC)) {
			t.Fatalf("bad MAC %q", n.MAC)
		}
		if n.VLAN < 0 || n.VLAN > 4094 {
			t.Fatalf("bad VLAN %d", n.VLAN)
		}
		for _, ip := range n.IPs {
			if _, err := netip.ParsePrefix(ip); err != nil {
				t.Fatalf("bad IP %q", ip)
			}
		}
	})
}

func FuzzParseAgent(f *testing.F) {
	f.Add([]byte(`{"result":[{"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","prefix":8}]},{"name":"eth0","hardware-address":"bc:24:11:aa:bb:cc","ip-addresses":[{"ip-address":"10.0.0.5","ip-address-type":"ipv4","prefix":24},{"ip-address":"fe80::1","ip-address-type":"ipv6","prefix":64}]}]}`), true)
	f.Add([]byte(`[{"name":"ens18","ip-addresses":[{"ip-address":"2001:db8::5","prefix":"64"}]}]`), false)
	f.Add([]byte(`null`), true)
	f.Fuzz(func(t *testing.T, raw []byte, drop bool) {
		ifs, err := parseAgentInterfaces(raw, drop)
		if err != nil {
			return
		}
		for _, i := range ifs {
			for _, p := range i.IPs {
				if !p.IsValid() || p.Addr().IsLoopback() || (drop && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast()) {
					t.Fatalf("bad address %v", p)
				}
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"32G", "512M", "1T", "100K", "4096B", "10", "0.5G", "-1G", "1e400G", "NaNG"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := parseSize(s)
		if ok && (b <= 0 || bytesToMiB(b) <= 0) {
			t.Fatalf("parseSize(%q) = %v", s, b)
		}
	})
}

func TestParsers(t *testing.T) {
	d, ok := parseDisk("scsi0", "local-lvm:vm-100-disk-0,size=512K")
	if !ok || d.SizeMiB != 1 || d.Storage != "local-lvm" {
		t.Errorf("512K disk: %+v %v", d, ok)
	}
	if d, _ := parseDisk("virtio1", "ceph:vm-1-disk-1,size=2T"); d.SizeMiB != 2<<20 {
		t.Errorf("2T = %d MiB", d.SizeMiB)
	}
	if _, ok := parseDisk("ide2", "local:iso/x.iso,media=cdrom,size=300M"); ok {
		t.Error("cdrom counted as disk")
	}
	if _, ok := parseDisk("unused0", "local:vm-1-disk-9,size=1G"); ok {
		t.Error("unused counted")
	}
	n, _ := parseNIC("net3", "vmxnet3=52:54:00:AB:CD:EF,bridge=vmbr0,tag=30")
	if n.MAC != "52:54:00:ab:cd:ef" || n.Model != "vmxnet3" || n.VLAN != 30 || n.Bridge != "vmbr0" {
		t.Errorf("vmxnet3 NIC: %+v", n)
	}
	cfg := &pve.Config{Qemu: &pve.QemuConfig{AdditionalProperties: map[string]pvetypes.String{
		"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "net2": "virtio=BC:24:11:00:00:02,bridge=vmbr0", "net10": "virtio=BC:24:11:00:00:03"}}}
	if got := parseNICs(cfg); len(got) != 3 || got[1].Key != "net2" || got[2].Key != "net10" {
		t.Errorf("parseNICs order: %+v", got)
	}
	if vmStatus("suspended") != "active" || vmStatus("stopped") != "offline" {
		t.Error("vmStatus")
	}
	if slugify("Lab Cluster #1") != "lab-cluster-1" || slugify("***") != "cluster" {
		t.Error("slugify")
	}
	ips := orderIPs([]netip.Prefix{netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("10.0.0.1/24")}, "ipv4")
	if !ips[0].Addr().Is4() {
		t.Error("orderIPs")
	}
	if backupFormat("vma.zst", "") != "zst" || backupSubtype("", "local:backup/vzdump-lxc-101-2026.tar.zst") != "lxc" {
		t.Error("backup parsing")
	}
	if v, p := vlanOfNodeIface("bond0.100", pve.NetworkItem{}); v != 100 || p != "bond0" {
		t.Errorf("vlan iface: %d %s", v, p)
	}
}
