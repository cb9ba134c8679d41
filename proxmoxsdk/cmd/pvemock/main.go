// Command pvemock serves an in-memory Proxmox VE cluster over HTTPS.
//
//	pvemock serve --listen 127.0.0.1:8006 --scenario s100|s1000|s5000|FILE [--qemu N --lxc N --nodes N] [--seed N]
//	    [--version 8.1.4] [--ticket-lifetime 2h] --token-file FILE
//
// It prints the URL, the API token id and the certificate fingerprint, and
// writes the token secret to --token-file (mode 0600). Users root@pam and
// tfa@pve (TOTP) log in with password pvemock.DefaultPassword.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pvemock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "pvemock:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, when not nil, receives the base URL
// once the listener is up.
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	if len(args) == 0 || args[0] != "serve" {
		return errors.New("usage: pvemock serve --listen 127.0.0.1:8006 --scenario s100|s1000|s5000|FILE [--qemu N --lxc N --nodes N --seed N --version V --ticket-lifetime D] --token-file FILE")
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8006", "listen address")
	scen := fs.String("scenario", "s100", "s100 | s1000 | s5000 | a cluster file (JSON, or YAML when it ends in .yaml/.yml; see pvemock.ClusterFile)")
	qemu := fs.Int("qemu", -1, "override the number of QEMU guests")
	lxc := fs.Int("lxc", -1, "override the number of LXC guests")
	nodes := fs.Int("nodes", -1, "override the number of nodes")
	seed := fs.Int64("seed", 0, "override the seed")
	version := fs.String("version", "", "PVE version reported (default 8.1.4)")
	tokenFile := fs.String("token-file", "", "file receiving the API token secret")
	plain := fs.Bool("http", false, "serve plain HTTP (tests only)")
	lifetime := fs.Duration("ticket-lifetime", 2*time.Hour, "lifetime of login tickets (PVE: 2h)")
	fs.SetOutput(out)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	sc, err := pvemock.ScenarioFor(*scen)
	if err != nil {
		return err
	}
	if sc.Cluster != nil && (*qemu >= 0 || *lxc >= 0 || *nodes > 0) {
		return errors.New("--qemu, --lxc and --nodes do not apply to a cluster file")
	}
	if *qemu >= 0 {
		sc.QEMU = *qemu
	}
	if *lxc >= 0 {
		sc.LXC = *lxc
	}
	if *nodes > 0 {
		sc.Nodes = *nodes
	}
	if *seed != 0 {
		sc.Seed = *seed
	}
	if *version != "" || sc.Cluster == nil {
		sc.Version = *version
	}
	sc.TicketLifetime = *lifetime
	m := pvemock.New(sc)
	id, secret := m.Token()
	if *tokenFile != "" {
		if err := os.WriteFile(*tokenFile, []byte(secret+"\n"), 0o600); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	scheme := "http"
	fp := ""
	if !*plain {
		cert, err := selfSigned(ln.Addr())
		if err != nil {
			return err
		}
		fp = proxmoxsdk.Fingerprint(cert.Certificate[0])
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	fmt.Fprintf(out, "URL=%s\nTOKEN_ID=%s\nFINGERPRINT=%s\nSCENARIO=%s nodes=%d qemu=%d lxc=%d\n", base, id, fp, *scen, m.Scenario().Nodes, m.Scenario().QEMU, m.Scenario().LXC)
	if *tokenFile == "" {
		fmt.Fprintln(out, "TOKEN_SECRET="+secret)
	}
	errc := make(chan error, 1)
	go func() {
		if *plain {
			errc <- srv.Serve(ln)
		} else {
			errc <- srv.ServeTLS(ln, "", "")
		}
	}()
	if ready != nil {
		ready <- base
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// selfSigned makes an ECDSA certificate for the listen address, like the
// self-signed certificate of a fresh PVE node.
func selfSigned(addr net.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "pvemock", Organization: []string{"PVE Cluster Node"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "pvemock"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ta.IP)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
