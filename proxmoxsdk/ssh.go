package proxmoxsdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHConfig configures the SSH transport, which runs pvesh on a PVE host.
type SSHConfig struct {
	// Addr is host:port (port 22 when omitted).
	Addr string
	User string
	// Password and/or PrivateKey (PEM; KeyPassphrase if encrypted).
	Password      string
	PrivateKey    []byte
	KeyPassphrase []byte
	// Host key checking: one of KnownHostsFile, HostKey (pinned key),
	// HostKeyFingerprint ("SHA256:…" as ssh-keygen -l prints it), or
	// InsecureIgnoreHostKey (tests only).
	KnownHostsFile        string
	HostKey               ssh.PublicKey
	HostKeyFingerprint    string
	InsecureIgnoreHostKey bool
	// Sudo runs "sudo -n pvesh" (for a non-root login).
	Sudo bool
	// DialTimeout bounds connection setup (default 10 s).
	DialTimeout time.Duration
	// Pvesh is the remote command (default "pvesh").
	Pvesh string
}

// SSHTransport runs `pvesh <verb> <path> --output-format json` over one
// persistent SSH connection (a new session per call) and wraps the output
// in the {"data":…} envelope.
type SSHTransport struct {
	cfg       SSHConfig
	clientCfg *ssh.ClientConfig

	mu     sync.Mutex
	client *ssh.Client
}

// NewSSHTransport validates cfg; the connection is made on first use.
func NewSSHTransport(cfg SSHConfig) (*SSHTransport, error) {
	if cfg.Addr == "" || cfg.User == "" {
		return nil, errors.New("proxmox: ssh: Addr and User are required")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		cfg.Addr = net.JoinHostPort(cfg.Addr, "22")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	var auths []ssh.AuthMethod
	if len(cfg.PrivateKey) > 0 {
		var signer ssh.Signer
		var err error
		if len(cfg.KeyPassphrase) > 0 {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(cfg.PrivateKey, cfg.KeyPassphrase)
		} else {
			signer, err = ssh.ParsePrivateKey(cfg.PrivateKey)
		}
		if err != nil {
			return nil, fmt.Errorf("proxmox: ssh: private key: %w", err)
		}
		auths = append(auths, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		auths = append(auths, ssh.Password(cfg.Password))
	}
	if len(auths) == 0 {
		return nil, errors.New("proxmox: ssh: a password or a private key is required")
	}
	hk, err := hostKeyCallback(cfg)
	if err != nil {
		return nil, err
	}
	return &SSHTransport{cfg: cfg, clientCfg: &ssh.ClientConfig{
		User: cfg.User, Auth: auths, HostKeyCallback: hk, Timeout: cfg.DialTimeout,
	}}, nil
}

func hostKeyCallback(cfg SSHConfig) (ssh.HostKeyCallback, error) {
	switch {
	case cfg.HostKey != nil:
		return ssh.FixedHostKey(cfg.HostKey), nil
	case cfg.HostKeyFingerprint != "":
		want := strings.TrimSpace(cfg.HostKeyFingerprint)
		return func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != want {
				return fmt.Errorf("proxmox: ssh host key %s does not match pinned %s", got, want)
			}
			return nil
		}, nil
	case cfg.KnownHostsFile != "":
		cb, err := knownhosts.New(cfg.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("proxmox: ssh: known_hosts: %w", err)
		}
		return cb, nil
	case cfg.InsecureIgnoreHostKey:
		return ssh.InsecureIgnoreHostKey(), nil //nolint:gosec // explicit opt-in
	}
	return nil, errors.New("proxmox: ssh: host key checking needs KnownHostsFile, HostKey or HostKeyFingerprint")
}

func (t *SSHTransport) conn(ctx context.Context) (*ssh.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		return t.client, nil
	}
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", t.cfg.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("proxmox: ssh dial %s: %w", t.cfg.Addr, ctx.Err())
		}
		return nil, sshFailure(t.cfg.Addr, ErrSSHConnect, err.Error(), err)
	}
	_ = nc.SetDeadline(time.Now().Add(t.cfg.DialTimeout))
	// The host key callback records its verdict so a failed handshake can be
	// told apart: host key refused, or credentials refused after the key
	// was accepted (x/crypto/ssh reports both only as text).
	cc := *t.clientCfg
	var keyChecked, keyOK bool
	cc.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		keyChecked = true
		err := t.clientCfg.HostKeyCallback(host, remote, key)
		keyOK = err == nil
		return err
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, t.cfg.Addr, &cc)
	if err != nil {
		nc.Close()
		switch {
		case keyChecked && !keyOK:
			return nil, sshFailure(t.cfg.Addr, ErrSSHHostKey, err.Error(), err)
		case keyOK:
			return nil, sshFailure(t.cfg.Addr, ErrSSHAuth, err.Error(), err)
		}
		return nil, sshFailure(t.cfg.Addr, ErrSSHConnect, err.Error(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	t.client = ssh.NewClient(c, chans, reqs)
	return t.client, nil
}

func (t *SSHTransport) drop(c *ssh.Client) {
	t.mu.Lock()
	if t.client == c {
		t.client = nil
	}
	t.mu.Unlock()
	c.Close()
}

// Close closes the SSH connection.
func (t *SSHTransport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client == nil {
		return nil
	}
	err := t.client.Close()
	t.client = nil
	return err
}

// RoundTrip runs pvesh for req on the remote host.
func (t *SSHTransport) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	cmd, err := remotePvesh(req, t.cfg.Pvesh, t.cfg.Sudo)
	if err != nil {
		return nil, err
	}
	var sess *ssh.Session
	var c *ssh.Client
	for try := 0; try < 2; try++ {
		if c, err = t.conn(ctx); err != nil {
			return nil, err
		}
		if sess, err = c.NewSession(); err == nil {
			break
		}
		t.drop(c) // stale connection: redial once
	}
	if err != nil {
		return nil, fmt.Errorf("proxmox: ssh session: %w", err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := sess.Start(cmd); err != nil {
		return nil, fmt.Errorf("proxmox: ssh exec: %w", err)
	}
	go func() { done <- sess.Wait() }()
	select {
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return nil, fmt.Errorf("proxmox: ssh %s %s: %w", req.Method, req.Path, ctx.Err())
	case err = <-done:
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), 0), nil
	case errors.As(err, &ee):
		return PveshResponse(stdout.Bytes(), stderr.Bytes(), ee.ExitStatus()), nil
	default:
		t.drop(c)
		return nil, fmt.Errorf("proxmox: ssh %s %s: %w", req.Method, req.Path, err)
	}
}
