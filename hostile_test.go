package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Regression tests for failures found by adversarial testing, over real loopback sockets.

// RFC 6455 section 11.3.1: Sec-WebSocket-Key "MUST NOT appear more than once in an HTTP
// request". A second key used to get 101 with the accept value computed from it.
func TestHostileRepeatedKeyGets400(t *testing.T) {
	s := startServer(t, Config{})
	for _, second := range []string{"AQIDBAUGBwgJCgsMDQ4PEA==", "dGhlIHNhbXBsZSBub25jZQ=="} {
		resp := handshake(t, s, upgradeReq+"Sec-WebSocket-Key: "+second+"\r\n\r\n")
		if resp.StatusCode != 400 {
			t.Errorf("second key %s: status %d (accept %q), want 400",
				second, resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
		}
	}
}

// RFC 7230 section 7 list rules apply to Connection and Upgrade (RFC 6455 section 4.2.1
// asks for a field that "includes" the token): a field sent on two lines, another protocol
// next to websocket, and tabs around the comma are all valid upgrades. They used to get 400
// or 426.
func TestHostileTokenListsUpgrade(t *testing.T) {
	const conn = "Connection: Upgrade\r\n"
	const upg = "Upgrade: websocket\r\n"
	cases := map[string]string{
		"connection on two lines, upgrade first":  strings.Replace(upgradeReq, conn, conn+"Connection: keep-alive\r\n", 1),
		"connection on two lines, upgrade second": strings.Replace(upgradeReq, conn, "Connection: keep-alive\r\n"+conn, 1),
		"upgrade list":                     strings.Replace(upgradeReq, upg, "Upgrade: websocket, h2c\r\n", 1),
		"tab after the comma":              strings.Replace(upgradeReq, conn, "Connection: keep-alive,\tUpgrade\r\n", 1),
		"spaces and tabs around the comma": strings.Replace(upgradeReq, conn, "Connection: keep-alive \t,\t Upgrade\r\n", 1),
	}
	s := startServer(t, Config{})
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			resp := handshake(t, s, req+"\r\n")
			if resp.StatusCode != 101 {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Fatalf("Sec-WebSocket-Accept = %q", got)
			}
		})
	}
}

// Autobahn cases 6.4.3 and 6.4.4: one 21-byte text frame whose bytes 12-15 are U+110000
// (past the last code point), sent in chops. The server fails the connection with 1007 as
// soon as the invalid bytes are there; the third chop is never sent. It used to wait for
// the whole frame.
func TestHostileInvalidUTF8FailsBeforeFrameCompletes(t *testing.T) {
	payload := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64")
	whole := maskedFrame(true, ws.OpText, payload, true)
	const header = 6 // 2 bytes, masking key
	s := startServer(t, Config{})
	for name, cuts := range map[string][2]int{
		"6.4.3 (chops 11, 4, 6)": {header + 11, header + 15},
		"6.4.4 (chops 12, 1, 8)": {header + 12, header + 13},
	} {
		t.Run(name, func(t *testing.T) {
			c := dialWS(t, s)
			c.writeRaw(whole[:cuts[0]])
			c.writeRaw(whole[cuts[0]:cuts[1]])
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // never reached when it works
			if got := c.expectClose(); got != ws.StatusInvalidFramePayloadData {
				t.Fatalf("close code %d, want 1007", got)
			}
		})
	}
}

// slowReader reads from r at about rate bytes per second, at most 8 KiB at a time: a
// client on a slow link.
type slowReader struct {
	r     io.Reader
	rate  int
	total int // bytes read so far
}

func (s *slowReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p[:min(len(p), 8<<10)])
	s.total += n
	time.Sleep(time.Duration(n) * time.Second / time.Duration(s.rate))
	return n, err
}

// A subscriber with a 4 KiB receive buffer reading at 2 MB/s falls behind a publisher
// until its queue passes MaxQueuedBytes; it must then read close code 1011 and learn why
// it is cut. The close frame used to be queued behind the whole queue (8 MiB here, 4 s at
// that rate), so the close deadline (CloseTimeout plus at most the 1 s sweep) closed the
// socket first and the client saw EOF after what the kernel held. Now the queued
// notifications not yet started are dropped, the one in progress (32 KiB at most) is
// finished, and the close frame follows it into the kernel at once.
func TestHostileSlowSubscriberReads1011(t *testing.T) {
	slowSubscriberGets1011(t, Config{MaxQueuedBytes: 8 << 20, CloseTimeout: 500 * time.Millisecond}, 2<<20, false)
}

// The issue's own case: a subscriber reading at 0.5 MB/s that keeps sending its
// application pings ({"p":1} every 100 ms, as an SDK does every 2 s) while it falls behind.
// Its unread data used to fill the kernel's autotuned send buffer (up to 4 MiB: 8 s at
// that rate), the close deadline passed first, and closing a socket with unread input
// reset it: the client saw ECONNRESET. SendBufferSize bounds what the kernel holds, so the
// 1011 arrives within the default CloseTimeout.
func TestHostileSlowPingingSubscriberReads1011(t *testing.T) {
	slowSubscriberGets1011(t, Config{}, 512<<10, true)
}

// slowSubscriberGets1011 subscribes a client with a 4 KiB receive buffer that reads at
// rate bytes/s (pinging every 100 ms when ping), publishes until the server cuts it as
// slow, and checks that the client reads close code 1011.
func slowSubscriberGets1011(t *testing.T, cfg Config, rate int, ping bool) {
	t.Helper()
	s := startServer(t, cfg)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{NetDial: d.DialContext}.Dial(ctx, "ws://"+s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if br != nil && br.Buffered() > 0 {
		t.Fatal("server sent frames before any request")
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	slow := &wsClient{t: t, conn: conn, br: bufio.NewReader(conn)}
	const sub = `{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"s"}`
	if m := slow.request(sub); m["status"] != float64(200) {
		t.Fatalf("subscribe: %v", m)
	}

	// From now on the subscriber reads slowly, and reports the close code it reads, or the
	// error that ends its reading.
	type end struct {
		code  ws.StatusCode
		err   error
		bytes int
	}
	ended := make(chan end, 1)
	go func() {
		sr := &slowReader{r: slow.br, rate: rate}
		for {
			f, err := ws.ReadFrame(sr)
			if err != nil {
				ended <- end{err: err, bytes: sr.total}
				return
			}
			if f.Header.OpCode == ws.OpClose {
				code, _ := ws.ParseCloseFrameData(f.Payload)
				ended <- end{code: code, bytes: sr.total}
				return
			}
		}
	}()

	if ping {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write(maskedFrame(true, ws.OpText, []byte(`{"p":1}`), true)); err != nil {
						return
					}
				}
			}
		}()
	}
	publisher := dialWS(t, s)
	pad := strings.Repeat("x", 32<<10)
	for i := 0; i < 1000 && s.slowClosed.Load() == 0; i++ { // 32 MiB at most
		publisher.sendText(`{"controller":"realtime","action":"publish","index":"i","collection":"c","requestId":"p","body":{"i":` + strconv.Itoa(i) + `,"pad":"` + pad + `"}}`)
		if m := publisher.readJSON(); m["status"] != float64(200) {
			t.Fatalf("publish %d: %v", i, m)
		}
	}
	if s.slowClosed.Load() != 1 {
		t.Fatal("the subscriber was never closed as slow")
	}
	e := <-ended
	t.Logf("the subscriber read %d bytes", e.bytes)
	if e.err != nil || e.code != ws.StatusInternalServerError {
		t.Fatalf("subscriber read close code %d, error %v; want close code 1011", e.code, e.err)
	}
}
