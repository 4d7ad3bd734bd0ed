package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// raw encodes a frame with header h (h.Length as given, whatever the payload
// length) followed by payload, masked with testMask when h.Masked is set.
func raw(t testing.TB, h ws.Header, payload []byte) []byte {
	t.Helper()
	if h.Masked {
		h.Mask = testMask
	}
	var b bytes.Buffer
	if err := ws.WriteHeader(&b, h); err != nil {
		t.Fatalf(
			"WriteHeader(%+v): %v",
			h, err,
		)
	}
	p := bytes.Clone(payload)
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	b.Write(p)
	return b.Bytes()
}

// client encodes a valid masked client frame.
func client(t testing.TB, op ws.OpCode, fin bool, payload []byte) []byte {
	t.Helper()
	return raw(t, ws.Header{Fin: fin, OpCode: op, Masked: true, Length: int64(len(payload))}, payload)
}

func closeBody(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// describe renders an event for comparisons.
func describe(ev Event) string {
	switch ev.Kind {
	case KindClose:
		return fmt.Sprintf("close %d %q reply=% x", ev.Code, ev.Reason, ev.Reply)
	case KindMessage:
		op := map[ws.OpCode]string{ws.OpText: "text", ws.OpBinary: "binary"}[ev.OpCode]
		return fmt.Sprintf("message %s %q", op, ev.Payload)
	}
	return fmt.Sprintf("%v %q", ev.Kind, ev.Payload)
}

// outcome is what a server loop saw: the events, the close code of the
// error (0 if none) and the bytes left unconsumed.
type outcome struct {
	events []string
	code   ws.StatusCode
	left   int
}

// feed plays the server: it appends each chunk of input to its pending
// bytes and calls Next until it consumes nothing. chunks are the chunk sizes,
// the rest of input is fed as one last chunk.
func feed(t testing.TB, r *Reader, input []byte, chunks []int) outcome {
	t.Helper()
	var out outcome
	var pending []byte
	rest := input
	for len(rest) > 0 {
		size := len(rest)
		if len(chunks) > 0 {
			size, chunks = min(chunks[0], len(rest)), chunks[1:]
		}
		pending = append(pending, rest[:size]...)
		rest = rest[size:]
		for {
			n, ev, ok, err := r.Next(pending)
			checkBuffers(t, r)
			if n > len(pending) || n < 0 {
				t.Fatalf(
					"Next consumed %d of %d bytes",
					n, len(pending),
				)
			}
			if err != nil {
				var ce *CloseError
				if !errors.As(err, &ce) {
					t.Fatalf(
						"error %v is not a *CloseError",
						err,
					)
				}
				if n != 0 || ok {
					t.Fatalf(
						"error with n=%d ok=%v",
						n, ok,
					)
				}
				out.code = ce.Code
				out.left = len(pending) + len(rest)
				return out
			}
			if ok {
				out.events = append(out.events, describe(ev))
			}
			if n == 0 {
				if ok {
					t.Fatalf("event with nothing consumed")
				}
				break
			}
			pending = pending[n:]
		}
	}
	out.left = len(pending)
	return out
}

// checkBuffers checks that the reassembly buffer holds no more than the
// limit and was not allocated beyond what arrived: its capacity stays within
// what append's growth gives for its length, or a recycled pool buffer.
func checkBuffers(t testing.TB, r *Reader) {
	t.Helper()
	if r.frag == nil {
		return
	}
	l, c := len(*r.frag), cap(*r.frag)
	if l > r.maxMessageSize() {
		t.Fatalf(
			"reassembly buffer holds %d bytes, limit %d",
			l, r.maxMessageSize(),
		)
	}
	if c > max(maxPooledBuffer, 2*l+1024) {
		t.Fatalf(
			"reassembly buffer capacity %d for %d bytes",
			c, l,
		)
	}
}

// splits returns the chunkings every frame test runs with: whole, one byte
// at a time, and random splits from a fixed seed.
func splits(size int) map[string][]int {
	out := map[string][]int{"whole": nil}
	ones := make([]int, size)
	for i := range ones {
		ones[i] = 1
	}
	out["bytewise"] = ones
	rng := rand.New(rand.NewPCG(uint64(size), 6455))
	for k := range 8 {
		var c []int
		for total := 0; total < size; {
			n := 1 + rng.IntN(min(size, 40))
			c = append(c, n)
			total += n
		}
		out[fmt.Sprintf("random%d", k)] = c
	}
	return out
}

func TestReaderNext(t *testing.T) {
	hello := []byte("hello")
	long := bytes.Repeat([]byte("x"), 300)
	tests := []struct {
		name   string
		input  func(t *testing.T) []byte
		max    int
		events []string
		code   ws.StatusCode // close code of the expected error, 0 for none
	}{
		{
			name:   "text",
			input:  func(t *testing.T) []byte { return client(t, ws.OpText, true, hello) },
			events: []string{`message text "hello"`},
		},
		{
			name:   "binary need not be UTF-8",
			input:  func(t *testing.T) []byte { return client(t, ws.OpBinary, true, []byte{0xff, 0xfe}) },
			events: []string{`message binary "\xff\xfe"`},
		},
		{
			name:   "empty text",
			input:  func(t *testing.T) []byte { return client(t, ws.OpText, true, nil) },
			events: []string{`message text ""`},
		},
		{
			name:   "16-bit length",
			input:  func(t *testing.T) []byte { return client(t, ws.OpText, true, long) },
			events: []string{`message text "` + string(long) + `"`},
		},
		{
			name: "64-bit length",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: 70000}, bytes.Repeat([]byte("y"), 70000))
			},
			events: []string{`message text "` + strings.Repeat("y", 70000) + `"`},
		},
		{
			name: "non-minimal length encoding is accepted",
			input: func(t *testing.T) []byte {
				b := []byte{0x81, 0x80 | 126, 0, 5}
				b = append(b, testMask[:]...)
				p := bytes.Clone(hello)
				ws.Cipher(p, testMask, 0)
				return append(b, p...)
			},
			events: []string{`message text "hello"`},
		},
		{
			name:  "unmasked frame",
			input: func(t *testing.T) []byte { return raw(t, ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, hello) },
			code:  ws.StatusProtocolError,
		},
		{
			name: "RSV1 without extension",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, Rsv: ws.Rsv(true, false, false), OpCode: ws.OpText, Masked: true, Length: 5}, hello)
			},
			code: ws.StatusProtocolError,
		},
		{
			name: "RSV2",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, Rsv: ws.Rsv(false, true, false), OpCode: ws.OpText, Masked: true, Length: 5}, hello)
			},
			code: ws.StatusProtocolError,
		},
		{
			name: "RSV3 on a ping",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, Rsv: ws.Rsv(false, false, true), OpCode: ws.OpPing, Masked: true}, nil)
			},
			code: ws.StatusProtocolError,
		},
		{
			name:  "reserved data opcode 3",
			input: func(t *testing.T) []byte { return client(t, 3, true, hello) },
			code:  ws.StatusProtocolError,
		},
		{
			name:  "reserved data opcode 7",
			input: func(t *testing.T) []byte { return client(t, 7, true, nil) },
			code:  ws.StatusProtocolError,
		},
		{
			name:  "reserved control opcode 0xB",
			input: func(t *testing.T) []byte { return client(t, 0xb, true, nil) },
			code:  ws.StatusProtocolError,
		},
		{
			name:  "reserved control opcode 0xF",
			input: func(t *testing.T) []byte { return client(t, 0xf, true, hello) },
			code:  ws.StatusProtocolError,
		},
		{
			name: "reserved opcode after a valid frame",
			input: func(t *testing.T) []byte {
				return concat(client(t, ws.OpText, true, hello), client(t, 5, true, nil))
			},
			events: []string{`message text "hello"`},
			code:   ws.StatusProtocolError,
		},
		{
			name: "fragmented text with control frames interleaved",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, []byte("fra")),
					client(t, ws.OpPing, true, []byte("p1")),
					client(t, ws.OpContinuation, false, []byte("gme")),
					client(t, ws.OpPong, true, nil),
					client(t, ws.OpContinuation, false, nil),
					client(t, ws.OpContinuation, true, []byte("nted")),
					client(t, ws.OpBinary, true, hello),
				)
			},
			events: []string{`ping "p1"`, `pong ""`, `message text "fragmented"`, `message binary "hello"`},
		},
		{
			name: "character split across fragments",
			input: func(t *testing.T) []byte {
				s := []byte("κόσμε") // 2-byte characters, cut in the middle
				return concat(
					client(t, ws.OpText, false, s[:3]),
					client(t, ws.OpContinuation, false, s[3:6]),
					client(t, ws.OpContinuation, true, s[6:]),
				)
			},
			events: []string{`message text "κόσμε"`},
		},
		{
			name: "two messages in a row, each fragmented",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpBinary, false, []byte("ab")),
					client(t, ws.OpContinuation, true, []byte("cd")),
					client(t, ws.OpText, false, []byte("ef")),
					client(t, ws.OpContinuation, true, []byte("gh")),
				)
			},
			events: []string{`message binary "abcd"`, `message text "efgh"`},
		},
		{
			name:  "continuation without a message",
			input: func(t *testing.T) []byte { return client(t, ws.OpContinuation, true, hello) },
			code:  ws.StatusProtocolError,
		},
		{
			name: "continuation after a complete message",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, hello),
					client(t, ws.OpContinuation, true, hello),
					client(t, ws.OpContinuation, true, hello),
				)
			},
			events: []string{`message text "hellohello"`},
			code:   ws.StatusProtocolError,
		},
		{
			name: "new text frame while a message is in progress",
			input: func(t *testing.T) []byte {
				return concat(client(t, ws.OpText, false, hello), client(t, ws.OpText, true, hello))
			},
			code: ws.StatusProtocolError,
		},
		{
			name: "new binary fragment while a message is in progress",
			input: func(t *testing.T) []byte {
				return concat(client(t, ws.OpBinary, false, hello), client(t, ws.OpBinary, false, hello))
			},
			code: ws.StatusProtocolError,
		},
		{
			name:  "invalid UTF-8 text",
			input: func(t *testing.T) []byte { return client(t, ws.OpText, true, []byte("a\xc3\x28b")) },
			code:  ws.StatusInvalidFramePayloadData,
		},
		{
			name:  "UTF-16 surrogate in text",
			input: func(t *testing.T) []byte { return client(t, ws.OpText, true, []byte("\xed\xa0\x80")) },
			code:  ws.StatusInvalidFramePayloadData,
		},
		{
			name: "invalid UTF-8 fails on the fragment that brings it",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, []byte("ok")),
					client(t, ws.OpContinuation, false, []byte{0xff}),
				)
			},
			code: ws.StatusInvalidFramePayloadData,
		},
		{
			name: "impossible character prefix fails before the message ends",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, []byte("ok")),
					client(t, ws.OpContinuation, false, []byte{0xf4, 0x90}), // beyond U+10FFFF
				)
			},
			code: ws.StatusInvalidFramePayloadData,
		},
		{
			name: "text ending in a cut character",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, []byte("ok\xce")),
					client(t, ws.OpContinuation, true, nil),
				)
			},
			code: ws.StatusInvalidFramePayloadData,
		},
		{
			name:   "ping",
			input:  func(t *testing.T) []byte { return client(t, ws.OpPing, true, []byte("are you there")) },
			events: []string{`ping "are you there"`},
		},
		{
			name:   "ping of 125 bytes",
			input:  func(t *testing.T) []byte { return client(t, ws.OpPing, true, long[:125]) },
			events: []string{`ping "` + string(long[:125]) + `"`},
		},
		{
			name: "ping of 126 bytes",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, OpCode: ws.OpPing, Masked: true, Length: 126}, long[:126])
			},
			code: ws.StatusProtocolError,
		},
		{
			name:  "fragmented ping",
			input: func(t *testing.T) []byte { return client(t, ws.OpPing, false, hello) },
			code:  ws.StatusProtocolError,
		},
		{
			name:  "fragmented close",
			input: func(t *testing.T) []byte { return client(t, ws.OpClose, false, nil) },
			code:  ws.StatusProtocolError,
		},
		{
			name:   "close without body",
			input:  func(t *testing.T) []byte { return client(t, ws.OpClose, true, nil) },
			events: []string{`close 1005 "" reply=88 00`},
		},
		{
			name:  "close with 1-byte body",
			input: func(t *testing.T) []byte { return client(t, ws.OpClose, true, []byte{0x03}) },
			code:  ws.StatusProtocolError,
		},
		{
			name:   "close with reason is echoed",
			input:  func(t *testing.T) []byte { return client(t, ws.OpClose, true, closeBody(1000, "bye")) },
			events: []string{`close 1000 "bye" reply=88 02 03 e8`},
		},
		{
			name:  "close with invalid UTF-8 reason",
			input: func(t *testing.T) []byte { return client(t, ws.OpClose, true, closeBody(1000, "\xce\xba\xed\xa0\x80")) },
			code:  ws.StatusInvalidFramePayloadData,
		},
		{
			name: "close in the middle of a fragmented message",
			input: func(t *testing.T) []byte {
				return concat(client(t, ws.OpText, false, hello), client(t, ws.OpClose, true, closeBody(1001, "")))
			},
			events: []string{`close 1001 "" reply=88 02 03 e9`},
		},
		{
			name: "64-bit length with the top bit set",
			input: func(t *testing.T) []byte {
				return append([]byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, testMask[:]...)
			},
			code: ws.StatusProtocolError,
		},
		{
			name:   "message of exactly MaxMessageSize",
			input:  func(t *testing.T) []byte { return client(t, ws.OpBinary, true, long[:100]) },
			max:    100,
			events: []string{`message binary "` + string(long[:100]) + `"`},
		},
		{
			name:  "message over MaxMessageSize",
			input: func(t *testing.T) []byte { return client(t, ws.OpBinary, true, long[:101]) },
			max:   100,
			code:  ws.StatusMessageTooBig,
		},
		{
			name: "message over the default limit, header only",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: DefaultMaxMessageSize + 1}, nil)
			},
			code: ws.StatusMessageTooBig,
		},
		{
			name: "header declaring 2^63-1 bytes",
			input: func(t *testing.T) []byte {
				return raw(t, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Length: 1<<63 - 1}, nil)
			},
			code: ws.StatusMessageTooBig,
		},
		{
			name: "fragments of exactly MaxMessageSize",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, long[:60]),
					client(t, ws.OpContinuation, true, long[:40]),
				)
			},
			max:    100,
			events: []string{`message text "` + string(long[:100]) + `"`},
		},
		{
			name: "fragments over MaxMessageSize",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, long[:60]),
					client(t, ws.OpPing, true, nil),
					client(t, ws.OpContinuation, false, long[:40]),
					client(t, ws.OpContinuation, true, long[:1]),
				)
			},
			max:    100,
			events: []string{`ping ""`},
			code:   ws.StatusMessageTooBig,
		},
		{
			name: "control frames do not count toward the limit",
			input: func(t *testing.T) []byte {
				return concat(
					client(t, ws.OpText, false, long[:10]),
					client(t, ws.OpPing, true, long[:20]),
					client(t, ws.OpContinuation, true, long[:10]),
				)
			},
			max:    20,
			events: []string{`ping "` + string(long[:20]) + `"`, `message text "` + string(long[:20]) + `"`},
		},
	}
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		tests = append(tests, struct {
			name   string
			input  func(t *testing.T) []byte
			max    int
			events []string
			code   ws.StatusCode
		}{
			name:   fmt.Sprintf("close code %d is echoed", code),
			input:  func(t *testing.T) []byte { return client(t, ws.OpClose, true, closeBody(code, "r")) },
			events: []string{fmt.Sprintf(`close %d "r" reply=88 02 %02x %02x`, code, code>>8, code&0xff)},
		})
	}
	// Autobahn case 7.9 and codes that RFC 6455 section 7.4 leaves undefined.
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name   string
			input  func(t *testing.T) []byte
			max    int
			events []string
			code   ws.StatusCode
		}{
			name:  fmt.Sprintf("close code %d is invalid", code),
			input: func(t *testing.T) []byte { return client(t, ws.OpClose, true, closeBody(code, "")) },
			code:  ws.StatusProtocolError,
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input(t)
			for name, chunks := range splits(len(input)) {
				r := Reader{MaxMessageSize: tt.max}
				got := feed(t, &r, bytes.Clone(input), chunks)
				if strings.Join(got.events, "\n") != strings.Join(tt.events, "\n") {
					t.Errorf(
						"%s: events\n%s\nwant\n%s",
						name, strings.Join(got.events, "\n"), strings.Join(tt.events, "\n"),
					)
				}
				if got.code != tt.code {
					t.Errorf(
						"%s: close code %d, want %d",
						name, got.code, tt.code,
					)
				}
				if tt.code == 0 && got.left != 0 {
					t.Errorf(
						"%s: %d bytes left unconsumed",
						name, got.left,
					)
				}
				r.Reset()
			}
		})
	}
}

