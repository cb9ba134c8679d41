package proxmoxsdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Errors of the SSH transports (OpenSSHTransport and SSHTransport), matched
// with errors.Is; the *SSHError carrying them says which host and why.
var (
	// ErrSSHHostKey: the host key is unknown or does not match (known_hosts,
	// pinned key or fingerprint).
	ErrSSHHostKey = errors.New("proxmox: ssh host key verification failed")
	// ErrSSHAuth: the server refused every credential offered.
	ErrSSHAuth = errors.New("proxmox: ssh authentication failed")
	// ErrSSHConnect: the host could not be reached (name, refused, timeout,
	// connection closed before authentication).
	ErrSSHConnect = errors.New("proxmox: ssh connection failed")
)

// SSHError is a failure of the SSH layer itself (not of pvesh on the host).
// errors.Is(err, ErrSSHHostKey | ErrSSHAuth | ErrSSHConnect) tells which, and
// errors.As(err, &sshErr) gives the host. Host key and authentication
// failures come wrapped in a *CommandError, so they are never retried; a
// connection failure is retried like any other for idempotent calls.
type SSHError struct {
	Host string
	// Kind is ErrSSHHostKey, ErrSSHAuth or ErrSSHConnect.
	Kind error
	// Detail is what ssh said (its last stderr line) or the Go error text.
	Detail string
	// Err is the underlying Go error (SSHTransport), nil for OpenSSH.
	Err error
}

func (e *SSHError) Error() string {
	msg := fmt.Sprintf("%v (%s)", e.Kind, e.Host)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns Kind and the underlying error.
func (e *SSHError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// sshFailure wraps an SSH failure for the transports: definitive failures
// (host key, authentication) in a *CommandError, which is never retried.
func sshFailure(host string, kind error, detail string, err error) error {
	se := &SSHError{Host: host, Kind: kind, Detail: detail, Err: err}
	if kind == ErrSSHConnect {
		return se
	}
	return &CommandError{Command: "ssh", Err: se}
}

// remotePvesh is the command line both SSH transports run on the host:
// [sudo -n] pvesh <verb> <path> --output-format json [--key value…],
// quoted for the remote shell.
func remotePvesh(req *Request, pvesh string, sudo bool) (string, error) {
	args, err := PveshArgs(req)
	if err != nil {
		return "", err
	}
	if pvesh == "" {
		pvesh = "pvesh"
	}
	args = append([]string{pvesh}, args...)
	if sudo {
		args = append([]string{"sudo", "-n"}, args...)
	}
	return ShellJoin(args), nil
}

// OpenSSHConfig configures the OpenSSH transport.
type OpenSSHConfig struct {
	// Host is what you would type after ssh: a name or address, or a Host
	// alias of the user's ssh config; "user@host" is accepted.
	Host string
	// User and Port override the ssh config when set (-l, -p).
	User string
	Port int
	// Binary is the ssh executable (default "ssh" on the PATH).
	Binary string
	// ConfigFile replaces the user's ~/.ssh/config (-F); empty keeps it.
	ConfigFile string
	// IdentityFile adds a private key (-i).
	IdentityFile string
	// Options are extra arguments placed before the host, e.g.
	// {"-o", "ControlMaster=auto", "-o", "ControlPersist=60s", "-o", "ControlPath=~/.ssh/pve-%C"}
	// to share one connection between calls.
	Options []string
	// Interactive lets ssh prompt on the terminal (passwords, unknown host
	// keys). By default BatchMode=yes: a prompt is a failure, never a hang.
	Interactive bool
	// ConnectTimeout (default 10 s).
	ConnectTimeout time.Duration
	// MaxConcurrent bounds the ssh processes running at once (default 4,
	// below sshd's default MaxStartups of 10).
	MaxConcurrent int
	// Sudo runs "sudo -n pvesh" (for a non-root login).
	Sudo bool
	// Pvesh is the remote command (default "pvesh").
	Pvesh string
}

// OpenSSHTransport runs `ssh [options] HOST pvesh <verb> <path> --output-format
// json …` with the system's ssh binary, so the user's ssh config, agent,
// known_hosts, jump hosts and connection sharing apply. Failures of ssh
// itself are *SSHError (ErrSSHHostKey, ErrSSHAuth, ErrSSHConnect); pvesh's
// answers are mapped like every command transport's.
type OpenSSHTransport struct {
	cfg  OpenSSHConfig
	bin  string
	args []string
	sem  chan struct{}
}

// NewOpenSSHTransport validates cfg. The ssh binary is looked up on first use.
func NewOpenSSHTransport(cfg OpenSSHConfig) (*OpenSSHTransport, error) {
	host := strings.TrimSpace(cfg.Host)
	if host == "" || strings.HasPrefix(host, "-") || strings.ContainsAny(host, " \t\n") {
		return nil, fmt.Errorf("proxmox: openssh: invalid host %q", cfg.Host)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	bin := cfg.Binary
	if bin == "" {
		bin = "ssh"
	}
	args := []string{"-o", "ConnectTimeout=" + strconv.Itoa(int(max(cfg.ConnectTimeout.Seconds(), 1)))}
	if !cfg.Interactive {
		args = append(args, "-o", "BatchMode=yes")
	}
	if cfg.ConfigFile != "" {
		args = append(args, "-F", cfg.ConfigFile)
	}
	if cfg.IdentityFile != "" {
		args = append(args, "-i", cfg.IdentityFile)
	}
	if cfg.User != "" {
		args = append(args, "-l", cfg.User)
	}
	if cfg.Port > 0 {
		args = append(args, "-p", strconv.Itoa(cfg.Port))
	}
	args = append(args, cfg.Options...)
	args = append(args, "--", host)
	cfg.Host = host
	return &OpenSSHTransport{cfg: cfg, bin: bin, args: args, sem: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// Args returns the ssh command line RoundTrip runs for req (for logs and
// tests; it holds no secret).
func (t *OpenSSHTransport) Args(req *Request) ([]string, error) {
	remote, err := remotePvesh(req, t.cfg.Pvesh, t.cfg.Sudo)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(t.args)+2)
	out = append(out, t.bin)
	out = append(out, t.args...)
	return append(out, remote), nil
}

// RoundTrip runs pvesh for req on the host through ssh.
func (t *OpenSSHTransport) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	argv, err := t.Args(req)
	if err != nil {
		return nil, err
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("proxmox: ssh %s %s: %w", req.Method, req.Path, ctx.Err())
	}
	defer func() { <-t.sem }()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), 0), nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("proxmox: ssh %s %s: %w", req.Method, req.Path, ctx.Err())
	case errors.As(err, &ee):
		code := ee.ExitCode()
		if code == 255 {
			if kind := classifySSHStderr(stderr.String()); kind != nil {
				return nil, sshFailure(t.cfg.Host, kind, lastLine(stderr.String()), nil)
			}
		}
		if code == 127 {
			return nil, &CommandError{Command: "ssh " + t.cfg.Host + " pvesh", Err: fmt.Errorf("pvesh not found on the host (not a Proxmox VE node?): %s", lastLine(stderr.String()))}
		}
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), code), nil
	default:
		return nil, &CommandError{Command: t.bin, Err: err}
	}
}

