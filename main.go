// Command kuzzlews serves Kuzzle's WebSocket protocol, its HTTP API and realtime engine.
//
// Usage:
//
//	kuzzlews [flags]
//	kuzzlews hash-password < file
//
// Settings come from flags, then KUZZLEWS_* environment variables, then the JSON file of
// -config, then defaults (config.go). It listens on -host:-port (default :7513) for
// WebSocket clients and HTTP requests, logs with log/slog to stderr, reloads the -security
// file on SIGHUP, and on SIGINT or
// SIGTERM drains (server:healthCheck answers 503) for -drain-delay, then closes every
// client with close code 1001, flushes within -shutdown-timeout and exits 0; a second
// signal during the drain exits at once with status 1. Exit codes: 0 after a clean stop or
// -h, 1 when it cannot start or after a second signal, 2 for bad settings.
package main

import (
	"bufio"
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

	"github.com/kuzzlews/kuzzlews/auth"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hash-password" {
		os.Exit(hashPassword(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr, sig))
}

// options are the command's settings that are not the server's Config.
type options struct {
	configFile, logLevel, logFormat, metricsAddr, pprofAddr, allowedOrigins string
	jwtSecret, jwtAlgorithms                                                string
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
	fs.StringVar(&cfg.Auth.SecurityFile, "security", "", "JSON file of Kuzzle roles, profiles and users (see the README's Security section); SIGHUP reloads it (empty: none)")
	fs.StringVar(&o.jwtSecret, "jwt-secret", "", "Kuzzle's security.authToken.secret: verifies HS256/384/512 tokens and signs auth:login's; prefer "+envName("jwt-secret")+" or the -config file, a flag shows in ps (empty: none)")
	fs.StringVar(&o.jwtAlgorithms, "jwt-algorithms", "", "comma-separated token algorithms accepted, e.g. HS256,HS512 or RS256 (empty: HS256 with -jwt-secret, plus the -jwt-public-key's algorithm; none is never accepted)")
	fs.StringVar(&cfg.Auth.PublicKeyFile, "jwt-public-key", "", "PEM public key file for tokens signed with a key pair: RSA, ECDSA or Ed25519 (empty: none)")
	fs.DurationVar(&cfg.Auth.TTL, "jwt-ttl", DefaultJWTTTL, "lifetime of the tokens auth:login issues without expiresIn (0: the default; negative: refused)")
	fs.IntVar(&cfg.Auth.LoginsPerSecond, "logins-per-second", DefaultLoginsPerSecond, "auth:login attempts per connection per second (0: unlimited; negative: refused)")
	fs.IntVar(&cfg.Auth.LoginsPerAddress, "logins-per-address", DefaultLoginsPerAddress, "auth:login attempts per second from one source address (0: unlimited; negative: refused)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit (flag only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kuzzlews [flags]\n       kuzzlews hash-password < file  (prints a hash of the password on stdin for -security)\n\n"+
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
	cfg.Auth.Secret = Secret(o.jwtSecret)
	for _, alg := range strings.Split(o.jwtAlgorithms, ",") {
		if alg = strings.TrimSpace(alg); alg != "" {
			cfg.Auth.Algorithms = append(cfg.Auth.Algorithms, alg)
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
	if !authConfigured(cfg) {
		log.Warn("no -security, -jwt-secret or -jwt-public-key: every client is the anonymous user with every right")
	} else {
		log.Info("authentication", "mode", s.authMode(), "security_file", cfg.Auth.SecurityFile)
		for _, w := range s.auth.warnings(cfg.Auth.Secret) {
			log.Warn(w)
		}
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
	for got == syscall.SIGHUP {
		reloadSecurity(s, log)
		got = <-sig
	}
	log.Info("draining", "signal", got.String(), "drain_delay", o.drainDelay.String())
	s.Drain()
	if o.drainDelay > 0 {
		t := time.NewTimer(o.drainDelay)
	drain:
		for {
			select {
			case <-t.C:
				break drain
			case got := <-sig:
				if got == syscall.SIGHUP {
					reloadSecurity(s, log)
					continue
				}
				log.Warn("second signal during the drain: exiting now", "signal", got.String())
				return 1
			}
		}
	}
	log.Info("shutting down", "shutdown_timeout", o.shutdownTimeout.String())
	done := make(chan int, 1)
	go func() { done <- s.Shutdown(o.shutdownTimeout) }()
	for {
		select {
		case forced := <-done:
			log.Info("stopped", "forced_closes", forced)
			return 0
		case got := <-sig:
			if got == syscall.SIGHUP {
				continue // the server is closing: nothing to reload
			}
			log.Warn("second signal during the drain: exiting now", "signal", got.String())
			return 1
		}
	}
}

// reloadSecurity answers SIGHUP: the -security file is read again and replaces the
// current one atomically; a file that does not load is logged and the current one kept.
func reloadSecurity(s *Server, log *slog.Logger) {
	err := s.ReloadSecurity()
	switch {
	case errors.Is(err, ErrNoSecurityFile):
		log.Warn("SIGHUP: " + err.Error())
	case err != nil:
		log.Error("security file reload failed, keeping the current one", "file", s.cfg.Auth.SecurityFile, "err", err)
	default:
		log.Info("security file reloaded", "file", s.cfg.Auth.SecurityFile, "users", s.auth.holder.Load().Users())
		for _, w := range s.auth.warnings("") {
			log.Warn(w)
		}
	}
}

// maxPasswordBytes bounds the password hash-password reads.
const maxPasswordBytes = 4096

// hashPassword is "kuzzlews hash-password": it reads a password from stdin (up to the
// first newline, or the end of the input; a trailing "\r\n" or "\n" is not part of it)
// and prints its argon2id hash (auth.HashPassword) for the "password" of a security
// file's local credentials. The password is never written anywhere. Exit codes: 0, 2 for
// an argument, an empty or too long password, 1 if hashing fails.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "Usage: kuzzlews hash-password < file\n\n"+
			"Reads a password on stdin (one line) and prints its argon2id hash, for the \"password\"\n"+
			"of a user's local credentials in the -security file. For a typed password:\n"+
			"  read -rs p && printf '%%s' \"$p\" | kuzzlews hash-password\n")
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			return 0
		}
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, maxPasswordBytes+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "kuzzlews hash-password: reading stdin: %v\n", err)
		return 1
	}
	password := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case password == "":
		fmt.Fprintln(stderr, "kuzzlews hash-password: empty password on stdin")
		return 2
	case len(password) > maxPasswordBytes:
		fmt.Fprintf(stderr, "kuzzlews hash-password: password longer than %d bytes\n", maxPasswordBytes)
		return 2
	}
	h, err := auth.HashPassword(password)
	if err != nil {
		fmt.Fprintf(stderr, "kuzzlews hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

// isLoopback reports whether host (a -host value) only listens on the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authConfigured reports whether clients must authenticate: a security file, a secret or
// a public key is set (else the server is open, and warns at start).
func authConfigured(cfg Config) bool { return cfg.Auth.configured() }
