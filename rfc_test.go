package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

const nowReq = `{"controller":"server","action":"now","requestId":"r1"}`

func closeBody(code ws.StatusCode, reason string) []byte {
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	return append(b, reason...)
}

// frameHeader builds a masked client frame header declaring length n, without payload.
func frameHeader(fin bool, op ws.OpCode, n int64) []byte {
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: fin, OpCode: op, Length: n, Masked: true, Mask: [4]byte{1, 2, 3, 4}})
	return b.Bytes()
}

// TestRFC6455FrameRules sends each violation (or tricky valid case) after a successful
// handshake and checks the server's answer on the wire (RFC 6455 sections 5 and 7).
func TestRFC6455FrameRules(t *testing.T) {
	type want struct {
		closeCode ws.StatusCode // close frame expected (0: none)
		pong      []byte        // a PONG with this payload expected first
		responses int           // JSON responses expected before anything else
	}
	rsv := func(b []byte) []byte { b[0] |= 0x40; return b }
	cases := []struct {
		name  string
		input [][]byte
		want  want
	}{
		{
			name:  "unmasked client frame",
			input: [][]byte{maskedFrame(true, ws.OpText, []byte(nowReq), false)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "reserved bit without extension",
			input: [][]byte{rsv(maskedFrame(true, ws.OpText, []byte(nowReq), true))},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "reserved data opcode",
			input: [][]byte{maskedFrame(true, ws.OpCode(0x3), []byte("x"), true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "reserved control opcode",
			input: [][]byte{maskedFrame(true, ws.OpCode(0xB), nil, true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "continuation without a message",
			input: [][]byte{maskedFrame(true, ws.OpContinuation, []byte("x"), true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name: "new message inside a fragmented one",
			input: [][]byte{
				maskedFrame(false, ws.OpText, []byte(`{"a":`), true),
				maskedFrame(true, ws.OpText, []byte(`1}`), true),
			},
			want: want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "fragmented ping",
			input: [][]byte{maskedFrame(false, ws.OpPing, []byte("x"), true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "control frame over 125 bytes",
			input: [][]byte{maskedFrame(true, ws.OpPing, bytes.Repeat([]byte("x"), 126), true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "invalid UTF-8 text",
			input: [][]byte{maskedFrame(true, ws.OpText, []byte{'{', 0xff, '}'}, true)},
			want:  want{closeCode: ws.StatusInvalidFramePayloadData},
		},
		{
			name: "invalid UTF-8 across fragments",
			input: [][]byte{
				maskedFrame(false, ws.OpText, []byte{'"', 0xe2, 0x82}, true),
				maskedFrame(true, ws.OpContinuation, []byte{0x28, '"'}, true),
			},
			want: want{closeCode: ws.StatusInvalidFramePayloadData},
		},
		{
			name: "valid UTF-8 split across fragments, ping in between",
			input: [][]byte{
				maskedFrame(false, ws.OpText, []byte(`{"controller":"server","action":"now","volatile":{"e":"`+"\xe2\x82"), true),
				maskedFrame(true, ws.OpPing, []byte("mid"), true),
				maskedFrame(true, ws.OpContinuation, []byte("\xac"+`"}}`), true),
			},
			want: want{pong: []byte("mid"), responses: 1},
		},
		{
			name:  "ping with payload",
			input: [][]byte{maskedFrame(true, ws.OpPing, bytes.Repeat([]byte("p"), 125), true)},
			want:  want{pong: bytes.Repeat([]byte("p"), 125)},
		},
		{
			name:  "binary frame carrying JSON is a request",
			input: [][]byte{maskedFrame(true, ws.OpBinary, []byte(nowReq), true)},
			want:  want{responses: 1},
		},
		{
			name:  "close with a one-byte body",
			input: [][]byte{maskedFrame(true, ws.OpClose, []byte{3}, true)},
			want:  want{closeCode: ws.StatusProtocolError},
		},
		{
			name:  "close with invalid UTF-8 reason",
			input: [][]byte{maskedFrame(true, ws.OpClose, append(closeBody(1000, ""), 0xff), true)},
			want:  want{closeCode: ws.StatusInvalidFramePayloadData},
		},
		{
			name:  "declared length over the message limit",
			input: [][]byte{frameHeader(true, ws.OpText, 1<<20+1)},
			want:  want{closeCode: ws.StatusMessageTooBig},
		},
		{
			name: "fragments adding up over the message limit",
			input: [][]byte{
				maskedFrame(false, ws.OpText, bytes.Repeat([]byte(" "), 600<<10), true),
				frameHeader(true, ws.OpContinuation, 600<<10),
			},
			want: want{closeCode: ws.StatusMessageTooBig},
		},
	}
	for _, code := range []ws.StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999} {
		cases = append(cases, struct {
			name  string
			input [][]byte
			want  want
		}{
			name:  "close with invalid code " + strconv.Itoa(int(code)),
			input: [][]byte{maskedFrame(true, ws.OpClose, closeBody(code, ""), true)},
			want:  want{closeCode: ws.StatusProtocolError},
		})
	}
	for _, code := range []ws.StatusCode{1000, 1001, 1003, 1007, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, struct {
			name  string
			input [][]byte
			want  want
		}{
			name:  "close with valid code " + strconv.Itoa(int(code)) + " is echoed",
			input: [][]byte{maskedFrame(true, ws.OpClose, closeBody(code, "bye"), true)},
			want:  want{closeCode: code},
		})
	}
	s := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialWS(t, s)
			for _, b := range tc.input {
				c.writeRaw(b)
			}
			if tc.want.pong != nil {
				f := c.readFrame()
				if f.Header.OpCode != ws.OpPong || !bytes.Equal(f.Payload, tc.want.pong) {
					t.Fatalf("got %v %q, want pong %q", f.Header.OpCode, f.Payload, tc.want.pong)
				}
			}
			for range tc.want.responses {
				if m := c.readJSON(); m["status"] != float64(200) {
					t.Fatalf("response %v", m)
				}
			}
			if tc.want.closeCode != 0 {
				if got := c.expectClose(); got != tc.want.closeCode {
					t.Fatalf("close code %d, want %d", got, tc.want.closeCode)
				}
				return
			}
			// The connection is still usable.
			if m := c.request(nowReq); m["room"] != "r1" {
				t.Fatalf("after the case: %v", m)
			}
		})
	}
}

func TestCloseWithoutCodeGetsEmptyClose(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.writeRaw(maskedFrame(true, ws.OpClose, nil, true))
	f := c.readFrame()
	if f.Header.OpCode != ws.OpClose || len(f.Payload) != 0 {
		t.Fatalf("got %v %q, want an empty close frame", f.Header.OpCode, f.Payload)
	}
	if _, err := io.Copy(io.Discard, c.br); err != nil && !isReset(err) {
		t.Fatal(err)
	}
}

// handshake sends a raw upgrade request and reads the HTTP response.
func handshake(t *testing.T, s *Server, req string) *http.Response {
	t.Helper()
	conn := dialTCP(t, s)
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	resp.Body.Close()
	return resp
}

const upgradeReq = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

func TestHandshake(t *testing.T) {
	cases := []struct {
		name       string
		req        string
		status     int
		header     string // a response header that must be present
		headerWant string
	}{
		{
			name:       "valid, any path, accept key per RFC 6455 section 1.3",
			req:        strings.Replace(upgradeReq, "GET / ", "GET /some/path?x=1 ", 1) + "\r\n",
			status:     101,
			header:     "Sec-WebSocket-Accept",
			headerWant: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		},
		{
			name:       "sub-protocol offered by the SDK's browser path is echoed",
			req:        upgradeReq + "Sec-WebSocket-Protocol: null\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
			status:     101,
			header:     "Sec-WebSocket-Protocol",
			headerWant: "null",
		},
		{
			name:       "wrong version",
			req:        strings.Replace(upgradeReq, "Version: 13", "Version: 8", 1) + "\r\n",
			status:     426,
			header:     "Sec-WebSocket-Version",
			headerWant: "13",
		},
		{
			name:       "upgrade to websocket without the version",
			req:        strings.Replace(upgradeReq, "Sec-WebSocket-Version: 13\r\n", "", 1) + "\r\n",
			status:     426,
			header:     "Sec-WebSocket-Version",
			headerWant: "13",
		},
		{
			name:       "plain HTTP request: Kuzzle's HTTP API (GET / is server:info)",
			req:        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			status:     200,
			header:     "Content-Type",
			headerWant: "application/json",
		},
		{
			name:       "an upgrade to another protocol is plain HTTP",
			req:        "GET /_now HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
			status:     200,
			header:     "Content-Type",
			headerWant: "application/json",
		},
		{
			name:   "POST",
			req:    strings.Replace(upgradeReq, "GET", "POST", 1) + "\r\n",
			status: 405,
		},
		{
			name:   "missing key",
			req:    strings.Replace(upgradeReq, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1) + "\r\n",
			status: 400,
		},
		{
			name:   "garbage",
			req:    "\x16\x03\x01 hello\r\n\r\n",
			status: 400,
		},
		{
			name:   "headers over the cap",
			req:    upgradeReq + "X-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n",
			status: 431,
		},
	}
	s := startServer(t, Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := handshake(t, s, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.header != "" && resp.Header.Get(tc.header) != tc.headerWant {
				t.Fatalf("%s = %q, want %q", tc.header, resp.Header.Get(tc.header), tc.headerWant)
			}
		})
	}
}

func TestHandshakeOneByteAtATime(t *testing.T) {
	s := startServer(t, Config{})
	conn := dialTCP(t, s)
	for _, b := range []byte(upgradeReq + "\r\n") {
		if _, err := conn.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("resp %v, err %v", resp, err)
	}
	c := &wsClient{t: t, conn: conn, br: br}
	for _, b := range maskedFrame(true, ws.OpText, []byte(nowReq), true) {
		c.writeRaw([]byte{b})
	}
	if m := c.readJSON(); m["room"] != "r1" {
		t.Fatalf("got %v", m)
	}
}

func TestFiftyFramesInOneWriteAllAnswered(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	var all []byte
	for i := range 50 {
		all = append(all, maskedFrame(true, ws.OpText, []byte(`{"controller":"server","action":"now","requestId":"q`+strconv.Itoa(i)+`"}`), true)...)
	}
	c.writeRaw(all)
	for i := range 50 {
		if m := c.readJSON(); m["room"] != "q"+strconv.Itoa(i) {
			t.Fatalf("response %d: %v", i, m)
		}
	}
}

func TestHandshakeTimeoutGets408(t *testing.T) {
	s := startServer(t, Config{HandshakeTimeout: 50 * time.Millisecond})
	conn := dialTCP(t, s)
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
}

func TestIdleTimeoutCloses1001(t *testing.T) {
	s := startServer(t, Config{IdleTimeout: 50 * time.Millisecond})
	c := dialWS(t, s)
	if got := c.expectClose(); got != ws.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", got)
	}
}

// -ping-interval: a client that never pings itself is kept alive by answering the server's
// PINGs past several idle timeouts; one that answers nothing still gets 1001.
func TestPingInterval(t *testing.T) {
	s := startServer(t, Config{PingInterval: time.Second, IdleTimeout: 2 * time.Second})
	t.Run("answered", func(t *testing.T) {
		c := dialWS(t, s)
		for i := range 3 { // 3 pings span more than 2 idle timeouts
			f := c.readFrame()
			if f.Header.OpCode != ws.OpPing {
				t.Fatalf("frame %d: opcode %v, want a ping", i, f.Header.OpCode)
			}
			c.writeRaw(maskedFrame(true, ws.OpPong, f.Payload, true))
		}
		if m := c.request(nowReq); m["room"] != "r1" {
			t.Fatalf("after the pings: %v", m)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		c := dialWS(t, s)
		if f := c.readFrame(); f.Header.OpCode != ws.OpPing {
			t.Fatalf("opcode %v, want a ping", f.Header.OpCode)
		}
		if got := c.expectClose(); got != ws.StatusGoingAway {
			t.Fatalf("close code %d, want 1001", got)
		}
	})
}
