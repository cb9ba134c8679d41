package proxmoxsdk

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrFingerprintMismatch: the server certificate does not match the pinned
// SHA-256 fingerprint.
var ErrFingerprintMismatch = errors.New("proxmox: server certificate fingerprint mismatch")

// HTTPSOption configures the HTTPS transport.
type HTTPSOption func(*httpsConfig) error

// TLSOption is the name the contract uses for HTTPSOption.
type TLSOption = HTTPSOption

type httpsConfig struct {
	caPEM       []byte
	fingerprint []byte
	insecure    bool
	timeout     time.Duration
	client      *http.Client
	userAgent   string
	maxConns    int
}

// WithCABundle verifies the server against the PEM CA bundle instead of the
// system roots.
func WithCABundle(pem []byte) HTTPSOption {
	return func(c *httpsConfig) error {
		if len(pem) == 0 {
			return errors.New("proxmox: empty CA bundle")
		}
		c.caPEM = pem
		return nil
	}
}

// WithFingerprint pins the server certificate by its SHA-256 fingerprint
// ("AB:CD:…" as PVE shows it, or plain hex). With a pin the chain is not
// checked: the pin alone decides, as PVE clients do for self-signed hosts.
func WithFingerprint(sha256Hex string) HTTPSOption {
	return func(c *httpsConfig) error {
		fp, err := ParseFingerprint(sha256Hex)
		if err != nil {
			return err
		}
		c.fingerprint = fp
		return nil
	}
}

// WithInsecureSkipVerify disables certificate verification (tests and
// labs only).
func WithInsecureSkipVerify() HTTPSOption {
	return func(c *httpsConfig) error { c.insecure = true; return nil }
}

// WithTimeout sets the per-request timeout (default 120 s; listing the
// guests of a busy node can take longer than the 5 s other clients use).
func WithTimeout(d time.Duration) HTTPSOption {
	return func(c *httpsConfig) error { c.timeout = d; return nil }
}

// WithHTTPClient uses a caller-built http.Client (TLS options are then the
// caller's business).
func WithHTTPClient(hc *http.Client) HTTPSOption {
	return func(c *httpsConfig) error { c.client = hc; return nil }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) HTTPSOption {
	return func(c *httpsConfig) error { c.userAgent = ua; return nil }
}

// WithMaxConns sets the connection pool size per host (default 16).
func WithMaxConns(n int) HTTPSOption {
	return func(c *httpsConfig) error { c.maxConns = n; return nil }
}

// ParseFingerprint decodes a SHA-256 fingerprint written as hex with or
// without colons.
func ParseFingerprint(s string) ([]byte, error) {
	h := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("proxmox: fingerprint %q: want 32 hex bytes", s)
	}
	return b, nil
}

// Fingerprint formats the SHA-256 fingerprint of a DER certificate as PVE
// shows it (AB:CD:…).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// HTTPSTransport talks to pveproxy over HTTPS.
type HTTPSTransport struct {
	base      string // https://host:8006/api2/json
	client    *http.Client
	userAgent string
}

// NewHTTPSTransport builds the HTTPS transport for baseURL.
func NewHTTPSTransport(baseURL string, opts ...HTTPSOption) (*HTTPSTransport, error) {
	cfg := httpsConfig{timeout: 120 * time.Second, userAgent: "proxbox-go/proxmoxsdk", maxConns: 16}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxmox: base URL %q: want https://host:8006", baseURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("proxmox: base URL %q: scheme must be https", baseURL)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api2/json") {
		p += "/api2/json"
	}
	u.Path, u.RawQuery, u.Fragment = p, "", ""
	t := &HTTPSTransport{base: u.String(), client: cfg.client, userAgent: cfg.userAgent}
	if t.client == nil {
		tlsCfg, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tlsCfg,
			TLSHandshakeTimeout:   10 * time.Second,
			MaxIdleConns:          cfg.maxConns * 4,
			MaxIdleConnsPerHost:   cfg.maxConns,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		t.client = &http.Client{Transport: tr, Timeout: cfg.timeout}
	}
	return t, nil
}

func (c *httpsConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case c.fingerprint != nil:
		pin := c.fingerprint
		tc.InsecureSkipVerify = true // the pin below replaces chain verification
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrFingerprintMismatch
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(sum[:], pin) != 1 {
				return fmt.Errorf("%w: got %s", ErrFingerprintMismatch, Fingerprint(cs.PeerCertificates[0].Raw))
			}
			return nil
		}
	case c.insecure:
		tc.InsecureSkipVerify = true
	case c.caPEM != nil:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.caPEM) {
			return nil, errors.New("proxmox: CA bundle holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// RoundTrip sends req: GET and DELETE parameters in the query string,
// POST and PUT parameters form-encoded in the body.
func (t *HTTPSTransport) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	target := t.base + req.Path
	var body io.Reader
	enc := req.Params.Encode()
	form := req.Method == http.MethodPost || req.Method == http.MethodPut
	if form {
		body = strings.NewReader(enc)
	} else if enc != "" {
		target += "?" + enc
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("proxmox: %s %s: %w", req.Method, req.Path, err)
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	if form {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr.Header.Set("Accept", "application/json")
	if t.userAgent != "" {
		hr.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("proxmox: %s %s: %w", req.Method, req.Path, redactURLError(err))
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		return nil, fmt.Errorf("proxmox: %s %s: read body: %w", req.Method, req.Path, err)
	}
	status := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	return &Response{StatusCode: resp.StatusCode, Status: status, Body: b, Header: resp.Header}, nil
}

// readBody reads the whole body, presizing the buffer from Content-Length.
func readBody(resp *http.Response) ([]byte, error) {
	const limit = 1 << 30
	if n := resp.ContentLength; n > 0 && n < limit {
		b := make([]byte, n)
		_, err := io.ReadFull(resp.Body, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// redactURLError drops the query string (which may carry parameters) from
// *url.Error messages.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			ue.URL = ue.URL[:i]
		}
	}
	return err
}

// isCertError reports TLS verification failures, which retrying cannot fix.
func isCertError(err error) bool {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cie x509.CertificateInvalidError
	return errors.Is(err, ErrFingerprintMismatch) || errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &cie)
}
