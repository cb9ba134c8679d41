package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/demo"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sync"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	listen := fs.String("listen", env("PROXBOX_LISTEN", ":8800"), "listen address (env PROXBOX_LISTEN)")
	rate := fs.Int("rate-limit", envInt("PROXBOX_RATE_LIMIT", 1200), "requests per minute per client, -1 = off (env PROXBOX_RATE_LIMIT)")
	trusted := fs.String("trusted-proxies", env("PROXBOX_TRUSTED_PROXIES", ""), "CIDRs allowed to set X-Forwarded-For (env PROXBOX_TRUSTED_PROXIES)")
	cors := fs.String("cors-origins", env("PROXBOX_CORS_EXTRA_ORIGINS", ""), "comma-separated browser origins for /admin/logs (env PROXBOX_CORS_EXTRA_ORIGINS)")
	allowWrites := fs.Bool("allow-writes", envBool("PROXBOX_ALLOW_WRITES", false), "pass POST/PUT/DELETE through /proxmox/api2 (env PROXBOX_ALLOW_WRITES)")
	publicLogs := fs.Bool("public-logs", envBool("PROXBOX_PUBLIC_LOGS", true), "serve /admin/logs* without the API key (the plugin's log page needs it) (env PROXBOX_PUBLIC_LOGS)")
	publicAdmin := fs.Bool("public-admin", envBool("PROXBOX_PUBLIC_ADMIN", false), "serve the /admin page without the API key (env PROXBOX_PUBLIC_ADMIN)")
	tlsCert := fs.String("tls-cert", env("PROXBOX_TLS_CERT", ""), "serve HTTPS with this certificate (env PROXBOX_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("PROXBOX_TLS_KEY", ""), "TLS private key (env PROXBOX_TLS_KEY)")
	expose := fs.Bool("expose-internal-errors", envBool("PROXBOX_EXPOSE_INTERNAL_ERRORS", false), "include error text in 500 bodies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tp, err := parsePrefixes(*trusted)
	if err != nil {
		return err
	}
	c, err := openCore(ctx, cf, stderr)
	if err != nil {
		return err
	}
	defer c.store.Close()
	var origins []string
	for _, o := range strings.Split(*cors, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			origins = append(origins, o)
		}
	}
	srv := pbhttp.New(pbhttp.Config{RateLimit: *rate, TrustedProxies: tp, CORSOrigins: origins, AllowWrites: *allowWrites,
		AllowLinkLocal: cf.allowLinkLocal, PublicLogs: *publicLogs, PublicAdmin: *publicAdmin, ExposeInternalErrors: *expose},
		pbhttp.Deps{Store: c.store, Syncer: c.engine, Connector: c.conn, Settings: c.settings, Logger: c.log, Logs: c.logs, Metrics: c.metrics})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	c.log.Info("proxboxd listening", "addr", ln.Addr().String(), "db", cf.db, "version", pbhttp.Version, "tls", *tlsCert != "")
	return serveUntil(ctx, srv, ln, *tlsCert, *tlsKey, c.log.Info)
}

// serveUntil serves until ctx ends, then ends the streams (each gets its
// complete frame) and shuts the listener down.
func serveUntil(ctx context.Context, srv *pbhttp.Server, ln net.Listener, cert, key string, info func(string, ...any)) error {
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- hs.ServeTLS(ln, cert, key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	info("shutting down: ending streams")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func syncOnce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	dry := fs.Bool("dry-run", false, "plan only: write nothing to NetBox, print the planned changes")
	stage := fs.String("stage", "", "run only this stage (default: all, in order)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := openCore(ctx, cf, stderr)
	if err != nil {
		return err
	}
	defer c.store.Close()
	params := proxbox.DefaultStageParams()
	params.DryRun = *dry
	stages := proxbox.Stages
	if *stage != "" {
		stages = []proxbox.Stage{proxbox.Stage(*stage)}
	}
	report, ok := demo.RunStagesDirect(ctx, c.engine, stages, params, c.log)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("sync failed")
	}
	return nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := demo.Options{}
	fs.StringVar(&o.Listen, "listen", env("PROXBOX_LISTEN", "127.0.0.1:8800"), "listen address")
	fs.StringVar(&o.Scenario, "scenario", "s100", "pvemock scenario (s100)")
	fs.BoolVar(&o.Once, "once", false, "run the full sync twice (second with nothing changed), write the report and exit")
	fs.StringVar(&o.Report, "report", "", "write the JSON report here (with --once)")
	fs.StringVar(&o.DB, "db", "", "SQLite file (default: a temporary directory)")
	logLevel := fs.String("log-level", env("PROXBOX_LOG_LEVEL", "warn"), "log level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logs := pbhttp.NewLogBuffer(10000)
	o.Logs = logs
	o.Logger = newLogger(*logLevel, "text", stderr, logs)
	o.NewEngine = func(conn proxbox.Connector) proxbox.Syncer {
		return newEngine(conn, o.Logger, sync.DefaultJobWindow, nil, nil)
	}
	o.Stdout = stdout
	return demo.Run(ctx, o)
}
