// Command faultproxy runs a loopback reverse proxy that injects faults (5xx,
// 429 with Retry-After, resets, slow answers, timeouts) into the traffic to
// an upstream NetBox or PVE (mock). With -rates 0 it only counts requests.
//
//	faultproxy -upstream http://127.0.0.1:8000 -listen 127.0.0.1:18000 -rates 0.1 -seed 1
//	faultproxy -upstream https://127.0.0.1:8006 -tls -insecure -rates '5xx=0.05,reset=0.05'
//
// GET /_faults on the proxy returns the counters as JSON; POST /_faults
// {"rates": {...}} changes the rates. The counters are printed on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/proxbox-go/proxbox/bench/faultproxy"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("faultproxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	upstream := fs.String("upstream", "", "upstream base URL, http(s)://host:port (required)")
	serveTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	insecure := fs.Bool("insecure", false, "skip certificate checks towards an https upstream")
	seed := fs.Int64("seed", 1, "seed of the fault decisions")
	rates := fs.String("rates", "0", "fault rates: a total spread over 5xx,429,reset,slow,timeout, or kind=fraction,... (kinds: 5xx 429 reset slow timeout lost_reply)")
	retryAfter := fs.Duration("retry-after", time.Second, "Retry-After of injected 429s")
	slow := fs.Duration("slow", 2*time.Second, "delay of slow answers")
	hold := fs.Duration("hold", 30*time.Second, "longest hold of a timeout fault")
	verbose := fs.Bool("v", false, "log upstream errors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *upstream == "" {
		return errors.New("-upstream is required")
	}
	r, err := faultproxy.ParseRates(*rates)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	p, err := faultproxy.New(faultproxy.Config{
		Upstream: *upstream, UpstreamInsecure: *insecure, Seed: *seed, Rates: r,
		RetryAfter: *retryAfter, SlowDelay: *slow, HoldMax: *hold, Logger: log,
	})
	if err != nil {
		return err
	}
	s, err := faultproxy.Listen(p, *listen, *serveTLS)
	if err != nil {
		return err
	}
	fmt.Printf("url=%s upstream=%s seed=%d rates=%v\n", s.URL, *upstream, *seed, r)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = s.Close()
	fmt.Println("faultproxy:", s.Counters())
	return nil
}
