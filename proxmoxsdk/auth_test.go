package proxmoxsdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func ticketMock(clock *fakeClock) *pvemock.Mock {
	sc := pvemock.S100()
	sc.Clock = clock.Now
	return pvemock.New(sc)
}

// TestTicketTOTPOverHTTPS logs in with password + TOTP, renews the ticket
// before its 2 h expiry, and recovers from a ticket that expired mid-run
// (401 → one re-login with a fresh TOTP code).
func TestTicketTOTPOverHTTPS(t *testing.T) {
	clock := newFakeClock()
	m := ticketMock(clock)
	url, fp, _ := tlsServer(t, m)
	ctx := ctxT(t)
	logins := func() int64 { return m.RequestCount("POST", "/access/ticket") }

	px := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)),
		proxmoxsdk.WithTicket("tfa", pvemock.DefaultPassword, "pve"), proxmoxsdk.WithTOTP(pvemock.DefaultTOTPSecret),
		proxmoxsdk.WithClock(clock.Now))
	if _, err := px.CallRaw(ctx, "GET", "/version", nil); err != nil {
		t.Fatal(err)
	}
	if got := logins(); got != 2 { // password step + TOTP step
		t.Fatalf("login requests = %d, want 2", got)
	}
	// A write needs the CSRF token.
	if err := px.Call(ctx, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": 6144}, nil); err != nil {
		t.Fatalf("write with ticket: %v", err)
	}
	// 70 minutes later the ticket is renewed proactively (no TOTP).
	clock.Advance(70 * time.Minute)
	if _, err := px.CallRaw(ctx, "GET", "/nodes", nil); err != nil {
		t.Fatal(err)
	}
	if got := logins(); got != 3 {
		t.Fatalf("after renewal: login requests = %d, want 3", got)
	}
	// A client that does not renew sees its ticket expire mid-run.
	px2 := newClient(t, proxmoxsdk.WithHTTPS(url, proxmoxsdk.WithFingerprint(fp)),
		proxmoxsdk.WithTicket("tfa@pve", pvemock.DefaultPassword), proxmoxsdk.WithTOTP(pvemock.DefaultTOTPSecret),
		proxmoxsdk.WithClock(clock.Now), proxmoxsdk.WithTicketRenewal(24*time.Hour))
	if _, err := px2.CallRaw(ctx, "GET", "/version", nil); err != nil {
		t.Fatal(err)
	}
	before := logins()
	clock.Advance(2*time.Hour + time.Minute)
	var cfg map[string]any
	if err := px2.Call(ctx, "GET", "/nodes/pve1/qemu/100/config", nil, &cfg); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if cfg["memory"] != "6144" {
		t.Fatalf("memory = %v, want 6144", cfg["memory"])
	}
	if got := logins() - before; got != 2 {
		t.Fatalf("re-login requests = %d, want 2 (password + TOTP)", got)
	}
}

func TestTicketErrors(t *testing.T) {
	clock := newFakeClock()
	m := ticketMock(clock)
	ctx := ctxT(t)
	cases := []struct {
		name string
		opts []proxmoxsdk.Option
		want error
	}{
		{"wrong password", []proxmoxsdk.Option{proxmoxsdk.WithTicket("root@pam", "nope")}, proxmoxsdk.ErrAuth},
		{"tfa without totp", []proxmoxsdk.Option{proxmoxsdk.WithTicket("tfa@pve", pvemock.DefaultPassword)}, proxmoxsdk.ErrTFARequired},
		{"wrong totp", []proxmoxsdk.Option{proxmoxsdk.WithTicket("tfa@pve", pvemock.DefaultPassword),
			proxmoxsdk.WithTOTPFunc(func(context.Context) (string, error) { return "000000", nil })}, proxmoxsdk.ErrAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]proxmoxsdk.Option{proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithClock(clock.Now)}, tc.opts...)
			_, err := newClient(t, opts...).CallRaw(ctx, "GET", "/version", nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Without TFA the root user logs in with one request.
	px := newClient(t, proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithTicket("root", pvemock.DefaultPassword), proxmoxsdk.WithClock(clock.Now))
	if _, err := px.CallRaw(ctx, "GET", "/cluster/status", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := proxmoxsdk.New(proxmoxsdk.WithTransport(m.Transport()), proxmoxsdk.WithTOTP("not base32!")); err == nil {
		t.Fatal("bad TOTP secret accepted")
	}
}

func TestTOTPCode(t *testing.T) {
	// RFC 6238 appendix B (SHA-1), truncated to 6 digits.
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {20000000000, "353130"}} {
		got, err := proxmoxsdk.TOTPCode(secret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("TOTP(%d) = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}
