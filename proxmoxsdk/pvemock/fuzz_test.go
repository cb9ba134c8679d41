package pvemock_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// FuzzServe: no method, path or parameters make the mock panic, and every
// answer is a JSON envelope.
func FuzzServe(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "/nodes/pve1/qemu/100/config", ""},
		{"PUT", "/nodes/pve1/qemu/100/config", "memory=abc&cores=-1"},
		{"GET", "/nodes/pve1/tasks", "limit=-5&start=99999&vmid=x"},
		{"GET", "/nodes/pve1/storage/nfs-backup/content", "content=backup&vmid=100"},
		{"POST", "/access/ticket", "username=tfa@pve&password=totp:1&tfa-challenge=PVE:!tfa!x:y:z::w"},
		{"DELETE", "/nodes/pve1/qemu/100/snapshot/%2F..", ""},
		{"GET", "/nodes/pve1/tasks/UPID:pve1:x/status", ""},
		{"POST", "/nodes/pve1/qemu/100/migrate", "target=pve1"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	m := pvemock.New(pvemock.Scenario{Nodes: 2, QEMU: 3, LXC: 1, Seed: 1})
	tr := m.Transport()
	f.Fuzz(func(t *testing.T, method, path, query string) {
		q, _ := url.ParseQuery(query)
		resp, err := tr.RoundTrip(context.Background(), &proxmoxsdk.Request{Method: method, Path: path, Params: q})
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(resp.Body) {
			t.Fatalf("%s %s: body %q", method, path, resp.Body)
		}
	})
}
