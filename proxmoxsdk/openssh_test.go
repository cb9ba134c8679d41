package proxmoxsdk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// sshdEnv is a real OpenSSH server on loopback, started by the test with its
// own sshd_config, a throwaway host key and user key, and a fake pvesh (a
// pvemock cluster) first on the PATH of its sessions.
type sshdEnv struct {
	dir       string
	port      int
	clientCfg string // ssh_config with the Host alias "pvetest"
	userKey   string
}

func findSSHD(t *testing.T) (sshd, ssh string) {
	t.Helper()
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("ssh client not installed (apt-get install openssh-client); make test installs openssh-server in CI")
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p, ssh
		}
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, ssh
	}
	t.Skip("sshd not installed (apt-get install openssh-server; tools/test-deps.sh does it in CI)")
	return "", ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func keygen(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "proxbox-test", "-f", path).CombinedOutput()
	require.NoError(t, err, string(out))
}

func startSSHD(t *testing.T) *sshdEnv {
	t.Helper()
	sshdBin, _ := findSSHD(t)
	if os.Geteuid() != 0 {
		t.Skip("the sshd test runs as root (sshd's privilege separation); CI runs as root")
	}
	// sshd refuses to start without its privilege separation directory,
	// which the package creates only when the service starts.
	require.NoError(t, os.MkdirAll("/run/sshd", 0o755))
	dir := t.TempDir()
	// sshd checks that the files it reads are not writable by others (StrictModes).
	require.NoError(t, os.Chmod(dir, 0o755))
	e := &sshdEnv{dir: dir, port: freePort(t), userKey: filepath.Join(dir, "id_user")}
	keygen(t, filepath.Join(dir, "host_key"))
	keygen(t, e.userKey)
	keygen(t, filepath.Join(dir, "id_other"))
	pub, err := os.ReadFile(e.userKey + ".pub")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600))

	// The fake pvesh: a pvemock cluster answering like pvesh.
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "pvesh"), "./internal/fakepvesh")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/host_key
PidFile %[2]s/sshd.pid
AuthorizedKeysFile %[2]s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 20:30:100
SetEnv PATH=%[2]s/bin:/usr/local/bin:/usr/bin:/bin
`, e.port, dir)
	sshdCfg := filepath.Join(dir, "sshd_config")
	require.NoError(t, os.WriteFile(sshdCfg, []byte(cfg), 0o600))
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "known_hosts"),
		fmt.Appendf(nil, "[127.0.0.1]:%d %s", e.port, hostPub), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty_known_hosts"), nil, 0o600))

	e.clientCfg = filepath.Join(dir, "ssh_config")
	require.NoError(t, os.WriteFile(e.clientCfg, fmt.Appendf(nil, `Host pvetest
	HostName 127.0.0.1
	Port %d
	User root
	IdentityFile %[2]s/id_user
	IdentitiesOnly yes
	UserKnownHostsFile %[2]s/known_hosts
	StrictHostKeyChecking yes
	LogLevel ERROR
Host pvetest-unknownkey
	HostName 127.0.0.1
	Port %[1]d
	User root
	IdentityFile %[2]s/id_user
	IdentitiesOnly yes
	UserKnownHostsFile %[2]s/empty_known_hosts
	StrictHostKeyChecking yes
Host pvetest-wrongkey
	HostName 127.0.0.1
	Port %[1]d
	User root
	IdentityFile %[2]s/id_other
	IdentitiesOnly yes
	UserKnownHostsFile %[2]s/known_hosts
	StrictHostKeyChecking yes
Host pvetest-closed
	HostName 127.0.0.1
	Port %[3]d
	UserKnownHostsFile %[2]s/known_hosts
