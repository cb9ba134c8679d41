package proxmoxsdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// PveshTransport runs pvesh on the local host (proxboxd running on a PVE
// node). It needs no credentials: pvesh runs with the caller's rights.
type PveshTransport struct {
	// Binary is the pvesh executable (default "pvesh").
	Binary string
	// Sudo prefixes the command with "sudo -n".
	Sudo bool
}

// RoundTrip runs pvesh <verb> <path> --output-format json [--key value…].
func (t *PveshTransport) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	args, err := PveshArgs(req)
	if err != nil {
		return nil, err
	}
	bin := t.Binary
	if bin == "" {
		bin = "pvesh"
	}
	if t.Sudo {
		args = append([]string{"-n", bin}, args...)
		bin = "sudo"
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), 0), nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("proxmox: pvesh %s %s: %w", req.Method, req.Path, ctx.Err())
	case errors.As(err, &ee):
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), ee.ExitCode()), nil
	default:
		return nil, &CommandError{Command: bin, Err: fmt.Errorf("%w (not a Proxmox host?)", err)}
	}
}
