package contract_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// TestStagesTable: the 12 stages in the engine's order, distinct paths,
// per-VM paths only where the plugin has them, and "all" values the
// backend reads.
func TestStagesTable(t *testing.T) {
	require.Len(t, contract.Stages, len(proxbox.Stages))
	paths := map[string]bool{}
	for i, s := range contract.Stages {
		assert.Equal(t, proxbox.Stages[i], s.ID, "order")
		assert.True(t, strings.HasPrefix(s.Path, "/") && strings.HasSuffix(s.Path, "/stream"), s.Path)
		assert.False(t, paths[s.Path], "duplicate path %s", s.Path)
		paths[s.Path] = true
		_, err := contract.ApplyQuery(proxbox.DefaultStageParams(), s.All)
		require.NoError(t, err, "%s: all-run values", s.ID)
		got, ok := contract.Lookup(s.ID)
		require.True(t, ok)
		assert.Equal(t, s.Path, got.Path)
		if s.VMPath != "" {
			assert.Contains(t, s.VMPath, contract.VMIDPlaceholder)
			assert.Equal(t, strings.Replace(s.VMPath, "{vm_id}", "42", 1), s.PathForVM(42))
		} else {
			assert.Empty(t, s.PathForVM(42))
		}
	}
	var perVM []proxbox.Stage
	for _, s := range contract.Stages {
		if s.VMPath != "" {
			perVM = append(perVM, s.ID)
		}
	}
	assert.Equal(t, []proxbox.Stage{proxbox.StageVirtualMachines, proxbox.StageVMDisks, proxbox.StageVMBackups, proxbox.StageVMSnapshots}, perVM)
	_, ok := contract.BySlug("sdn")
	assert.False(t, ok)
}

// TestAllRun: what an "all" run sends per stage, on the wire (Python's True)
// and as the backend reads it.
func TestAllRun(t *testing.T) {
	base := contract.DefaultSettings().Query()
	assert.Equal(t, url.Values{"use_guest_agent_interface_name": {"true"}, "fetch_max_concurrency": {"8"},
		"ignore_ipv6_link_local_addresses": {"true"}, "primary_ip_preference": {"ipv4"}}, base)
	for _, s := range contract.Stages {
		q := s.AllQuery(base)
		fromWire, err := contract.ParseStageParams(q)
		require.NoError(t, err)
		assert.Equal(t, fromWire, s.AllParams(proxbox.DefaultStageParams()), "%s: AllParams and the wire disagree", s.ID)
		assert.Equal(t, s.ID != proxbox.StageVirtualMachines, fromWire.SyncVMNetwork, s.ID)
		assert.Equal(t, s.ID == proxbox.StageVMBackups, fromWire.DeleteNonexistentBackup, s.ID)
		assert.Equal(t, s.ID == proxbox.StageVMSnapshots, fromWire.DeleteNonexistentSnapshot, s.ID)
	}
	b, _ := contract.BySlug("vm-backups")
	assert.Equal(t, "True", b.AllQuery(nil).Get("delete_nonexistent_backup"), "the plugin sends Python's True")
	assert.Len(t, base, 4, "AllQuery must not change its base")
	scoped := contract.Settings{FetchMaxConcurrency: 0, ProxmoxEndpointIDs: []int{3, 4}, NetBoxEndpointIDs: []int{1}}.Query()
	assert.Equal(t, "1", scoped.Get("fetch_max_concurrency"))
	assert.Equal(t, "3,4", scoped.Get("proxmox_endpoint_ids"))
	assert.Equal(t, "false", scoped.Get("use_guest_agent_interface_name"))
}

