package netpoll

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lineHandler answers every complete "\n"-terminated line with "echo: <line>\n". Lines
// starting with "close" close the connection gracefully after a goodbye; "panic" panics;
// "big N" queues N bytes in 1 KiB writes.
type lineHandler struct {
	closed   chan error
	deadline chan struct{}
}

func (h *lineHandler) OnData(c *Conn, data []byte) int {
	consumed := 0
	for {
		i := bytes.IndexByte(data[consumed:], '\n')
		if i < 0 {
			return consumed
		}
		line := string(data[consumed : consumed+i])
		consumed += i + 1
		switch {
		case line == "close":
			c.Close([]byte("bye\n"))
		case line == "panic":
			panic("asked to")
		case strings.HasPrefix(line, "big "):
			var n int
			fmt.Sscan(line[4:], &n)
			chunk := bytes.Repeat([]byte{'x'}, 1024)
			for ; n > 0; n -= len(chunk) {
				if err := c.Write(chunk); err != nil {
					c.Close([]byte("\nfull\n"))
					break
				}
			}
		case strings.HasPrefix(line, "deadline"):
			c.SetDeadline(10 * time.Millisecond)
		default:
			_ = c.Write([]byte("echo: " + line + "\n"))
		}
	}
}

func (h *lineHandler) OnDeadline(c *Conn) {
	if h.deadline != nil {
		h.deadline <- struct{}{}
	}
	c.Close([]byte("timeout\n"))
}

func (h *lineHandler) OnClose(c *Conn, err error) {
	if h.closed != nil {
		h.closed <- err
	}
}

func startPoller(t *testing.T, cfg Config, h Handler) *Poller {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := New(cfg, func(*Conn) Handler { return h })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(time.Second) })
	return p
}

func dial(t *testing.T, p *Poller) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	s, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimSuffix(s, "\n")
}