`, e.port, dir, freePort(t)), 0o600))

	var logs strings.Builder
	var logMu sync.Mutex
	cmd := exec.Command(sshdBin, "-D", "-e", "-f", sshdCfg)
	cmd.Stdout = &lockedWriter{w: &logs, mu: &logMu}
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("sshd log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(e.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			logMu.Lock()
			defer logMu.Unlock()
			t.Fatalf("sshd did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestOpenSSHAgainstRealSSHD(t *testing.T) {
	e := startSSHD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	newPX := func(host string, opts ...func(*proxmoxsdk.OpenSSHConfig)) *proxmoxsdk.Client {
		cfg := proxmoxsdk.OpenSSHConfig{Host: host, ConfigFile: e.clientCfg, MaxConcurrent: 3}
		for _, o := range opts {
			o(&cfg)
		}
		tr, err := proxmoxsdk.NewOpenSSHTransport(cfg)
		require.NoError(t, err)
		px, err := proxmoxsdk.New(proxmoxsdk.WithTransport(tr), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry()))
		require.NoError(t, err)
		return px
	}

	t.Run("typed get through the ssh config alias", func(t *testing.T) {
		px := newPX("pvetest")
		cfg, err := px.Nodes("pve1").Qemu(100).Config().Get(ctx, nil)
		require.NoError(t, err)
		assert.NotEmpty(t, cfg.Name.Get())
		net0, ok := cfg.Get("net0")
		require.True(t, ok)
		assert.Contains(t, fmt.Sprint(net0), "bridge=vmbr0")
	})

	t.Run("parameters, quoting and writes", func(t *testing.T) {
		px := newPX("pvetest")
		var guests []map[string]any
		require.NoError(t, px.Call(ctx, "GET", "/cluster/resources", map[string]any{"type": "vm"}, &guests))
		assert.Len(t, guests, 100)
		// A value with spaces and quotes reaches pvesh as one argument.
		require.NoError(t, px.Call(ctx, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"description": `it's "quoted" & spaced`}, nil))
		var upid string
		require.NoError(t, px.Call(ctx, "POST", "/nodes/pve1/qemu/100/snapshot", map[string]any{"snapname": "proxbox-ssh-test"}, &upid))
		assert.True(t, strings.HasPrefix(upid, "UPID:"), upid)
	})

	t.Run("pvesh errors map to API errors", func(t *testing.T) {
		px := newPX("pvetest")
		_, err := px.CallRaw(ctx, "GET", "/nodes/pve1/qemu/999/config", nil)
		assert.True(t, errors.Is(err, proxmoxsdk.ErrNotFound), "%v", err)
		var ae *proxmoxsdk.APIError
		require.ErrorAs(t, err, &ae)
		_, err = px.CallRaw(ctx, "GET", "/no/such/path", nil)
		assert.True(t, errors.Is(err, proxmoxsdk.ErrNotImplemented), "%v", err)
		var se *proxmoxsdk.SSHError
		assert.False(t, errors.As(err, &se), "an API error is not an SSH error")
	})

	t.Run("unknown host key", func(t *testing.T) {
		_, err := newPX("pvetest-unknownkey").CallRaw(ctx, "GET", "/version", nil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, proxmoxsdk.ErrSSHHostKey), "%v", err)
		var se *proxmoxsdk.SSHError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "pvetest-unknownkey", se.Host)
		var ce *proxmoxsdk.CommandError
		assert.ErrorAs(t, err, &ce, "host key failures are not retried")
	})

	t.Run("key not authorized", func(t *testing.T) {
		_, err := newPX("pvetest-wrongkey").CallRaw(ctx, "GET", "/version", nil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, proxmoxsdk.ErrSSHAuth), "%v", err)
		assert.False(t, errors.Is(err, proxmoxsdk.ErrSSHHostKey))
	})

	t.Run("connection refused", func(t *testing.T) {
		_, err := newPX("pvetest-closed").CallRaw(ctx, "GET", "/version", nil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, proxmoxsdk.ErrSSHConnect), "%v", err)
	})

	t.Run("bounded concurrency", func(t *testing.T) {
		px := newPX("pvetest", func(c *proxmoxsdk.OpenSSHConfig) { c.MaxConcurrent = 2 })
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := px.Nodes("pve1").Qemu(100).Status().Current().GetRaw(ctx)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
	})
}

// TestOpenSSHArgs checks the command line without a server: ssh options,
// then "--", the host, and the quoted remote pvesh command.
func TestOpenSSHArgs(t *testing.T) {
	tr, err := proxmoxsdk.NewOpenSSHTransport(proxmoxsdk.OpenSSHConfig{Host: "root@pve1", Port: 2222, IdentityFile: "k", Sudo: true})
	require.NoError(t, err)
	args, err := tr.Args(&proxmoxsdk.Request{Method: "PUT", Path: "/nodes/pve1/qemu/100/config", Params: map[string][]string{"description": {"a b'c"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ssh", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes", "-i", "k", "-p", "2222", "--", "root@pve1",
		`sudo -n pvesh set /nodes/pve1/qemu/100/config --output-format json --description 'a b'\''c'`}, args)

	for _, bad := range []string{"", "-oProxyCommand=x", "a b"} {
		_, err := proxmoxsdk.NewOpenSSHTransport(proxmoxsdk.OpenSSHConfig{Host: bad})
		assert.Error(t, err, bad)
	}
	_, err = tr.Args(&proxmoxsdk.Request{Method: "GET", Path: "/x", Params: map[string][]string{"bad name": {"1"}}})
	var ce *proxmoxsdk.CommandError
	assert.ErrorAs(t, err, &ce)
}

// TestOpenSSHBoundedConcurrency counts the ssh processes alive at once with a
// stand-in ssh binary (a shell script) that records its own run.
func TestOpenSSHBoundedConcurrency(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "ssh")
	require.NoError(t, os.WriteFile(script, fmt.Appendf(nil, `#!/bin/sh
d=%s/run.$$
mkdir "$d"
ls -d %[1]s/run.* | wc -l >> %[1]s/counts
sleep 0.2
rmdir "$d"
echo '{"ok":1}'
`, dir), 0o755))
	tr, err := proxmoxsdk.NewOpenSSHTransport(proxmoxsdk.OpenSSHConfig{Host: "pve1", Binary: script, MaxConcurrent: 2})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := tr.RoundTrip(context.Background(), &proxmoxsdk.Request{Method: "GET", Path: "/version"})
			if assert.NoError(t, err) {
				assert.JSONEq(t, `{"data":{"ok":1}}`, string(resp.Body))
			}
		}()
	}
	wg.Wait()
	counts, err := os.ReadFile(filepath.Join(dir, "counts"))
	require.NoError(t, err)
	peak := 0
	for _, l := range strings.Fields(string(counts)) {
		n, _ := strconv.Atoi(l)
		peak = max(peak, n)
	}
	assert.Equal(t, 6, len(strings.Fields(string(counts))))
	assert.LessOrEqual(t, peak, 2)
	assert.GreaterOrEqual(t, peak, 1)
}
