package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/netpoll"
	"github.com/kuzzlews/kuzzlews/room"
)

// Config is the server's configuration. The zero value works: every zero field takes the
// default written on it.
type Config struct {
	// Host is the address to listen on; "" means every IPv4 interface.
	Host string
	// Port is the TCP port; 0 picks a free one (tests). main defaults it to 7513, the
	// original kuzzle-plugin-websocket's port (spec section 2.1).
	Port int
	// Workers is the size of the worker pool; 0 means netpoll's default (2 x GOMAXPROCS).
	Workers int
	// MaxConns bounds open connections; 0 means the file-descriptor limit minus 64.
	MaxConns int
	// MaxMessageSize is the largest client message, in bytes, after reassembly of
	// fragments. 0 means 1 MiB (Kuzzle's server.maxRequestSize). Larger messages fail the
	// connection with close code 1009 (RFC 6455 section 7.4.1).
	MaxMessageSize int
	// MaxHandshakeBytes caps the upgrade request, in bytes; 0 means 8 KiB. Over it the
	// client gets HTTP 431.
	MaxHandshakeBytes int
	// HandshakeTimeout is how long a client may take to complete its upgrade request;
	// 0 means 10 s. Past it the connection gets HTTP 408 and is closed.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that sent nothing (no message, no ping) for that
	// long, with close code 1001. 0 means 60 s (Kuzzle's default, spec section 3.5);
	// a negative value disables it.
	IdleTimeout time.Duration
	// MaxQueuedBytes bounds the bytes waiting to be written to one client; 0 means 4 MiB.
	// A client past it is closed with code 1011, as Kuzzle closes slow clients
	// (spec section 3.9), and counted. One message of any size is always accepted when
	// nothing is waiting, so a large response or notification alone never counts as slow.
	MaxQueuedBytes int
	// RateLimit is the largest number of messages one connection may send per second;
	// later ones get the room-less network.websocket.ratelimit_exceeded error and are not
	// executed (spec section 3.7). 0 disables it.
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
	// Node is the node id put in responses and notifications; "" means
	// "knode-kuzzlews-<pid>".
	Node string
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = frame.DefaultMaxMessageSize
	}
	if c.MaxHandshakeBytes <= 0 {
		c.MaxHandshakeBytes = frame.DefaultMaxHandshakeBytes
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = 4 << 20
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 5 * time.Second
	}
	if c.Node == "" {
		c.Node = "knode-kuzzlews-" + strconv.Itoa(os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server serves Kuzzle's WebSocket protocol: it upgrades connections, reads requests and
// answers them, and hands realtime requests to the room engine.
type Server struct {
	cfg      Config
	log      *slog.Logger
	poll     *netpoll.Poller
	nodeJSON string // cfg.Node as a JSON string, encoded once for every response
	rooms    *room.Engine
	started  time.Time

	mu          sync.Mutex     // guards httpServers
	httpServers []*http.Server // metrics and pprof listeners, closed by Shutdown

	shuttingDown atomic.Bool
	slowClosed   atomic.Int64 // clients closed with 1011 for exceeding MaxQueuedBytes
}

// Prepared frames sent as they are to any number of clients.
var (
	appPong           = frame.AppendText(nil, []byte(`{"p":2}`))
	closeSlow         = frame.Close(ws.StatusInternalServerError, "too much backpressure: client is too slow")
	closeIdle         = frame.Close(ws.StatusGoingAway, "idle timeout")
	closeShutdown     = frame.Close(ws.StatusGoingAway, "server shutting down")
	handshakeShutdown = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nserver shutting down")
	handshakeTimedOut = []byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nhandshake timeout")
)

// NewServer creates a server and its worker pool. It listens on nothing until Listen.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), nodeJSON: string(appendString(nil, cfg.Node))}
	p, err := netpoll.New(netpoll.Config{
		Workers:         cfg.Workers,
		MaxConns:        cfg.MaxConns,
		MaxQueuedBytes:  cfg.MaxQueuedBytes,
		MaxPendingBytes: cfg.MaxMessageSize + 2*cfg.MaxHandshakeBytes,
		CloseTimeout:    cfg.CloseTimeout,
		Logger:          cfg.Logger,
	}, s.newClient)
	if err != nil {
		return nil, err
	}
	s.poll = p
	s.rooms = room.NewEngine(room.Config{
		Node:          cfg.Node,
		Frame:         encodeText,
		Spread:        p.TrySubmit,
		MaxConditions: cfg.MaxConditions,
		MaxRooms:      cfg.MaxRooms,
	})
	return s, nil
}

// Listen starts accepting connections on Config.Host and Config.Port.
func (s *Server) Listen() error {
	return s.poll.Listen(net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)))
}

// Addr returns the listening address, or nil before Listen.
func (s *Server) Addr() net.Addr { return s.poll.Addr() }

