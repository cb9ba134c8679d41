package connector

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

func TestPolicy(t *testing.T) {
	p := DefaultPolicy()
	for _, a := range []string{"169.254.169.254", "fe80::1", "0.0.0.0", "::ffff:169.254.169.254", "fd00:ec2::254", "255.255.255.255"} {
		if err := p.CheckAddr(netip.MustParseAddr(a)); !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("%s allowed", a)
		}
	}
	for _, a := range []string{"10.0.0.1", "127.0.0.1", "8.8.8.8", "2001:db8::1"} {
		if err := p.CheckAddr(netip.MustParseAddr(a)); err != nil {
			t.Fatalf("%s refused: %v", a, err)
		}
	}
	p.AllowPrivate = false
	if p.CheckAddr(netip.MustParseAddr("10.0.0.1")) == nil {
		t.Fatal("private allowed")
	}
	p.Allowed = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	if p.CheckAddr(netip.MustParseAddr("10.1.2.3")) != nil {
		t.Fatal("allow list ignored")
	}
	p.Blocked = []netip.Prefix{netip.MustParsePrefix("8.8.8.0/24")}
	if p.CheckAddr(netip.MustParseAddr("8.8.8.8")) == nil {
		t.Fatal("block list ignored")
	}
	if err := p.Control("tcp", "169.254.169.254:80", nil); err == nil {
		t.Fatal("dial guard allowed metadata")
	}
	if DefaultPolicy().CheckHost(context.Background(), "169.254.169.254/32") == nil {
		t.Fatal("prefix form allowed")
	}
}

func TestURLsAndNames(t *testing.T) {
	nb := proxbox.NetBoxEndpoint{IPAddress: "10.0.0.1/24", Port: 8000}
	if u := NetBoxURL(nb); u != "http://10.0.0.1:8000" {
		t.Fatal(u)
	}
	nb.Domain, nb.Port = "nb.example.com", 443
	if u := NetBoxURL(nb); u != "https://nb.example.com:443" {
		t.Fatal(u)
	}
	if tok := NetBoxToken(proxbox.NetBoxEndpoint{TokenVersion: "v2", TokenKey: "abc", Token: "s"}); tok != "nbt_abc.s" {
		t.Fatal(tok)
	}
	if u := ProxmoxURL(proxbox.ProxmoxEndpoint{IPAddress: "fd00::5", Port: 8006}); u != "https://[fd00::5]:8006" {
		t.Fatal(u)
	}
	if pk, ok := PluginPK("lab cluster (nb:12)"); !ok || pk != 12 {
		t.Fatal(pk, ok)
	}
	if _, ok := PluginPK("lab"); ok {
		t.Fatal("no pk")
	}
}

type memStore struct {
	px  []proxbox.ProxmoxEndpoint
	gen int64
}

func (m *memStore) ListNetBoxEndpoints(context.Context) ([]proxbox.NetBoxEndpoint, error) {
	return nil, nil
}
func (m *memStore) ListProxmoxEndpoints(context.Context) ([]proxbox.ProxmoxEndpoint, error) {
	return m.px, nil
}
func (m *memStore) Generation() int64 { return m.gen }

func TestProxmoxFilterAndCache(t *testing.T) {
	st := &memStore{px: []proxbox.ProxmoxEndpoint{
		{ID: 1, Name: "a (nb:1)", IPAddress: "10.0.0.1", Port: 8006, TokenName: "root@pam!t", TokenValue: "x"},
		{ID: 2, Name: "b (nb:2)", IPAddress: "10.0.0.2", Port: 8006, Username: "root@pam", Password: "y"},
	}}
	c := New(st, Options{})
	ctx := context.Background()
	all, err := c.Proxmox(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Fatal(err, len(all))
	}
	one, _ := c.Proxmox(ctx, []int{2})
	if len(one) != 1 || one[0].Endpoint.ID != 2 || one[0].Client != all[1].Client {
		t.Fatal("filter or cache broken")
	}
	st.gen++
	again, _ := c.Proxmox(ctx, []int{2})
	if again[0].Client == one[0].Client {
		t.Fatal("cache not invalidated on generation change")
	}
	if _, err := c.Proxmox(ctx, []int{9}); !errors.Is(err, ErrNoProxmox) {
		t.Fatal(err)
	}
	if _, err := c.NetBox(ctx); !errors.Is(err, ErrNoNetBox) {
		t.Fatal(err)
	}
}

// The plugin (0.0.24+) sends this backend's endpoint ids; older releases sent
// their own ProxmoxEndpoint PKs, read from the "(nb:<pk>)" names.
func TestProxmoxIDsBackendThenPluginPK(t *testing.T) {
	st := &memStore{px: []proxbox.ProxmoxEndpoint{
		{ID: 1, Name: "a (nb:2)", IPAddress: "10.0.0.1", Port: 8006, TokenName: "root@pam!t", TokenValue: "x"},
		{ID: 2, Name: "b (nb:3)", IPAddress: "10.0.0.2", Port: 8006, TokenName: "root@pam!t", TokenValue: "x"},
	}}
	c := New(st, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		ids  []int
		want int64
	}{{[]int{1}, 1}, {[]int{2}, 2}, {[]int{3}, 2}} {
		got, err := c.Proxmox(ctx, tc.ids)
		if err != nil || len(got) != 1 || int64(got[0].Endpoint.ID) != tc.want {
			t.Fatalf("ids %v: got %v %v, want endpoint %d", tc.ids, got, err, tc.want)
		}
	}
}
