package frame

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func FuzzUpgrade(f *testing.F) {
	f.Add([]byte(request("GET / HTTP/1.1", sdkHeaders...)), uint16(0))
	f.Add([]byte(request("GET /?a=b HTTP/1.1", with("Sec-WebSocket-Protocol: null", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits", "Origin: http://x")...)+"\x81\x80abcd"), uint16(0))
	f.Add([]byte(request("GET / HTTP/1.1", replaced("Sec-WebSocket-Version", "8")...)), uint16(0))
	f.Add([]byte(request("POST / HTTP/1.1", sdkHeaders...)), uint16(0))
	f.Add([]byte(request("GET / HTTP/1.0", sdkHeaders...)), uint16(0))
	f.Add([]byte(request("GET / HTTP/1.1", "Host: x")), uint16(0))
	f.Add([]byte("GET / HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: upgrade\nSec-WebSocket-Key: "+testKey+"\nSec-WebSocket-Version: 13\n\n"), uint16(0))
	f.Add([]byte("\r\n\r\n"), uint16(3))
	f.Add([]byte(paddedRequest(201)), uint16(200))
	f.Add([]byte("GET / HTTP/1.1\r\nHost"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, maxBytes uint16) {
		cfg := HandshakeConfig{MaxBytes: int(maxBytes)}
		limit := cfg.withDefaults().MaxBytes
		snapshot := bytes.Clone(data)
		n, resp, hs, err := Upgrade(data, cfg)
		if !bytes.Equal(data, snapshot) {
			t.Fatalf("Upgrade modified its input")
		}
		if n < 0 || n > len(data) || n > limit {
			t.Fatalf(
				"consumed %d of %d bytes (limit %d)",
				n, len(data), limit,
			)
		}
		if errors.Is(err, ErrIncomplete) {
			if n != 0 || resp != nil || len(data) >= limit {
				t.Fatalf(
					"ErrIncomplete with n=%d resp=%q on %d bytes (limit %d)",
					n, resp, len(data), limit,
				)
			}
			return
		}
		r, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(resp)), nil)
		if perr != nil {
			t.Fatalf(
				"response %q does not parse: %v",
				resp, perr,
			)
		}
		r.Body.Close()
		var he *HandshakeError
		switch {
		case err == nil:
			if r.StatusCode != http.StatusSwitchingProtocols || n == 0 {
				t.Fatalf(
					"success with status %d, n=%d",
					r.StatusCode, n,
				)
			}
			if strings.ContainsAny(hs.Protocol, " ,\r\n") {
				t.Fatalf(
					"echoed protocol %q is not one token",
					hs.Protocol,
				)
			}
		case errors.As(err, &he):
			if r.StatusCode != he.Status || !r.Close {
				t.Fatalf(
					"error %v with response status %d close=%v",
					err, r.StatusCode, r.Close,
				)
			}
		default:
			t.Fatalf(
				"unexpected error type %T: %v",
				err, err,
			)
		}
		if n == 0 {
			return
		}
		// The outcome depends on the request only, not on what follows it.
		n2, resp2, hs2, err2 := Upgrade(data[:n], cfg)
		if n2 != n || !bytes.Equal(resp2, resp) || hs2 != hs || (err == nil) != (err2 == nil) {
			t.Fatalf(
				"request alone gives n=%d err=%v, with trailing bytes n=%d err=%v",
				n2, err2, n, err,
			)
		}
	})
}

func FuzzReader(f *testing.F) {
	hello := []byte("hello")
	seeds := [][]byte{
		client(f, ws.OpText, true, hello),
		client(f, ws.OpBinary, true, bytes.Repeat([]byte{0xff}, 300)),
		concat(
			client(f, ws.OpText, false, []byte("κό")),
			client(f, ws.OpPing, true, []byte("p")),
			client(f, ws.OpContinuation, true, []byte("σμε")),
		),
		client(f, ws.OpClose, true, closeBody(1000, "bye")),
		client(f, ws.OpClose, true, closeBody(1005, "")),
		client(f, ws.OpClose, true, []byte{3}),
		client(f, ws.OpPong, true, nil),
		client(f, ws.OpText, true, []byte{0xed, 0xa0, 0x80}),
		client(f, ws.OpContinuation, true, hello),
		client(f, 0xb, true, nil),
		raw(f, ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, hello),
		raw(f, ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Masked: true, Length: 5}, hello),
		raw(f, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Length: 1 << 40}, nil),
		raw(f, ws.Header{Fin: true, OpCode: ws.OpPing, Masked: true, Length: 126}, bytes.Repeat([]byte("x"), 126)),
	}
	for i, s := range seeds {
		f.Add(s, []byte{byte(i), 3, 1}, uint16(i*40))
	}
	f.Fuzz(func(t *testing.T, data, split []byte, maxSize uint16) {
		var chunks []int
		for _, b := range split {
			chunks = append(chunks, 1+int(b))
		}
		whole := Reader{MaxMessageSize: int(maxSize)}
		defer whole.Reset()
		want := feed(t, &whole, bytes.Clone(data), nil)
		parts := Reader{MaxMessageSize: int(maxSize)}
		defer parts.Reset()
		got := feed(t, &parts, bytes.Clone(data), chunks)
		if strings.Join(got.events, "\n") != strings.Join(want.events, "\n") || got.code != want.code || got.left != want.left {
			t.Fatalf(
				"split input: events %q code %d left %d; whole: events %q code %d left %d",
				got.events, got.code, got.left, want.events, want.code, want.left,
			)
		}
	})
}
