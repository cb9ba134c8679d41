// Command fakepvesh behaves like pvesh on a node of a pvemock cluster: the SSH
// transport tests install it as "pvesh" on the PATH of a real sshd. The
// cluster is PROXMOX_MOCK_SCENARIO (default s100), fresh on every run.
package main

import (
	"fmt"
	"os"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func main() {
	m, err := pvemock.Shared(os.Getenv(proxmoxsdk.EnvMockScenario))
	if err != nil {
		fmt.Fprintln(os.Stderr, "400 "+err.Error())
		os.Exit(255)
	}
	os.Exit(m.Pvesh(os.Args[1:], os.Stdout, os.Stderr))
}
