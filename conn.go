package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/netpoll"
	"github.com/kuzzlews/kuzzlews/room"
)

// Prepared frames sent as they are to any number of clients.
var (
	appPong           = frame.AppendText(nil, []byte(`{"p":2}`))
	closeSlow         = frame.Close(frame.StatusInternalError, "too much backpressure: client is too slow")
	closeIdle         = frame.Close(frame.StatusGoingAway, "idle timeout")
	closeShutdown     = frame.Close(frame.StatusGoingAway, "server shutting down")
	closeProtocol     = frame.Close(frame.StatusProtocolError, "")
	pingFrame         = frame.AppendFrame(nil, frame.OpPing, nil)
	handshakeShutdown = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nserver shutting down")
	handshakeTimedOut = []byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nhandshake timeout")
	handshakeOrigin   = []byte("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\norigin not allowed")
)

// client is one WebSocket connection: the handshake, the frame reader, and the session
// its messages go through. Its netpoll.Handler methods run on the connection's turn
// (never concurrently); Send and Deliver may be called from any goroutine.
type client struct {
	session
	conn      *netpoll.Conn
	r         frame.Reader
	upgraded  atomic.Bool   // read by Shutdown from another goroutine
	closeCode atomic.Uint32 // the close code that ended the connection, first one wins; 0: none yet
	pinged    bool          // a PING went out since the client's last bytes
}

func (s *Server) newClient(c *netpoll.Conn) netpoll.Handler {
	cl := &client{conn: c}
	cl.session = session{s: s, out: cl, notifiable: true}
	cl.r.MaxMessageSize = s.cfg.MaxMessageSize
	c.SetDeadline(s.cfg.HandshakeTimeout)
	return cl
}

// Send queues a prepared frame (transport). A client whose queue is full is closed with
// 1011.
func (cl *client) Send(f []byte) { cl.queued(cl.conn.Write(f), len(f)) }

// queued accounts for a frame of n bytes given to the connection's queue with result err:
// counted when queued, 1011 when the queue is full.
func (cl *client) queued(err error, n int) {
	if err == nil {
		cl.s.metrics.written(cl, n)
		return
	}
	if errors.Is(err, netpoll.ErrQueueFull) {
		cl.s.slowClosed.Add(1)
		cl.failNow(frame.StatusInternalError, "too much backpressure: client is too slow", closeSlow)
	}
}

// RemoteAddr returns the client's address (for logs: a system call each time).
func (cl *client) RemoteAddr() net.Addr { return cl.conn.RemoteAddr() }

// Deliver queues a notification frame, head then tail, as one unit (room.Subscriber):
// head is shared with the subscribers of other channels, tail with those of the same
// channel, so neither is copied (netpoll.Conn.WritePair).
func (cl *client) Deliver(head, tail []byte) {
	cl.s.metrics.delivered(cl)
	cl.queued(cl.conn.WritePair(head, tail), len(head)+len(tail))
}

// fail closes the WebSocket connection with close frame f of code code, logging it as a
// client error with reason.
func (cl *client) fail(code frame.StatusCode, reason string, f []byte) {
	cl.noteClose(code, reason)
	cl.conn.Close(f)
}

// failNow is fail for a client that cannot keep up: the frames it has not started to
// receive are dropped, so that the close frame f reaches it now (netpoll DiscardAndClose).
func (cl *client) failNow(code frame.StatusCode, reason string, f []byte) {
	cl.noteClose(code, reason)
	cl.conn.DiscardAndClose(f)
}

// noteClose records the close code that ends the connection (the first one wins) and
// logs it at debug level.
func (cl *client) noteClose(code frame.StatusCode, reason string) {
	if cl.closeCode.CompareAndSwap(0, uint32(code)) && cl.s.debugLogs {
		cl.s.clientError("websocket closed", cl, "code", int(code), "reason", reason)
	}
}

// refuse answers the upgrade request with an HTTP error response and closes.
func (cl *client) refuse(status int, reason string, resp []byte) {
	cl.s.metrics.refusal(status)
	if cl.s.debugLogs {
		cl.s.clientError("handshake refused", cl, "status", status, "reason", reason)
	}
	cl.conn.Close(resp)
}

var _ room.Subscriber = (*client)(nil)

