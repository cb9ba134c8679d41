// Package harness starts the parts of an end-to-end run on loopback (the
// PVE mock over HTTPS, proxboxd as a subprocess, counting/fault proxies in
// front of NetBox and the mock) and inspects the real NetBox over plain
// HTTP. The e2e tests and the scenario benchmark share it.
package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RepoRoot walks up from the working directory to the directory holding go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no go.work above the working directory")
		}
		dir = parent
	}
}

var buildMu sync.Mutex

// Build compiles the main package pkg (relative to the repository root,
// e.g. "./proxboxd/cmd/proxboxd") into dir and returns the binary's path.
func Build(ctx context.Context, root, pkg, dir string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("harness: go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// FreePort returns a free loopback TCP port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("harness: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Proc is a running subprocess.
type Proc struct {
	Cmd     *exec.Cmd
	LogPath string
	done    chan struct{}
	err     error
	log     *os.File
}

// StartProc starts bin with args, stdout and stderr appended to logPath.
func StartProc(bin string, args []string, env []string, logPath string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("harness: log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("harness: start %s: %w", bin, err)
	}
	p := &Proc{Cmd: cmd, LogPath: logPath, done: make(chan struct{}), log: f}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PeakRSS is VmHWM of /proc/<pid>/status in KiB (0 when unknown).
func (p *Proc) PeakRSS() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// Kill sends SIGKILL to the process and waits for it.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to grace, then SIGKILL.
func (p *Proc) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		p.Kill()
		return fmt.Errorf("harness: pid %d ignored SIGTERM for %v", p.Pid(), grace)
	}
}

// Tail returns the last n bytes of the log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Proxboxd is a proxboxd subprocess.
type Proxboxd struct {
	*Proc
	URL  string
	Bin  string
	Port int
	DB   string
	Env  []string
}

// StartProxboxd runs `proxboxd serve --listen 127.0.0.1:PORT --db DB` (port 0
// picks one) and waits until GET / answers.
func StartProxboxd(ctx context.Context, bin, dir string, port int, db string, extraEnv ...string) (*Proxboxd, error) {
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	env := append(os.Environ(),
		"XDG_DATA_HOME="+filepath.Join(dir, "xdg"),
		"HOME="+dir,
	)
	if os.Getenv("PROXBOX_LOG_LEVEL") == "" {
		env = append(env, "PROXBOX_LOG_LEVEL=info")
	}
	env = append(env, extraEnv...)
	d := &Proxboxd{Bin: bin, Port: port, DB: db, Env: env, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := d.start(ctx, dir); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Proxboxd) start(ctx context.Context, dir string) error {
	p, err := StartProc(d.Bin, []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", d.Port), "--db", d.DB}, d.Env, filepath.Join(dir, "proxboxd.log"))
	if err != nil {
		return err
	}
	d.Proc = p
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("harness: proxboxd exited: %v\n%s", p.err, p.Tail(3000))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.Kill()
	return fmt.Errorf("harness: proxboxd did not answer GET / within 30 s\n%s", p.Tail(3000))
}

// Restart starts proxboxd again on the same port and database (after Kill).
func (d *Proxboxd) Restart(ctx context.Context) error {
	if !d.Exited() {
		d.Kill()
	}
	return d.start(ctx, filepath.Dir(d.LogPath))
}

// RestartFresh kills proxboxd and starts it again on the same port with a
// new, empty database (no API key, no endpoints).
func (d *Proxboxd) RestartFresh(ctx context.Context) error {
	if !d.Exited() {
		d.Kill()
	}
	dir := filepath.Dir(d.LogPath)
	fresh, err := os.MkdirTemp(dir, "fresh-")
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	d.DB = filepath.Join(fresh, "proxboxd.db")
	return d.start(ctx, dir)
}
