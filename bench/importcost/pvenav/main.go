// Command pvenav counts PVE guests through proxmoxsdk's navigator: make
// bench-import measures its cold build.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
)

func main() {
	px, err := proxmoxsdk.New(proxmoxsdk.WithHTTPS(os.Getenv("PVE_URL")),
		proxmoxsdk.WithAPIToken(os.Getenv("PVE_TOKEN_ID"), os.Getenv("PVE_TOKEN_SECRET")))
	if err != nil {
		log.Fatal(err)
	}
	vm := pve.GetClusterResourcesParamsTypeVm
	res, err := px.Cluster().Resources().Get(context.Background(), &pve.GetClusterResourcesParams{Type: &vm})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res), "guests")
}
