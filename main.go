// Command kuzzlews serves Kuzzle's WebSocket protocol and realtime engine.
//
// Usage:
//
//	kuzzlews [flags]
//
// It listens on -host:-port (default :7513), logs with log/slog to stderr, and on SIGINT or
// SIGTERM closes every client with close code 1001, flushes within -shutdown-timeout and
// exits 0.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is reported by server:info.
const version = "0.1.0"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args, serves until a signal, and returns the exit code.
func run(args []string) int {
	fs := flag.NewFlagSet("kuzzlews", flag.ContinueOnError)
	var cfg Config
	var logLevel, metricsAddr, pprofAddr string
	var shutdownTimeout time.Duration
	fs.StringVar(&cfg.Host, "host", "", "address to listen on (empty: every IPv4 interface)")
	fs.IntVar(&cfg.Port, "port", 7513, "TCP port to listen on")
	fs.IntVar(&cfg.Workers, "workers", 0, "worker goroutines (0: 2 x GOMAXPROCS)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "largest number of open connections (0: file-descriptor limit - 64)")
	fs.IntVar(&cfg.MaxMessageSize, "max-message-size", 1<<20, "largest client message in bytes; larger ones close the connection with 1009")
	fs.IntVar(&cfg.MaxHandshakeBytes, "max-handshake-bytes", 8<<10, "largest upgrade request in bytes (HTTP 431 past it)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", 10*time.Second, "time allowed to complete the upgrade request (HTTP 408 past it)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 60*time.Second, "close connections silent for that long, with 1001 (negative: never)")
	fs.IntVar(&cfg.MaxQueuedBytes, "max-queued-bytes", 4<<20, "bytes waiting to be written to one client before it is closed with 1011")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 0, "messages per second per connection (0: unlimited)")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", 5*time.Second, "time a closing connection gets to flush and see the client close")
	fs.IntVar(&cfg.MaxConditions, "max-conditions", 100, "largest number of conditions in a subscription filter after normalization (negative: no limit)")
	fs.IntVar(&cfg.MaxRooms, "max-rooms", 1_000_000, "largest number of distinct rooms (negative: no limit)")
	fs.StringVar(&cfg.Node, "node", "", "node id in responses and notifications (default knode-kuzzlews-<pid>)")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "time given to clients to close on SIGINT/SIGTERM")
	fs.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics on this address at /metrics, e.g. 127.0.0.1:9513 (empty: off)")
	fs.StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this address at /debug/pprof/ (empty: off)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kuzzlews [flags]\n\nServes Kuzzle's WebSocket protocol and realtime engine.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	for name, v := range map[string]int{
		"-port": cfg.Port, "-workers": cfg.Workers, "-max-conns": cfg.MaxConns,
		"-max-message-size": cfg.MaxMessageSize, "-max-handshake-bytes": cfg.MaxHandshakeBytes,
		"-max-queued-bytes": cfg.MaxQueuedBytes, "-rate-limit": cfg.RateLimit,
	} {
		if v < 0 || (name == "-port" && v > 65535) {
			fmt.Fprintf(os.Stderr, "kuzzlews: %s %d: out of range\n", name, v)
			return 2
		}
	}
	for name, d := range map[string]time.Duration{
		"-handshake-timeout": cfg.HandshakeTimeout, "-close-timeout": cfg.CloseTimeout, "-shutdown-timeout": shutdownTimeout,
	} {
		if d < 0 {
			fmt.Fprintf(os.Stderr, "kuzzlews: %s %v: must not be negative\n", name, d)
			return 2
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "kuzzlews: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
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
	log.Info("listening", "addr", s.Addr().String(), "node", s.cfg.Node)
	if metricsAddr != "" {
		addr, err := s.serveMetrics(metricsAddr)
		if err != nil {
			log.Error("cannot serve metrics", "err", err)
			return 1
		}
		log.Info("metrics", "addr", addr.String()+"/metrics")
	}
	if pprofAddr != "" {
		addr, err := s.servePprof(pprofAddr)
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
	forced := s.Shutdown(shutdownTimeout)
	log.Info("stopped", "forced_closes", forced)
	return 0
}