func TestEchoManyClients(t *testing.T) {
	p := startPoller(t, Config{Workers: 3}, &lineHandler{})
	const clients, lines = 50, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", p.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			var all strings.Builder
			for j := range lines {
				fmt.Fprintf(&all, "c%d-l%d\n", i, j)
			}
			if _, err := c.Write([]byte(all.String())); err != nil {
				errs <- err
				return
			}
			r := bufio.NewReader(c)
			for j := range lines {
				got, err := r.ReadString('\n')
				if want := fmt.Sprintf("echo: c%d-l%d\n", i, j); err != nil || got != want {
					errs <- fmt.Errorf("client %d line %d: got %q, %v; want %q", i, j, got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPartialInputOneByteAtATime(t *testing.T) {
	p := startPoller(t, Config{}, &lineHandler{})
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, b := range []byte("hello world\nsecond\n") {
		if _, err := c.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // let each byte arrive alone
	}
	r := bufio.NewReader(c)
	for _, want := range []string{"echo: hello world", "echo: second"} {
		if got := readLine(t, r); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestManyUnitsInOneSegmentAllAnswered(t *testing.T) {
	p := startPoller(t, Config{}, &lineHandler{})
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for i := range 50 {
		if got, want := readLine(t, r), fmt.Sprintf("echo: %d", i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestGracefulCloseDeliversFinalBytesThenEOF(t *testing.T) {
	h := &lineHandler{closed: make(chan error, 1)}
	p := startPoller(t, Config{}, h)
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("a\nclose\nignored\n")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c) // until the server's FIN
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "echo: a\nbye\n" {
		t.Fatalf("got %q", got)
	}
	c.Close() // our FIN lets the server close its descriptor
	select {
	case err := <-h.closed:
		if err != nil {
			t.Fatalf("OnClose err = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
}

func TestPeerCloseReportsEOF(t *testing.T) {
	h := &lineHandler{closed: make(chan error, 1)}
	p := startPoller(t, Config{}, h)
	c := dial(t, p)
	c.Write([]byte("x\n"))
	bufio.NewReader(c).ReadString('\n')
	c.Close()
	select {
	case err := <-h.closed:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("OnClose err = %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
}

func TestPanicClosesOnlyThatConnection(t *testing.T) {
	h := &lineHandler{closed: make(chan error, 2)}
	p := startPoller(t, Config{}, h)
	bad, good := dial(t, p), dial(t, p)
	bad.SetDeadline(time.Now().Add(10 * time.Second))
	good.SetDeadline(time.Now().Add(10 * time.Second))
	bad.Write([]byte("panic\n"))
	if _, err := io.ReadAll(bad); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("bad connection: %v", err)
	}
	if err := <-h.closed; err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("OnClose err = %v, want the panic", err)
	}
	good.Write([]byte("still here\n"))
	if got := readLine(t, bufio.NewReader(good)); got != "echo: still here" {
		t.Fatalf("got %q", got)
	}
	if p.Stats().Panics != 1 {
		t.Fatalf("Panics = %d, want 1", p.Stats().Panics)
	}
}

func TestQueueBoundRefusesAndOthersUnaffected(t *testing.T) {
	h := &lineHandler{closed: make(chan error, 4)}
	p := startPoller(t, Config{MaxQueuedBytes: 64 << 10, CloseTimeout: 200 * time.Millisecond, SweepInterval: 20 * time.Millisecond}, h)
	slow, fast := dial(t, p), dial(t, p)
	fast.SetDeadline(time.Now().Add(10 * time.Second))
	// slow asks for far more than socket buffers plus the queue bound hold, and never reads.
	slow.Write([]byte("big 67108864\n"))
	select {
	case <-h.closed: // closed by the close deadline: it never read its goodbye
	case <-time.After(20 * time.Second):
		t.Fatal("slow reader was not closed")
	}
	if p.Stats().QueueFull == 0 {
		t.Fatal("QueueFull = 0, want the refusal counted")
	}
	fast.Write([]byte("hi\n"))
	if got := readLine(t, bufio.NewReader(fast)); got != "echo: hi" {
		t.Fatalf("got %q", got)
	}
}

func TestDeadlineFires(t *testing.T) {
	h := &lineHandler{deadline: make(chan struct{}, 1)}
	p := startPoller(t, Config{SweepInterval: 10 * time.Millisecond}, h)
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("deadline\n"))
	got, _ := io.ReadAll(c)
	if string(got) != "timeout\n" {
		t.Fatalf("got %q", got)
	}
	<-h.deadline
}

func TestMaxConnsRefusesWithResponse(t *testing.T) {
	p := startPoller(t, Config{MaxConns: 2}, &lineHandler{})
	a, b := dial(t, p), dial(t, p)
	for _, c := range []net.Conn{a, b} { // make sure both are registered
		c.Write([]byte("x\n"))
		readLine(t, bufio.NewReader(c))
	}
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(got), "HTTP/1.1 503") {
		t.Fatalf("got %q", got)
	}
	if p.Stats().Refused != 1 {
		t.Fatalf("Refused = %d", p.Stats().Refused)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Each connection costs exactly one descriptor on the server side: the test's client side
// lives in the same process, so the count grows by two per pair.
func TestOneDescriptorPerConnectionAndNoGoroutines(t *testing.T) {
	p := startPoller(t, Config{}, &lineHandler{})
	runtime.GC()
	fds0, g0 := openFDs(t), runtime.NumGoroutine()
	const n = 200
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, p)
	}
	for _, c := range conns { // every connection registered and served
		c.Write([]byte("x\n"))
		readLine(t, bufio.NewReader(c))
	}
	if got := openFDs(t) - fds0; got != 2*n {
		t.Fatalf("descriptors grew by %d for %d connections, want %d", got, n, 2*n)
	}
	if got := runtime.NumGoroutine() - g0; got > 5 {
		t.Fatalf("goroutines grew by %d for %d connections", got, n)
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Conns > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := openFDs(t); got != fds0 {
		t.Fatalf("descriptors = %d after closing all, want %d", got, fds0)
	}
}

func TestShutdownClosesEveryone(t *testing.T) {
	p, err := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(*Conn) Handler { return &lineHandler{} })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	var eofs atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		c, err := net.Dial("tcp", p.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x\n"))
		readLine(t, bufio.NewReader(c))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if b, _ := io.ReadAll(c); string(b) == "going away\n" {
				eofs.Add(1)
			}
		}()
	}
	p.ForEach(func(c *Conn) { c.Close([]byte("going away\n")) })
	if forced := p.Shutdown(5 * time.Second); forced != 0 {
		t.Errorf("forced = %d, want 0", forced)
	}
	wg.Wait()
	if eofs.Load() != 20 {
		t.Fatalf("%d clients saw the goodbye then EOF, want 20", eofs.Load())
	}
}

func TestLargeUnitAcrossManyReads(t *testing.T) {
	p := startPoller(t, Config{MaxPendingBytes: 4 << 20}, &lineHandler{})
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	line := strings.Repeat("y", 3<<20)
	go c.Write([]byte(line + "\n"))
	if got := readLine(t, bufio.NewReaderSize(c, 4<<20)); got != "echo: "+line {
		t.Fatalf("got %d bytes, want %d", len(got), len("echo: "+line))
	}
}

func TestPendingOverLimitCloses(t *testing.T) {
	h := &lineHandler{closed: make(chan error, 1)}
	p := startPoller(t, Config{MaxPendingBytes: 64 << 10}, h)
	c := dial(t, p)
	go c.Write(bytes.Repeat([]byte("z"), 200<<10)) // no newline: never consumable
	select {
	case err := <-h.closed:
		if !errors.Is(err, ErrPendingTooLarge) {
			t.Fatalf("OnClose err = %v, want ErrPendingTooLarge", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("connection not closed")
	}
}

// An empty queue takes one buffer larger than MaxQueuedBytes; a second one is refused.
func TestEmptyQueueTakesOneLargeBuffer(t *testing.T) {
	h := &lineHandler{}
	conns := make(chan *Conn, 1)
	p2, err := New(Config{MaxQueuedBytes: 1024, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, func(c *Conn) Handler { conns <- c; return h })
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Shutdown(time.Second)
	if err := p2.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp", p2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-conns
	big := bytes.Repeat([]byte("b"), 8<<20) // more than the socket buffers take at once
	if err := c.Write(big); err != nil {
		t.Fatalf("first large write: %v", err)
	}
	if err := c.Write([]byte("x")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("second write: %v, want ErrQueueFull", err)
	}
	client.SetDeadline(time.Now().Add(20 * time.Second))
	if n, err := io.ReadFull(client, make([]byte, len(big))); err != nil || n != len(big) {
		t.Fatalf("read %d bytes: %v", n, err)
	}
}

// A deadline is set from the precise clock, not the sweeper's coarse one, so it never
// fires early: the stored deadline is at least the moment of the call plus d.
func TestDeadlineNeverEarly(t *testing.T) {
	conns := make(chan *Conn, 1)
	p, err := New(Config{SweepInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(c *Conn) Handler { conns <- c; return &lineHandler{} })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(time.Second)
	if err := p.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-conns
	time.Sleep(2 * time.Millisecond) // the coarse clock (refreshed hourly here) is now stale
	before := time.Now().UnixNano()
	c.SetDeadline(10 * time.Millisecond)
	if got, min := c.deadline.Load(), before+int64(10*time.Millisecond); got < min {
		t.Fatalf("deadline %d is %v early", got, time.Duration(min-got))
	}
}

// DiscardAndClose on a peer that does not read: the buffer partly written is finished,
// the buffers not started are dropped, the final message follows, then EOF.
func TestDiscardAndCloseFinishesTheBufferInProgress(t *testing.T) {
	c, client, closed := nonReader(t, 64<<20)
	// More than the kernel's buffers take while the peer reads nothing (the send buffer
	// grows to tcp_wmem's maximum, 4 MiB by default): the first buffer is in progress, the
	// others wait.
	inProgress := bytes.Repeat([]byte("a"), 8<<20)
	for _, b := range [][]byte{inProgress, bytes.Repeat([]byte("b"), 1<<20), []byte("c")} {
		if err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	c.DiscardAndClose([]byte("final"))
	if err := c.Write([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after DiscardAndClose: %v, want ErrClosed", err)
	}
	readAllThenClosed(t, client, closed, append(bytes.Clone(inProgress), "final"...))
}

// The queue discipline of DiscardAndClose at buffer boundaries: a head written up to its
// last byte leaves the next buffer unstarted, so it is dropped; one byte further and the
// next buffer is in progress, so it is kept, from where it stopped.
func TestDiscardAndCloseKeepsOnlyAStartedHead(t *testing.T) {
	for _, tc := range []struct {
		written int
		want    []string
	}{
		{written: 0, want: []string{"final"}},
		{written: 4, want: []string{"final"}}, // "aaaa" written whole
		{written: 6, want: []string{"bb", "final"}},
		{written: 7, want: []string{"b", "final"}},
		{written: 8, want: []string{"final"}}, // "bbbb" written whole: "cccc" not started
	} {
		p := &Poller{cfg: Config{}.withDefaults(), ready: make(chan *Conn, 1)}
		c := &Conn{p: p}
		c.out = []outBuf{{b: []byte("aaaa")}, {b: []byte("bbbb")}, {b: []byte("cccc")}}
		c.outBytes = 12
		c.consumeLocked(tc.written)
		c.DiscardAndClose([]byte("final"))
		got, total := queued(c)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || c.outBytes != total {
			t.Errorf("after %d bytes written: queue %q (%d bytes counted), want %q",
				tc.written, got, c.outBytes, tc.want)
		}
		if c.state.Load() != stateClosing || len(p.ready) != 1 {
			t.Errorf("after %d bytes written: state %d, %d turns scheduled; want closing, 1",
				tc.written, c.state.Load(), len(p.ready))
		}
	}
}

// TestYieldModes runs the same echo load with each Yield mode: every answer arrives, and
// the poller yields once per batch exactly when the mode says so (the marker's descriptor
// is the poller's, so YieldBatch costs one descriptor in all, none per connection).
func TestYieldModes(t *testing.T) {
	for _, mode := range []Yield{YieldBatch, YieldNever, YieldAuto} {
		t.Run(mode.String(), func(t *testing.T) {
			fds0 := openFDs(t)
			p := startPoller(t, Config{Workers: 2, Yield: mode}, &lineHandler{})
			const clients, rounds = 20, 50
			conns := make([]net.Conn, clients)
			readers := make([]*bufio.Reader, clients)
			for i := range conns {
				conns[i] = dial(t, p)
				conns[i].SetDeadline(time.Now().Add(20 * time.Second))
				readers[i] = bufio.NewReader(conns[i])
			}
			for j := range rounds {
				for i, c := range conns {
					fmt.Fprintf(c, "c%d-r%d\n", i, j)
				}
				for i, r := range readers {
					if got, want := readLine(t, r), fmt.Sprintf("echo: c%d-r%d", i, j); got != want {
						t.Fatalf("got %q, want %q", got, want)
					}
				}
			}
			yields := p.Stats().Yields
			wantYield := mode == YieldBatch || (mode == YieldAuto && runtime.GOMAXPROCS(0) == 1)
			switch {
			case wantYield && yields == 0:
				t.Fatalf("Stats.Yields = 0 after %d round trips, want some", clients*rounds)
			case !wantYield && yields != 0:
				t.Fatalf("Stats.Yields = %d, want 0 in mode %v with GOMAXPROCS %d", yields, mode, runtime.GOMAXPROCS(0))
			case wantYield && yields > clients*rounds+1:
				t.Fatalf("Stats.Yields = %d, more than one per readied turn (%d)", yields, clients*rounds)
			}
			extra := 2 // the epoll instance and easygo's eventfd that ends its wait loop
			if wantYield {
				extra++ // the marker
			}
			if got := openFDs(t) - fds0 - 2*clients; got != extra+1 { // + listener
				t.Fatalf("poller holds %d descriptors besides its connections, want %d", got, extra+1)
			}
		})
	}
}

// queued returns c's queue as strings and the bytes it holds.
func queued(c *Conn) ([]string, int) {
	var got []string
	total := 0
	for _, o := range c.out {
		got = append(got, string(o.b))
		total += len(o.b)
	}
	return got, total
}

// The queue discipline of DiscardAndClose with two-part units (WritePair): a unit is kept
// whole once any byte of it is written, including when its first part is done and its
// second not started; a unit not started is dropped whole.
func TestDiscardAndCloseKeepsAStartedPairWhole(t *testing.T) {
	for _, tc := range []struct {
		written int
		want    []string
	}{
		{written: 0, want: []string{"final"}},
		{written: 2, want: []string{"aa", "bbbb", "final"}},
		{written: 4, want: []string{"bbbb", "final"}}, // head done, tail not started: kept
		{written: 6, want: []string{"bb", "final"}},
		{written: 8, want: []string{"final"}}, // pair done: "cccc" not started
		{written: 10, want: []string{"cc", "final"}},
		{written: 12, want: []string{"final"}}, // the second pair not started: dropped whole
		{written: 14, want: []string{"dd", "ee", "final"}},
		{written: 16, want: []string{"ee", "final"}},
		{written: 17, want: []string{"e", "final"}},
	} {
		p := &Poller{cfg: Config{}.withDefaults(), ready: make(chan *Conn, 1)}
		c := &Conn{p: p}
		c.out = []outBuf{{b: []byte("aaaa")}, {b: []byte("bbbb"), joined: true}, {b: []byte("cccc")},
			{b: []byte("dddd")}, {b: []byte("ee"), joined: true}}
		c.outBytes = 18
		c.consumeLocked(tc.written)
		c.DiscardAndClose([]byte("final"))
		got, total := queued(c)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || c.outBytes != total {
			t.Errorf("after %d bytes written: queue %q (%d bytes counted), want %q",
				tc.written, got, c.outBytes, tc.want)
		}
	}
}

// A pair counts as one buffer of len(head)+len(tail) bytes against MaxQueuedBytes, and is
// queued by reference as two joined parts behind what waits.
func TestWritePairCountsAsOneBuffer(t *testing.T) {
	p := &Poller{cfg: Config{MaxQueuedBytes: 10}.withDefaults(), ready: make(chan *Conn, 1)}
	c := &Conn{p: p}
	c.busy.Store(true) // a turn is running: nothing is tried on the (absent) socket
	c.out = []outBuf{{b: []byte("x")}}
	c.outBytes = 1
	head, tail := []byte("hhhhh"), []byte("ttttt")
	if err := c.WritePair(head, tail); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("WritePair of 10 bytes behind 1 with a bound of 10: %v, want ErrQueueFull", err)
	}
	if err := c.WritePair(head[:4], tail); err != nil {
		t.Fatal(err)
	}
	got, total := queued(c)
	if strings.Join(got, "|") != "x|hhhh|ttttt" || c.outBytes != 10 || total != 10 {
		t.Fatalf("queue %q, %d bytes counted; want x|hhhh|ttttt, 10", got, c.outBytes)
	}
	if c.out[1].joined || !c.out[2].joined {
		t.Fatalf("joined flags %v, %v; want false, true", c.out[1].joined, c.out[2].joined)
	}
	if &c.out[1].b[0] != &head[0] || &c.out[2].b[0] != &tail[0] {
		t.Fatal("WritePair copied its buffers, want them queued by reference")
	}
	if err := c.WritePair(nil, nil); err != nil || len(c.out) != 3 {
		t.Fatalf("WritePair(nil, nil): %v, %d buffers queued; want nil, 3", err, len(c.out))
	}
}

// nonReader starts a poller (queue bound max) and a client with a small receive buffer
// that reads nothing until told to, so that what is written stays queued.
func nonReader(t *testing.T, max int) (*Conn, net.Conn, chan error) {
	t.Helper()
	closed := make(chan error, 1)
	h := &lineHandler{closed: closed}
	conns := make(chan *Conn, 1)
	p, err := New(Config{MaxQueuedBytes: max, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(c *Conn) Handler { conns <- c; return h })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(time.Second) })
	if err := p.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { // no receive-buffer autotuning
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	client, err := d.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return <-conns, client, closed
}

// readAllThenClosed reads the client until EOF, checks it got want, and that the server
// side closed without error.
func readAllThenClosed(t *testing.T, client net.Conn, closed chan error, want []byte) {
	t.Helper()
	client.SetDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes ending %q, want %d bytes ending %q",
			len(got), got[max(0, len(got)-12):], len(want), want[max(0, len(want)-12):])
	}
	client.Close()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("OnClose err = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
}

// DiscardAndClose on a peer that does not read, over a real socket, with a pair in
// progress (its large head partly written): the head is finished, its tail follows, the
// buffers and pairs not started are dropped, then the final message, then EOF.
func TestDiscardAndCloseFinishesThePairInProgress(t *testing.T) {
	c, client, closed := nonReader(t, 64<<20)
	head := bytes.Repeat([]byte("a"), 8<<20) // more than the kernel takes from a non-reader
	if err := c.WritePair(head, []byte("<tail>")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(bytes.Repeat([]byte("b"), 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePair([]byte("c"), []byte("d")); err != nil {
		t.Fatal(err)
	}
	c.DiscardAndClose([]byte("final"))
	if err := c.WritePair([]byte("late"), []byte("r")); !errors.Is(err, ErrClosed) {
		t.Fatalf("WritePair after DiscardAndClose: %v, want ErrClosed", err)
	}
	readAllThenClosed(t, client, closed, append(append(bytes.Clone(head), "<tail>"...), "final"...))
}

// The same with a pair whose short head went out at once and whose large tail did not
// finish: the tail is kept whole (a head without its tail would be a cut frame).
func TestDiscardAndCloseFinishesTheTailOfAWrittenHead(t *testing.T) {
	c, client, closed := nonReader(t, 64<<20)
	tail := bytes.Repeat([]byte("t"), 8<<20)
	if err := c.WritePair([]byte("<head>"), tail); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePair([]byte("c"), []byte("d")); err != nil {
		t.Fatal(err)
	}
	c.DiscardAndClose([]byte("final"))
	readAllThenClosed(t, client, closed, append(append([]byte("<head>"), tail...), "final"...))
}

// A pair written to a peer that reads arrives as head then tail, whether it goes out at
// once (one writev) or waits behind other buffers and is flushed from the queue.
func TestWritePairDelivers(t *testing.T) {
	c, client, closed := nonReader(t, 64<<20)
	big := bytes.Repeat([]byte("b"), 8<<20) // keeps the queue busy: the pairs after it wait
	var want []byte
	for i, u := range [][2][]byte{{[]byte("h1"), []byte("t1")}, {big, nil}, {[]byte("h2"), []byte("t2")},
		{nil, []byte("t3")}, {[]byte("h4"), bytes.Repeat([]byte("T"), 70000)}} {
		if err := c.WritePair(u[0], u[1]); err != nil {
			t.Fatalf("unit %d: %v", i, err)
		}
		want = append(append(want, u[0]...), u[1]...)
	}
	c.Close([]byte("bye"))
	readAllThenClosed(t, client, closed, append(want, "bye"...))
}
