package frame

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// echoServer plays the lead's server on one accepted connection, the way it
// uses this package: read whatever arrived (in small reads, so requests and
// frames come in pieces), keep the unconsumed bytes, call Upgrade then Next.
// It echoes messages with Seal, answers pings with Pong and close frames with
// their Reply, and fails the connection with a CloseError's Frame.
type echoServer struct {
	hs     Handshake
	events []string
	frames int // frames consumed
}

func (s *echoServer) serve(conn net.Conn) error {
	defer conn.Close()
	var (
		pending  []byte
		chunk    = make([]byte, 1000)
		upgraded bool
		r        Reader
	)
	defer r.Reset()
	for {
		n, err := conn.Read(chunk)
		pending = append(pending, chunk[:n]...)
		if err != nil {
			return fmt.Errorf("server read: %w", err)
		}
		if !upgraded {
			m, resp, hs, err := Upgrade(pending, HandshakeConfig{})
			if errors.Is(err, ErrIncomplete) {
				continue
			}
			if _, werr := conn.Write(resp); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			s.hs, upgraded, pending = hs, true, pending[m:]
		}
		for {
			m, ev, ok, err := r.Next(pending)
			var ce *CloseError
			if errors.As(err, &ce) {
				s.events = append(s.events, fmt.Sprintf("error %d", ce.Code))
				_, werr := conn.Write(ce.Frame())
				return werr
			}
			if m == 0 {
				break
			}
			pending = pending[m:]
			s.frames++
			if !ok {
				continue
			}
			var out []byte
			switch ev.Kind {
			case KindMessage:
				s.events = append(s.events, fmt.Sprintf("message %d bytes", len(ev.Payload)))
				out = Seal(append(make([]byte, Headroom), ev.Payload...), ev.OpCode)
			case KindPing:
				s.events = append(s.events, "ping")
				out = Pong(ev.Payload)
			case KindPong:
				s.events = append(s.events, "pong")
			case KindClose:
				s.events = append(s.events, fmt.Sprintf("close %d", ev.Code))
				_, werr := conn.Write(ev.Reply)
				return werr
			}
			if _, werr := conn.Write(out); werr != nil {
				return werr
			}
		}
	}
}

// startServer accepts one connection on loopback and serves it with s. The
// returned channel yields serve's result once the connection is done.
func startServer(t *testing.T, s *echoServer) (addr string, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf(
			"listen: %v",
			err,
		)
	}
	ch := make(chan error, 1)
	go func() {
		defer ln.Close()
		conn, err := ln.Accept()
		if err != nil {
			ch <- err
			return
		}
		ch <- s.serve(conn)
	}()
	return ln.Addr().String(), ch
}

// readFrame reads one server frame with gobwas/ws and checks it is unmasked.
func readFrame(t *testing.T, r io.Reader) ws.Frame {
	t.Helper()
	f, err := ws.ReadFrame(r)
	if err != nil {
		t.Fatalf(
			"client read: %v",
			err,
		)
	}
	if f.Header.Masked || !f.Header.Fin {
		t.Fatalf(
			"server frame header %+v: want FIN and no mask",
			f.Header,
		)
	}
	return f
}

