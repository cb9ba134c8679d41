package settings

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	fetch := func(context.Context) (map[string]any, error) {
		return DecodeSettingsBody([]byte(`{"count":1,"results":[{"proxbox_fetch_max_concurrency":3,"netbox_max_concurrent":2,"allow_private_ips":false,"primary_ip_preference":"ipv6","bulk_batch_size":"bad"}]}`))
	}
	env := FromEnv(func(k string) string {
		if k == "PROXBOX_NETBOX_MAX_CONCURRENT" {
			return "5"
		}
		return ""
	})
	p := NewProvider(fetch, 0, env, Override{"proxbox_fetch_max_concurrency": "7"}, nil)
	s := p.Get(context.Background())
	if s.FetchMaxConcurrency != 7 || s.NetBoxMaxConcurrent != 5 || s.AllowPrivateIPs || s.PrimaryIPPreference != "ipv6" || s.BulkBatchSize != 50 {
		t.Fatalf("%+v", s)
	}
	if src, err := p.Source(); src != "netbox" || err != nil {
		t.Fatal(src, err)
	}
}

func TestFetchFailureKeepsDefaults(t *testing.T) {
	p := NewProvider(func(context.Context) (map[string]any, error) { return nil, errors.New("down") }, 0, nil, nil, nil)
	s := p.Get(context.Background())
	if s != Defaults() {
		t.Fatalf("%+v", s)
	}
	if _, err := DecodeSettingsBody([]byte(`{"results":[]}`)); err == nil {
		t.Fatal("empty results accepted")
	}
	if r := (Settings{AdditionalAllowedIPRanges: "10.0.0.0/8\n192.0.2.1, junk"}).AllowedRanges(); len(r) != 2 {
		t.Fatal(r)
	}
}

// A fetch that consults the settings itself (as opening the NetBox client does
// for the SSRF policy) must not deadlock: the inner Get sees the current values.
func TestGetReentrantFromFetch(t *testing.T) {
	var p *Provider
	inner := make(chan Settings, 1)
	p = NewProvider(func(ctx context.Context) (map[string]any, error) {
		inner <- p.Get(ctx)
		return map[string]any{}, nil
	}, time.Minute, nil, nil, nil)
	done := make(chan struct{})
	go func() { p.Get(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Get deadlocked when the fetch called Get again")
	}
	if got := <-inner; got != Defaults() {
		t.Errorf("inner Get = %+v, want the defaults while the first fetch runs", got)
	}
}

func TestParseClusterVRFs(t *testing.T) {
	got, err := ParseClusterVRFs(" east = vrf east ,west=12;\n\n")
	if err != nil || len(got) != 2 || got["east"] != "vrf east" || got["west"] != "12" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"east", "=x", "east=", "a=1,a=2"} {
		if _, err := ParseClusterVRFs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if got, err := ParseClusterVRFs(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
	p := NewProvider(nil, 0, FromEnv(func(k string) string {
		if k == "PROXBOX_CLUSTER_VRFS" {
			return "lab=blue"
		}
		return ""
	}), nil, nil)
	if s := p.Get(t.Context()); s.ClusterVRFs != "lab=blue" {
		t.Errorf("PROXBOX_CLUSTER_VRFS: got %q", s.ClusterVRFs)
	}
}
