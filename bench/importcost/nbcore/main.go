// Command nbcore counts NetBox VMs through netboxsdk's untyped collections
// (what proxboxd imports): make bench-import measures its cold build.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/proxbox-go/proxbox/netboxsdk"
)

func main() {
	nb, err := netboxsdk.New("") // NETBOX_URL, NETBOX_TOKEN
	if err != nil {
		log.Fatal(err)
	}
	n, err := nb.Objects("/api/virtualization/virtual-machines/").Count(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "VMs")
}