// classifySSHStderr recognizes the failures of ssh itself in its stderr
// (exit status 255, which pvesh uses too). ssh reports them only as text; the
// transport turns them into typed errors so callers never match messages.
// nil means the output is pvesh's own (a leading "NNN message" line).
func classifySSHStderr(stderr string) error {
	s := strings.TrimSpace(stderr)
	if statusLineRE.MatchString(strings.SplitN(s, "\n", 2)[0]) {
		return nil
	}
	switch {
	case strings.Contains(s, "Host key verification failed"),
		strings.Contains(s, "REMOTE HOST IDENTIFICATION HAS CHANGED"),
		strings.Contains(s, "host key for") && strings.Contains(s, "has changed"),
		strings.Contains(s, "No matching host key"):
		return ErrSSHHostKey
	case strings.Contains(s, "Permission denied ("),
		strings.Contains(s, "Too many authentication failures"),
		strings.Contains(s, "no more authentication methods"):
		return ErrSSHAuth
	case strings.Contains(s, "ssh: connect to host"),
		strings.Contains(s, "Could not resolve hostname"),
		strings.Contains(s, "Connection refused"),
		strings.Contains(s, "Connection timed out"),
		strings.Contains(s, "Connection closed by"),
		strings.Contains(s, "Connection reset by"),
		strings.Contains(s, "kex_exchange_identification"),
		strings.Contains(s, "Network is unreachable"),
		strings.Contains(s, "No route to host"):
		return ErrSSHConnect
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