// OnData implements netpoll.Handler: handshake first, then frames. A complete request
// head that is not a WebSocket upgrade attempt is handed to the HTTP API (http.go).
func (cl *client) OnData(c *netpoll.Conn, data []byte) int {
	consumed := 0
	if !cl.upgraded.Load() {
		n, resp, hs, err := frame.Upgrade(data, frame.HandshakeConfig{MaxBytes: cl.s.cfg.MaxHandshakeBytes})
		switch {
		case errors.Is(err, frame.ErrIncomplete):
			return 0
		case err != nil:
			kind := headMalformed
			if n > 0 {
				kind = classifyHead(data[:n])
			}
			if kind == headHTTP {
				cl.s.handOff(c, data)
				return len(data)
			}
			status, reason := http.StatusBadRequest, err.Error()
			var he *frame.HandshakeError
			if errors.As(err, &he) {
				status, reason = he.Status, he.Reason
			}
			cl.refuse(status, reason, resp)
			return len(data)
		case cl.s.shuttingDown.Load():
			cl.refuse(http.StatusServiceUnavailable, "server shutting down", handshakeShutdown)
			return len(data)
		case !cl.s.originAllowed(hs.Origin):
			cl.refuse(http.StatusForbidden, "origin not allowed: "+hs.Origin, handshakeOrigin)
			return len(data)
		}
		cl.upgraded.Store(true)
		cl.Send(resp)
		consumed = n
	}
	cl.pinged = false
	c.SetDeadline(cl.quietDeadline())
	for consumed < len(data) {
		n, ev, ok, err := cl.r.Next(data[consumed:])
		if err != nil {
			var ce *frame.CloseError
			if errors.As(err, &ce) {
				cl.fail(ce.Code, ce.Reason, ce.Frame())
			} else {
				cl.fail(frame.StatusProtocolError, err.Error(), closeProtocol)
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
			if ev.OpCode == frame.OpBinary && !utf8.Valid(msg) {
				// Text frames are checked by the reader (1007); a binary frame is read as
				// text the way Kuzzle reads it (Buffer.toString): invalid bytes become
				// U+FFFD, so nothing echoed or published is invalid UTF-8.
				msg = bytes.ToValidUTF8(msg, []byte("\uFFFD"))
			}
			cl.handle(msg)
		case frame.KindPing:
			cl.Send(frame.Pong(ev.Payload))
		case frame.KindClose:
			code := uint32(ev.Code)
			if code == 0 {
				code = 1005 // no status code present (RFC 6455 section 7.4.1)
			}
			cl.closeCode.CompareAndSwap(0, code)
			c.Close(ev.Reply)
			return len(data)
		}
	}
	return consumed
}

// quietDeadline is how long the connection may stay silent before OnDeadline runs: the
// ping interval when pings are on, else the idle timeout (0: no deadline).
func (cl *client) quietDeadline() time.Duration {
	idle, ping := cl.s.cfg.IdleTimeout, cl.s.cfg.PingInterval
	switch {
	case ping > 0 && (idle <= 0 || ping < idle):
		return ping
	case idle > 0:
		return idle
	}
	return 0
}

// OnDeadline implements netpoll.Handler: the handshake deadline passed (HTTP 408), or
// the connection was silent for the ping interval (a PING goes out, and the rest of the
// idle timeout starts) or for the idle timeout (1001).
func (cl *client) OnDeadline(c *netpoll.Conn) {
	if !cl.upgraded.Load() {
		cl.refuse(http.StatusRequestTimeout, "handshake timeout", handshakeTimedOut)
		return
	}
	idle, ping := cl.s.cfg.IdleTimeout, cl.s.cfg.PingInterval
	if ping > 0 && (idle <= 0 || (!cl.pinged && ping < idle)) {
		cl.pinged = true
		cl.Send(pingFrame)
		if idle <= 0 {
			c.SetDeadline(ping)
		} else {
			c.SetDeadline(idle - ping)
		}
		return
	}
	cl.fail(frame.StatusGoingAway, "idle timeout", closeIdle)
}

// OnClose implements netpoll.Handler.
func (cl *client) OnClose(c *netpoll.Conn, err error) {
	cl.r.Reset()
	cl.session.close()
	if cl.upgraded.Load() {
		cl.s.metrics.wsClose(cl.closeCode.Load())
	}
}
