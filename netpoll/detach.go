package netpoll

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// errDetached ends the turn of a connection whose handler called Detach.
var errDetached = errors.New("netpoll: detached")

// ErrQueued is returned by Detach when bytes are queued for writing on the connection:
// they belong to the poller's outbound queue, which a detached descriptor leaves behind.
var ErrQueued = errors.New("netpoll: detach with bytes queued for writing")

// Detach hands c's socket over to the caller, for a protocol the poller does not serve
// (the server gives plain HTTP requests to net/http this way). It must be called from
// c's Handler.OnData, and OnData should then consume all of its data. The poller removes
// the descriptor from its epoll instance and its registry without closing it: c no
// longer counts in Stats.Conns, it gets no more Handler calls (not even OnClose), its
// deadline is cleared, and Write and Close on c return ErrClosed or do nothing.
// Stats.Detached counts it, and Stats.DetachedOpen until the returned net.Conn is closed:
// meanwhile it still counts against Config.MaxConns, its descriptor being of the same
// budget.
//
// The returned net.Conn owns the same descriptor (no dup: the connection still costs one
// descriptor), served from then on by Go's runtime poller, so its reads and writes block
// the calling goroutine and honour deadlines. Its Read returns replay first (Detach
// copies it: pass the bytes OnData received, which are only valid during the call), then
// what arrives on the socket; Close closes the descriptor; CloseWrite shuts the write
// side down. Its LocalAddr and RemoteAddr are read once, at Detach.
//
// Cost: epoll_ctl(DEL) on the poller's instance, getsockname and getpeername, then
// fcntl(F_GETFL) and epoll_ctl(ADD) when os.NewFile registers the descriptor with the
// runtime poller: five system calls, and the copy of replay.
//
// Errors: ErrClosed when c is already closing (Close won the race: the poller closes it
// as usual), ErrQueued when bytes are queued for writing (c stays open and served).
func (c *Conn) Detach(replay []byte) (net.Conn, error) {
	c.mu.Lock()
	if c.state.Load() != stateOpen {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if len(c.out) > 0 {
		c.mu.Unlock()
		return nil, ErrQueued
	}
	c.state.Store(stateClosed)
	c.deadline.Store(0)
	c.detached = true
	c.mu.Unlock()
	_ = c.p.ep.Del(c.fd)    // the runtime poller registers it on its own epoll instance next
	c.p.detachedOpen.Add(1) // before unregister: the connection always counts once
	c.p.unregister(c)
	c.p.detachedN.Add(1)
	dc := &detachedConn{p: c.p, replay: append([]byte(nil), replay...)}
	if sa, err := unix.Getsockname(c.fd); err == nil {
		if a := sockaddrToTCP(sa); a != nil {
			dc.local = a
		}
	}
	if sa, err := unix.Getpeername(c.fd); err == nil {
		if a := sockaddrToTCP(sa); a != nil {
			dc.remote = a
		}
	}
	// The socket is non-blocking, so os.NewFile makes a pollable File: Read and Write
	// park the goroutine on the runtime poller, and deadlines work.
	dc.f = os.NewFile(uintptr(c.fd), "tcp")
	return dc, nil
}

// RemoteAddr returns the peer's address, read from the socket (getpeername) at each call:
// nothing is stored per connection. It returns nil once the descriptor is closed or when
// the system call fails. Meant for logs, not for a hot path.
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() == stateClosed {
		return nil
	}
	sa, err := unix.Getpeername(c.fd)
	if err != nil {
		return nil
	}
	if a := sockaddrToTCP(sa); a != nil {
		return a
	}
	return nil
}

// detachedConn is the net.Conn Detach returns: the socket as an *os.File, with the bytes
// the poller had already read in front.
type detachedConn struct {
	p             *Poller
	f             *os.File
	replay        []byte
	local, remote net.Addr
	closed        atomic.Bool
}

func (d *detachedConn) Read(b []byte) (int, error) {
	if len(d.replay) > 0 {
		n := copy(b, d.replay)
		d.replay = d.replay[n:]
		if len(d.replay) == 0 {
			d.replay = nil
		}
		return n, nil
	}
	return d.f.Read(b)
}

func (d *detachedConn) Write(b []byte) (int, error) { return d.f.Write(b) }
func (d *detachedConn) Close() error {
	if d.closed.CompareAndSwap(false, true) {
		d.p.detachedOpen.Add(-1)
	}
	return d.f.Close()
}

func (d *detachedConn) LocalAddr() net.Addr                { return d.local }
func (d *detachedConn) RemoteAddr() net.Addr               { return d.remote }
func (d *detachedConn) SetDeadline(t time.Time) error      { return d.f.SetDeadline(t) }
func (d *detachedConn) SetReadDeadline(t time.Time) error  { return d.f.SetReadDeadline(t) }
func (d *detachedConn) SetWriteDeadline(t time.Time) error { return d.f.SetWriteDeadline(t) }

// CloseWrite shuts the write side down (a FIN), as net.TCPConn.CloseWrite: net/http uses
// it to close gracefully, so the client reads the whole response before the connection
// ends.
func (d *detachedConn) CloseWrite() error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}

var _ net.Conn = (*detachedConn)(nil)