// A header that declares too long a message fails as soon as the header
// bytes are there, without waiting for the payload.
func TestReaderTooBigFailsOnHeader(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		before []byte // frames fed first, accepted
		header ws.Header
	}{
		{
			name:   "default limit",
			header: ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: DefaultMaxMessageSize + 1},
		},
		{
			name:   "16-bit length",
			max:    1000,
			header: ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Length: 1001},
		},
		{
			name:   "non-final first fragment",
			max:    1000,
			header: ws.Header{OpCode: ws.OpText, Masked: true, Length: 5000},
		},
		{
			name:   "continuation past the limit",
			max:    1000,
			before: client(t, ws.OpText, false, bytes.Repeat([]byte("a"), 600)),
			header: ws.Header{Fin: true, OpCode: ws.OpContinuation, Masked: true, Length: 401},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reader{MaxMessageSize: tt.max}
			defer r.Reset()
			if len(tt.before) > 0 {
				n, _, _, err := r.Next(tt.before)
				if n != len(tt.before) || err != nil {
					t.Fatalf(
						"first frame: n=%d err=%v",
						n, err,
					)
				}
			}
			header := raw(t, tt.header, nil)
			// Before the length bytes are all there: need more.
			for i := 0; i < len(header)-4; i++ {
				n, _, ok, err := r.Next(header[:i])
				if n != 0 || ok || err != nil {
					t.Fatalf(
						"%d header bytes: n=%d ok=%v err=%v, want need-more",
						i, n, ok, err,
					)
				}
			}
			// The length is known before the masking key arrives.
			_, _, _, err := r.Next(header[:len(header)-4])
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != ws.StatusMessageTooBig {
				t.Fatalf(
					"err = %v, want close code 1009",
					err,
				)
			}
		})
	}
}

