// Package settings reads the plugin's tunables from NetBox
// (GET /api/plugins/proxbox/settings/, results[0]) with a TTL and applies
// proxboxd's precedence:
//
//	command-line flags  >  PROXBOX_* environment  >  plugin settings  >  defaults
//
// Flags and environment are the operator's explicit, per-process choice and
// so win over the shared plugin row; the plugin row wins over built-in
// defaults. (The Python backend inverted this for several keys and made their
// env vars dead, proxbox-api-contract §1.3 QUIRK; proxboxd does not.) A
// failed fetch keeps the last good values, or the defaults before the first
// success, and is retried after RetryAfter rather than on every call.
package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Settings are the backend-relevant fields of ProxboxPluginSettings.
type Settings struct {
	UseGuestAgentInterfaceName bool    `json:"use_guest_agent_interface_name"`
	FetchMaxConcurrency        int     `json:"proxbox_fetch_max_concurrency"`
	IgnoreIPv6LinkLocal        bool    `json:"ignore_ipv6_link_local_addresses"`
	PrimaryIPPreference        string  `json:"primary_ip_preference"`
	NetBoxMaxConcurrent        int     `json:"netbox_max_concurrent"`
	NetBoxMaxRetries           int     `json:"netbox_max_retries"`
	NetBoxRetryDelay           float64 `json:"netbox_retry_delay"`
	NetBoxGetCacheTTL          float64 `json:"netbox_get_cache_ttl"`
	BulkBatchSize              int     `json:"bulk_batch_size"`
	BulkBatchDelayMS           int     `json:"bulk_batch_delay_ms"`
	VMSyncMaxConcurrency       int     `json:"vm_sync_max_concurrency"`
	CustomFieldsRequestDelay   float64 `json:"custom_fields_request_delay"`
	BackendLogFilePath         string  `json:"backend_log_file_path"`
	SSRFProtectionEnabled      bool    `json:"ssrf_protection_enabled"`
	AllowPrivateIPs            bool    `json:"allow_private_ips"`
	AdditionalAllowedIPRanges  string  `json:"additional_allowed_ip_ranges"`
	ExplicitlyBlockedIPRanges  string  `json:"explicitly_blocked_ip_ranges"`
	// ClusterVRFs is proxboxd's own (the plugin has no such field): which
	// NetBox VRF holds each Proxmox cluster's IP addresses, as
	// "cluster=VRF name or id" entries separated by commas, semicolons or newlines
	// (PROXBOX_CLUSTER_VRFS, --setting cluster_vrfs=…). Clusters that reuse
	// address ranges need one each: NetBox refuses duplicate addresses in
	// the global table. See ParseClusterVRFs.
	ClusterVRFs string `json:"cluster_vrfs"`
	// EncryptionKey is deliberately not read: the key that protects the
	// NetBox token cannot come from NetBox (contract §5.4 QUIRK).
}

// Defaults are the plugin model's defaults (plugin-contract §6).
func Defaults() Settings {
	return Settings{
		UseGuestAgentInterfaceName: true,
		FetchMaxConcurrency:        8,
		IgnoreIPv6LinkLocal:        true,
		PrimaryIPPreference:        "ipv4",
		NetBoxMaxConcurrent:        1,
		NetBoxMaxRetries:           5,
		NetBoxRetryDelay:           2,
		NetBoxGetCacheTTL:          60,
		BulkBatchSize:              50,
		BulkBatchDelayMS:           500,
		VMSyncMaxConcurrency:       4,
		BackendLogFilePath:         "/var/log/proxbox.log",
		SSRFProtectionEnabled:      true,
		AllowPrivateIPs:            true,
	}
}

// AllowedRanges parses AdditionalAllowedIPRanges (newline or comma separated
// CIDRs or addresses); bad entries are skipped.
func (s Settings) AllowedRanges() []netip.Prefix { return parseRanges(s.AdditionalAllowedIPRanges) }

// BlockedRanges parses ExplicitlyBlockedIPRanges.
func (s Settings) BlockedRanges() []netip.Prefix { return parseRanges(s.ExplicitlyBlockedIPRanges) }

func parseRanges(v string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// Override holds values set by flags or env; nil fields are unset.
type Override map[string]any

// FromEnv reads PROXBOX_* variables that map to settings keys:
// PROXBOX_FETCH_MAX_CONCURRENCY, PROXBOX_NETBOX_MAX_CONCURRENT,
// PROXBOX_NETBOX_MAX_RETRIES, PROXBOX_NETBOX_RETRY_DELAY,
// PROXBOX_NETBOX_GET_CACHE_TTL, PROXBOX_BULK_BATCH_SIZE,
// PROXBOX_BULK_BATCH_DELAY_MS, PROXBOX_VM_SYNC_MAX_CONCURRENCY,
// PROXBOX_CUSTOM_FIELDS_REQUEST_DELAY (proxbox-api-contract §1.2 names), and
// proxboxd's own PROXBOX_CLUSTER_VRFS.
func FromEnv(getenv func(string) string) Override {
	if getenv == nil {
		getenv = os.Getenv
	}
	o := Override{}
	for env, key := range envKeys {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			o[key] = v
		}
	}
	return o
}

