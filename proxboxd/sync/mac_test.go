package sync

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/netboxtest"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func TestNoMACEndpointSkipsMACs(t *testing.T) {
	// NetBox < 4.2: /api/dcim/mac-addresses/ answers 404; interfaces are still written
	nb := netboxtest.New()
	macReqs := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, kMAC.Path) {
			macReqs++
			http.Error(w, `{"detail":"Not found."}`, http.StatusNotFound)
			return
		}
		nb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cl, err := netboxsdk.New(srv.URL, netboxsdk.WithToken(nb.Token()))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, nb: nb, conn: &testConn{nb: cl, mocks: []*pvemock.Mock{pvemock.New(small("lab"))}}}
	e.eng = New(e.conn)
	// no plugin ProxmoxEndpoint row in this bare NetBox: those two stages report it
	e.allow = func(f proxbox.ItemFailure) bool { return strings.HasPrefix(f.ObjectType, "netbox_proxbox.") }
	e.full(proxbox.DefaultStageParams())
	first := macReqs
	if first == 0 || first > 2 {
		t.Errorf("%d MAC requests on the first sync, want the one probe (+ retry)", first)
	}
	if n := len(e.list(kVMIface.Path, nil)); n == 0 {
		t.Error("no VM interfaces")
	}
	nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("re-sync wrote %v", w)
	}
}

func TestMACChangeConverges(t *testing.T) {
	e := newEnv(t, nil, small("lab"))
	e.full(proxbox.DefaultStageParams())
	macs := e.list(kMAC.Path, nil)
	if len(macs) == 0 {
		t.Fatal("no MAC objects")
	}
	// a MAC object nobody wants any more (managed, on a managed interface) is
	// removed once the primary moved away from it
	ifs := e.list(kVMIface.Path, nil)
	extra, err := e.conn.nb.Objects(kMAC.Path).Create(t.Context(), netboxsdk.Object{"mac_address": "02:00:00:00:00:01",
		"assigned_object_type": kVMIface.Type, "assigned_object_id": idOf(ifs[0]), "tags": []any{map[string]any{"slug": tagProxbox}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.nb.Objects(kVMIface.Path).Patch(t.Context(), idOf(ifs[0]), netboxsdk.Object{"primary_mac_address": idOf(extra)}); err != nil {
		t.Fatal(err)
	}
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	got := e.writes()
	want := []string{"PATCH " + kVMIface.Path, "DELETE " + kMAC.Path}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("writes %v, want %v", got, want)
	}
	if n := len(e.list(kMAC.Path, nil)); n != len(macs) {
		t.Errorf("%d MACs, want %d", n, len(macs))
	}
	e.nb.Reset()
	e.full(proxbox.DefaultStageParams())
	if w := e.writes(); len(w) != 0 {
		t.Errorf("third sync wrote %v", w)
	}
}

func TestMinRequests(t *testing.T) {
	res := &proxbox.StageResult{Counts: map[string]*proxbox.Counts{
		"a":                {Created: 120},                // 1 read + 3 writes
		"b":                {Unchanged: 2500, Updated: 1}, // 3 pages + 1 write
		"proxmox.endpoint": {Failed: 1},                   // not NetBox
	}}
	if got := MinRequests(res, 50); got != 8 {
		t.Errorf("MinRequests = %d, want 8", got)
	}
	if got := minRequests([]*proxbox.StageResult{res, res}, 0); got != 12 {
		t.Errorf("over two stages = %d, want 12 (reads once, writes twice)", got)
	}
}