func TestReaderFiftyFramesInOneBuffer(t *testing.T) {
	var input []byte
	var want []string
	for i := range 50 {
		payload := []byte(fmt.Sprintf(`{"requestId":"%d","pad":"%s"}`, i, strings.Repeat("z", i*7)))
		switch i % 5 {
		case 0:
			input = append(input, client(t, ws.OpPing, true, payload[:min(len(payload), 125)])...)
			want = append(want, fmt.Sprintf("ping %q", payload[:min(len(payload), 125)]))
		case 1:
			half := len(payload) / 2
			input = append(input, client(t, ws.OpText, false, payload[:half])...)
			input = append(input, client(t, ws.OpContinuation, true, payload[half:])...)
			want = append(want, fmt.Sprintf("message text %q", payload))
		default:
			input = append(input, client(t, ws.OpText, true, payload)...)
			want = append(want, fmt.Sprintf("message text %q", payload))
		}
	}
	var r Reader
	defer r.Reset()
	var got []string
	data := input
	for {
		n, ev, ok, err := r.Next(data)
		if err != nil {
			t.Fatalf(
				"after %d events: %v",
				len(got), err,
			)
		}
		if n == 0 {
			break
		}
		if ok {
			got = append(got, describe(ev))
		}
		data = data[n:]
	}
	if len(data) != 0 {
		t.Errorf(
			"%d bytes left",
			len(data),
		)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf(
			"got %d events\n%s\nwant %d\n%s",
			len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"),
		)
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	var r Reader
	bad := client(t, 3, true, nil)
	good := client(t, ws.OpText, true, []byte("ok"))
	_, _, _, err1 := r.Next(bad)
	n, _, ok, err2 := r.Next(good)
	if err1 == nil || err2 != err1 || n != 0 || ok {
		t.Fatalf(
			"after an error Next gave n=%d ok=%v err=%v, want the first error %v",
			n, ok, err2, err1,
		)
	}
	r.Reset()
	n, ev, ok, err := r.Next(good)
	if err != nil || !ok || n != len(good) || string(ev.Payload) != "ok" {
		t.Fatalf(
			"after Reset: n=%d ok=%v err=%v payload=%q",
			n, ok, err, ev.Payload,
		)
	}
}

func TestCloseErrorFrame(t *testing.T) {
	var r Reader
	_, _, _, err := r.Next(client(t, ws.OpText, true, []byte{0xff}))
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf(
			"err = %v, want *CloseError",
			err,
		)
	}
	f, perr := ws.ReadFrame(bytes.NewReader(ce.Frame()))
	if perr != nil {
		t.Fatalf(
			"close frame does not parse: %v",
			perr,
		)
	}
	code, reason := ws.ParseCloseFrameData(f.Payload)
	if f.Header.OpCode != ws.OpClose || f.Header.Masked || code != ws.StatusInvalidFramePayloadData || reason != ce.Reason {
		t.Errorf(
			"frame %+v code %d reason %q, want unmasked close 1007 %q",
			f.Header, code, reason, ce.Reason,
		)
	}
}

