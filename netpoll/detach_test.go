package netpoll

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// detachHandler echoes lines like lineHandler until the line "detach": it then hands the
// connection over with the bytes that follow that line, and sends the result on got.
// "fill" queues 16 MiB before detaching, which the client does not read.
type detachHandler struct {
	got    chan detached
	closed chan error
}

type detached struct {
	conn net.Conn
	err  error
}

func (h *detachHandler) OnData(c *Conn, data []byte) int {
	consumed := 0
	for {
		i := bytes.IndexByte(data[consumed:], '\n')
		if i < 0 {
			return consumed
		}
		line := string(data[consumed : consumed+i])
		consumed += i + 1
		switch line {
		case "detach":
			nc, err := c.Detach(data[consumed:])
			h.got <- detached{nc, err}
			if err == nil {
				return len(data)
			}
		case "fill":
			chunk := make([]byte, 1<<20)
			for range 16 {
				_ = c.Write(chunk)
			}
			nc, err := c.Detach(nil)
			h.got <- detached{nc, err}
		case "close":
			c.Close([]byte("bye\n"))
			nc, err := c.Detach(nil)
			h.got <- detached{nc, err}
		default:
			_ = c.Write([]byte("echo: " + line + "\n"))
		}
	}
}

func (h *detachHandler) OnDeadline(c *Conn) {}

func (h *detachHandler) OnClose(c *Conn, err error) { h.closed <- err }

// A detached connection keeps its one descriptor, replays what the poller had read, then
// reads and writes the socket itself; the poller forgets it and never calls OnClose.
func TestDetachHandsTheSocketOver(t *testing.T) {
	h := &detachHandler{got: make(chan detached, 1), closed: make(chan error, 1)}
	p := startPoller(t, Config{}, h)
	fds0 := openFDs(t)
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	c.Write([]byte("hi\n"))
	if got := readLine(t, br); got != "echo: hi" {
		t.Fatalf("got %q", got)
	}
	if got := openFDs(t) - fds0; got != 2 {
		t.Fatalf("descriptors grew by %d before detach, want 2 (client and server side)", got)
	}
	c.Write([]byte("detach\nalready read"))
	d := <-h.got
	if d.err != nil {
		t.Fatal(d.err)
	}
	defer d.conn.Close()
	if got := openFDs(t) - fds0; got != 2 {
		t.Fatalf("descriptors grew by %d after detach, want 2: no dup", got)
	}
	if st := p.Stats(); st.Conns != 0 || st.Detached != 1 || st.DetachedOpen != 1 {
		t.Fatalf("stats after detach: %+v, want 0 conns and 1 detached, open", st)
	}
	if a, ok := d.conn.RemoteAddr().(*net.TCPAddr); !ok || a.String() != c.LocalAddr().String() {
		t.Fatalf("RemoteAddr %v, want the client's %v", d.conn.RemoteAddr(), c.LocalAddr())
	}
	if d.conn.LocalAddr().String() != c.RemoteAddr().String() {
		t.Fatalf("LocalAddr %v, want %v", d.conn.LocalAddr(), c.RemoteAddr())
	}
	d.conn.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(" and then more\n"))
	got, err := bufio.NewReader(d.conn).ReadString('\n')
	if err != nil || got != "already read and then more\n" {
		t.Fatalf("detached conn read %q, %v", got, err)
	}
	if _, err := d.conn.Write([]byte("from the new owner\n")); err != nil {
		t.Fatal(err)
	}
	if got := readLine(t, br); got != "from the new owner" {
		t.Fatalf("client read %q", got)
	}
	// Deadlines work: the descriptor is on the runtime poller.
	d.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := d.conn.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	d.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	// CloseWrite sends a FIN: the client sees EOF while it can still write.
	if err := d.conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("client read after CloseWrite: %v, want EOF", err)
	}
	if err := d.conn.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openFDs(t) - fds0; got != 1 {
		t.Fatalf("descriptors grew by %d after closing the detached conn, want 1 (the client's)", got)
	}
	d.conn.Close() // a second Close changes nothing
	if st := p.Stats(); st.DetachedOpen != 0 {
		t.Fatalf("DetachedOpen = %d after Close, want 0", st.DetachedOpen)
	}
	select {
	case err := <-h.closed:
		t.Fatalf("OnClose called for a detached connection (%v)", err)
	default:
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// Detach refuses a connection with bytes queued (they belong to the poller's queue) and
// one already closing; both stay served by the poller and close as usual.
func TestDetachRefusals(t *testing.T) {
	h := &detachHandler{got: make(chan detached, 1), closed: make(chan error, 2)}
	p := startPoller(t, Config{}, h)

	c := dial(t, p)
	c.Write([]byte("fill\n")) // never read: the kernel buffers fill, the rest is queued
	if d := <-h.got; !errors.Is(d.err, ErrQueued) {
		t.Fatalf("detach with queued bytes: %v, want ErrQueued", d.err)
	}
	c.Close()
	<-h.closed

	c = dial(t, p)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("close\n"))
	if d := <-h.got; !errors.Is(d.err, ErrClosed) {
		t.Fatalf("detach while closing: %v, want ErrClosed", d.err)
	}
	if got, _ := io.ReadAll(c); !strings.HasPrefix(string(got), "bye") {
		t.Fatalf("closing connection sent %q, want its goodbye", got)
	}
	c.Close()
	<-h.closed
	if st := p.Stats(); st.Detached != 0 {
		t.Fatalf("Detached = %d, want 0", st.Detached)
	}
}

// A detached connection counts against MaxConns until its net.Conn is closed: its
// descriptor is of the same budget.
func TestDetachedCountsAgainstMaxConns(t *testing.T) {
	h := &detachHandler{got: make(chan detached, 1), closed: make(chan error, 4)}
	p := startPoller(t, Config{MaxConns: 1, ConnLimitResponse: []byte("full\n")}, h)
	c := dial(t, p)
	c.Write([]byte("detach\n"))
	d := <-h.got
	if d.err != nil {
		t.Fatal(d.err)
	}
	c2 := dial(t, p)
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	if got, _ := io.ReadAll(c2); string(got) != "full\n" {
		t.Fatalf("second connection got %q, want the limit response", got)
	}
	d.conn.Close()
	c3 := dial(t, p)
	c3.SetDeadline(time.Now().Add(10 * time.Second))
	c3.Write([]byte("hi\n"))
	if got := readLine(t, bufio.NewReader(c3)); got != "echo: hi" {
		t.Fatalf("after the detached conn closed: %q", got)
	}
}
