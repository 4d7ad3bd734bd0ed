package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/netpoll"
	"github.com/kuzzlews/kuzzlews/room"
	"github.com/kuzzlews/kuzzlews/room/cluster"
	"github.com/kuzzlews/kuzzlews/room/filter"
)

// version is the kuzzlews release, reported by -version and server:info.
const version = "0.2.0"

// Defaults of Config, used by withDefaults and by the flags of main.
const (
	DefaultPort              = 7513 // the original kuzzle-plugin-websocket's port
	DefaultMaxMessageSize    = frame.DefaultMaxMessageSize
	DefaultMaxHandshakeBytes = frame.DefaultMaxHandshakeBytes
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxQueuedBytes    = netpoll.DefaultMaxQueuedBytes
	DefaultCloseTimeout      = netpoll.DefaultCloseTimeout
	DefaultShutdownTimeout   = 10 * time.Second
	DefaultMaxConditions     = filter.DefaultMaxConditions
	DefaultMaxRooms          = room.DefaultMaxRooms
	DefaultMaxJSONDepth      = kuzzle.DefaultMaxDepth
	DefaultSendBufferSize    = 256 << 10
)

// Config is the server's configuration. The zero value works: every zero field takes the
// default written on it.
type Config struct {
	// Host is the address to listen on; "" means every IPv4 interface.
	Host string
	// Port is the TCP port; 0 picks a free one (tests). main defaults it to DefaultPort.
	Port int
	// Workers is the size of the worker pool; 0 means netpoll's default (2 x GOMAXPROCS).
	Workers int
	// MaxConns bounds open connections; 0 means the file-descriptor limit minus 64.
	MaxConns int
	// MaxMessageSize is the largest client message, in bytes, after reassembly of
	// fragments. 0 means DefaultMaxMessageSize, 1 MiB (Kuzzle's server.maxRequestSize).
	// Larger messages fail the connection with close code 1009 (RFC 6455 section 7.4.1).
	MaxMessageSize int
	// MaxHandshakeBytes caps the upgrade request, in bytes; 0 means 8 KiB. Over it the
	// client gets HTTP 431.
	MaxHandshakeBytes int
	// HandshakeTimeout is how long a client may take to complete its upgrade request;
	// 0 means 10 s. Past it the connection gets HTTP 408 and is closed.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that sent nothing (no message, no ping) for that
	// long, with close code 1001. 0 means 60 s; a negative value disables it.
	IdleTimeout time.Duration
	// PingInterval makes the server send an RFC 6455 PING (section 5.5.2) to a connection
	// that sent nothing for that long, so that clients that never ping themselves (unlike
	// the SDK, which sends {"p":1} every 2 s) stay alive by answering PONG. 0 disables it,
	// as Kuzzle's sendPingsAutomatically: false. A client that answers nothing still
	// reaches IdleTimeout. Pings are not sent when PingInterval >= IdleTimeout.
	PingInterval time.Duration
	// MaxQueuedBytes bounds the bytes waiting to be written to one client; 0 means 4 MiB.
	// A client past it is closed with code 1011, as Kuzzle closes slow clients, and
	// counted. One message of any size is always accepted when nothing is waiting, so a
	// large response or notification alone never counts as slow.
	MaxQueuedBytes int
	// SendBufferSize is each client socket's SO_SNDBUF, in bytes (the kernel doubles it):
	// how much a client that does not read can hold in the kernel beyond MaxQueuedBytes.
	// Bounded, the 1011 sent to a slow client reaches it within CloseTimeout even at a few
	// hundred KB/s. 0 means DefaultSendBufferSize (256 KiB); negative leaves the kernel's
	// autotuning (net.ipv4.tcp_wmem, up to 4 MiB).
	SendBufferSize int
	// RateLimit is the largest number of messages one connection may send per second;
	// later ones get the room-less network.websocket.ratelimit_exceeded error and are not
	// executed (Kuzzle's limits.requestsRate per socket). 0 disables it.
	RateLimit int
	// CloseTimeout is how long a closing connection may take to flush and see the client
	// close its side; 0 means 5 s.
	CloseTimeout time.Duration
	// MaxConditions is the largest number of conditions of a subscription filter after
	// normalization (Kuzzle's limits.subscriptionConditionsCount); 0 means 100, negative
	// means no limit. Over it, subscribe fails with api.assert.koncorde_dsl_error.
	MaxConditions int
	// MaxRooms is the largest number of distinct rooms (Kuzzle's
	// limits.subscriptionRooms); 0 means 1,000,000, negative means no limit. Over it,
	// subscribing to a new room fails with core.realtime.too_many_rooms (413).
	MaxRooms int
	// MaxJSONDepth is the deepest nesting of arrays and objects a request may have; 0 means
	// 128. A deeper message gets the room-less network.websocket.unexpected_error, read
	// in linear time before any recursive parser runs.
	MaxJSONDepth int
	// Node is the node id put in responses and notifications; "" means
	// "knode-kuzzlews-<pid>" (with Cluster.URLs: "knode-kuzzlews-<random hex>"). In a
	// cluster it must be unique: NewServer fails when a live node has it.
	Node string
	// AllowedOrigins lists the browser origins allowed to connect (scheme://host[:port],
	// compared without case; "*" allows any). Empty means any origin, as Kuzzle's default
	// http.accessControlAllowOrigin "*". A WebSocket upgrade from another origin gets HTTP
	// 403; an HTTP API request, api.process.unauthorized_origin (401), as Kuzzle's funnel
	// answers. Clients that send no Origin header (servers, the SDK on Node.js) are never
	// refused.
	AllowedOrigins []string
	// Cluster makes the server one node of a cluster over NATS when Cluster.URLs is set
	// (see package room/cluster); its Node, MaxMessageSize and, when nil, Logger are
	// taken from this Config. The zero value is a single node.
	Cluster cluster.Config
	// Auth configures authentication and rights (security.go); its zero value is the open
	// mode: every client is the anonymous user with every right.
	Auth AuthConfig
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

// settingError is a setting out of range; its message names the flag.
type settingError struct {
	Flag   string // the flag's name, without "-"
	Value  any
	Reason string
}

func (e *settingError) Error() string { return fmt.Sprintf("-%s %v: %s", e.Flag, e.Value, e.Reason) }

// validate reports the first field out of range as a *settingError naming its flag.
func (c Config) validate() error {
	for _, f := range []struct {
		flag string
		v    int
	}{
		{"port", c.Port}, {"workers", c.Workers}, {"max-conns", c.MaxConns},
		{"max-message-size", c.MaxMessageSize}, {"max-handshake-bytes", c.MaxHandshakeBytes},
		{"max-queued-bytes", c.MaxQueuedBytes}, {"rate-limit", c.RateLimit}, {"max-json-depth", c.MaxJSONDepth},
	} {
		if f.v < 0 {
			return &settingError{f.flag, f.v, "must not be negative"}
		}
	}
	if c.Port > 65535 {
		return &settingError{"port", c.Port, "out of range"}
	}
	for _, f := range []struct {
		flag string
		d    time.Duration
	}{
		{"handshake-timeout", c.HandshakeTimeout}, {"close-timeout", c.CloseTimeout}, {"ping-interval", c.PingInterval},
	} {
		if f.d < 0 {
			return &settingError{f.flag, f.d, "must not be negative"}
		}
	}
	return c.Auth.validate()
}

func (c Config) withDefaults() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxHandshakeBytes <= 0 {
		c.MaxHandshakeBytes = DefaultMaxHandshakeBytes
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.SendBufferSize == 0 {
		c.SendBufferSize = DefaultSendBufferSize
	}
	if c.MaxJSONDepth <= 0 {
		c.MaxJSONDepth = DefaultMaxJSONDepth
	}
	if c.Node == "" {
		c.Node = defaultNode(c)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server serves Kuzzle's WebSocket protocol: it upgrades connections, reads requests and
// answers them, and hands realtime requests to the room engine.
type Server struct {
	cfg       Config
	log       *slog.Logger
	poll      *netpoll.Poller
	nodeJSON  string // cfg.Node as a JSON string, encoded once for every response
	rooms     *room.Engine
	cluster   *cluster.Node // nil for a single node
	publicAPI []byte        // server:publicApi's result, built once from the controller table
	started   time.Time

	mu          sync.Mutex     // guards httpServers
	httpServers []*http.Server // metrics and pprof listeners, closed by Shutdown

	routes     router           // Kuzzle's HTTP routes of the controller table
	httpLn     *handoffListener // connections the epoll path hands to api
	api        *http.Server     // Kuzzle's HTTP API, served on httpLn
	served     sync.Once        // api.Serve started by Listen
	apiDone    chan struct{}    // closed when api.Serve returns
	metrics    *metrics         // Prometheus series kept by the server
	clientLogs logLimiter       // rate limit of client-error logs
	debugLogs  bool             // the logger takes debug lines: client errors are logged
	origins    map[string]bool  // cfg.AllowedOrigins, lower-cased; nil: any
	auth       *authState       // authentication and rights; nil: open (security.go)

	draining     atomic.Bool  // server:healthCheck answers 503 (Drain, then Shutdown)
	shuttingDown atomic.Bool  // every request is refused, new upgrades get 503
	slowClosed   atomic.Int64 // clients closed with 1011 for exceeding MaxQueuedBytes
}

// NewServer creates a server and its worker pool. It listens on nothing until Listen.
// It fails when cfg is out of range (a negative size or duration) or the poller cannot
// start.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := newServer(cfg)
	a, err := newAuth(s)
	if err != nil {
		return nil, err
	}
	s.auth = a
	node, err := joinCluster(cfg)
	if err != nil {
		a.close()
		return nil, err
	}
	p, err := netpoll.New(netpoll.Config{
		Workers:         cfg.Workers,
		MaxConns:        cfg.MaxConns,
		MaxQueuedBytes:  cfg.MaxQueuedBytes,
		SendBufferSize:  max(cfg.SendBufferSize, 0),
		MaxPendingBytes: cfg.MaxMessageSize + 2*cfg.MaxHandshakeBytes,
		CloseTimeout:    cfg.CloseTimeout,
		Logger:          cfg.Logger,
	}, s.newClient)
	if err != nil {
		if node != nil {
			node.Close()
		}
		a.close()
		return nil, err
	}
	s.poll = p
	if node == nil {
		s.rooms = newRooms(cfg, p.TrySubmit)
		return s, nil
	}
	if err := s.serveCluster(node, p.TrySubmit); err != nil {
		p.Shutdown(0)
		a.close()
		return nil, err
	}
	return s, nil
}

// newServer returns a server without its poller and room engine (cfg has its defaults).
func newServer(cfg Config) *Server {
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		started:   time.Now(),
		nodeJSON:  string(kuzzle.AppendString(nil, cfg.Node)),
		publicAPI: appendPublicAPI(nil, controllers),
		routes:    newRouter(endpoints.byName),
		metrics:   newMetrics(),
		apiDone:   make(chan struct{}),
	}
	for _, o := range cfg.AllowedOrigins {
		if o = normalizeOrigin(o); o == "*" {
			s.origins = nil
			break
		} else if o != "" {
			if s.origins == nil {
				s.origins = map[string]bool{}
			}
			s.origins[o] = true
		}
	}
	s.debugLogs = cfg.Logger.Enabled(context.Background(), slog.LevelDebug)
	s.httpLn = newHandoffListener(s.Addr)
	s.api = s.newAPIServer()
	return s
}

// normalizeOrigin lower-cases an origin and drops a trailing "/" (browsers send
// "scheme://host[:port]", RFC 6454 section 6.1).
func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}

