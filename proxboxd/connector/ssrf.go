package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned when an endpoint resolves to an address the
// SSRF policy refuses.
var ErrForbiddenAddress = errors.New("address refused by the SSRF policy")

// Policy decides which addresses proxboxd may connect to (plugin settings
// ssrf_protection_enabled, allow_private_ips, additional_allowed_ip_ranges,
// explicitly_blocked_ip_ranges, plus the service flag AllowLinkLocal).
//
// Order: blocked ranges refuse; allowed ranges permit; link-local (IPv4
// 169.254/16 including the cloud metadata address 169.254.169.254, IPv6
// fe80::/10, fd00:ec2::254), unspecified, multicast and broadcast addresses
// refuse unless AllowLinkLocal; private and loopback addresses are permitted
// when AllowPrivate; everything else (public) is permitted. With Enabled
// false only the link-local rule remains, because the metadata service is
// never a legitimate NetBox or Proxmox.
type Policy struct {
	Enabled        bool
	AllowPrivate   bool
	AllowLinkLocal bool
	Allowed        []netip.Prefix
	Blocked        []netip.Prefix
}

// DefaultPolicy matches the plugin defaults.
func DefaultPolicy() Policy { return Policy{Enabled: true, AllowPrivate: true} }

var metadataV6 = netip.MustParseAddr("fd00:ec2::254")

// CheckAddr applies the policy to one address.
func (p Policy) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	if !a.IsValid() {
		return fmt.Errorf("invalid address: %w", ErrForbiddenAddress)
	}
	if p.Enabled {
		for _, b := range p.Blocked {
			if b.Contains(a) {
				return fmt.Errorf("%s is in a blocked range: %w", a, ErrForbiddenAddress)
			}
		}
		for _, al := range p.Allowed {
			if al.Contains(a) {
				return nil
			}
		}
	}
	special := a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsMulticast() ||
		a == metadataV6 || (a.Is4() && a.As4() == [4]byte{255, 255, 255, 255})
	if special && !p.AllowLinkLocal {
		return fmt.Errorf("%s is link-local, metadata or unspecified: %w", a, ErrForbiddenAddress)
	}
	if !p.Enabled {
		return nil
	}
	if (a.IsPrivate() || a.IsLoopback()) && !p.AllowPrivate {
		return fmt.Errorf("%s is private: %w", a, ErrForbiddenAddress)
	}
	return nil
}

// CheckHost checks an IP literal directly, or resolves a name and checks every
// address. A name that does not resolve passes: the dialer checks again at
// connect time (which also defeats DNS rebinding).
func (p Policy) CheckHost(ctx context.Context, host string) error {
	host = strings.TrimSpace(strings.Trim(host, "[]"))
	if host == "" {
		return nil
	}
	if i := strings.IndexByte(host, '/'); i >= 0 { // "10.0.0.1/24"
		host = host[:i]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(a)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
	}
	return nil
}

// Control is a net.Dialer Control hook enforcing the policy on the address
// actually dialled.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
	}
	return p.CheckAddr(a)
}