// Steady-state reading of an unfragmented frame allocates nothing.
func TestReaderNextAllocs(t *testing.T) {
	frame := client(t, ws.OpText, true, []byte(`{"controller":"server","action":"now","requestId":"r1"}`))
	ping := client(t, ws.OpPing, true, []byte("x"))
	work := make([]byte, len(frame)+len(ping))
	var r Reader
	allocs := testing.AllocsPerRun(1000, func() {
		copy(work, frame)
		copy(work[len(frame):], ping)
		data := work
		for len(data) > 0 {
			n, _, ok, err := r.Next(data)
			if err != nil || !ok || n == 0 {
				panic(fmt.Sprintf("n=%d ok=%v err=%v", n, ok, err))
			}
			data = data[n:]
		}
	})
	if allocs != 0 {
		t.Errorf(
			"Next allocates %v times per run, want 0",
			allocs,
		)
	}
}

// The reassembly buffer is held only while a fragmented message is in
// progress or its event is being handled, and is released on error and Reset.
func TestReaderReleasesBuffers(t *testing.T) {
	first := client(t, ws.OpText, false, []byte("frag"))
	last := client(t, ws.OpContinuation, true, []byte("ment"))
	single := client(t, ws.OpText, true, []byte("single"))
	bad := client(t, ws.OpText, true, []byte{0xff})

	var r Reader
	if r.Next(single); r.frag != nil || r.done != nil {
		t.Fatalf("an unfragmented message took a buffer")
	}
	if r.Next(first); r.frag == nil {
		t.Fatalf("no buffer while a message is in progress")
	}
	_, ev, ok, _ := r.Next(last)
	if !ok || string(ev.Payload) != "fragment" || r.frag != nil || r.done == nil {
		t.Fatalf(
			"after the last fragment: ok=%v payload=%q frag=%v done=%v",
			ok, ev.Payload, r.frag != nil, r.done != nil,
		)
	}
	if r.Next(nil); r.done != nil {
		t.Fatalf("the next call did not release the delivered buffer")
	}
	r.Next(first)
	r.Reset()
	if r.frag != nil || r.done != nil {
		t.Fatalf("Reset kept a buffer")
	}
	r.Next(first)
	if _, _, _, err := r.Next(bad); err == nil || r.frag != nil {
		t.Fatalf(
			"after error %v the buffer is still held",
			err,
		)
	}
}

