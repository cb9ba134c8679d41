package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	_ "github.com/proxbox-go/proxbox/proxmoxsdk/pvemock" // mock mode (PROXMOX_API_MODE=mock)
)

// options are the connection and output settings: flags, else environment.
type options struct {
	url, token, tokenID, tokenSecret  string
	user, password, totpSecret, otp   string
	fingerprint, caFile               string
	insecure                          bool
	transport                         string
	sshHost, sshUser, sshKey, sshPass string
	knownHosts, sshConfig             string
	sshOpts                           []string
	sshPort                           int
	pvesh                             string
	sudo                              bool
	mode, scenario                    string
	output                            string
	timeout                           time.Duration
	version                           string
	noValidate                        bool
	wait                              bool
	quiet                             bool
	params                            []string
}

// env returns the flag value when set on the command line, else the
// environment variable's.
func env(fs *pflag.FlagSet, name, val, key string) string {
	if f := fs.Lookup(name); f != nil && f.Changed {
		return val
	}
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return val
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "pvectl",
		Short: "pvesh-like client for the Proxmox VE API (HTTPS, SSH, pvesh or an in-process mock)",
		Long: `pvectl runs any Proxmox VE API operation, like pvesh, from anywhere.

  pvectl get /nodes/pve1/qemu/100/config
  pvectl ls /nodes/pve1/qemu
  pvectl create /nodes/pve1/qemu/100/snapshot --snapname before-upgrade --wait
  pvectl set /nodes/pve1/qemu/100/config --memory 4096
  pvectl usage /nodes/{node}/qemu/{vmid}/config

API parameters are given as --name value (or name=value); a parameter whose
name is also a pvectl flag is passed with -P name=value. They are checked
against the schema of PVE ` + strings.Join(supportedVersions(), " and ") + ` before any request.

Connection (flags, else environment):
  HTTPS:    --url (PVE_URL) with an API token --token user@realm!name=secret (PVE_TOKEN),
            or --token-id/--token-secret (PVE_TOKEN_ID, PVE_TOKEN_SECRET),
            or a ticket: --user/--password (PVE_USER, PVE_PASSWORD) and a second factor
            --totp-secret (PVE_TOTP_SECRET) or --otp CODE;
            --fingerprint (PVE_FINGERPRINT), --ca-file (PVE_CA_FILE) or --insecure.
  SSH:      --transport openssh --ssh-host HOST (PVE_SSH_HOST): the system's ssh and your ssh config;
            --transport ssh: Go's SSH client (--ssh-user, --ssh-key, --known-hosts).
  pvesh:    --transport pvesh on a PVE node.
  Mock:     PROXMOX_API_MODE=mock or --mode mock, scenario --mock-scenario s100|s1000|s5000|FILE
            (PROXMOX_MOCK_SCENARIO): an in-process pvemock.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&o.url, "url", "", "PVE URL, https://host:8006 (PVE_URL)")
	pf.StringVar(&o.token, "token", "", "API token user@realm!name=secret (PVE_TOKEN; prefer the environment: flags show in ps)")
	pf.StringVar(&o.tokenID, "token-id", "", "API token id user@realm!name (PVE_TOKEN_ID)")
	pf.StringVar(&o.tokenSecret, "token-secret", "", "API token secret (PVE_TOKEN_SECRET)")
	pf.StringVar(&o.user, "user", "", "user for a ticket login, e.g. root@pam (PVE_USER)")
	pf.StringVar(&o.password, "password", "", "password for a ticket login (PVE_PASSWORD)")
	pf.StringVar(&o.totpSecret, "totp-secret", "", "base32 TOTP secret for the second factor (PVE_TOTP_SECRET)")
	pf.StringVar(&o.otp, "otp", "", "one-time code for the second factor")
	pf.StringVar(&o.fingerprint, "fingerprint", "", "SHA-256 fingerprint of the PVE certificate (PVE_FINGERPRINT)")
	pf.StringVar(&o.caFile, "ca-file", "", "CA bundle (PEM) for the PVE certificate (PVE_CA_FILE)")
	pf.BoolVar(&o.insecure, "insecure", false, "do not verify the certificate")
	pf.StringVar(&o.transport, "transport", "", "https (default with --url), openssh, ssh, pvesh (PVE_TRANSPORT)")
	pf.StringVar(&o.sshHost, "ssh-host", "", "SSH host or ssh-config alias (PVE_SSH_HOST)")
	pf.StringVar(&o.sshUser, "ssh-user", "", "SSH user (default: ssh config, or root for --transport ssh)")
	pf.IntVar(&o.sshPort, "ssh-port", 0, "SSH port")
	pf.StringVar(&o.sshKey, "ssh-key", "", "SSH private key file")
	pf.StringVar(&o.sshPass, "ssh-password", "", "SSH password (--transport ssh; PVE_SSH_PASSWORD)")
	pf.StringVar(&o.knownHosts, "known-hosts", "", "known_hosts file (--transport ssh; default ~/.ssh/known_hosts)")
	pf.StringVar(&o.sshConfig, "ssh-config", "", "ssh config file instead of ~/.ssh/config (--transport openssh)")
	pf.StringArrayVar(&o.sshOpts, "ssh-option", nil, "extra ssh option, e.g. ControlPersist=60s (--transport openssh; repeatable)")
	pf.StringVar(&o.pvesh, "pvesh", "", "pvesh command on the host (default pvesh)")
	pf.BoolVar(&o.sudo, "sudo", false, "run pvesh with sudo -n (SSH and pvesh transports)")
	pf.StringVar(&o.mode, "mode", "", "real or mock (PROXMOX_API_MODE)")
	pf.StringVar(&o.scenario, "mock-scenario", "", "mock scenario s100|s1000|s5000|FILE (PROXMOX_MOCK_SCENARIO)")
	pf.StringVarP(&o.output, "output", "o", "", "output: table, json or yaml (PVECTL_OUTPUT; default table)")
	pf.DurationVar(&o.timeout, "timeout", 2*time.Minute, "timeout of the whole command")
	pf.StringVar(&o.version, "pve-version", "", "check parameters against this PVE version ("+strings.Join(supportedVersions(), ", ")+")")
	pf.BoolVar(&o.noValidate, "no-validate", false, "send parameters without checking them against the schema")

	for _, verb := range []string{"get", "ls", "create", "set", "delete"} {
		root.AddCommand(newAPICommand(o, verb))
	}
	root.AddCommand(newUsageCommand(o))
	return root
}

// usageErr marks a command-line mistake (exit status 2).
func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// resolve fills the options from the environment where no flag was given.
func (o *options) resolve(fs *pflag.FlagSet) error {
	o.url = env(fs, "url", o.url, "PVE_URL")
	o.token = env(fs, "token", o.token, "PVE_TOKEN")
	o.tokenID = env(fs, "token-id", o.tokenID, "PVE_TOKEN_ID")
	o.tokenSecret = env(fs, "token-secret", o.tokenSecret, "PVE_TOKEN_SECRET")
	o.user = env(fs, "user", o.user, "PVE_USER")
	o.password = env(fs, "password", o.password, "PVE_PASSWORD")
	o.totpSecret = env(fs, "totp-secret", o.totpSecret, "PVE_TOTP_SECRET")
	o.fingerprint = env(fs, "fingerprint", o.fingerprint, "PVE_FINGERPRINT")
	o.caFile = env(fs, "ca-file", o.caFile, "PVE_CA_FILE")
	o.transport = env(fs, "transport", o.transport, "PVE_TRANSPORT")
	o.sshHost = env(fs, "ssh-host", o.sshHost, "PVE_SSH_HOST")
	o.sshPass = env(fs, "ssh-password", o.sshPass, "PVE_SSH_PASSWORD")
	o.mode = env(fs, "mode", o.mode, proxmoxsdk.EnvAPIMode)
	o.scenario = env(fs, "mock-scenario", o.scenario, proxmoxsdk.EnvMockScenario)
	o.output = env(fs, "output", o.output, "PVECTL_OUTPUT")
	if o.output == "" {
		o.output = "table"
	}
	switch o.output {
	case "table", "json", "yaml":
	default:
		return usageErr("--output %q: want table, json or yaml", o.output)
	}
	if o.version != "" && !contains(supportedVersions(), o.version) {
		return usageErr("--pve-version %q: want one of %s", o.version, strings.Join(supportedVersions(), ", "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// client builds the proxmoxsdk client of the options. Missing credentials
// are an error before any request.
func (o *options) client() (*proxmoxsdk.Client, error) {
	var opts []proxmoxsdk.Option
	mode := strings.ToLower(o.mode)
	switch mode {
	case "", proxmoxsdk.ModeReal:
	case proxmoxsdk.ModeMock:
		return proxmoxsdk.New(proxmoxsdk.WithMock(o.scenario))
	default:
		return nil, usageErr("mode %q: want real or mock", o.mode)
	}
	opts = append(opts, proxmoxsdk.WithAPIMode(proxmoxsdk.ModeReal))
	transport := o.transport
	if transport == "" {
		switch {
		case o.url != "":
			transport = "https"
		case o.sshHost != "":
			transport = "openssh"
		default:
			return nil, errors.New("no PVE to talk to: set --url (PVE_URL), --ssh-host (PVE_SSH_HOST) or --transport pvesh, or PROXMOX_API_MODE=mock")
		}
	}
	switch transport {
	case "https":
		if o.url == "" {
			return nil, errors.New("--transport https needs --url (PVE_URL)")
		}
		var hopts []proxmoxsdk.HTTPSOption
		switch {
		case o.fingerprint != "":
			hopts = append(hopts, proxmoxsdk.WithFingerprint(o.fingerprint))
		case o.caFile != "":
			pem, err := os.ReadFile(o.caFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
			hopts = append(hopts, proxmoxsdk.WithCABundle(pem))
		case o.insecure:
			hopts = append(hopts, proxmoxsdk.WithInsecureSkipVerify())
		}
		opts = append(opts, proxmoxsdk.WithHTTPS(o.url, hopts...))
		auth, err := o.authOptions()
		if err != nil {
			return nil, err
		}
		opts = append(opts, auth...)
	case "openssh":
		if o.sshHost == "" {
			return nil, errors.New("--transport openssh needs --ssh-host (PVE_SSH_HOST)")
		}
		tr, err := proxmoxsdk.NewOpenSSHTransport(proxmoxsdk.OpenSSHConfig{
			Host: o.sshHost, User: o.sshUser, Port: o.sshPort, IdentityFile: o.sshKey, ConfigFile: o.sshConfig,
			Options: sshOptionArgs(o.sshOpts), Sudo: o.sudo, Pvesh: o.pvesh,
		})
		if err != nil {
			return nil, err
		}
		opts = append(opts, proxmoxsdk.WithTransport(tr))
	case "ssh":
		tr, err := o.goSSH()
		if err != nil {
			return nil, err
		}
		opts = append(opts, proxmoxsdk.WithTransport(tr))
	case "pvesh":
		opts = append(opts, proxmoxsdk.WithTransport(&proxmoxsdk.PveshTransport{Binary: o.pvesh, Sudo: o.sudo}))
	default:
		return nil, usageErr("--transport %q: want https, openssh, ssh or pvesh", transport)
	}
	return proxmoxsdk.New(opts...)
}

func sshOptionArgs(opts []string) []string {
	var out []string
	for _, o := range opts {
		out = append(out, "-o", o)
	}
	return out
}

// authOptions picks the HTTPS credentials: a token, else a ticket login.
func (o *options) authOptions() ([]proxmoxsdk.Option, error) {
	id, secret := o.tokenID, o.tokenSecret
	if o.token != "" {
		i := strings.LastIndexByte(o.token, '=')
		if i <= 0 || !strings.Contains(o.token[:i], "!") {
			return nil, errors.New("--token (PVE_TOKEN): want user@realm!name=secret")
		}
		id, secret = o.token[:i], o.token[i+1:]
	}
	switch {
	case id != "" || secret != "":
		if id == "" || secret == "" {
			return nil, errors.New("an API token needs both --token-id (PVE_TOKEN_ID) and --token-secret (PVE_TOKEN_SECRET)")
		}
		return []proxmoxsdk.Option{proxmoxsdk.WithAPIToken(id, secret)}, nil
	case o.user != "":
		if o.password == "" {
			return nil, errors.New("--user needs --password (PVE_PASSWORD)")
		}
		opts := []proxmoxsdk.Option{proxmoxsdk.WithTicket(o.user, o.password)}
		switch {
		case o.otp != "":
			code := o.otp
			opts = append(opts, proxmoxsdk.WithTOTPFunc(func(_ context.Context) (string, error) { return code, nil }))
		case o.totpSecret != "":
			opts = append(opts, proxmoxsdk.WithTOTP(o.totpSecret))
		}
		return opts, nil
	}
	return nil, errors.New("no credentials: set PVE_TOKEN (user@realm!name=secret), PVE_TOKEN_ID and PVE_TOKEN_SECRET, or PVE_USER and PVE_PASSWORD (or the flags --token, --token-id/--token-secret, --user/--password)")
}

func (o *options) goSSH() (proxmoxsdk.Transport, error) {
	if o.sshHost == "" {
		return nil, errors.New("--transport ssh needs --ssh-host (PVE_SSH_HOST)")
	}
	cfg := proxmoxsdk.SSHConfig{Addr: o.sshHost, User: o.sshUser, Password: o.sshPass, Sudo: o.sudo, Pvesh: o.pvesh}
	if i := strings.LastIndexByte(cfg.Addr, '@'); i >= 0 {
		cfg.User, cfg.Addr = cfg.Addr[:i], cfg.Addr[i+1:]
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	if o.sshPort > 0 {
		cfg.Addr = fmt.Sprintf("%s:%d", cfg.Addr, o.sshPort)
	}
	if o.sshKey != "" {
		pem, err := os.ReadFile(o.sshKey)
		if err != nil {
			return nil, fmt.Errorf("--ssh-key: %w", err)
		}
		cfg.PrivateKey = pem
	}
	cfg.KnownHostsFile = o.knownHosts
	if cfg.KnownHostsFile == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		cfg.KnownHostsFile = home + "/.ssh/known_hosts"
	}
	return proxmoxsdk.NewSSHTransport(cfg)
}
