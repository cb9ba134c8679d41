package netboxsdk

import (
	"context"
	"testing"
	"time"
)

func TestAttemptTimeoutForBulk(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		n    int
		base time.Duration
		want time.Duration
	}{
		{0, time.Minute, time.Minute},
		{100, time.Minute, time.Minute},
		{101, time.Minute, 2 * time.Minute},
		{500, time.Minute, 5 * time.Minute},
		{500, 0, 0},
	} {
		got := attemptTimeoutFor(withBulkItems(ctx, c.n), c.base)
		if got != c.want {
			t.Errorf("n=%d base=%s: %s, want %s", c.n, c.base, got, c.want)
		}
	}
	if got := attemptTimeoutFor(ctx, time.Minute); got != time.Minute {
		t.Errorf("no bulk: %s", got)
	}
}
