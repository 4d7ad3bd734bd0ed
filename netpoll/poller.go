package netpoll

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailru/easygo/netpoll"
	"golang.org/x/sys/unix"
)

// Errors returned by the poller and its connections.
var (
	// ErrClosed is returned by Conn.Write after Close, and by Poller methods after Shutdown.
	ErrClosed = errors.New("netpoll: closed")
	// ErrQueueFull is returned by Conn.Write when queuing the bytes would exceed
	// Config.MaxQueuedBytes. Nothing was queued.
	ErrQueueFull = errors.New("netpoll: outbound queue full")
	// ErrPendingTooLarge closes a connection whose unconsumed input exceeds
	// Config.MaxPendingBytes: its handler kept asking for more bytes than the limit.
	ErrPendingTooLarge = errors.New("netpoll: unconsumed input over limit")
	// ErrDeadline closes a connection that was still closing when its close deadline passed.
	ErrDeadline = errors.New("netpoll: close deadline exceeded")
)

// Config sets the poller's limits. The zero value works; every zero field takes the default
// written on it.
type Config struct {
	// Workers is the number of worker goroutines that serve ready connections and run
	// submitted tasks. Zero means 2 x GOMAXPROCS (at least 4): handlers never block on
	// sockets, so more workers than cores only absorbs short lock waits.
	Workers int
	// MaxConns is the largest number of open connections, those handed over with
	// Conn.Detach included until their net.Conn is closed (they hold a descriptor of the
	// same budget). A connection accepted past it is
	// answered with ConnLimitResponse and closed. Zero means the process's RLIMIT_NOFILE soft
	// limit minus 64 (descriptors for the listener, epoll and the runtime).
	MaxConns int
	// ConnLimitResponse is written (best effort) to a connection refused by MaxConns.
	// Nil means an HTTP 503 response.
	ConnLimitResponse []byte
	// ReadBufferSize is the size of each worker's read buffer, in bytes. Zero means 64 KiB.
	ReadBufferSize int
	// SendBufferSize sets SO_SNDBUF of every accepted socket, in bytes (Linux doubles it,
	// socket(7)): the data a client has not read yet that the kernel holds beyond
	// MaxQueuedBytes. Bounding it lets a close frame queued after DiscardAndClose reach a
	// slow client within CloseTimeout. Zero leaves the kernel's autotuning
	// (net.ipv4.tcp_wmem, up to 4 MiB on most systems); negative is refused by New.
	SendBufferSize int
	// ReadBudget is how many bytes one connection may read in one turn before the worker
	// moves on, so a chatty client cannot starve others. Zero means 4 x ReadBufferSize.
	ReadBudget int
	// MaxQueuedBytes bounds the bytes queued for writing on one connection: a Write that
	// would exceed it while bytes are already queued gets ErrQueueFull (an empty queue
	// takes one buffer of any size). Zero means 4 MiB.
	MaxQueuedBytes int
	// MaxPendingBytes bounds the unconsumed input kept for one connection. Zero means
	// 2 MiB. A connection past it is closed with ErrPendingTooLarge.
	MaxPendingBytes int
	// CloseTimeout is how long a closing connection may take to flush its queue and see the
	// peer close its side, before its descriptor is closed anyway. Zero means 5 s.
	CloseTimeout time.Duration
	// SweepInterval is the granularity of deadlines (Conn.SetDeadline, CloseTimeout).
	// Zero means 1 s.
	SweepInterval time.Duration
	// Logger receives errors and recovered panics. Nil means slog.Default().
	Logger *slog.Logger
	// Yield says when the epoll goroutine yields its processor to the workers it readied
	// (see Yield). The zero value, YieldAuto, yields once per batch when GOMAXPROCS is 1.
	Yield Yield
}

