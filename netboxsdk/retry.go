package netboxsdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// RetryPolicy decides which failed requests are retried and how long to wait.
//
// Failures the server cannot have processed are retried for every method: a 429
// response (when 429 is in Statuses) and a connection error before any of the
// request was written (dial, TLS handshake, proxy; when RetryConnErrors is set).
// Other failures (5xx, a reset or timeout after the request was sent) are
// ambiguous: they are retried only for idempotent methods (GET, HEAD, OPTIONS,
// PUT, DELETE) unless RetryNonIdempotent is set, because a POST or PATCH that
// timed out may have been applied.
//
// How long each wait is, and what a Retry-After header does, is one rule
// shared with proxmoxsdk and stated once: README.md at the workspace root, section
// "Retries: one rule for both SDKs". Both run their retries in
// cenkalti/backoff/v5's Retry.
type RetryPolicy struct {
	MaxAttempts        int           // total attempts, including the first; <= 1 disables retries
	MinBackoff         time.Duration // first backoff interval (default 250ms)
	MaxBackoff         time.Duration // cap of the backoff interval before jitter (default 30s)
	MaxRetryAfter      time.Duration // cap of a Retry-After wait (default 30s)
	Statuses           []int         // statuses to retry (default 429, 502, 503, 504)
	RetryNonIdempotent bool          // also retry POST and PATCH on ambiguous failures
	RetryConnErrors    bool          // retry connection errors (refused, reset, EOF, timeouts)
}

// DefaultRetryPolicy: 4 attempts, backoff intervals from 250ms doubling up to
// 30s with ±50% jitter, Retry-After up to 30s, statuses 429/502/503/504 and
// connection errors; 429 and unsent requests for every method, the rest for
// idempotent methods only.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:     4,
		MinBackoff:      250 * time.Millisecond,
		MaxBackoff:      30 * time.Second,
		MaxRetryAfter:   30 * time.Second,
		Statuses:        []int{429, 502, 503, 504},
		RetryConnErrors: true,
	}
}

func (p RetryPolicy) normalized() RetryPolicy {
	if p.MinBackoff <= 0 {
		p.MinBackoff = 250 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 30 * time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	if p.Statuses == nil {
		p.Statuses = []int{429, 502, 503, 504}
	}
	return p
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// shouldRetry reports whether attempt (1-based) may be followed by another.
func (p RetryPolicy) shouldRetry(method string, attempt, status int, err error) bool {
	if attempt >= p.MaxAttempts {
		return false
	}
	if err != nil {
		if !p.RetryConnErrors || !isConnError(err) {
			return false
		}
		return notSent(err) || idempotent(method) || p.RetryNonIdempotent
	}
	if !slices.Contains(p.Statuses, status) {
		return false
	}
	// 429: the server refused the request without processing it.
	return status == http.StatusTooManyRequests || idempotent(method) || p.RetryNonIdempotent
}

// notSent reports whether err happened before any of the request was written,
// so the server cannot have seen it.
func notSent(err error) bool {
	var te *TransportError
	if errors.As(err, &te) && te.NotSent {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// backOff is the exponential backoff of one request's retries (see RetryPolicy).
func (p RetryPolicy) backOff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: p.MinBackoff, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: p.MaxBackoff}
}

// retryErr is what a failed attempt reports to backoff.Retry: err (or the
// status when the answer carried no error) joined with a RetryAfterError when
// the answer names its wait, so Retry waits exactly that long.
func (p RetryPolicy) retryErr(status int, h http.Header, err error) error {
	if err == nil {
		err = fmt.Errorf("netbox: HTTP %d", status)
	}
	if d, ok := retryAfter(h); ok {
		return errors.Join(err, &backoff.RetryAfterError{Duration: min(d, p.MaxRetryAfter)})
	}
	return err
}

func retryAfter(h http.Header) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func isConnError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
