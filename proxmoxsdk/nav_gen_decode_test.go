package proxmoxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// TestNavListTolerant: PVE's drifting spellings decode into the value
// fields, absent and null fields stay unset, and a bad item is reported
// without failing the list.
func TestNavListTolerant(t *testing.T) {
	var seen Request
	px := fakeClient(t, `{"data":[
		{"id":"qemu/100","type":"qemu","vmid":"100","template":"1","cpu":"0.5","maxmem":2147483648,"name":null},
		{"id":"lxc/200","type":"lxc","vmid":200,"template":true,"shared":0,"name":"c\u00e9"},
		{"id":"qemu/101","type":"qemu","vmid":{"bad":1}},
		{"id":"storage/pve1/local","type":"storage","shared":"false","disk":"12"}
	]}`, &seen)
	rs, err := px.Cluster().Resources().Get(context.Background(), nil)
	var ie *ItemError
	var fe *pvetypes.FieldError
	if !errors.As(err, &ie) || ie.Index != 2 || !errors.As(err, &fe) || fe.Path != "vmid" || fe.Want != "integer" || string(fe.Value) != `{"bad":1}` {
		t.Fatalf("want *ItemError for item 2 with a FieldError on vmid, got %v", err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d items, want 4 (the bad one kept)", len(rs))
	}
	q, c, bad, s := rs[0], rs[1], rs[2], rs[3]
	if bad.Id.Get() != "qemu/101" || bad.Vmid.Set || !bad.Extra.Has("vmid") {
		t.Errorf("bad item: %+v", bad)
	}
	if b, err := json.Marshal(bad); err != nil || string(b) != `{"id":"qemu/101","type":"qemu","vmid":{"bad":1}}` {
		t.Errorf("bad item marshals as %s, %v", b, err)
	}
	if q.Vmid.Get() != 100 || !q.Template.Get() || q.Cpu.Get() != 0.5 || q.Maxmem.Get() != 2147483648 || q.Name.Set || q.Shared.Set {
		t.Errorf("qemu item: %+v", q)
	}
	if c.Vmid.Get() != 200 || !c.Template.Get() || !c.Shared.Set || c.Shared.Get() || c.Name.Get() != "cé" {
		t.Errorf("lxc item: %+v", c)
	}
	if s.Type.Get() != "storage" || !s.Shared.Set || s.Shared.Get() || s.Disk.Get() != 12 || s.Vmid.Set {
		t.Errorf("storage item: %+v", s)
	}
	out, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"cpu":0.5,"id":"qemu/100","maxmem":2147483648,"template":true,"type":"qemu","vmid":100}` {
		t.Errorf("marshal leaves unset fields out: %s", out)
	}
}
