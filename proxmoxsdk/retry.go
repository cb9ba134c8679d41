package proxmoxsdk

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// RetryPolicy controls retries of failed calls.
//
// Idempotent calls (GET, HEAD) are retried on connection errors (refused,
// reset, a reply cut short), on a per-request timeout while the caller's
// context is still live, and on temporary answers: 408, 429 and 5xx other
// than 501 and PVE's definitive ones ("does not exist", a guest or its agent
// not running; see APIError.Temporary). A 429 is retried for every method:
// the server refused the request without processing it.
//
// How long each wait is, and what a Retry-After header does, is one rule
// shared with netboxsdk and stated once: README.md at the workspace root, section
// "Retries: one rule for both SDKs". Both run their retries in
// cenkalti/backoff/v5's Retry.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries.
	MaxAttempts int
	// MinBackoff is the first backoff interval (0: 100 ms), MaxBackoff the
	// cap of the interval before jitter.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for (0: 30 s).
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy: 5 attempts, backoff intervals from 200 ms doubling up
// to 5 s with ±50% jitter, Retry-After up to 30 s. Reads are cheap for PVE
// and a sync plans from them, so a read is worth a few retries before the
// caller has to treat its object as not read.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxRetryAfter: 30 * time.Second}
}

// NoRetry disables retries.
func NoRetry() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

// backOff is the exponential backoff of one call's retries (see RetryPolicy).
func (p RetryPolicy) backOff() *backoff.ExponentialBackOff {
	lo, hi := p.MinBackoff, p.MaxBackoff
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	return &backoff.ExponentialBackOff{InitialInterval: lo, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: hi}
}

// retryErr is what a failed attempt reports to backoff.Retry: err joined
// with a RetryAfterError when the answer names its wait (header h), so Retry
// waits exactly that long, capped by MaxRetryAfter.
func (p RetryPolicy) retryErr(err error, h http.Header) error {
	ra, ok := retryAfter(h, time.Now())
	if !ok {
		return err
	}
	limit := p.MaxRetryAfter
	if limit <= 0 {
		limit = 30 * time.Second
	}
	return errors.Join(err, &backoff.RetryAfterError{Duration: min(ra, limit)})
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// retryStatus reports whether an answer with this status may be retried for
// method (Temporary decides on the message).
func retryStatus(method string, status int) bool {
	if status == http.StatusTooManyRequests {
		return true // refused unprocessed: safe for every method
	}
	return isIdempotent(method) && (status == http.StatusRequestTimeout || status >= 500)
}

// retryableErr reports whether a transport error of an idempotent call may
// go away on a retry. A timeout of the attempt itself (http.Client.Timeout, a
// dial or TLS handshake timeout) is retried while the caller's context is
// live; the caller's own cancellation or deadline never is.
func retryableErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	if isCertError(err) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Temporary()
	}
	var ce *CommandError
	return !errors.As(err, &ce)
}