// Shutdown closes every client with close code 1001 ("going away", which the SDK answers
// by reconnecting, spec section 3.10), waits up to timeout for their queues to flush and
// the clients to close their side, then closes the rest. It returns the number of
// connections that had to be closed by force.
func (s *Server) Shutdown(timeout time.Duration) int {
	s.shuttingDown.Store(true)
	s.mu.Lock()
	for _, h := range s.httpServers {
		h.Close()
	}
	s.mu.Unlock()
	s.poll.ForEach(func(c *netpoll.Conn) {
		if cl, ok := c.Handler().(*client); ok && !cl.upgraded.Load() {
			c.Close(handshakeShutdown) // still an HTTP client: answer in HTTP
			return
		}
		c.Close(closeShutdown)
	})
	return s.poll.Shutdown(timeout)
}

// client is the per-connection state: what the handshake and the frame reader need.
// Its methods run on the connection's turn (never concurrently), except Deliver.
type client struct {
	s        *Server
	conn     *netpoll.Conn
	r        frame.Reader
	upgraded atomic.Bool // read by Shutdown from another goroutine
	rate     rateWindow
	rc       *room.Conn // the connection in the room engine; nil until first used
}

func (s *Server) newClient(c *netpoll.Conn) netpoll.Handler {
	cl := &client{s: s, conn: c}
	cl.r.MaxMessageSize = s.cfg.MaxMessageSize
	c.SetDeadline(s.cfg.HandshakeTimeout)
	return cl
}

// send queues a prepared frame. A client whose queue is full is closed with 1011.
func (cl *client) send(f []byte) {
	err := cl.conn.Write(f)
	if errors.Is(err, netpoll.ErrQueueFull) {
		cl.s.slowClosed.Add(1)
		cl.conn.Close(closeSlow)
	}
}

// Deliver queues a notification frame shared with other subscribers (room.Subscriber).
func (cl *client) Deliver(f []byte) { cl.send(f) }

// OnData implements netpoll.Handler: handshake first, then frames.
func (cl *client) OnData(c *netpoll.Conn, data []byte) int {
	consumed := 0
	if !cl.upgraded.Load() {
		n, resp, _, err := frame.Upgrade(data, frame.HandshakeConfig{MaxBytes: cl.s.cfg.MaxHandshakeBytes})
		switch {
		case errors.Is(err, frame.ErrIncomplete):
			return 0
		case err != nil:
			c.Close(resp)
			return len(data)
		}
		cl.upgraded.Store(true)
		cl.send(resp)
		consumed = n
	}
	if cl.s.cfg.IdleTimeout > 0 {
		c.SetDeadline(cl.s.cfg.IdleTimeout)
	} else {
		c.SetDeadline(0)
	}
	for consumed < len(data) {
		n, ev, ok, err := cl.r.Next(data[consumed:])
		if err != nil {
			var ce *frame.CloseError
			if errors.As(err, &ce) {
				c.Close(ce.Frame())
			} else {
				c.Close(frame.Close(ws.StatusProtocolError, ""))
			}
			return len(data)
		}
		if n == 0 {
			break
		}
		consumed += n
		if !ok {
			continue
		}
		switch ev.Kind {
		case frame.KindMessage:
			msg := ev.Payload
			if ev.OpCode == ws.OpBinary && !utf8.Valid(msg) {
				// Text frames are checked by the reader (1007); a binary frame is read as
				// text the way Kuzzle reads it (Buffer.toString): invalid bytes become
				// U+FFFD, so nothing echoed or published is invalid UTF-8.
				msg = bytes.ToValidUTF8(msg, []byte("\uFFFD"))
			}
			cl.handleMessage(msg)
		case frame.KindPing:
			cl.send(frame.Pong(ev.Payload))
		case frame.KindClose:
			c.Close(ev.Reply)
			return len(data)
		}
	}
	return consumed
}

// OnDeadline implements netpoll.Handler: the handshake or idle deadline passed.
func (cl *client) OnDeadline(c *netpoll.Conn) {
	if !cl.upgraded.Load() {
		c.Close(handshakeTimedOut)
		return
	}
	c.Close(closeIdle)
}

// OnClose implements netpoll.Handler.
func (cl *client) OnClose(c *netpoll.Conn, err error) {
	cl.r.Reset()
	if cl.rc != nil {
		cl.s.rooms.Disconnect(cl.rc) // leaves every room; "user out" notifications go out
	}
}

// encodeText frames a JSON payload as one text frame (encoded once, written to many).
func encodeText(payload []byte) []byte {
	return frame.AppendText(make([]byte, 0, frame.Headroom+len(payload)), payload)
}

// rateWindow counts a connection's messages in the current second (spec section 3.7).
type rateWindow struct {
	second int64
	count  int32
}

// allow counts one message at unix second now and reports whether it is within limit.
func (w *rateWindow) allow(now int64, limit int) bool {
	if now != w.second {
		w.second, w.count = now, 0
	}
	w.count++
	return int(w.count) <= limit
}
