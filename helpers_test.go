package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// startServer runs a server on a free loopback port for the test's duration.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.Port = 0
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(2 * time.Second) })
	return s
}

// wsClient is a raw-frame WebSocket client: it writes exactly the bytes a test asks for
// and reads whole frames, so tests see what is on the wire.
type wsClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialWS opens a TCP connection to s and completes the opening handshake.
func dialWS(t testing.TB, s *Server) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+s.Addr().String()+"/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if br == nil {
		br = bufio.NewReader(conn)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &wsClient{t: t, conn: conn, br: br}
}

// dialTCP opens a plain TCP connection to s (for handshake tests).
func dialTCP(t *testing.T, s *Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// writeRaw writes bytes as they are.
func (c *wsClient) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// maskedFrame encodes a client frame with the given header bits (masked unless masked is
// false).
func maskedFrame(fin bool, op ws.OpCode, payload []byte, masked bool) []byte {
	f := ws.NewFrame(op, fin, append([]byte(nil), payload...))
	if masked {
		f = ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4})
	}
	var sb strings.Builder
	ws.WriteFrame(&sb, f)
	return []byte(sb.String())
}

// sendText sends one masked text frame.
func (c *wsClient) sendText(s string) {
	c.t.Helper()
	c.writeRaw(maskedFrame(true, ws.OpText, []byte(s), true))
}

// readFrame reads one server frame; servers never mask.
func (c *wsClient) readFrame() ws.Frame {
	c.t.Helper()
	f, err := ws.ReadFrame(c.br)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		c.t.Fatalf("server frame is masked")
	}
	return f
}

// readJSON reads one text frame and decodes it.
func (c *wsClient) readJSON() map[string]any {
	c.t.Helper()
	f := c.readFrame()
	if f.Header.OpCode != ws.OpText {
		c.t.Fatalf("got opcode %v (payload %q), want text", f.Header.OpCode, f.Payload)
	}
	var m map[string]any
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		c.t.Fatalf("server frame is not JSON: %q: %v", f.Payload, err)
	}
	return m
}

// request sends a request and returns the response whose room is its requestId; frames
// with another room fail the test.
func (c *wsClient) request(req string) map[string]any {
	c.t.Helper()
	c.sendText(req)
	return c.readJSON()
}

// expectClose reads until a close frame and returns its code, then checks the server
// closes the TCP connection after our close reply.
func (c *wsClient) expectClose() ws.StatusCode {
	c.t.Helper()
	for {
		f := c.readFrame()
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		code, _ := ws.ParseCloseFrameData(f.Payload)
		c.writeRaw(maskedFrame(true, ws.OpClose, f.Payload[:min(2, len(f.Payload))], true))
		if _, err := io.Copy(io.Discard, c.br); err != nil && !isReset(err) {
			c.t.Fatalf("after close: %v", err)
		}
		return code
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// eventually polls cond every few milliseconds for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// field walks a decoded JSON object along keys.
func field(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
