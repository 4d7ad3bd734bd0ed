package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Clients stuck mid-handshake or mid-frame hold no worker: with pool-size + 10 of each, a
// normal client still gets its answer.
func TestStuckClientsDoNotBlockOthers(t *testing.T) {
	const workers = 2
	s := startServer(t, Config{Workers: workers})
	for range workers + 10 {
		conn := dialTCP(t, s)
		conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")) // no end
	}
	for range workers + 10 {
		c := dialWS(t, s)
		f := maskedFrame(true, ws.OpText, []byte(nowReq), true)
		c.writeRaw(f[:len(f)/2]) // half a frame
	}
	c := dialWS(t, s)
	if m := c.request(nowReq); m["room"] != "r1" {
		t.Fatalf("got %v", m)
	}
}

// 5,000 connect/disconnect cycles, half closed by the server (after a protocol error),
// half by the client (close handshake): descriptors and goroutines return to baseline and
// every peer sees the close.
func TestConnectDisconnectCyclesLeakNothing(t *testing.T) {
	s := startServer(t, Config{})
	warm := dialWS(t, s) // start lazily created goroutines before the baseline
	warm.request(nowReq)
	runtime.GC()
	fds0, g0 := openFDs(t), runtime.NumGoroutine()

	const cycles, parallel = 5000, 8
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for w := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += parallel {
				if err := cycle(s.Addr().String(), i%2 == 0); err != nil {
					errs <- fmt.Errorf("cycle %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	eventually(t, "connections to close", func() bool { return s.poll.Stats().Conns == 1 })
	eventually(t, "descriptors back to baseline", func() bool { return openFDs(t) == fds0 })
	eventually(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= g0 })
	if st := s.poll.Stats(); st.Accepted != cycles+1 || st.Closed != cycles {
		t.Fatalf("stats %+v", st)
	}
}

// cycle opens a WebSocket, makes one request, and closes: by the server (a protocol
// violation, answered with 1002) or by the client (close 1000, echoed). Either way the
// close frame and then EOF must arrive.
func cycle(addr string, serverSide bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(maskedFrame(true, ws.OpText, []byte(nowReq), true)); err != nil {
		return err
	}
	var r interface {
		Read([]byte) (int, error)
	} = conn
	if br != nil {
		r = br
	}
	if f, err := ws.ReadFrame(r); err != nil || f.Header.OpCode != ws.OpText {
		return fmt.Errorf("response: %v %v", f.Header.OpCode, err)
	}
	want := ws.StatusNormalClosure
	if serverSide {
		want = ws.StatusProtocolError
		conn.Write(maskedFrame(true, ws.OpText, []byte("x"), false)) // unmasked: 1002
	} else {
		conn.Write(maskedFrame(true, ws.OpClose, closeBody(1000, ""), true))
	}
	f, err := ws.ReadFrame(r)
	if err != nil || f.Header.OpCode != ws.OpClose {
		return fmt.Errorf("close frame: %v %v", f.Header.OpCode, err)
	}
	if code, _ := ws.ParseCloseFrameData(f.Payload); code != want {
		return fmt.Errorf("close code %d, want %d", code, want)
	}
	if serverSide {
		conn.Write(maskedFrame(true, ws.OpClose, f.Payload, true))
	}
	var buf [64]byte
	if n, err := r.Read(buf[:]); n != 0 || err == nil {
		return fmt.Errorf("after close: %d bytes, err %v; want EOF", n, err)
	}
	return nil
}

// A client that never reads is closed (1011) once its queue passes MaxQueuedBytes; another
// client keeps getting answers meanwhile.
func TestNonReadingClientIsClosedOthersUnaffected(t *testing.T) {
	s := startServer(t, Config{MaxQueuedBytes: 256 << 10})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { // keep the kernel from absorbing megabytes
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slow, _, _, err := ws.Dialer{NetDial: d.DialContext}.Dial(ctx, "ws://"+s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	other := dialWS(t, s)

	// Each request echoes a 64 KiB volatile: 200 of them are 12.8 MiB of responses.
	big := `{"controller":"server","action":"now","volatile":{"pad":"` + strings.Repeat("x", 64<<10) + `"}}`
	frameBytes := maskedFrame(true, ws.OpText, []byte(big), true)
	slow.SetWriteDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < 200 && s.slowClosed.Load() == 0; i++ {
		if _, err := slow.Write(frameBytes); err != nil {
			break // the server closed it
		}
		if m := other.request(nowReq); m["room"] != "r1" {
			t.Fatalf("other client got %v", m)
		}
	}
	eventually(t, "the slow client to be closed", func() bool { return s.slowClosed.Load() == 1 })
	if m := other.request(nowReq); m["room"] != "r1" {
		t.Fatalf("other client got %v", m)
	}
}

// Each open client costs the server exactly one descriptor and no goroutine. The test's
// client sockets live in the same process, so the count grows by two per client.
func TestOneDescriptorPerClient(t *testing.T) {
	s := startServer(t, Config{})
	warm := dialWS(t, s)
	warm.request(nowReq)
	runtime.GC()
	fds0, g0 := openFDs(t), runtime.NumGoroutine()
	const n = 300
	for range n {
		dialWS(t, s).request(nowReq)
	}
	if got := openFDs(t) - fds0; got != 2*n {
		t.Fatalf("descriptors grew by %d for %d clients, want %d", got, n, 2*n)
	}
	if got := runtime.NumGoroutine() - g0; got > 5 {
		t.Fatalf("goroutines grew by %d for %d clients", got, n)
	}
}

// A subscriber that never reads is closed with 1011 once its queue passes the bound,
// while another subscriber of the same channel receives every notification.
func TestNonReadingSubscriberDoesNotStallFanout(t *testing.T) {
	s := startServer(t, Config{MaxQueuedBytes: 256 << 10})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slowConn, slowBR, _, err := ws.Dialer{NetDial: d.DialContext}.Dial(ctx, "ws://"+s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slowConn.Close()
	slow := &wsClient{t: t, conn: slowConn, br: slowBR}
	if slow.br == nil {
		slow.br = bufio.NewReader(slowConn)
	}
	const sub = `{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"s"}`
	if m := slow.request(sub); m["status"] != float64(200) {
		t.Fatalf("subscribe: %v", m)
	}
	reader, publisher := dialWS(t, s), dialWS(t, s)
	if m := reader.request(sub); m["status"] != float64(200) {
		t.Fatalf("subscribe: %v", m)
	}
	pad := strings.Repeat("x", 32<<10)
	const n = 400 // 12.8 MiB per subscriber: far past socket buffers and the bound
	for i := range n {
		publisher.sendText(`{"controller":"realtime","action":"publish","index":"i","collection":"c","requestId":"p","body":{"i":` + strconv.Itoa(i) + `,"pad":"` + pad + `"}}`)
		if m := publisher.readJSON(); m["room"] != "p" || m["status"] != float64(200) {
			t.Fatalf("publish %d: %v", i, m)
		}
		m := reader.readJSON()
		if got := field(m, "result", "_source", "i"); got != float64(i) {
			t.Fatalf("reader got notification %v, want %d", got, i)
		}
	}
	eventually(t, "the non-reading subscriber to be closed", func() bool { return s.slowClosed.Load() == 1 })
}

// An accept storm (2,000 connections dialled at once) shares the epoll loop with
// established connections: an established client's requests keep being answered while
// the storm is accepted, and every stormer completes its handshake.
func TestAcceptStormDoesNotStarveEstablished(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	const storm = 2000
	var wg sync.WaitGroup
	errs := make(chan error, storm)
	var conns sync.Map
	for i := range storm {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, _, _, err := ws.Dialer{}.Dial(ctx, "ws://"+s.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			conns.Store(i, conn)
		}()
	}
	answered := 0
	for done := false; !done; {
		if m := c.request(nowReq); m["room"] != "r1" {
			t.Fatalf("established client got %v", m)
		}
		answered++
		select {
		case <-waitCh(&wg):
			done = true
		default:
		}
	}
	close(errs)
	for err := range errs {
		t.Fatalf("storm dial: %v", err)
	}
	conns.Range(func(_, v any) bool { v.(net.Conn).Close(); return true })
	t.Logf("%d requests answered during the storm", answered)
}

// waitCh returns a channel closed when wg is done.
func waitCh(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	return ch
}
