package netpoll

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/mailru/easygo/netpoll"
	"golang.org/x/sys/unix"
)

// acceptBatch bounds the accepts done per listener event, so that an accept storm shares
// the epoll goroutine with the events of established connections.
const acceptBatch = 64

// listenBacklog is the accept queue length asked of the kernel (capped by somaxconn).
const listenBacklog = 4096

type listener struct {
	fd     int
	addr   *net.TCPAddr
	paused atomic.Bool // accepting paused after EMFILE/ENFILE
}

// Listen opens a TCP listener on addr ("host:port"; an empty host means every IPv4
// interface, port 0 picks a free port) and accepts connections through epoll. It may be
// called more than once.
func (p *Poller) Listen(addr string) error {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return fmt.Errorf("netpoll: listen %s: %w", addr, err)
	}
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		sa = s
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netpoll: socket: %w", err)
	}
	fail := func(op string, err error) error {
		unix.Close(fd)
		return fmt.Errorf("netpoll: %s %s: %w", op, addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		return fail("listen", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	ln := &listener{fd: fd, addr: sockaddrToTCP(bound)}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return fail("listen", ErrClosed)
	}
	p.listeners = append(p.listeners, ln)
	p.mu.Unlock()
	if err := p.ep.Add(fd, netpoll.EPOLLIN, func(ev netpoll.EpollEvent) { p.accept(ln, ev) }); err != nil {
		return fail("epoll add", err)
	}
	return nil
}

// accept runs on the epoll goroutine: it accepts up to acceptBatch connections and registers
// each with EPOLLONESHOT. It never blocks.
func (p *Poller) accept(ln *listener, ev netpoll.EpollEvent) {
	if ev&0x20 != 0 { // easygo's _EPOLLCLOSED: the epoll instance is closing
		return
	}
	for range acceptBatch {
		fd, _, err := unix.Accept4(ln.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			switch {
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
			case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE), errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
				// Out of descriptors: the listener stays readable, so a level-triggered
				// registration would spin. Pause it for a moment.
				p.acceptE.Add(1)
				p.cfg.Logger.Warn("netpoll: accept paused", "err", err)
				p.pauseAccept(ln)
			default:
				p.acceptE.Add(1)
				p.cfg.Logger.Warn("netpoll: accept failed", "err", err)
			}
			return
		}
		if p.nconns.Load()+p.detachedOpen.Load() >= int64(p.cfg.MaxConns) {
			p.refused.Add(1)
			_, _ = unix.Write(fd, p.cfg.ConnLimitResponse)
			unix.Close(fd)
			continue
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if n := p.cfg.SendBufferSize; n > 0 {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n)
		}
		c := &Conn{fd: fd, p: p, slot: -1}
		c.h = p.newHandler(c)
		if !p.register(c) {
			unix.Close(fd)
			return
		}
		if err := p.ep.Add(fd, armRead, c.onEvent); err != nil {
			// Only a shutdown racing this accept gets here; the turn that saw the
			// unregistered descriptor closes it.
			p.cfg.Logger.Error("netpoll: epoll add", "err", err)
			c.kill()
			continue
		}
		p.accepted.Add(1)
	}
}

func (p *Poller) pauseAccept(ln *listener) {
	if !ln.paused.CompareAndSwap(false, true) {
		return
	}
	_ = p.ep.Mod(ln.fd, 0)
	time.AfterFunc(100*time.Millisecond, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.shut {
			return
		}
		_ = p.ep.Mod(ln.fd, netpoll.EPOLLIN)
		ln.paused.Store(false)
	})
}

func sockaddrToTCP(sa unix.Sockaddr) *net.TCPAddr {
	switch s := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(s.Addr[:]).To16(), Port: s.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(s.Addr[:]), Port: s.Port}
	}
	return nil
}
