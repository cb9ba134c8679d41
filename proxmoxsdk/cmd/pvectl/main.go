// Command pvectl is a pvesh-like client for every Proxmox VE API operation,
// from anywhere: over HTTPS (API token, or ticket + TOTP), over SSH (the
// system's ssh or Go's), through a local pvesh, or against an in-process
// pvemock (PROXMOX_API_MODE=mock).
//
//	pvectl get /nodes/pve1/qemu/100/config
//	pvectl ls /nodes/pve1/qemu
//	pvectl create /nodes/pve1/qemu/100/snapshot --snapname before-upgrade --wait
//	pvectl set /nodes/pve1/qemu/100/config --memory 4096
//	pvectl delete /nodes/pve1/qemu/100/snapshot/before-upgrade
//	pvectl usage /nodes/{node}/qemu/{vmid}/config
//
// Parameters are checked against the schema of the supported PVE versions
// before any request is sent. See proxmoxsdk/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run executes one command line and returns the exit status: 0, 1 for an
// error (one line on stderr), 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "pvectl: "+oneLine(err))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// oneLine flattens an error message to its first line (a task error's log
// tail has been printed already).
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