func dial(t *testing.T, addr string) (net.Conn, io.Reader, ws.Handshake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := ws.Dialer{Protocols: []string{"null"}}
	conn, br, hs, err := d.Dial(ctx, "ws://"+addr+"/some/path?x=1")
	if err != nil {
		t.Fatalf(
			"gobwas/ws client handshake: %v",
			err,
		)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf(
			"deadline: %v",
			err,
		)
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	return conn, r, hs
}

// Frames written by gobwas/ws's client side over a real TCP connection are
// read back by Reader, and the server's frames are read by gobwas/ws.
func TestRoundTripWithGobwasClient(t *testing.T) {
	s := new(echoServer)
	addr, done := startServer(t, s)
	conn, in, hs := dial(t, addr)
	if hs.Protocol != "null" {
		t.Errorf(
			"negotiated protocol %q, want \"null\"",
			hs.Protocol,
		)
	}

	text := []byte(`{"controller":"realtime","action":"publish","body":{"κόσμε":"✓"}}`)
	if err := wsutil.WriteClientText(conn, text); err != nil {
		t.Fatalf(
			"write text: %v",
			err,
		)
	}
	if f := readFrame(t, in); f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, text) {
		t.Fatalf(
			"echo %v %q, want text %q",
			f.Header.OpCode, f.Payload, text,
		)
	}

	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 25000) // 100 000 bytes: 64-bit length
	if err := wsutil.WriteClientBinary(conn, big); err != nil {
		t.Fatalf(
			"write binary: %v",
			err,
		)
	}
	if f := readFrame(t, in); f.Header.OpCode != ws.OpBinary || !bytes.Equal(f.Payload, big) {
		t.Fatalf(
			"echo of the binary message: %v, %d bytes",
			f.Header.OpCode, len(f.Payload),
		)
	}

	// wsutil.Writer with a small buffer fragments the message, cutting
	// multi-byte characters between fragments.
	long := []byte(strings.Repeat("é€𝄞 ", 40))
	w := wsutil.NewWriterSize(conn, ws.StateClientSide, ws.OpText, 16)
	for rest := long; len(rest) > 0; {
		k := min(7, len(rest))
		if _, err := w.Write(rest[:k]); err != nil {
			t.Fatalf(
				"write fragments: %v",
				err,
			)
		}
		rest = rest[k:]
	}
	if err := w.Flush(); err != nil {
		t.Fatalf(
			"flush fragments: %v",
			err,
		)
	}
	if f := readFrame(t, in); f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, long) {
		t.Fatalf(
			"echo of the fragmented message: %v %q",
			f.Header.OpCode, f.Payload,
		)
	}

	if err := wsutil.WriteClientMessage(conn, ws.OpPing, []byte("are you there")); err != nil {
		t.Fatalf(
			"write ping: %v",
			err,
		)
	}
	if f := readFrame(t, in); f.Header.OpCode != ws.OpPong || string(f.Payload) != "are you there" {
		t.Fatalf(
			"answer to ping: %v %q",
			f.Header.OpCode, f.Payload,
		)
	}

	closeFrame := ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "done")))
	if err := ws.WriteFrame(conn, closeFrame); err != nil {
		t.Fatalf(
			"write close: %v",
			err,
		)
	}
	f := readFrame(t, in)
	code, _ := ws.ParseCloseFrameData(f.Payload)
	if f.Header.OpCode != ws.OpClose || code != ws.StatusNormalClosure {
		t.Fatalf(
			"answer to close: %v code %d",
			f.Header.OpCode, code,
		)
	}
	if err := <-done; err != nil {
		t.Fatalf(
			"server: %v",
			err,
		)
	}
	if s.hs != (Handshake{Path: "/some/path", Query: "x=1", Protocol: "null"}) {
		t.Errorf(
			"server handshake %+v",
			s.hs,
		)
	}
	want := fmt.Sprintf(
		"message %d bytes|message %d bytes|message %d bytes|ping|close 1000",
		len(text), len(big), len(long),
	)
	if s.frames < len(long)/16 {
		t.Errorf(
			"server read %d frames: the long message was not fragmented",
			s.frames,
		)
	}
	if got := strings.Join(s.events, "|"); got != want {
		t.Errorf(
			"server saw %q, want %q",
			got, want,
		)
	}
}

// An unmasked frame from a real client socket fails the connection with 1002.
func TestRoundTripUnmaskedFrameFails(t *testing.T) {
	s := new(echoServer)
	addr, done := startServer(t, s)
	conn, in, _ := dial(t, addr)
	if err := ws.WriteFrame(conn, ws.NewTextFrame([]byte("not masked"))); err != nil {
		t.Fatalf(
			"write: %v",
			err,
		)
	}
	f := readFrame(t, bufio.NewReader(in))
	code, _ := ws.ParseCloseFrameData(f.Payload)
	if f.Header.OpCode != ws.OpClose || code != ws.StatusProtocolError {
		t.Fatalf(
			"got %v code %d, want close 1002",
			f.Header.OpCode, code,
		)
	}
	if err := <-done; err != nil {
		t.Fatalf(
			"server: %v",
			err,
		)
	}
	if strings.Join(s.events, "|") != "error 1002" {
		t.Errorf(
			"server saw %q",
			s.events,
		)
	}
}
