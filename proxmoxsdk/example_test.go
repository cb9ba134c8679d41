package proxmoxsdk_test

import (
	"context"
	"fmt"
	"log"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// Read a VM's configuration through the navigator. The in-memory mock
// stands in for a PVE cluster; against a real one use
// proxmoxsdk.WithHTTPS("https://pve1:8006", proxmoxsdk.WithFingerprint(fp)).
func Example() {
	mock := pvemock.New(pvemock.S100())
	id, secret := mock.Token()
	px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(mock.Transport()), proxmoxsdk.WithAPIToken(id, secret))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	cfg, err := px.Nodes("pve1").Qemu(100).Config().Get(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("name:  ", cfg.Name.Get())
	fmt.Println("memory:", cfg.Memory.Get(), "MiB")
	fmt.Println("cores: ", cfg.Cores.Get())
	fmt.Println("onboot:", cfg.Onboot.Get())
	for _, key := range []string{"scsi0", "scsi1", "net0", "net1"} {
		v, _ := cfg.Get(key) // indexed keys (netN, scsiN) are additional properties
		fmt.Printf("%-6s  %s\n", key+":", v)
	}
	// Output:
	// name:   ci-01
	// memory: 4096 MiB
	// cores:  4
	// onboot: false
	// scsi0:  local-lvm:vm-100-disk-0,iothread=1,size=32G
	// scsi1:  local-lvm:vm-100-disk-1,iothread=1,size=250G
	// net0:   virtio=BC:24:11:72:19:AB,bridge=vmbr0,firewall=1,tag=20
	// net1:   virtio=BC:24:11:AE:F2:6B,bridge=vmbr0,firewall=1,tag=100
}

// Raw calls reach any path; GetList decodes a collection item by item so one
// drifting item never fails the list.
func ExampleGetList() {
	mock := pvemock.New(pvemock.S100())
	px, _ := proxmoxsdk.New(proxmoxsdk.WithTransport(mock.Transport()))
	type guest struct {
		VMID   int    `json:"vmid"`
		Name   string `json:"name"`
		Node   string `json:"node"`
		Status string `json:"status"`
	}
	guests, errs := proxmoxsdk.GetList[guest](context.Background(), px, "/cluster/resources", map[string]any{"type": "vm"})
	fmt.Println(len(guests), "guests,", len(errs), "errors; first:", guests[0].VMID, guests[0].Name, guests[0].Node)
	// Output: 100 guests, 0 errors; first: 100 ci-01 pve1
}

// Wait for a task and get the log tail when it fails.
func ExampleClient_WaitTask() {
	mock := pvemock.New(pvemock.S100())
	px, _ := proxmoxsdk.New(proxmoxsdk.WithTransport(mock.Transport()))
	ctx := context.Background()
	var upid string
	if err := px.Call(ctx, "POST", "/nodes/pve1/qemu/100/status/stop", nil, &upid); err != nil {
		log.Fatal(err)
	}
	st, err := px.WaitTask(ctx, upid)
	fmt.Println(st.Status, st.ExitStatus, err)
	// Output: stopped OK <nil>
}