// Defaults of Config, also used by the server's flags.
const (
	// DefaultMaxQueuedBytes bounds the bytes waiting to be written to one connection.
	DefaultMaxQueuedBytes = 4 << 20
	// DefaultCloseTimeout is the time a closing connection gets to flush and see the FIN.
	DefaultCloseTimeout = 5 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.MaxConns <= 0 {
		var rl unix.Rlimit
		c.MaxConns = 1024 - 64
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 128 {
			c.MaxConns = int(min(rl.Cur, 1<<24)) - 64
		}
	}
	if c.ConnLimitResponse == nil {
		c.ConnLimitResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n" +
			"Content-Type: text/plain\r\nContent-Length: 20\r\n\r\ntoo many connections")
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = 64 << 10
	}
	if c.ReadBudget <= 0 {
		c.ReadBudget = 4 * c.ReadBufferSize
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 2 << 20
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Stats are counters since New. All fields are cumulative except Conns.
type Stats struct {
	Conns        int64 // open connections now
	Accepted     int64 // connections accepted and registered
	Refused      int64 // connections refused by MaxConns
	Closed       int64 // connections closed
	QueueFull    int64 // Write calls refused with ErrQueueFull
	Panics       int64 // handler panics recovered (each closed its connection)
	AcceptErrors int64 // accept failures other than EAGAIN
	Detached     int64 // connections handed over with Conn.Detach
	DetachedOpen int64 // of those, the ones whose net.Conn is not closed yet
	Yields       int64 // epoll batches that ended by yielding to the workers (Config.Yield)
}

// Poller owns one epoll instance, its listeners, its connections and its worker pool.
type Poller struct {
	cfg        Config
	ep         *netpoll.Epoll
	yield      *batchYield // nil when Config.Yield resolves to never
	newHandler func(*Conn) Handler

	ready chan *Conn    // connections whose turn is due; room for every connection
	tasks chan func()   // tasks from TrySubmit
	stop  chan struct{} // closed by Shutdown: workers and sweeper exit
	wg    sync.WaitGroup

	now atomic.Int64 // coarse clock, unix nanoseconds, refreshed every sweep

	mu        sync.Mutex // guards conns, listeners, shut
	conns     []*Conn    // open connections; Conn.slot is the index
	listeners []*listener
	shut      bool

	nconns                                                           atomic.Int64
	accepted, refused, closed, queueFull, panics, acceptE, detachedN atomic.Int64
	detachedOpen                                                     atomic.Int64
}

// New starts a poller: its epoll wait loop, its workers and its deadline sweeper.
// newHandler is called once per accepted connection, on the epoll goroutine; it must not
// block. The poller serves nothing until Listen.
func New(cfg Config, newHandler func(*Conn) Handler) (*Poller, error) {
	if cfg.SendBufferSize < 0 {
		return nil, errors.New("netpoll: negative SendBufferSize")
	}
	cfg = cfg.withDefaults()
	p := &Poller{
		cfg:        cfg,
		newHandler: newHandler,
		ready:      make(chan *Conn, cfg.MaxConns+16),
		tasks:      make(chan func(), 4*cfg.Workers),
		stop:       make(chan struct{}),
	}
	p.now.Store(time.Now().UnixNano())
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: func(err error) {
		cfg.Logger.Error("netpoll: epoll_wait failed", "err", err)
	}})
	if err != nil {
		return nil, fmt.Errorf("netpoll: epoll_create: %w", err)
	}
	p.ep = ep
	if cfg.Yield == YieldBatch || (cfg.Yield == YieldAuto && runtime.GOMAXPROCS(0) == 1) {
		if p.yield, err = newBatchYield(ep); err != nil {
			_ = ep.Close()
			return nil, err
		}
	}
	for range cfg.Workers {
		p.wg.Add(1)
		go p.worker()
	}
	p.wg.Add(1)
	go p.sweeper()
	return p, nil
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	return Stats{
		Conns:        p.nconns.Load(),
		Accepted:     p.accepted.Load(),
		Refused:      p.refused.Load(),
		Closed:       p.closed.Load(),
		QueueFull:    p.queueFull.Load(),
		Panics:       p.panics.Load(),
		AcceptErrors: p.acceptE.Load(),
		Detached:     p.detachedN.Load(),
		DetachedOpen: p.detachedOpen.Load(),
		Yields:       p.yields(),
	}
}

