package proxmoxsdk_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

// sshServer is an in-process SSH server whose only command is a fake
// pvesh backed by a pvemock.
type sshServer struct {
	addr     string
	hostKey  ssh.PublicKey
	clientPK ed25519.PrivateKey
	commands []string
	mu       sync.Mutex
}

func startSSH(t *testing.T, m *pvemock.Mock) *sshServer {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPub, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	sshClientPub, _ := ssh.NewPublicKey(clientPub)
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == "root" && string(pw) == "secret" {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), sshClientPub.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &sshServer{addr: ln.Addr().String(), hostKey: hostSigner.PublicKey(), clientPK: clientPriv}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serveConn(nc, cfg, m)
		}
	}()
	return s
}

func (s *sshServer) serveConn(nc net.Conn, cfg *ssh.ServerConfig, m *pvemock.Mock) {
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "no")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range chReqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					_ = req.Reply(false, nil)
					continue
				}
				n := binary.BigEndian.Uint32(req.Payload)
				cmd := string(req.Payload[4 : 4+n])
				_ = req.Reply(true, nil)
				s.mu.Lock()
				s.commands = append(s.commands, cmd)
				s.mu.Unlock()
				args := shellSplit(cmd)
				code := 127
				if len(args) > 0 && args[0] == "pvesh" {
					code = m.Pvesh(args[1:], ch, ch.Stderr())
				}
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
				return
			}
		}()
	}
}

// shellSplit undoes proxmoxsdk.ShellJoin (single quotes only).
func shellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQ && c == '\'':
			inQ = false
		case inQ:
			cur.WriteByte(c)
		case c == '\'':
			inQ, have = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			have = true
		case c == ' ':
			if have || cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
		}
	}
	if have || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func TestSSHTransport(t *testing.T) {
	m := pvemock.New(pvemock.S100())
	s := startSSH(t, m)
	ctx := ctxT(t)
	keyPEM, err := ssh.MarshalPrivateKey(s.clientPK, "")
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configs := map[string]proxmoxsdk.SSHConfig{
		"password+fingerprint": {Addr: s.addr, User: "root", Password: "secret", HostKeyFingerprint: ssh.FingerprintSHA256(s.hostKey)},
		"key+known_hosts":      {Addr: s.addr, User: "root", PrivateKey: pem.EncodeToMemory(keyPEM), KnownHostsFile: kh},
		"key+pinned key":       {Addr: s.addr, User: "root", PrivateKey: pem.EncodeToMemory(keyPEM), HostKey: s.hostKey},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			tr, err := proxmoxsdk.NewSSHTransport(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			px := newClient(t, proxmoxsdk.WithTransport(tr))
			var cfgOut map[string]any
			if err := px.Call(ctx, "GET", "/nodes/pve1/qemu/100/config", nil, &cfgOut); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cfgOut["net0"].(string), "virtio=BC:24:11:") {
				t.Fatalf("config = %v", cfgOut)
			}
			type task struct {
				UPID string `json:"upid"`
			}
			tasks, errs := proxmoxsdk.GetList[task](ctx, px, "/nodes/pve1/tasks", map[string]any{"vmid": 100, "limit": 2})
			if len(errs) > 0 || len(tasks) != 2 {
				t.Fatalf("tasks = %v %v", tasks, errs)
			}
			_, err = px.CallRaw(ctx, "GET", "/nodes/pve1/qemu/9999/config", nil)
			if !errors.Is(err, proxmoxsdk.ErrNotFound) {
				t.Fatalf("missing guest over ssh: %v", err)
			}
			err = px.Call(ctx, "PUT", "/nodes/pve1/qemu/100/config", map[string]any{"memory": "x y'z"}, nil)
			var ae *proxmoxsdk.APIError
			if !errors.Is(err, proxmoxsdk.ErrParameter) || !errors.As(err, &ae) || ae.Errors["memory"] == "" {
				t.Fatalf("parameter error over ssh: %v", err)
			}
			upid, err := px.CallRaw(ctx, "POST", "/nodes/pve1/qemu/103/status/stop", nil)
			if err != nil || !strings.HasPrefix(string(upid), `"UPID:pve1:`) {
				t.Fatalf("POST over ssh: %s %v", upid, err)
			}
		})
	}
	s.mu.Lock()
	first := s.commands[0]
	s.mu.Unlock()
	if first != "pvesh get /nodes/pve1/qemu/100/config --output-format json" {
		t.Fatalf("command line = %q", first)
	}
	// Host key checking.
	bad := proxmoxsdk.SSHConfig{Addr: s.addr, User: "root", Password: "secret", HostKeyFingerprint: "SHA256:AAAA"}
	tr, _ := proxmoxsdk.NewSSHTransport(bad)
	if _, err := newClient(t, proxmoxsdk.WithTransport(tr), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry())).CallRaw(ctx, "GET", "/version", nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong host key accepted: %v", err)
	}
	if _, err := proxmoxsdk.NewSSHTransport(proxmoxsdk.SSHConfig{Addr: s.addr, User: "root", Password: "x"}); err == nil {
		t.Fatal("transport without host key checking accepted")
	}
	wrongPW := proxmoxsdk.SSHConfig{Addr: s.addr, User: "root", Password: "nope", HostKey: s.hostKey}
	tr, _ = proxmoxsdk.NewSSHTransport(wrongPW)
	if _, err := newClient(t, proxmoxsdk.WithTransport(tr), proxmoxsdk.WithRetry(proxmoxsdk.NoRetry())).CallRaw(ctx, "GET", "/version", nil); err == nil {
		t.Fatal("wrong password accepted")
	}
}

