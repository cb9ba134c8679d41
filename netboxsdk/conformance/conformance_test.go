package conformance_test

import (
	"os"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/conformance"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
)

func TestNetboxtest(t *testing.T) {
	srv := netboxtest.NewServer()
	defer srv.Close()
	conformance.Run(t, func(t testing.TB, opts ...netboxsdk.Option) *netboxsdk.Client {
		c, err := srv.Client(opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestRealNetBox(t *testing.T) {
	url, token := os.Getenv("NETBOX_URL"), os.Getenv("NETBOX_TOKEN")
	if url == "" || token == "" {
		t.Skip("no NetBox: run `make netbox-up` and source .netbox/env (or use make e2e)")
	}
	conformance.Run(t, func(t testing.TB, opts ...netboxsdk.Option) *netboxsdk.Client {
		c, err := netboxsdk.New(url, append([]netboxsdk.Option{netboxsdk.WithToken(token)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
