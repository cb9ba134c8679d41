// Command proxboxd is the Go backend of the netbox-proxbox plugin.
//
//	proxboxd serve   [--listen :8800] [--db FILE] [flags]   run the API
//	proxboxd demo    [--once --report FILE]                 pvemock + netboxtest, full sync, /admin
//	proxboxd sync    [--dry-run] [--stage S] [--db FILE]    one full sync from the store, no HTTP
//	proxboxd version
//
// Configuration precedence: flags > PROXBOX_* environment > plugin settings
// (NetBox /api/plugins/proxbox/settings/) > defaults. Secrets come from the
// environment or files, never from flags (they would show in ps).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/connector"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/settings"
	"github.com/proxbox-go/proxbox/proxboxd/sqlite"
	"github.com/proxbox-go/proxbox/proxboxd/sync"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "proxboxd:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: proxboxd <command> [flags]

commands:
  serve     run the HTTP API (default :8800)
  demo      start pvemock + netboxtest in-process, run a full sync, serve /admin
  sync      run one full sync against the stored endpoints (--dry-run to plan only)
  version   print the version

run "proxboxd <command> -h" for the flags of a command`)
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("missing command")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "sync":
		return syncOnce(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "proxboxd", pbhttp.Version)
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v := os.Getenv(name); v != "" {
		if b, err := pbhttp.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return def
}

func defaultDB() string {
	if p := env("PROXBOX_DATABASE_PATH", ""); p != "" {
		return p
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "proxbox", "proxboxd.db")
}

// common flags of serve and sync
type commonFlags struct {
	db, keyFile, logLevel, logFormat string
	settingsTTL                      time.Duration
	jobWindow                        time.Duration
	settingsKV                       multiFlag
	allowLinkLocal                   bool
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", defaultDB(), "SQLite database file (env PROXBOX_DATABASE_PATH)")
	fs.StringVar(&c.keyFile, "key-file", env("PROXBOX_ENCRYPTION_KEY_FILE", ""), "encryption key file, created 0600 on first start when PROXBOX_ENCRYPTION_KEY is unset (default <db>.key)")
	fs.StringVar(&c.logLevel, "log-level", env("PROXBOX_LOG_LEVEL", "info"), "debug, info, warn or error (env PROXBOX_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("PROXBOX_LOG_FORMAT", "text"), "text or json (env PROXBOX_LOG_FORMAT)")
	fs.DurationVar(&c.settingsTTL, "settings-ttl", time.Duration(envInt("PROXBOX_SETTINGS_TTL", 300))*time.Second, "plugin settings cache TTL (env PROXBOX_SETTINGS_TTL, seconds)")
	fs.DurationVar(&c.jobWindow, "job-window", time.Duration(envInt("PROXBOX_JOB_WINDOW", int(sync.DefaultJobWindow/time.Second)))*time.Second,
		"how long the read snapshot of a plugin job waits for its next stage stream; 0 reads afresh for every stage (env PROXBOX_JOB_WINDOW, seconds)")
	fs.Var(&c.settingsKV, "setting", "override a plugin setting, key=value (repeatable; wins over env and NetBox)")
	fs.BoolVar(&c.allowLinkLocal, "allow-link-local", envBool("PROXBOX_ALLOW_LINK_LOCAL", false), "allow endpoints on link-local / cloud metadata addresses (env PROXBOX_ALLOW_LINK_LOCAL)")
}

func newLogger(level, format string, w io.Writer, buf *pbhttp.LogBuffer) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: pbhttp.Redact}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if buf != nil {
		h = buf.Handler(h)
	}
	return slog.New(h)
}

// env wiring shared by serve and sync
type core struct {
	store    *sqlite.Store
	conn     *connector.Connector
	settings *settings.Provider
	metrics  *pbhttp.Metrics
	logs     *pbhttp.LogBuffer
	log      *slog.Logger
	engine   *sync.Engine
}

func openCore(ctx context.Context, cf commonFlags, stderr io.Writer) (*core, error) {
	c := &core{metrics: pbhttp.NewMetrics(), logs: pbhttp.NewLogBuffer(10000)}
	c.log = newLogger(cf.logLevel, cf.logFormat, stderr, c.logs)
	// settings first: a bad value stops the start before the store is touched
	flags := settings.Override{}
	for _, kv := range cf.settingsKV {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--setting %q: want key=value", kv)
		}
		flags[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	env := settings.FromEnv(nil)
	for src, o := range map[string]settings.Override{"PROXBOX_CLUSTER_VRFS": env, "--setting cluster_vrfs": flags} {
		if v, ok := o["cluster_vrfs"]; ok {
			if _, err := settings.ParseClusterVRFs(fmt.Sprint(v)); err != nil {
				return nil, fmt.Errorf("%s: %w", src, err)
			}
		}
	}
	st, err := sqlite.Open(ctx, cf.db, sqlite.Options{EncryptionKey: os.Getenv("PROXBOX_ENCRYPTION_KEY"), KeyFile: cf.keyFile})
	if err != nil {
		return nil, err
	}
	if st.KeyFileCreated {
		c.log.Warn("created a new encryption key file next to the database; back it up with the database", "db", cf.db)
	}
	c.store = st
	var conn *connector.Connector
	fetch := func(ctx context.Context) (map[string]any, error) {
		nb, err := conn.NetBox(ctx)
		if err != nil {
			return nil, err
		}
		var raw jsonRaw
		if _, err := nb.Do(ctx, "GET", "/api/plugins/proxbox/settings/", nil, nil, &raw); err != nil {
			return nil, err
		}
		return settings.DecodeSettingsBody(raw)
	}
	c.settings = settings.NewProvider(fetch, cf.settingsTTL, env, flags, c.log)
	allowLL := cf.allowLinkLocal
	conn = connector.New(st, connector.Options{
		Logger: c.log,
		Policy: func(ctx context.Context) connector.Policy {
			s := c.settings.Get(ctx)
			return connector.Policy{Enabled: s.SSRFProtectionEnabled, AllowPrivate: s.AllowPrivateIPs, AllowLinkLocal: allowLL,
				Allowed: s.AllowedRanges(), Blocked: s.BlockedRanges()}
		},
		CountNetBox:  c.metrics.CountNetBox,
		CountProxmox: c.metrics.CountProxmox,
	})
	c.conn = conn
	c.engine = newEngine(conn, c.log, cf.jobWindow, func(ctx context.Context) (map[string]string, error) {
		return settings.ParseClusterVRFs(c.settings.Get(ctx).ClusterVRFs)
	}, func(ctx context.Context) sync.WriteTuning {
		s := c.settings.Get(ctx)
		return sync.WriteTuning{BatchSize: s.BulkBatchSize, Concurrency: s.NetBoxMaxConcurrent}
	})
	return c, nil
}

type jsonRaw []byte

func (j *jsonRaw) UnmarshalJSON(b []byte) error { *j = append((*j)[:0], b...); return nil }

// newEngine builds the sync engine over conn. vrfs and tuning read proxboxd's
// settings once per run: cluster_vrfs, and the plugin's bulk_batch_size and
// netbox_max_concurrent.
func newEngine(conn proxbox.Connector, log *slog.Logger, jobWindow time.Duration, vrfs func(context.Context) (map[string]string, error),
	tuning func(context.Context) sync.WriteTuning) *sync.Engine {
	return sync.New(conn, sync.WithLogger(log.With("component", "sync")), sync.WithClusterVRFNames(vrfs),
		sync.WithWriteTuning(tuning), sync.WithJobWindow(jobWindow))
}

func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
