package sync

import (
	"strings"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// PageSize is the page size of the engine's NetBox lists (NetBox's default
// MAX_PAGE_SIZE).
const PageSize = 1000

// MinRequests is the least number of NetBox requests that could produce a
// stage result with batches of batch writes (<= 0: the default 50): per
// NetBox object type in res.Counts, one paged read (one request per
// PageSize existing objects, at least one) plus one request per batch of
// creates, of updates (orphan marks included) and of deletes. Benchmarks
// divide the real request count (res.Requests) by it.
func MinRequests(res *proxbox.StageResult, batch int) int {
	if res == nil {
		return 0
	}
	return minRequests([]*proxbox.StageResult{res}, batch)
}

// minRequests is MinRequests over several stages sharing one read snapshot
// (a full update reads each object type once).
func minRequests(stages []*proxbox.StageResult, batch int) int {
	if batch <= 0 {
		batch = 50
	}
	existing := map[string]int{}
	writes := 0
	for _, s := range stages {
		if s == nil {
			continue
		}
		counts := s.Counts
		if s.Objects != nil {
			counts = s.Objects.Actions() // every write, not each object once
		}
		for typ, c := range counts {
			if c == nil || strings.HasPrefix(typ, "proxmox.") {
				continue
			}
			existing[typ] = max(existing[typ], c.Unchanged+c.Updated+c.Deleted)
			writes += ceilDiv(c.Created, batch) + ceilDiv(c.Updated, batch) + ceilDiv(c.Deleted, batch)
		}
	}
	reads := 0
	for _, n := range existing {
		reads += max(1, ceilDiv(n, PageSize))
	}
	return reads + writes
}

func ceilDiv(n, d int) int {
	if n <= 0 {
		return 0
	}
	return (n + d - 1) / d
}
