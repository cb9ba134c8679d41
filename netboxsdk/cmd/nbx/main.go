// Command nbx is a NetBox command line over every collection of the schema
// netboxsdk was generated from:
//
//	nbx ls dcim.devices --filter site=lab --filter status=active
//	nbx get virtualization.virtual-machines 42 -o yaml
//	nbx create dcim.sites name=lab slug=lab status=active
//	nbx update dcim.sites 7 description="main lab"
//	nbx delete dcim.sites 7
//	nbx count ipam.ip-addresses --filter vrf_id=null
//	nbx choices dcim.devices status
//	nbx status
//
// Collections and filters are checked against the schema before any request.
// Configuration: flags > environment (NETBOX_URL, NETBOX_TOKEN) > a profile
// of ~/.config/nbx/config.yaml. NETBOX_API_MODE=mock answers from an
// in-process netboxtest. See netboxsdk/README.md.
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

// usageErr marks a command-line mistake (exit status 2).
func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// run executes one command line and returns the exit status: 0; 1 for an
// error, printed as one line on stderr; 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintln(stderr, "nbx: "+msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
