package netpoll

import (
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailru/easygo/netpoll"
	"golang.org/x/sys/unix"
)

// Handler serves one connection. Its methods are called on a worker, one at a time for a
// given connection (never concurrently), and must not block on I/O.
type Handler interface {
	// OnData receives the bytes that arrived, preceded by the bytes left unconsumed by the
	// previous call. It returns how many leading bytes it consumed; it must consume every
	// complete unit (request, frame) in data, because the rest waits for more bytes. data
	// is only valid until OnData returns, and the handler may modify it in place.
	OnData(c *Conn, data []byte) (consumed int)
	// OnDeadline is called once when the deadline set by Conn.SetDeadline passes.
	OnDeadline(c *Conn)
	// OnClose is called exactly once, after the descriptor is closed (never for a
	// connection handed over with Conn.Detach). err is the cause: nil
	// after Close completed normally, io.EOF when the peer closed first, ErrDeadline,
	// ErrPendingTooLarge, a socket error, or the error of a recovered panic.
	OnClose(c *Conn, err error)
}

// Registration masks. EPOLLRDHUP reports a peer's FIN with the data still buffered before it.
const (
	armRead      = netpoll.EPOLLIN | netpoll.EPOLLRDHUP | netpoll.EPOLLONESHOT
	armReadWrite = armRead | netpoll.EPOLLOUT
	readable     = netpoll.EPOLLIN | netpoll.EPOLLRDHUP | netpoll.EPOLLHUP | netpoll.EPOLLERR
	epollClosed  = 0x20 // easygo's _EPOLLCLOSED: the epoll instance is closing
)

// Signals ask the turn holder to act; they are set from any goroutine.
const (
	sigDeadline uint32 = 1 << iota // a deadline passed
	sigKill                        // close the descriptor now
)

// Connection states; transitions happen under Conn.mu, reads may be lock-free.
const (
	stateOpen uint32 = iota
	stateClosing
	stateClosed
)

// maxIovec bounds the buffers handed to one writev call.
const maxIovec = 64

// Conn is one accepted TCP connection.
type Conn struct {
	p    *Poller
	h    Handler
	fd   int
	slot int32 // index in Poller.conns; guarded by Poller.mu

	busy     atomic.Bool   // a turn is due or running: set by schedule, cleared by endTurn
	events   atomic.Uint32 // epoll events received since the last turn
	signals  atomic.Uint32 // sig* bits since the last turn
	state    atomic.Uint32 // state*
	deadline atomic.Int64  // unix ns; 0 = none. Handler's deadline, or the close deadline.

	// Owned by the turn holder.
	pending  *[]byte // unconsumed input, nil when none
	eof      bool    // the peer closed its write side
	detached bool    // Detach handed the descriptor over: the poller must not touch it

	mu       sync.Mutex // guards out, outBytes, started, shutWR, cause and state transitions
	out      []outBuf   // queued outbound buffers, by reference
	outBytes int
	started  bool  // out[0] is the rest of a buffer partly written
	shutWR   bool  // our write side is shut down (closing, queue drained)
	cause    error // why the connection is closing, for OnClose
}

// outBuf is one queued buffer. A unit written with WritePair is two outBufs, the second
// joined to the first: both go out or neither does (DiscardAndClose keeps them together).
type outBuf struct {
	b      []byte
	joined bool // the rest of the unit begun by the previous buffer
}

// onEvent runs on the epoll goroutine. With EPOLLONESHOT the socket is disarmed until the
// turn's end re-arms it, so this never races a turn of its own connection.
func (c *Conn) onEvent(ev netpoll.EpollEvent) {
	if ev&epollClosed != 0 {
		return
	}
	c.events.Or(uint32(ev))
	if c.p.schedule(c) && c.p.yield != nil {
		c.p.yield.arm()
	}
}

func (c *Conn) signal(s uint32) {
	c.signals.Or(s)
	c.p.schedule(c)
}

// kill closes the descriptor at the next turn, dropping what is queued.
func (c *Conn) kill() { c.signal(sigKill) }

// Handler returns the connection's handler (the value newHandler returned for it).
func (c *Conn) Handler() Handler { return c.h }