var envKeys = map[string]string{
	"PROXBOX_FETCH_MAX_CONCURRENCY":       "proxbox_fetch_max_concurrency",
	"PROXBOX_NETBOX_MAX_CONCURRENT":       "netbox_max_concurrent",
	"PROXBOX_NETBOX_MAX_RETRIES":          "netbox_max_retries",
	"PROXBOX_NETBOX_RETRY_DELAY":          "netbox_retry_delay",
	"PROXBOX_NETBOX_GET_CACHE_TTL":        "netbox_get_cache_ttl",
	"PROXBOX_BULK_BATCH_SIZE":             "bulk_batch_size",
	"PROXBOX_BULK_BATCH_DELAY_MS":         "bulk_batch_delay_ms",
	"PROXBOX_VM_SYNC_MAX_CONCURRENCY":     "vm_sync_max_concurrency",
	"PROXBOX_CUSTOM_FIELDS_REQUEST_DELAY": "custom_fields_request_delay",
	"PROXBOX_CLUSTER_VRFS":                "cluster_vrfs",
}

// apply merges raw key/value pairs (JSON values or strings) into s; values of
// the wrong type are ignored.
func apply(s *Settings, raw map[string]any) {
	b, _ := json.Marshal(s)
	var cur map[string]any
	_ = json.Unmarshal(b, &cur)
	for k, v := range raw {
		old, ok := cur[k]
		if !ok || v == nil {
			continue
		}
		if str, isStr := v.(string); isStr {
			switch old.(type) {
			case bool:
				if bv, err := parseBool(str); err == nil {
					v = bv
				} else {
					continue
				}
			case float64:
				f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
				if err != nil {
					continue
				}
				v = f
			}
		}
		// type must match the current JSON kind
		switch old.(type) {
		case bool:
			if _, ok := v.(bool); !ok {
				continue
			}
		case float64:
			f, ok := v.(float64)
			if !ok {
				continue
			}
			if f < 0 {
				continue
			}
		case string:
			if _, ok := v.(string); !ok {
				continue
			}
		}
		cur[k] = v
	}
	b, _ = json.Marshal(cur)
	next := *s
	if err := json.Unmarshal(b, &next); err == nil {
		*s = next
	}
	if s.PrimaryIPPreference != "ipv6" {
		s.PrimaryIPPreference = "ipv4"
	}
	if s.FetchMaxConcurrency < 1 {
		s.FetchMaxConcurrency = 1
	}
	if s.NetBoxMaxConcurrent < 1 {
		s.NetBoxMaxConcurrent = 1
	}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "t", "y":
		return true, nil
	case "0", "false", "no", "off", "f", "n":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// Fetcher reads the plugin settings object (results[0] or a bare object).
type Fetcher func(ctx context.Context) (map[string]any, error)

// Provider caches the merged settings.
type Provider struct {
	fetch      Fetcher
	ttl        time.Duration
	retryAfter time.Duration
	env, flags Override
	log        *slog.Logger

	mu      sync.Mutex
	cur     Settings
	fetched time.Time // last attempt
	source  string    // "defaults" or "netbox"
	lastErr error
	// refreshing is set while one caller fetches; others use cur meanwhile.
	refreshing bool
}

// NewProvider builds a provider. fetch may be nil (defaults only).
func NewProvider(fetch Fetcher, ttl time.Duration, env, flags Override, log *slog.Logger) *Provider {
	if ttl <= 0 {
		ttl = 300 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Provider{fetch: fetch, ttl: ttl, retryAfter: 30 * time.Second, env: env, flags: flags, log: log, source: "defaults"}
	p.cur = p.merge(nil)
	return p
}

func (p *Provider) merge(plugin map[string]any) Settings {
	s := Defaults()
	if plugin != nil {
		apply(&s, plugin)
	}
	apply(&s, p.env)
	apply(&s, p.flags)
	return s
}

// Get returns the effective settings, refreshing from NetBox when the TTL
// expired. It never fails. The fetch runs without the lock held: opening the
// NetBox client consults these settings (the SSRF policy), so a fetch calls
// Get again; such a call, and any concurrent one, gets the current values
// instead of waiting for the refresh.
func (p *Provider) Get(ctx context.Context) Settings {
	p.mu.Lock()
	wait := p.ttl
	if p.lastErr != nil {
		wait = p.retryAfter
	}
	if p.fetch == nil || p.refreshing || (!p.fetched.IsZero() && time.Since(p.fetched) < wait) {
		cur := p.cur
		p.mu.Unlock()
		return cur
	}
	p.fetched = time.Now()
	p.refreshing = true
	p.mu.Unlock()

	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	raw, err := p.fetch(fctx)
	cancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshing = false
	if err != nil {
		if p.lastErr == nil {
			p.log.Info("plugin settings unavailable; using last known values", "error", err.Error())
		}
		p.lastErr = err
		return p.cur
	}
	p.lastErr = nil
	p.cur = p.merge(raw)
	p.source = "netbox"
	return p.cur
}

// Invalidate forces a refetch on the next Get.
func (p *Provider) Invalidate() {
	p.mu.Lock()
	p.fetched = time.Time{}
	p.mu.Unlock()
}

// Source reports where the plugin layer came from ("netbox" or "defaults")
// and the last fetch error.
func (p *Provider) Source() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.source, p.lastErr
}

// DecodeSettingsBody extracts results[0] from a paginated list, or returns a
// bare object as is.
func DecodeSettingsBody(b []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	switch t := v.(type) {
	case map[string]any:
		if res, ok := t["results"].([]any); ok {
			if len(res) == 0 {
				return nil, errors.New("settings: empty results")
			}
			if m, ok := res[0].(map[string]any); ok {
				return m, nil
			}
			return nil, errors.New("settings: results[0] is not an object")
		}
		return t, nil
	case []any:
		if len(t) > 0 {
			if m, ok := t[0].(map[string]any); ok {
				return m, nil
			}
		}
	}
	return nil, errors.New("settings: unexpected body")
}