// originAllowed reports whether a request with this Origin header ("" when absent) may
// be served (Config.AllowedOrigins).
func (s *Server) originAllowed(origin string) bool {
	return origin == "" || s.origins == nil || s.origins[normalizeOrigin(origin)]
}

// newRooms returns the room engine of cfg, whose fan-out hands tasks to spread (nil:
// inline).
func newRooms(cfg Config, spread func(func()) bool) *room.Engine {
	return room.NewEngine(roomConfig(cfg, spread))
}

// roomConfig is the room engine's configuration for cfg.
func roomConfig(cfg Config, spread func(func()) bool) room.Config {
	return room.Config{
		Node:          cfg.Node,
		Headroom:      frame.Headroom,
		Seal:          sealText,
		Spread:        spread,
		MaxConditions: cfg.MaxConditions,
		MaxRooms:      cfg.MaxRooms,
	}
}

// sealText frames buf (frame.Headroom bytes, then the first part of a JSON payload whose
// last rest bytes are a tail sent after it) as the head of one text frame (room.Config.Seal).
func sealText(buf []byte, rest int) []byte { return frame.SealHead(buf, frame.OpText, rest) }

// Listen starts accepting connections on Config.Host and Config.Port: WebSocket clients
// on the epoll path, plain HTTP requests handed to the HTTP API server.
func (s *Server) Listen() error {
	if err := s.poll.Listen(net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))); err != nil {
		return err
	}
	s.served.Do(func() {
		go func() {
			defer close(s.apiDone)
			if err := s.api.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http api stopped", "err", err)
			}
		}()
	})
	return nil
}

