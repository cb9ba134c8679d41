package harness

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func getJSON(t *testing.T, p *PVE, path string) (int, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed loopback mock
	req, _ := http.NewRequest(http.MethodGet, p.Proxy.URL+path, nil)
	user, name, secret := p.Token()
	req.Header.Set("Authorization", "PVEAPIToken="+user+"!"+name+"="+secret)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestPVEInProcess(t *testing.T) {
	sc := pvemock.S100()
	sc.QEMU, sc.LXC = 4, 2
	p, err := StartPVE(sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	st, v := getJSON(t, p, "/api2/json/cluster/resources?type=vm")
	if st != 200 {
		t.Fatalf("status %d %v", st, v)
	}
	if n := len(v["data"].([]any)); n != 6 {
		t.Fatalf("%d guests", n)
	}
	if err := p.SetNodeDown("pve2", true); err != nil {
		t.Fatal(err)
	}
	if st, _ := getJSON(t, p, "/api2/json/nodes/pve2/qemu"); st < 500 {
		t.Fatalf("node down answered %d", st)
	}
	if c := p.Proxy.Counters(); c.Requests != 2 || c.ByMethod["GET"] != 2 {
		t.Fatalf("proxy counters %+v", c)
	}
}

// TestPVEProcess builds ./proxmoxsdk/cmd/pvemock (PVEMOCK_BIN names a prebuilt
// one), starts it as the harness does, and lists the guests of S100 through it.
func TestPVEProcess(t *testing.T) {
	ctx := context.Background()
	bin := os.Getenv("PVEMOCK_BIN")
	if bin == "" {
		if testing.Short() {
			t.Skip("-short: builds pvemock")
		}
		root, err := RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		var bins Binaries
		if bin, err = bins.GetPVEMock(ctx, root, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	p, err := StartPVEProcess(ctx, bin, "s100", t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sc := pvemock.S100()
	st, v := getJSON(t, p, "/api2/json/cluster/resources?type=vm")
	data, _ := v["data"].([]any)
	if st != 200 || len(data) != sc.QEMU+sc.LXC {
		t.Fatalf("status %d, %d guests, want %d", st, len(data), sc.QEMU+sc.LXC)
	}
}
