package netpoll

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/mailru/easygo/netpoll"
	"golang.org/x/sys/unix"
)

// Yield says when the epoll goroutine gives its thread to the workers it readied.
type Yield int

// Yield modes of Config.Yield.
const (
	// YieldAuto yields when GOMAXPROCS is 1 at New, and never otherwise.
	YieldAuto Yield = iota
	// YieldBatch yields once per epoll batch that readied a turn, whatever GOMAXPROCS.
	YieldBatch
	// YieldNever never yields: readied workers wait for the runtime to take the
	// processor back from the epoll goroutine's blocking epoll_wait.
	YieldNever
)

// String returns the mode's name: "auto", "batch" or "never".
func (y Yield) String() string {
	switch y {
	case YieldAuto:
		return "auto"
	case YieldBatch:
		return "batch"
	case YieldNever:
		return "never"
	}
	return fmt.Sprintf("Yield(%d)", int(y))
}

// batchYield ends an epoll batch that readied turns by yielding the epoll goroutine's
// processor to the workers, before easygo's loop blocks in epoll_wait again.
//
// Why: easygo's wait goroutine calls epoll_wait as an ordinary system call. With one
// processor (GOMAXPROCS=1), the workers its callbacks ready can run only once the runtime
// takes the processor back from that blocked call (sysmon's retake: tens of microseconds
// to milliseconds, then a thread hand-off), so each batch pays a hand-off and its workers
// start late. With more processors an idle one runs them at once.
//
// How, without touching easygo's loop: one eventfd per poller, written once so it stays
// readable, registered on the same epoll instance with EPOLLONESHOT. The first callback of
// a batch that readies a turn re-arms it (one epoll_ctl); easygo runs the rest of the
// batch's callbacks, and its next epoll_wait returns at once with the marker, whose
// callback calls runtime.Gosched: the readied workers run, and epoll_wait blocks again
// only when they have nothing left to do. The cost is one epoll_ctl and one epoll_wait that
// does not block per batch, and one descriptor per poller (none per connection).
type batchYield struct {
	fd    int
	armed atomic.Bool  // the marker is registered and will fire: no need to arm it again
	n     atomic.Int64 // yields so far (Stats.Yields)
	ep    *netpoll.Epoll
}

// newBatchYield registers the marker on ep.
func newBatchYield(ep *netpoll.Epoll) (*batchYield, error) {
	fd, err := unix.Eventfd(1, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC) // counter 1: readable forever
	if err != nil {
		return nil, fmt.Errorf("netpoll: eventfd: %w", err)
	}
	y := &batchYield{fd: fd, ep: ep}
	y.armed.Store(true) // Add arms it: it fires once, harmlessly
	if err := ep.Add(fd, netpoll.EPOLLIN|netpoll.EPOLLONESHOT, y.onEvent); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("netpoll: epoll_ctl marker: %w", err)
	}
	return y, nil
}

// arm makes the next epoll_wait return at once with the marker. It runs on the epoll
// goroutine, after a callback readied a turn.
func (y *batchYield) arm() {
	if y.armed.Load() {
		return
	}
	y.armed.Store(true)
	if err := y.ep.Mod(y.fd, netpoll.EPOLLIN|netpoll.EPOLLONESHOT); err != nil {
		y.armed.Store(false) // the epoll instance is closing: nothing to yield to
	}
}

// onEvent is the marker's callback, on the epoll goroutine.
func (y *batchYield) onEvent(ev netpoll.EpollEvent) {
	if ev&epollClosed != 0 {
		return
	}
	y.armed.Store(false)
	y.n.Add(1)
	runtime.Gosched()
}

// close deregisters and closes the marker.
func (y *batchYield) close() {
	_ = y.ep.Del(y.fd)
	_ = unix.Close(y.fd)
}
