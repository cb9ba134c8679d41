package proxmoxsdk

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy controls retries of idempotent calls (GET) on connection
// errors and 5xx answers other than "does not exist" and 501.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the full-jitter exponential backoff.
	MinBackoff, MaxBackoff time.Duration
}

// DefaultRetryPolicy: 3 attempts, 200 ms to 5 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// NoRetry disables retries.
func NoRetry() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

// backoff returns a full-jitter delay for the given retry (1-based).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	lo, hi := p.MinBackoff, p.MaxBackoff
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	return lo/2 + rand.N(d-lo/2+1)
}

func retryableErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