func TestPveshTransport(t *testing.T) {
	t.Setenv("PROXMOXSDK_FAKE_PVESH", "1")
	px := newClient(t, proxmoxsdk.WithTransport(&proxmoxsdk.PveshTransport{Binary: os.Args[0]}))
	ctx := ctxT(t)
	var v struct {
		Version string `json:"version"`
	}
	if err := px.Call(ctx, "GET", "/version", nil, &v); err != nil || v.Version != "8.1.4" {
		t.Fatalf("version = %+v, %v", v, err)
	}
	if _, err := px.CallRaw(ctx, "GET", "/nodes/pve1/lxc/100/config", nil); !errors.Is(err, proxmoxsdk.ErrNotFound) {
		t.Fatalf("missing CT: %v", err)
	}
	missing := newClient(t, proxmoxsdk.WithTransport(&proxmoxsdk.PveshTransport{Binary: filepath.Join(t.TempDir(), "pvesh")}))
	var ce *proxmoxsdk.CommandError
	if _, err := missing.CallRaw(ctx, "GET", "/version", nil); !errors.As(err, &ce) {
		t.Fatalf("missing binary: %v", err)
	}
}

func TestPveshArgs(t *testing.T) {
	args, err := proxmoxsdk.PveshArgs(&proxmoxsdk.Request{Method: "POST", Path: proxmoxsdk.JoinPath("nodes", "pve1", "qemu", "100", "snapshot"),
		Params: map[string][]string{"snapname": {"pre"}, "vmstate": {"1"}}})
	if err != nil || strings.Join(args, " ") != "create /nodes/pve1/qemu/100/snapshot --output-format json --snapname pre --vmstate 1" {
		t.Fatalf("args = %q %v", args, err)
	}
	if _, err := proxmoxsdk.PveshArgs(&proxmoxsdk.Request{Method: "GET", Path: "/x", Params: map[string][]string{"--evil": {"1"}}}); err == nil {
		t.Fatal("flag injection accepted")
	}
	if _, err := proxmoxsdk.PveshArgs(&proxmoxsdk.Request{Method: "PATCH", Path: "/x"}); err == nil {
		t.Fatal("PATCH accepted")
	}
}