// Addr returns the listening address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	if s.poll == nil {
		return nil
	}
	return s.poll.Addr()
}

// Drain makes server:healthCheck (GET /_healthCheck) answer 503
// network.entrypoint.shutting_down while everything else is served as usual, so that a
// load balancer probing it stops sending new clients before Shutdown closes them. It is
// the first step of a graceful stop; Shutdown implies it.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown closes every client with close code 1001 ("going away", which the SDK answers
// by reconnecting), waits up to timeout for their queues to flush and the clients to
// close their side, then closes the rest. Meanwhile the port stays open: a new upgrade
// request gets HTTP 503, an HTTP API request network.entrypoint.shutting_down (503, so
// health probes see the drain), and HTTP responses carry "Connection: close". It returns
// the number of connections that had to be closed by force.
func (s *Server) Shutdown(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	s.draining.Store(true)
	s.shuttingDown.Store(true)
	s.api.SetKeepAlivesEnabled(false)
	s.mu.Lock()
	for _, h := range s.httpServers {
		h.Close()
	}
	s.mu.Unlock()
	s.poll.ForEach(func(c *netpoll.Conn) {
		cl, ok := c.Handler().(*client)
		if ok && !cl.upgraded.Load() {
			s.metrics.refusal(http.StatusServiceUnavailable)
			c.Close(handshakeShutdown) // still an HTTP client: answer in HTTP
			return
		}
		if ok {
			cl.closeCode.CompareAndSwap(0, uint32(frame.StatusGoingAway))
		}
		c.Close(closeShutdown)
	})
	for s.poll.Stats().Conns > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	forced := s.poll.Shutdown(time.Until(deadline))
	if s.cluster != nil {
		s.cluster.Close() // after the clients' "out" notifications went to the other nodes
	}
	// HTTP connections: let requests in flight finish, up to the deadline (and at least a
	// moment), then close whatever is left.
	ctx, cancel := context.WithDeadline(context.Background(), maxTime(deadline, time.Now().Add(100*time.Millisecond)))
	_ = s.api.Shutdown(ctx)
	cancel()
	_ = s.api.Close()
	s.httpLn.Close()
	s.served.Do(func() { close(s.apiDone) }) // never started: then Listen will not start it
	<-s.apiDone
	s.auth.close()
	return forced
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// serveHTTP serves h on addr in the background with an ordinary net/http server (metrics,
// pprof: scraped rarely, so not through the epoll loop). Shutdown closes it. It returns
// the bound address.
func (s *Server) serveHTTP(addr string, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.httpServers = append(s.httpServers, srv)
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "addr", addr, "err", err)
		}
	}()
	return ln.Addr(), nil
}