func (p *Poller) yields() int64 {
	if p.yield == nil {
		return 0
	}
	return p.yield.n.Load()
}

// Now returns the poller's coarse clock (refreshed every SweepInterval).
func (p *Poller) Now() time.Time { return time.Unix(0, p.now.Load()) }

// TrySubmit runs task on a worker if one can take it without blocking the caller, and
// reports whether it did. A false return means the pool is saturated: run task inline.
func (p *Poller) TrySubmit(task func()) bool {
	select {
	case p.tasks <- task:
		return true
	default:
		return false
	}
}

// ForEach calls fn for every open connection. fn runs with the registry locked: it must not
// block and must not close connections synchronously (Conn.Close only schedules, so it is
// fine).
func (p *Poller) ForEach(fn func(*Conn)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		fn(c)
	}
}

// Shutdown stops accepting, waits up to timeout for the open connections to close (the
// caller has usually asked them to with Conn.Close), closes the rest, stops the workers and
// releases the epoll instance. It returns the number of connections closed by force.
func (p *Poller) Shutdown(timeout time.Duration) (forced int) {
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return 0
	}
	p.shut = true
	lns := p.listeners
	p.listeners = nil
	p.mu.Unlock()
	for _, ln := range lns {
		_ = p.ep.Del(ln.fd)
		_ = unix.Close(ln.fd)
	}
	deadline := time.Now().Add(timeout)
	for p.nconns.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.ForEach(func(c *Conn) {
		forced++
		c.kill()
	})
	for p.nconns.Load() > 0 && time.Now().Before(deadline.Add(time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	close(p.stop)
	p.wg.Wait()
	if p.yield != nil {
		p.yield.close()
	}
	_ = p.ep.Close()
	return forced
}

// worker serves ready connections and submitted tasks until Shutdown.
func (p *Poller) worker() {
	defer p.wg.Done()
	buf := make([]byte, p.cfg.ReadBufferSize)
	for {
		select {
		case c := <-p.ready:
			p.turn(c, buf)
		case task := <-p.tasks:
			p.runTask(task)
		case <-p.stop:
			return
		}
	}
}

func (p *Poller) runTask(task func()) {
	defer func() {
		if r := recover(); r != nil {
			p.panics.Add(1)
			p.cfg.Logger.Error("netpoll: task panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	task()
}

// schedule gives c a turn unless one is already due or running, and reports whether it
// readied one. Safe from any goroutine, never blocks: ready has room for every connection
// and holds each at most once.
func (p *Poller) schedule(c *Conn) bool {
	if c.busy.CompareAndSwap(false, true) {
		p.ready <- c
		return true
	}
	return false
}

// sweeper refreshes the coarse clock and fires deadlines.
func (p *Poller) sweeper() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.SweepInterval)
	defer t.Stop()
	var due []*Conn
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			n := now.UnixNano()
			p.now.Store(n)
			due = due[:0]
			p.mu.Lock()
			for _, c := range p.conns {
				if d := c.deadline.Load(); d != 0 && d <= n {
					due = append(due, c)
				}
			}
			p.mu.Unlock()
			for _, c := range due {
				c.deadline.Store(0)
				c.signal(sigDeadline)
			}
			clear(due)
		}
	}
}

// register adds c to the registry; it reports false when the poller is shut down.
func (p *Poller) register(c *Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return false
	}
	c.slot = int32(len(p.conns))
	p.conns = append(p.conns, c)
	p.nconns.Add(1)
	return true
}

// unregister removes c from the registry (swap with the last element).
func (p *Poller) unregister(c *Conn) {
	p.mu.Lock()
	i := int(c.slot)
	last := len(p.conns) - 1
	if i >= 0 && i <= last && p.conns[i] == c {
		p.conns[i] = p.conns[last]
		p.conns[i].slot = int32(i)
		p.conns[last] = nil
		p.conns = p.conns[:last]
		p.nconns.Add(-1)
	}
	c.slot = -1
	p.mu.Unlock()
}

// Addr returns the address of the first listener, or nil.
func (p *Poller) Addr() net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.listeners) == 0 {
		return nil
	}
	return p.listeners[0].addr
}