// validPrefixOracle reports whether some bytes appended to p make it valid
// UTF-8, using only utf8.Valid: only the second byte of a sequence has a
// range narrower than 0x80-0xBF, so trying each continuation byte followed by
// 0x80s covers every completion.
func validPrefixOracle(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k < utf8.UTFMax; k++ {
		for c := 0x80; c <= 0xbf; c++ {
			q := append(bytes.Clone(p), byte(c))
			q = append(q, bytes.Repeat([]byte{0x80}, k-1)...)
			if utf8.Valid(q) {
				return true
			}
		}
	}
	return false
}

// firstInvalid returns the length of the shortest prefix of msg that cannot
// begin valid UTF-8, or -1 when every prefix can. A prefix of such a prefix
// can, so it is found by bisection.
func firstInvalid(msg []byte) int {
	if validPrefixOracle(msg) {
		return -1
	}
	lo, hi := 0, len(msg) // msg[:lo] can begin valid UTF-8, msg[:hi] cannot
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if validPrefixOracle(msg[:mid]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// Autobahn cases 6.4.3 and 6.4.4: one 21-byte text frame whose bytes
// 12-15 are U+110000 (above the last code point), sent in three chops. The
// connection fails as soon as the invalid bytes are there, not when the frame
// is complete, and the partial frame is neither consumed nor modified.
func TestReaderInvalidUTF8FailsBeforeFrameCompletes(t *testing.T) {
	payload := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64")
	whole := client(t, ws.OpText, true, payload)
	const header = 6 // 2 bytes, masking key
	// 0xf4 can begin a character; 0xf4 0x90 cannot (past U+10FFFF).
	failAt := header + 13
	var r Reader
	defer r.Reset()
	for i := 0; i < failAt; i++ {
		data := bytes.Clone(whole[:i])
		n, _, ok, err := r.Next(data)
		if n != 0 || ok || err != nil {
			t.Fatalf("%d bytes: n=%d ok=%v err=%v, want need-more", i, n, ok, err)
		}
		if !bytes.Equal(data, whole[:i]) {
			t.Fatalf("%d bytes: Next modified a partial frame", i)
		}
	}
	data := bytes.Clone(whole[:failAt])
	n, _, ok, err := r.Next(data)
	var ce *CloseError
	if n != 0 || ok || !errors.As(err, &ce) || ce.Code != ws.StatusInvalidFramePayloadData {
		t.Fatalf("%d bytes: n=%d ok=%v err=%v, want close code 1007", failAt, n, ok, err)
	}
	if !bytes.Equal(data, whole[:failAt]) {
		t.Fatalf("Next modified the partial frame it failed")
	}

	// The same bytes as a fragmented message whose continuation is partial:
	// the character begun in the first fragment fails with the next byte.
	r.Reset()
	first := client(t, ws.OpText, false, payload[:12]) // ends with 0xf4
	if n, _, _, err := r.Next(first); n != len(first) || err != nil {
		t.Fatalf("first fragment: n=%d err=%v", n, err)
	}
	cont := client(t, ws.OpContinuation, true, payload[12:])
	if n, _, _, err := r.Next(bytes.Clone(cont[:header])); n != 0 || err != nil {
		t.Fatalf("continuation header: n=%d err=%v", n, err)
	}
	if _, _, _, err := r.Next(bytes.Clone(cont[:header+1])); !errors.As(err, &ce) || ce.Code != ws.StatusInvalidFramePayloadData {
		t.Fatalf("continuation with 0x90: err=%v, want close code 1007", err)
	}
}

// Text of random valid and invalid pieces, in one frame or several, fed in
// random chunks as a server gets them: the Reader fails exactly when the
// bytes received first stop being the beginning of valid UTF-8 (or, for a
// message that ends inside a character, when it ends), and otherwise
// delivers the message unchanged.
func TestReaderUTF8CheckedAsItArrives(t *testing.T) {
	pieces := [][]byte{
		[]byte("a"), []byte("{\"k\":1}"), []byte("é"), []byte("€"), []byte("😀"), []byte("\U0010ffff"),
		bytes.Repeat([]byte("ü"), 300), bytes.Repeat([]byte("x"), 700), // past the 512-byte scratch
		{0xff}, {0x80}, {0xc0, 0xaf}, {0xe0, 0x80, 0xaf}, {0xed, 0xa0, 0x80}, {0xf4, 0x90}, {0xf0, 0x9f},
		{0xe2, 0x82}, {0xf5},
	}
	rng := rand.New(rand.NewPCG(6, 4))
	for iter := range 2000 {
		var msg []byte
		for range 1 + rng.IntN(8) {
			valid := 8 // the first 8 pieces are valid UTF-8
			if rng.IntN(4) == 0 {
				valid = len(pieces)
			}
			msg = append(msg, pieces[rng.IntN(valid)]...)
		}
		// Cut msg into fragments.
		var input []byte
		type span struct{ start, end, msgStart int } // payload bytes of a frame in input, and in msg
		var spans []span
		for start := 0; ; {
			size := len(msg) - start
			if rng.IntN(2) == 0 && size > 0 {
				size = rng.IntN(size + 1)
			}
			op := ws.OpContinuation
			if len(spans) == 0 {
				op = ws.OpText
			}
			fin := start+size == len(msg)
			f := client(t, op, fin, msg[start:start+size])
			spans = append(spans, span{len(input) + len(f) - size, len(input) + len(f), start})
			input = append(input, f...)
			start += size
			if fin {
				break
			}
		}
		received := func(pos int) int { // message bytes within input[:pos]
			got := 0
			for _, s := range spans {
				got = s.msgStart + max(0, min(pos, s.end)-s.start)
				if pos < s.end {
					break
				}
			}
			return got
		}
		// The input length at which the Reader must fail, or -1.
		want, failAt := firstInvalid(msg), -1
		var r Reader
		var pending []byte
		var steps []int // input length after each chunk
		failed := -1
	feed:
		for pos := 0; pos < len(input); {
			prev := pos
			pos += 1 + rng.IntN(min(len(input)-pos, 64))
			pending = append(pending, input[prev:pos]...)
			steps = append(steps, pos)
			for {
				n, ev, ok, err := r.Next(pending)
				if err != nil {
					failed = pos
					break feed
				}
				if ok && (ev.Kind != KindMessage || !bytes.Equal(ev.Payload, msg)) {
					t.Fatalf("case %d: event %s, want the message %q", iter, describe(ev), msg)
				}
				if n == 0 {
					break
				}
				pending = pending[n:]
			}
		}
		for _, pos := range steps {
			if want >= 0 && received(pos) >= want || want < 0 && !utf8.Valid(msg) && pos == len(input) {
				failAt = pos
				break
			}
		}
		if failed != failAt {
			t.Fatalf("case %d: text %q in %d frames failed after %d input bytes (%d text bytes), want after %d",
				iter, msg, len(spans), failed, received(max(failed, 0)), failAt)
		}
		r.Reset()
	}
}
