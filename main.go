// Command kuzzlews serves Kuzzle's WebSocket protocol, its HTTP API and realtime engine.
//
// Usage:
//
//	kuzzlews [flags]
//
// Settings come from flags, then KUZZLEWS_* environment variables, then the JSON file of
// -config, then defaults (config.go). It listens on -host:-port (default :7513) for
// WebSocket clients and HTTP requests, logs with log/slog to stderr, and on SIGINT or
// SIGTERM drains (server:healthCheck answers 503) for -drain-delay, then closes every
// client with close code 1001, flushes within -shutdown-timeout and exits 0; a second
// signal during the drain exits at once with status 1. Exit codes: 0 after a clean stop or
// -h, 1 when it cannot start or after a second signal, 2 for bad settings.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr, sig))
}

// options are the command's settings that are not the server's Config.
type options struct {
	configFile, logLevel, logFormat, metricsAddr, pprofAddr, allowedOrigins string
	shutdownTimeout, drainDelay                                             time.Duration
	version                                                                 bool
	nats                                                                    natsFlags
}

// flags declares every flag of the command on a new flag set, writing into cfg and o.
// Each usage says what 0 (or empty) and negative values do.
func flags(cfg *Config, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kuzzlews", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configFile, "config", "", "JSON file of settings, keys are the flag names, e.g. {\"port\": 7512, \"allowed-origins\": [\"https://app.example.com\"]} (empty: none)")
	fs.StringVar(&cfg.Host, "host", "", "address to listen on, IPv4 or IPv6, e.g. 127.0.0.1, ::1 or :: (empty: every IPv4 interface)")
	fs.IntVar(&cfg.Port, "port", DefaultPort, "TCP port for WebSocket and HTTP (0: any free port; negative: refused)")
	fs.IntVar(&cfg.Workers, "workers", 0, "worker goroutines (0: 2 x GOMAXPROCS, at least 4; negative: refused)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "largest number of open connections, HTTP 503 past it (0: file-descriptor limit - 64; negative: refused)")
	fs.IntVar(&cfg.MaxMessageSize, "max-message-size", DefaultMaxMessageSize, "largest client message or HTTP body in bytes; past it, WebSocket close 1009 or HTTP 413 (0: the default; negative: refused)")
	fs.IntVar(&cfg.MaxHandshakeBytes, "max-handshake-bytes", DefaultMaxHandshakeBytes, "largest request head (upgrade or HTTP) in bytes, HTTP 431 past it (0: the default; negative: refused)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", DefaultHandshakeTimeout, "time allowed for a request head, HTTP 408 past it; also bounds reading an HTTP request and writing its response (0: the default; negative: refused)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "close connections silent for that long, WebSocket with 1001 (0: the default; negative: never)")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 0, "send a WebSocket PING to connections silent for that long; a client that answers stays connected (0: never; negative: refused)")
	fs.IntVar(&cfg.MaxQueuedBytes, "max-queued-bytes", DefaultMaxQueuedBytes, "bytes waiting to be written to one client before it is closed with 1011 (0: the default; negative: refused)")
	fs.IntVar(&cfg.SendBufferSize, "send-buffer-size", DefaultSendBufferSize, "SO_SNDBUF of each client socket in bytes: bounds what a non-reading client holds in the kernel, so its 1011 arrives in time (0: the default; negative: the kernel's autotuning)")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 0, "messages per second per WebSocket connection (0: unlimited; negative: refused)")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", DefaultCloseTimeout, "time a closing connection gets to flush and see the client close (0: the default; negative: refused)")
	fs.IntVar(&cfg.MaxConditions, "max-conditions", DefaultMaxConditions, "largest number of conditions in a subscription filter after normalization (0: the default; negative: no limit)")
	fs.IntVar(&cfg.MaxRooms, "max-rooms", DefaultMaxRooms, "largest number of distinct rooms (0: the default; negative: no limit)")
	fs.IntVar(&cfg.MaxJSONDepth, "max-json-depth", DefaultMaxJSONDepth, "deepest nesting of arrays and objects in a request (0: the default; negative: refused)")
	fs.StringVar(&cfg.Node, "node", "", "node id in responses and notifications, unique in a cluster (empty: knode-kuzzlews-<pid>; with -nats, <random hex> instead of <pid>)")
	clusterFlags(fs, cfg, &o.nats)
	fs.StringVar(&o.allowedOrigins, "allowed-origins", "", "comma-separated browser origins allowed, e.g. https://app.example.com; others get 403 at the WebSocket handshake (empty or *: any origin)")
	fs.DurationVar(&o.drainDelay, "drain-delay", 0, "on SIGINT/SIGTERM, time server:healthCheck answers 503 while clients are still served, before they are closed (0: close at once; negative: refused)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "time given to clients to close after the drain delay (0: close at once; negative: refused)")
	fs.StringVar(&o.metricsAddr, "metrics", "", "serve Prometheus metrics on this address at /metrics, e.g. 127.0.0.1:9513 (empty: off)")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve net/http/pprof on this address at /debug/pprof/ (empty: off)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug (adds every client error, rate-limited), info, warn or error (empty: refused)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json (empty: refused)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit (flag only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kuzzlews [flags]\n\n"+
			"Serves Kuzzle's WebSocket protocol, its HTTP API and realtime engine on one port.\n\n"+
			"Every flag may also be set with an environment variable, %s + its name in upper\n"+
			"snake case (e.g. %s=8388608), or as a key of the -config file.\n"+
			"Precedence: flag, then environment, then file, then default.\n\nFlags:\n",
			envPrefix, envName("max-queued-bytes"))
		fs.PrintDefaults()
	}
	return fs
}

// settings reads the command's settings from args, environ and the -config file, and
// checks them. On failure it returns the exit code: 0 for -h, 2 otherwise, the message
// already written to stderr.
func settings(args, environ []string, stderr io.Writer) (Config, options, int, bool) {
	var cfg Config
	var o options
	fs := flags(&cfg, &o, stderr)
	src, err := configure(fs, args, environ, "config")
	var ce *configError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return cfg, o, 0, false
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "kuzzlews: %v\n", err)
		return cfg, o, 2, false
	case err != nil:
		return cfg, o, 2, false // the flag package printed it, with the usage
	}
	fail := func(name string, err error) (Config, options, int, bool) {
		fmt.Fprintf(stderr, "kuzzlews: %v%s\n", err, src.of(name))
		return cfg, o, 2, false
	}
	if err := cfg.validate(); err != nil {
		var se *settingError
		errors.As(err, &se)
		return fail(se.Flag, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"shutdown-timeout", o.shutdownTimeout}, {"drain-delay", o.drainDelay}} {
		if d.v < 0 {
			return fail(d.name, &settingError{d.name, d.v, "must not be negative"})
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fail("log-level", &settingError{"log-level", o.logLevel, "want debug, info, warn or error"})
	}
	var h slog.Handler
	switch o.logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fail("log-format", &settingError{"log-format", o.logFormat, "want text or json"})
	}
	cfg.Logger = slog.New(h)
	for _, origin := range strings.Split(o.allowedOrigins, ",") {
		if origin = strings.TrimSpace(origin); origin != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, origin)
		}
	}
	return cfg, o, 0, true
}