// SetDeadline makes the poller call Handler.OnDeadline once, between d and
// d + Config.SweepInterval from now (never early). Zero clears it. It is ignored once the
// connection is closing.
func (c *Conn) SetDeadline(d time.Duration) {
	if c.state.Load() != stateOpen {
		return
	}
	if d <= 0 {
		c.deadline.Store(0)
		return
	}
	c.deadline.Store(time.Now().UnixNano() + int64(d))
}

// Write queues b for sending, after everything queued before it. b is kept by reference
// until it is written: the caller must not modify it afterwards (it may be shared by many
// connections). When nothing is queued and no turn is running, Write tries the socket at
// once. It returns ErrClosed after Close, and ErrQueueFull, queuing nothing, when the queue
// holds bytes already and would exceed Config.MaxQueuedBytes: an empty queue takes one
// buffer of any size, so a single large message never counts as a slow reader. A socket
// error closes the connection and is returned.
func (c *Conn) Write(b []byte) error { return c.WritePair(b, nil) }

// WritePair queues head then tail as one unit: Write's contract for the buffer head+tail,
// without joining them in memory. Both are kept by reference and must not be modified
// (a head shared by many connections, each with its own tail, is the use: a notification
// framed once, whose last bytes differ per channel). The unit counts as
// len(head)+len(tail) bytes for Config.MaxQueuedBytes, as one buffer; on an empty queue
// it is tried at once with one writev. It is never cut: once any byte of it is written,
// DiscardAndClose sends the rest of both parts. Either part may be empty.
func (c *Conn) WritePair(head, tail []byte) error {
	if len(head) == 0 {
		head, tail = tail, nil
	}
	size := len(head) + len(tail)
	if size == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() != stateOpen {
		return ErrClosed
	}
	if c.outBytes > 0 && c.outBytes+size > c.p.cfg.MaxQueuedBytes {
		c.p.queueFull.Add(1)
		return ErrQueueFull
	}
	joined := false // head is what remains of a unit already begun on the socket
	if len(c.out) == 0 && !c.busy.Load() {
		n, err := writeFull(c.fd, head, tail)
		if err != nil {
			c.cause = err
			c.signals.Or(sigKill)
			c.p.schedule(c)
			return err
		}
		if n == size {
			return nil
		}
		if n >= len(head) {
			// The head went out whole: the tail alone remains, bound to it.
			c.started = n > len(head)
			head, tail, joined = tail[n-len(head):], nil, true
		} else {
			c.started = n > 0
			head = head[n:]
		}
	}
	wasEmpty := len(c.out) == 0
	c.out = append(c.out, outBuf{b: head, joined: joined})
	if len(tail) > 0 {
		c.out = append(c.out, outBuf{b: tail, joined: true})
	}
	c.outBytes += len(head) + len(tail)
	if wasEmpty && !c.busy.Load() {
		// No turn will re-arm: ask for EPOLLOUT now.
		if err := c.p.ep.Mod(c.fd, armReadWrite); err != nil {
			c.cause = err
			c.signals.Or(sigKill)
			c.p.schedule(c)
		}
	}
	return nil
}

// Close closes the connection gracefully: final (if any) is queued after everything already
// queued, whatever the queue bound; input is no longer delivered; once the queue is
// flushed the write side is shut down, and the descriptor is closed when the peer closes its
// side or after Config.CloseTimeout. Handler.OnClose follows. Close never blocks and may be
// called from any goroutine, more than once (later calls do nothing).
func (c *Conn) Close(final []byte) {
	c.mu.Lock()
	closing := c.closeLocked(final)
	c.mu.Unlock()
	if closing {
		c.p.schedule(c)
	}
}

// closeLocked starts a graceful close with final queued last, and reports whether it did
// (false when the connection was closing already). c.mu must be held; the caller schedules
// a turn.
func (c *Conn) closeLocked(final []byte) bool {
	if c.state.Load() != stateOpen {
		return false
	}
	c.state.Store(stateClosing)
	if len(final) > 0 {
		c.out = append(c.out, outBuf{b: final})
		c.outBytes += len(final)
	}
	c.deadline.Store(time.Now().UnixNano() + int64(c.p.cfg.CloseTimeout))
	return true
}

