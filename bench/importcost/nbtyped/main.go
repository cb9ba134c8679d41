// Command nbtyped counts NetBox VMs through the whole fluent client (package
// typed, every app): make bench-import measures its cold build.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/proxbox-go/proxbox/netboxsdk/typed"
)

func main() {
	nb, err := typed.New("") // NETBOX_URL, NETBOX_TOKEN
	if err != nil {
		log.Fatal(err)
	}
	n, err := nb.Virtualization.VirtualMachines.Count(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "VMs")
}
