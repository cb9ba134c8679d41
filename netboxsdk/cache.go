package netboxsdk

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// getCache is a TTL cache of successful GET responses keyed by path and query.
type getCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cacheEntry
	max     int
}

type cacheEntry struct {
	body    []byte
	header  http.Header
	status  int
	expires time.Time
	coll    string
}

func newGetCache(ttl time.Duration) *getCache {
	if ttl <= 0 {
		return nil
	}
	return &getCache{ttl: ttl, entries: map[string]cacheEntry{}, max: 4096}
}

func (c *getCache) get(key string) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return e, false
	}
	if time.Now().After(e.expires) {
		delete(c.entries, key)
		return e, false
	}
	return e, true
}

func (c *getCache) put(key, path string, status int, h http.Header, body []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max { // still full: drop an arbitrary half
			n := 0
			for k := range c.entries {
				delete(c.entries, k)
				if n++; n >= c.max/2 {
					break
				}
			}
		}
	}
	c.entries[key] = cacheEntry{body: body, header: h, status: status, expires: now.Add(c.ttl), coll: collectionOf(path)}
}

// invalidate drops every entry of the collection that path belongs to.
func (c *getCache) invalidate(path string) {
	if c == nil {
		return
	}
	coll := collectionOf(path)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.coll == coll {
			delete(c.entries, k)
		}
	}
}

func (c *getCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// collectionOf maps an API path to its collection path by cutting at the first
// numeric segment: /api/dcim/devices/12/trace/ -> /api/dcim/devices/,
// /api/plugins/proxbox/endpoints/proxmox/3/ -> /api/plugins/proxbox/endpoints/proxmox/.
func collectionOf(path string) string {
	i := strings.Index(path, "/api/")
	if i < 0 {
		return path
	}
	segs := strings.Split(strings.Trim(path[i+len("/api/"):], "/"), "/")
	for j, s := range segs {
		if j >= 1 && s != "" && strings.Trim(s, "0123456789") == "" {
			segs = segs[:j]
			break
		}
	}
	return path[:i] + "/api/" + strings.Join(segs, "/") + "/"
}
