package netboxsdk

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client. Options are applied in order by New.
type Option func(*config) error

// PaginationMode selects how List walks a collection.
type PaginationMode int

const (
	// PaginationAuto uses cursor pagination (?start=) on NetBox 4.6 and later when the
	// filter has no ordering or offset, offset pagination otherwise.
	PaginationAuto PaginationMode = iota
	// PaginationOffset always uses limit/offset pagination.
	PaginationOffset
	// PaginationCursor always uses cursor pagination (NetBox >= 4.6 only).
	PaginationCursor
)

type config struct {
	token          string
	tokenSet       bool
	httpClient     *http.Client
	timeout        time.Duration
	userAgent      string
	logger         *slog.Logger
	maxConcurrency int
	retry          RetryPolicy
	cacheTTL       time.Duration
	caPEM          []byte
	skipVerify     bool
	tlsSet         bool
	pageSize       int
	pagination     PaginationMode
	strictFilters  bool
	headers        http.Header
	mode           string // "" (NETBOX_API_MODE), ModeReal or ModeMock
	mockData       string
}

// DefaultPageSize is the page size List asks for: NetBox's default MAX_PAGE_SIZE.
// A server with a smaller MAX_PAGE_SIZE returns smaller pages; List follows them.
const DefaultPageSize = 1000

// WithToken sets the API token. A token of the form nbt_<key>.<secret> is a v2 token
// and is sent as "Authorization: Bearer <token>"; anything else is a v1 token sent
// as "Authorization: Token <token>". Without this option New reads NETBOX_TOKEN.
func WithToken(t string) Option {
	return func(c *config) error { c.token, c.tokenSet = t, true; return nil }
}

// WithTokenV2 sets a v2 token from its key and secret; the nbt_ prefix is added
// to the key when missing.
func WithTokenV2(key, secret string) Option {
	return func(c *config) error {
		if key == "" || secret == "" {
			return errors.New("netboxsdk: v2 token needs key and secret")
		}
		if len(key) < 4 || key[:4] != v2Prefix {
			key = v2Prefix + key
		}
		c.token, c.tokenSet = key+"."+secret, true
		return nil
	}
}

// WithHTTPClient uses hc for every request. WithTLS and WithTimeout still apply: they
// are set on a shallow copy of hc (and of its *http.Transport, if it has one).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("netboxsdk: nil http client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (not the whole retry sequence; use the
// context for that). Default 60s; 0 disables the per-attempt timeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("netboxsdk: negative timeout")
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(s string) Option {
	return func(c *config) error { c.userAgent = s; return nil }
}

// WithLogger logs every request at Debug level (method, path, status, duration,
// attempt) and retries at Warn level. Tokens and bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithMaxConcurrency caps the number of requests in flight on this client
// (0 = unlimited, the default). Retried requests release their slot while they wait.
func WithMaxConcurrency(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return errors.New("netboxsdk: negative concurrency")
		}
		c.maxConcurrency = n
		return nil
	}
}

// WithRetry replaces the retry policy (default DefaultRetryPolicy()).
// Use RetryPolicy{} (MaxAttempts 0 or 1) to disable retries.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error { c.retry = p; return nil }
}

// WithCache enables an in-memory cache of GET responses for ttl. A successful
// write (POST, PUT, PATCH, DELETE) to a collection drops the cached entries of that
// collection. ttl <= 0 disables the cache (the default).
func WithCache(ttl time.Duration) Option {
	return func(c *config) error { c.cacheTTL = ttl; return nil }
}

// WithTLS trusts the PEM CA bundle caPEM (in addition to nothing else: only these
// roots) when non-empty, and disables certificate verification when skipVerify.
func WithTLS(caPEM []byte, skipVerify bool) Option {
	return func(c *config) error {
		if len(caPEM) > 0 {
			p := x509.NewCertPool()
			if !p.AppendCertsFromPEM(caPEM) {
				return errors.New("netboxsdk: no certificate found in CA bundle")
			}
		}
		c.caPEM, c.skipVerify, c.tlsSet = caPEM, skipVerify, true
		return nil
	}
}

// WithPageSize sets the page size List asks for (default DefaultPageSize).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("netboxsdk: page size must be positive")
		}
		c.pageSize = n
		return nil
	}
}

// WithPagination selects offset or cursor pagination (default PaginationAuto).
func WithPagination(m PaginationMode) Option {
	return func(c *config) error { c.pagination = m; return nil }
}

// WithStrictFilters makes every filter strict (see Filter.Strict).
func WithStrictFilters(on bool) Option {
	return func(c *config) error { c.strictFilters = on; return nil }
}

// WithHeader adds a header to every request (for example X-NetBox-Branch).
// The Authorization header cannot be set this way.
func WithHeader(key, value string) Option {
	return func(c *config) error {
		if http.CanonicalHeaderKey(key) == "Authorization" {
			return errors.New("netboxsdk: use WithToken for Authorization")
		}
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers.Add(key, value)
		return nil
	}
}

func (c *config) buildHTTPClient() (*http.Client, error) {
	var hc http.Client
	if c.httpClient != nil {
		hc = *c.httpClient
	}
	if c.tlsSet {
		var tr *http.Transport
		switch t := hc.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return nil, errors.New("netboxsdk: WithTLS needs an *http.Transport")
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if tr.TLSClientConfig != nil {
			tc = tr.TLSClientConfig.Clone()
		}
		if len(c.caPEM) > 0 {
			p := x509.NewCertPool()
			p.AppendCertsFromPEM(c.caPEM)
			tc.RootCAs = p
		}
		tc.InsecureSkipVerify = c.skipVerify //nolint:gosec // explicit caller choice
		tr.TLSClientConfig = tc
		hc.Transport = tr
	} else if hc.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		hc.Transport = tr
	}
	return &hc, nil
}