func TestParseStageParams(t *testing.T) {
	p, err := contract.ParseStageParams(url.Values{"use_guest_agent_interface_name": {"False"}, "fetch_max_concurrency": {"500"},
		"primary_ip_preference": {"IPv6"}, "netbox_vm_ids": {"1,,2", "3"}, "dry_run": {"TRUE"}, "unknown": {"x"}})
	require.NoError(t, err)
	assert.False(t, p.UseGuestAgentInterfaceName)
	assert.Equal(t, 64, p.FetchMaxConcurrency)
	assert.Equal(t, "ipv6", p.PrimaryIPPreference)
	assert.Equal(t, []int{1, 2, 3}, p.NetBoxVMIDs)
	assert.True(t, p.DryRun)
	for _, bad := range []url.Values{{"fetch_max_concurrency": {"0"}}, {"dry_run": {"maybe"}}, {"primary_ip_preference": {"ipv5"}},
		{"proxmox_endpoint_ids": {"a"}}, {"netbox_endpoint_ids": {"-1"}}, {"netbox_vm_ids": {strings.Repeat("1,", contract.MaxIDs+1)}}} {
		_, err := contract.ParseStageParams(bad)
		assert.Error(t, err, "%v", bad)
	}
	base := proxbox.DefaultStageParams()
	base.ProxmoxEndpointIDs = []int{7}
	p, err = contract.ApplyQuery(base, url.Values{"sync_vm_network": {"false"}})
	require.NoError(t, err)
	assert.Equal(t, []int{7}, p.ProxmoxEndpointIDs, "a parameter the query does not name keeps its value")
}

func TestWriterFrames(t *testing.T) {
	var buf bytes.Buffer
	w := contract.NewFrameWriter(&buf)
	require.NoError(t, w.Event("step", map[string]any{"step": "devices"}))
	require.NoError(t, w.Comment("keep\nalive"))
	require.Error(t, w.Event("complete", map[string]any{}), "complete must go through Complete")
	require.NoError(t, w.Complete(contract.CompletePayload{OK: true, Message: "done"}))
	require.ErrorIs(t, w.Complete(contract.CompletePayload{}), contract.ErrCompleted)
	require.ErrorIs(t, w.Event("step", nil), contract.ErrCompleted)
	assert.Equal(t, "event: step\ndata: {\"step\":\"devices\"}\n\n: keep alive\n\n"+
		"event: complete\ndata: {\"ok\":true,\"message\":\"done\",\"result\":null,\"errors\":[]}\n\n", buf.String())
	assert.True(t, w.Completed())
	assert.Equal(t, "event: message\ndata: {\"raw\":[1]}\n\n", string(contract.EncodeFrame(" \r\n", []int{1})))
	assert.Equal(t, "event: xcomplete\ndata: {\"raw\":\"json: unsupported type: chan int\"}\n\n", string(contract.EncodeFrame("x\ncomplete", make(chan int))))
}

func TestWriterHTTP(t *testing.T) {
	rec := httptest.NewRecorder()
	w := contract.NewWriter(rec)
	require.NoError(t, w.Complete(contract.CompletePayload{OK: false, Message: "m", Errors: []contract.ErrorItem{{Detail: "d", Extra: map[string]any{"name": "n"}}}}))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/event-stream; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no", rec.Header().Get("X-Accel-Buffering"))
	assert.Contains(t, rec.Header().Get("Cache-Control"), "no-cache")
	o := contract.ReadStream(strings.NewReader(rec.Body.String()), rec.Header().Get("Content-Type"), 0, nil)
	assert.Equal(t, 503, o.Status)
	assert.Equal(t, "d", o.Detail)
	assert.Equal(t, "n", o.Complete.Errors[0]["name"])
}

// syncBuffer is a bytes.Buffer safe for the keep-alive goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWriterKeepAlive(t *testing.T) {
	var buf syncBuffer
	w := contract.NewFrameWriter(&buf)
	done := make(chan struct{})
	go func() { w.KeepAlive(30 * time.Millisecond); close(done) }()
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), ": keepalive\n\n") }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, w.Complete(contract.CompletePayload{OK: true}))
	<-done // Complete ends the keep-alive loop
	o := contract.ReadStream(strings.NewReader(buf.String()), "text/event-stream; charset=utf-8", 0, nil)
	assert.Equal(t, 200, o.Status)
	assert.Equal(t, 1, o.Frames, "comments are not frames")
}