// DiscardAndClose closes the connection gracefully like Close, but sends final before what
// is waiting: the units queued by Write and WritePair and not yet started are dropped, the
// one partly written (if any: a buffer, or a pair of which any byte left) is finished, so
// the peer never gets a cut unit (a cut WebSocket frame would corrupt the stream), and final
// follows it. Bytes already handed to the kernel are
// not recalled; they reach the peer first. The rest is Close's: input is no longer
// delivered, the write side is shut down once final is written, and the descriptor is
// closed when the peer closes its side or after Config.CloseTimeout.
//
// Use it when the queue itself is the trouble, as after ErrQueueFull: with Close, final
// would wait behind up to Config.MaxQueuedBytes for a peer that reads slowly, and the close
// deadline would likely cut the connection before the peer learns why. Like Close it never
// blocks, may be called from any goroutine, and does nothing once the connection is
// closing.
func (c *Conn) DiscardAndClose(final []byte) {
	c.mu.Lock()
	if c.state.Load() != stateOpen {
		c.mu.Unlock()
		return
	}
	// The unit in progress: out[0] partly written, or the second part of a pair whose
	// first part was written (joined to what left already), with the parts joined to it.
	keep := 0
	if len(c.out) > 0 && (c.started || c.out[0].joined) {
		keep = 1
		for keep < len(c.out) && c.out[keep].joined {
			keep++
		}
	}
	clear(c.out[keep:]) // drop the references: shared frames may be large
	c.out = c.out[:keep]
	c.outBytes = 0
	for _, o := range c.out {
		c.outBytes += len(o.b)
	}
	c.closeLocked(final)
	c.mu.Unlock()
	c.p.schedule(c)
}

// turn serves c on a worker. buf is the worker's read buffer.
func (p *Poller) turn(c *Conn, buf []byte) {
	defer func() {
		if r := recover(); r != nil {
			p.panics.Add(1)
			p.cfg.Logger.Error("netpoll: handler panicked; connection closed",
				"panic", r, "stack", string(debug.Stack()))
			c.finish(fmt.Errorf("netpoll: handler panicked: %v", r))
		}
	}()
	if c.state.Load() == stateClosed {
		return // busy stays set: a closed connection never gets another turn
	}
	ev := c.events.Swap(0)
	sig := c.signals.Swap(0)
	if sig&sigKill != 0 {
		c.finish(nil)
		return
	}
	if sig&sigDeadline != 0 {
		if c.state.Load() == stateClosing {
			c.finish(ErrDeadline)
			return
		}
		c.h.OnDeadline(c)
	}
	if ev&readable != 0 {
		if err := c.readLoop(buf); err != nil {
			if c.detached {
				c.dropPending()
				return // busy stays set: the poller never serves c again
			}
			c.finish(err)
			return
		}
	}
	c.endTurn()
}

// readLoop reads until EAGAIN, a short read, EOF or the read budget, delivering the bytes
// to the handler (or discarding them once closing).
func (c *Conn) readLoop(buf []byte) error {
	budget := c.p.cfg.ReadBudget
	for budget > 0 && !c.eof {
		n, err := read(c.fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return nil
		case err != nil:
			return err
		case n == 0:
			c.eof = true
			return nil
		}
		budget -= n
		if c.state.Load() == stateOpen {
			if err := c.deliver(buf[:n]); err != nil {
				return err
			}
			if c.detached {
				return errDetached
			}
		}
		if n < len(buf) {
			return nil // drained; the re-arm reports anything that arrives meanwhile
		}
	}
	return nil
}

// deliver hands data (plus pending input) to the handler and keeps what it left.
func (c *Conn) deliver(data []byte) error {
	limit := c.p.cfg.MaxPendingBytes
	if pb := c.pending; pb != nil {
		need := len(*pb) + len(data)
		if need > limit {
			return ErrPendingTooLarge
		}
		if need > cap(*pb) {
			nb := getBuf(min(max(need, 2*cap(*pb)), limit)) // geometric: no quadratic copying
			*nb = append(*nb, *pb...)
			putBuf(pb)
			c.pending, pb = nb, nb
		}
		*pb = append(*pb, data...)
		data = *pb
	}
	consumed := c.h.OnData(c, data)
	rest := data[consumed:]
	switch {
	case c.pending != nil && len(rest) == 0:
		putBuf(c.pending)
		c.pending = nil
	case c.pending != nil:
		*c.pending = (*c.pending)[:copy(*c.pending, rest)]
	case len(rest) > limit:
		return ErrPendingTooLarge
	case len(rest) > 0:
		nb := getBuf(len(rest))
		*nb = append(*nb, rest...)
		c.pending = nb
	}
	return nil
}

