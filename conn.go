package main

import (
	"bytes"
	"errors"
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
)

// client is one WebSocket connection: the handshake, the frame reader, and the session
// its messages go through. Its netpoll.Handler methods run on the connection's turn
// (never concurrently); Send and Deliver may be called from any goroutine.
type client struct {
	session
	conn     *netpoll.Conn
	r        frame.Reader
	upgraded atomic.Bool // read by Shutdown from another goroutine
	pinged   bool        // a PING went out since the client's last bytes
}

func (s *Server) newClient(c *netpoll.Conn) netpoll.Handler {
	cl := &client{conn: c}
	cl.session = session{s: s, out: cl}
	cl.r.MaxMessageSize = s.cfg.MaxMessageSize
	c.SetDeadline(s.cfg.HandshakeTimeout)
	return cl
}

// Send queues a prepared frame (transport). A client whose queue is full is closed with
// 1011.
func (cl *client) Send(f []byte) {
	err := cl.conn.Write(f)
	if errors.Is(err, netpoll.ErrQueueFull) {
		cl.s.slowClosed.Add(1)
		cl.conn.DiscardAndClose(closeSlow)
	}
}

// Deliver queues a notification frame shared with other subscribers (room.Subscriber).
func (cl *client) Deliver(f []byte) { cl.Send(f) }

var _ room.Subscriber = (*client)(nil)

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
				c.Close(ce.Frame())
			} else {
				c.Close(closeProtocol)
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
		c.Close(handshakeTimedOut)
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
	c.Close(closeIdle)
}

// OnClose implements netpoll.Handler.
func (cl *client) OnClose(c *netpoll.Conn, err error) {
	cl.r.Reset()
	cl.session.close()
}