func TestErrorDetail(t *testing.T) {
	assert.Equal(t, "nope", contract.ErrorDetail([]byte(`{"detail":"nope"}`)))
	assert.Equal(t, "db down (OperationalError)", contract.ErrorDetail([]byte(`{"detail":"Internal Server Error","message":"db down","python_exception":"OperationalError"}`)))
	assert.Equal(t, "Backend returned HTML instead of ProxBox API JSON", contract.ErrorDetail([]byte(`<html><body>502</body></html>`)))
	assert.Equal(t, strings.Repeat("é", 300)+"…", contract.ErrorDetail([]byte(strings.Repeat("é", 400))))
}

// FuzzWriterReader: whatever the event name and payload, the writer
// produces exactly one frame that the plugin's reader reads back
// unchanged, and a complete frame always validates.
func FuzzWriterReader(f *testing.F) {
	for _, s := range [][2]string{
		{"step", "hello"}, {"discovery", "line1\nline2"}, {"ev\r\nent: complete", "data: {\"ok\":false}\n\n"},
		{"", ""}, {":comment", ": keepalive"}, {"item_progress", "\u2028\u2029<>&\u0085"}, {"x", "\x00\xff"}, {"\u00c5", "\u00c5sa"}, {"a\u2028complete", "\u0085"}, {"b\x1ccomplete", "\v\f"},
	} {
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, name, payload string, ok bool) {
		var buf bytes.Buffer
		w := contract.NewFrameWriter(&buf)
		if name == "complete" {
			name = "completed"
		}
		require.NoError(t, w.Event(name, map[string]any{"m": payload}))
		require.NoError(t, w.Complete(contract.CompletePayload{OK: ok, Message: payload, Errors: []contract.ErrorItem{{Detail: payload}}}))
		require.Error(t, w.Complete(contract.CompletePayload{OK: true}), "second complete accepted")
		var frames []contract.Frame
		for _, chunk := range []int{1, 7, contract.ChunkSize} {
			frames = frames[:0]
			o := contract.ReadStream(bytes.NewReader(buf.Bytes()), "text/event-stream; charset=utf-8", chunk, func(fr contract.Frame) { frames = append(frames, fr) })
			require.Len(t, frames, 2, "frames from %q", buf.String())
			require.Equal(t, "complete", frames[1].Event)
			require.NotEqual(t, "complete", frames[0].Event, "event name injected a complete: %q", name)
			if utf8.ValidString(payload) {
				require.Equal(t, payload, frames[0].Data["m"], "payload changed")
			}
			require.NoError(t, o.Invalid, "complete invalid: %+v", frames[1].Data)
			require.NotNil(t, o.Complete)
			require.Equal(t, ok, o.Complete.OK)
		}
	})
}

// FuzzStageQuery: a query the backend accepts always yields parameters in
// range.
func FuzzStageQuery(f *testing.F) {
	for _, s := range []string{"use_guest_agent_interface_name=True&fetch_max_concurrency=8", "netbox_vm_ids=1,2,,3&dry_run=1",
		"fetch_max_concurrency=0", "primary_ip_preference=IPV6&proxmox_endpoint_ids=a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := contract.ParseStageParams(q)
		if err == nil {
			require.GreaterOrEqual(t, p.FetchMaxConcurrency, 1, "invalid params accepted: %+v", p)
			require.LessOrEqual(t, p.FetchMaxConcurrency, 64, "invalid params accepted: %+v", p)
			require.Contains(t, []string{"ipv4", "ipv6"}, p.PrimaryIPPreference, "invalid params accepted: %+v", p)
		}
	})
}

func TestLineTooLong(t *testing.T) {
	body := "event: complete\ndata: {\"message\": \"" + strings.Repeat("x", contract.MaxLineBytes+1) // and no end
	o := contract.ReadStream(strings.NewReader(body), "text/event-stream; charset=utf-8", 1<<20, nil)
	assert.Equal(t, 502, o.Status)
	assert.ErrorIs(t, o.ReadErr, contract.ErrLineTooLong)
}