// endTurn flushes the queue, advances a graceful close, and re-arms the socket.
func (c *Conn) endTurn() {
	c.mu.Lock()
	if c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.eof && c.state.Load() == stateOpen {
		// The peer will send nothing more: send what is queued, then close.
		c.state.Store(stateClosing)
		c.cause = io.EOF
		c.deadline.Store(c.p.now.Load() + int64(c.p.cfg.CloseTimeout))
	}
	if err := c.flushLocked(); err != nil {
		c.mu.Unlock()
		c.finish(err)
		return
	}
	if c.state.Load() == stateClosing && len(c.out) == 0 {
		if !c.shutWR {
			c.shutWR = true
			_ = unix.Shutdown(c.fd, unix.SHUT_WR)
		}
		if c.eof {
			cause := c.cause
			c.mu.Unlock()
			c.finish(cause)
			return
		}
	}
	mask := netpoll.EpollEvent(armRead)
	if len(c.out) > 0 {
		mask = armReadWrite
	}
	c.busy.Store(false)
	err := c.p.ep.Mod(c.fd, mask)
	c.mu.Unlock()
	if err != nil {
		c.signal(sigKill)
		return
	}
	if c.signals.Load() != 0 {
		c.p.schedule(c)
	}
}

// flushLocked writes queued buffers until the socket is full or the queue empty.
// c.mu must be held.
func (c *Conn) flushLocked() error {
	for len(c.out) > 0 {
		var n int
		var err error
		if len(c.out) == 1 {
			n, err = write(c.fd, c.out[0].b)
		} else {
			n, err = writev(c.fd, c.out)
		}
		if n > 0 {
			c.consumeLocked(n)
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return nil
		case err != nil:
			return err
		case n == 0:
			return nil
		}
	}
	return nil
}

// consumeLocked drops n written bytes from the head of the queue. c.mu must be held.
func (c *Conn) consumeLocked(n int) {
	c.outBytes -= n
	k := 0
	for k < len(c.out) && n >= len(c.out[k].b) {
		n -= len(c.out[k].b)
		k++
	}
	if k > 0 {
		c.started = false // the new head, if any, is untouched (but may be joined)
	}
	if k < len(c.out) && n > 0 {
		c.out[k].b = c.out[k].b[n:]
		c.started = true
	}
	m := copy(c.out, c.out[k:])
	clear(c.out[m:])
	c.out = c.out[:m]
	if m == 0 && cap(c.out) > 64 {
		c.out = nil // a burst grew the queue: let the backing array go
	}
}

// finish closes the descriptor and reports OnClose. Only the turn holder calls it.
func (c *Conn) finish(cause error) {
	c.mu.Lock()
	if c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	if cause == nil {
		cause = c.cause
	}
	c.state.Store(stateClosed)
	_ = c.p.ep.Del(c.fd) // before close: the number may be reused at once
	_ = unix.Close(c.fd)
	clear(c.out)
	c.out, c.outBytes, c.started = nil, 0, false
	c.deadline.Store(0)
	c.mu.Unlock()
	c.dropPending()
	c.p.unregister(c)
	c.p.closed.Add(1)
	defer func() {
		if r := recover(); r != nil {
			c.p.panics.Add(1)
			c.p.cfg.Logger.Error("netpoll: OnClose panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	c.h.OnClose(c, cause)
}

// dropPending returns the pending input buffer to the pool. Only the turn holder calls it.
func (c *Conn) dropPending() {
	if c.pending != nil {
		putBuf(c.pending)
		c.pending = nil
	}
}

// writeFull writes a then b (b may be empty) to a non-blocking socket until both are
// written or the socket is full: write(2) for one buffer, writev(2) for two. EAGAIN is
// not an error: the count tells what was written.
func writeFull(fd int, a, b []byte) (int, error) {
	written, total := 0, len(a)+len(b)
	for written < total {
		var n int
		var err error
		switch {
		case written >= len(a):
			n, err = write(fd, b[written-len(a):])
		case len(b) == 0:
			n, err = write(fd, a[written:])
		default:
			pair := [2]outBuf{{b: a[written:]}, {b: b}}
			n, err = writev(fd, pair[:])
		}
		if n > 0 {
			written += n
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return written, nil
		case err != nil:
			return written, err
		case n == 0:
			return written, nil
		}
	}
	return written, nil
}
