// Command kuzzlews serves Kuzzle's WebSocket protocol and realtime engine.
//
// Usage:
//
//	kuzzlews [flags]
//
// It listens on -host:-port (default :7513), logs with log/slog to stderr, and on SIGINT or
// SIGTERM closes every client with close code 1001, flushes within -shutdown-timeout and
// exits 0. Exit codes: 0 after a clean stop, 1 when it cannot start, 2 for bad flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's settings that are not the server's Config.
type options struct {
	logLevel, metricsAddr, pprofAddr string
	shutdownTimeout                  time.Duration
	version                          bool
	nats                             natsFlags
}

// flags declares every flag of the command on a new flag set, writing into cfg and o.
func flags(cfg *Config, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kuzzlews", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Host, "host", "", "address to listen on (empty: every IPv4 interface)")
	fs.IntVar(&cfg.Port, "port", DefaultPort, "TCP port to listen on (0: any free port)")
	fs.IntVar(&cfg.Workers, "workers", 0, "worker goroutines (0: 2 x GOMAXPROCS, at least 4)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "largest number of open connections (0: file-descriptor limit - 64)")
	fs.IntVar(&cfg.MaxMessageSize, "max-message-size", DefaultMaxMessageSize, "largest client message in bytes; larger ones close the connection with 1009 (0: the default)")
	fs.IntVar(&cfg.MaxHandshakeBytes, "max-handshake-bytes", DefaultMaxHandshakeBytes, "largest upgrade request in bytes, HTTP 431 past it (0: the default)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", DefaultHandshakeTimeout, "time allowed to complete the upgrade request, HTTP 408 past it (0: the default)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "close connections silent for that long, with 1001 (0: the default; negative: never)")
	fs.IntVar(&cfg.MaxQueuedBytes, "max-queued-bytes", DefaultMaxQueuedBytes, "bytes waiting to be written to one client before it is closed with 1011 (0: the default)")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 0, "messages per second per connection (0: unlimited)")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", DefaultCloseTimeout, "time a closing connection gets to flush and see the client close (0: the default)")
	fs.IntVar(&cfg.MaxConditions, "max-conditions", DefaultMaxConditions, "largest number of conditions in a subscription filter after normalization (0: the default; negative: no limit)")
	fs.IntVar(&cfg.MaxRooms, "max-rooms", DefaultMaxRooms, "largest number of distinct rooms (0: the default; negative: no limit)")
	fs.IntVar(&cfg.MaxJSONDepth, "max-json-depth", DefaultMaxJSONDepth, "deepest nesting of arrays and objects in a request (0: the default)")
	fs.StringVar(&cfg.Node, "node", "", "node id in responses and notifications, unique in a cluster (empty: knode-kuzzlews-<pid>; with -nats, <random hex> instead of <pid>)")
	clusterFlags(fs, cfg, &o.nats)
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "time given to clients to close on SIGINT/SIGTERM (0: close at once)")
	fs.StringVar(&o.metricsAddr, "metrics", "", "serve Prometheus metrics on this address at /metrics, e.g. 127.0.0.1:9513 (empty: off)")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve net/http/pprof on this address at /debug/pprof/ (empty: off)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kuzzlews [flags]\n\nServes Kuzzle's WebSocket protocol and realtime engine.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// run parses args, serves until a signal, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var cfg Config
	var o options
	fs := flags(&cfg, &o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kuzzlews: unexpected argument %q (flags only; see -h)\n", fs.Arg(0))
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "kuzzlews %s\n", version)
		return 0
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "kuzzlews: %v\n", err)
		return 2
	}
	if err := o.nats.apply(&cfg); err != nil {
		fmt.Fprintf(stderr, "kuzzlews: %v\n", err)
		return 2
	}
	if o.shutdownTimeout < 0 {
		fmt.Fprintf(stderr, "kuzzlews: -shutdown-timeout %v: must not be negative\n", o.shutdownTimeout)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "kuzzlews: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log

	s, err := NewServer(cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := s.Listen(); err != nil {
		log.Error("cannot listen", "err", err)
		return 1
	}
	log.Info("listening", "addr", s.Addr().String(), "node", s.cfg.Node, "version", version)
	if o.metricsAddr != "" {
		addr, err := s.serveMetrics(o.metricsAddr)
		if err != nil {
			log.Error("cannot serve metrics", "err", err)
			return 1
		}
		log.Info("metrics", "addr", addr.String()+"/metrics")
	}
	if o.pprofAddr != "" {
		addr, err := s.servePprof(o.pprofAddr)
		if err != nil {
			log.Error("cannot serve pprof", "err", err)
			return 1
		}
		log.Info("pprof", "addr", addr.String()+"/debug/pprof/")
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	log.Info("shutting down", "signal", got.String())
	forced := s.Shutdown(o.shutdownTimeout)
	log.Info("stopped", "forced_closes", forced)
	return 0
}
