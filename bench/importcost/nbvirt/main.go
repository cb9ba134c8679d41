// Command nbvirt counts NetBox VMs through one app's typed collections
// (netboxsdk/gen/virtualization): make bench-import measures its cold build.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/proxbox-go/proxbox/netboxsdk"
	"github.com/proxbox-go/proxbox/netboxsdk/gen/virtualization"
)

func main() {
	nb, err := netboxsdk.New("") // NETBOX_URL, NETBOX_TOKEN
	if err != nil {
		log.Fatal(err)
	}
	n, err := virtualization.New(nb).VirtualMachines.Count(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "VMs")
}
