package main

import (
	"strings"
	"unicode"
)

// splitAppPath splits /api/<app>/<rest> into the app key and rest. Plugin
// paths /api/plugins/<plugin>/<rest> get the key "plugins/<plugin>".
func splitAppPath(p string) (app, rest string) {
	s, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return "", ""
	}
	app, rest, _ = strings.Cut(s, "/")
	if app == "plugins" {
		var plugin string
		plugin, rest, _ = strings.Cut(rest, "/")
		if plugin == "" {
			return "", ""
		}
		app = "plugins/" + plugin
	}
	return app, rest
}

// pkgName is the Go package name of an app key.
func pkgName(app string) string {
	if i := strings.LastIndex(app, "/"); i >= 0 {
		app = app[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(app) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = "p" + s
	}
	return s
}

// initialisms maps lower-case words of NetBox paths and names to their Go spelling.
var initialisms = map[string]string{
	"api": "API", "asn": "ASN", "asns": "ASNs", "dcim": "DCIM", "fhrp": "FHRP", "id": "ID", "ids": "IDs",
	"ike": "IKE", "ip": "IP", "ips": "IPs", "ipam": "IPAM", "ipsec": "IPSec", "l2vpn": "L2VPN",
	"l2vpns": "L2VPNs", "lan": "LAN", "lans": "LANs", "mac": "MAC", "poe": "PoE", "rir": "RIR",
	"rirs": "RIRs", "rf": "RF", "url": "URL", "uuid": "UUID", "vlan": "VLAN", "vlans": "VLANs",
	"vm": "VM", "vms": "VMs", "vpn": "VPN", "vrf": "VRF", "vrfs": "VRFs", "vc": "VC", "vcs": "VCs",
	"qinq": "QinQ", "svlan": "SVLAN", "cvlan": "CVLAN", "json": "JSON", "html": "HTML", "ssh": "SSH",
	"rq": "RQ", "uri": "URI", "dns": "DNS", "mtu": "MTU", "wwn": "WWN", "pdu": "PDU", "ups": "UPS",
}

// goName converts a kebab/snake-case NetBox word list to a Go identifier with initialisms:
// "ip-addresses" -> "IPAddresses", "virtual-machines" -> "VirtualMachines".
func goName(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if v, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(v)
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	out := b.String()
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = "X" + out
	}
	return out
}

// goCamel upper-cases the first letter of each snake_case word (no initialisms);
// used for stable enum component names: "mode" -> "Mode", "rf_role" -> "RfRole".
func goCamel(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