// run reads the settings, serves until a signal on sig, and returns the exit code.
func run(args, environ []string, stdout, stderr io.Writer, sig <-chan os.Signal) int {
	cfg, o, code, ok := settings(args, environ, stderr)
	if !ok {
		return code
	}
	if o.version {
		fmt.Fprintf(stdout, "kuzzlews %s\n", version)
		return 0
	}
	if err := o.nats.apply(&cfg); err != nil {
		fmt.Fprintf(stderr, "kuzzlews: %v\n", err)
		return 2
	}
	log := cfg.Logger
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
	if !isLoopback(cfg.Host) && len(s.origins) == 0 && !authConfigured(cfg) {
		log.Warn("listening beyond loopback with any browser origin allowed and no authentication: "+
			"any web page a user opens can use this server; set -allowed-origins", "host", cfg.Host)
	}
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

	got := <-sig
	log.Info("draining", "signal", got.String(), "drain_delay", o.drainDelay.String())
	s.Drain()
	if o.drainDelay > 0 {
		t := time.NewTimer(o.drainDelay)
		select {
		case <-t.C:
		case got := <-sig:
			log.Warn("second signal during the drain: exiting now", "signal", got.String())
			return 1
		}
	}
	log.Info("shutting down", "shutdown_timeout", o.shutdownTimeout.String())
	done := make(chan int, 1)
	go func() { done <- s.Shutdown(o.shutdownTimeout) }()
	select {
	case forced := <-done:
		log.Info("stopped", "forced_closes", forced)
		return 0
	case got := <-sig:
		log.Warn("second signal during the drain: exiting now", "signal", got.String())
		return 1
	}
}

// isLoopback reports whether host (a -host value) only listens on the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authConfigured reports whether clients must authenticate. kuzzlews serves anonymous
// users only for now; the authentication settings will answer here.
func authConfigured(Config) bool { return false }
