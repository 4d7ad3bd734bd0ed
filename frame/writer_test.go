package frame

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readServerFrame parses b with gobwas/ws as exactly one unmasked final frame.
func readServerFrame(t *testing.T, b []byte) ws.Frame {
	t.Helper()
	r := bytes.NewReader(b)
	f, err := ws.ReadFrame(r)
	if err != nil {
		t.Fatalf(
			"ws.ReadFrame(% x...): %v",
			b[:min(len(b), 16)], err,
		)
	}
	if r.Len() != 0 {
		t.Fatalf(
			"%d bytes after the frame",
			r.Len(),
		)
	}
	if !f.Header.Fin || f.Header.Masked || f.Header.Rsv != 0 {
		t.Fatalf(
			"header %+v, want FIN, unmasked, no RSV",
			f.Header,
		)
	}
	return f
}

func TestSeal(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		op         ws.OpCode
		headerSize int
	}{
		{
			name:       "empty",
			size:       0,
			op:         ws.OpText,
			headerSize: 2,
		},
		{
			name:       "1 byte",
			size:       1,
			op:         ws.OpText,
			headerSize: 2,
		},
		{
			name:       "125 bytes",
			size:       125,
			op:         ws.OpBinary,
			headerSize: 2,
		},
		{
			name:       "126 bytes",
			size:       126,
			op:         ws.OpText,
			headerSize: 4,
		},
		{
			name:       "65535 bytes",
			size:       65535,
			op:         ws.OpText,
			headerSize: 4,
		},
		{
			name:       "65536 bytes",
			size:       65536,
			op:         ws.OpText,
			headerSize: 10,
		},
		{
			name:       "1 MiB",
			size:       1 << 20,
			op:         ws.OpBinary,
			headerSize: 10,
		},
		{
			name:       "ping",
			size:       3,
			op:         ws.OpPing,
			headerSize: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("p"), tt.size)
			buf := append(bytes.Repeat([]byte{0xee}, Headroom), payload...)
			frame := Seal(buf, tt.op)
			if len(frame) != tt.headerSize+tt.size {
				t.Fatalf(
					"frame of %d bytes, want header %d + payload %d",
					len(frame), tt.headerSize, tt.size,
				)
			}
			if &frame[len(frame)-1] != &buf[len(buf)-1] {
				t.Fatalf("Seal did not return a sub-slice of buf")
			}
			if !bytes.Equal(buf[:Headroom-tt.headerSize], bytes.Repeat([]byte{0xee}, Headroom-tt.headerSize)) {
				t.Fatalf("Seal wrote before the header")
			}
			f := readServerFrame(t, frame)
			if f.Header.OpCode != tt.op || !bytes.Equal(f.Payload, payload) {
				t.Fatalf(
					"opcode %v, payload of %d bytes, want %v and %d",
					f.Header.OpCode, len(f.Payload), tt.op, tt.size,
				)
			}
		})
	}
}

func TestSealShortBufferPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatalf("Seal of a buffer shorter than Headroom did not panic")
		}
	}()
	Seal(make([]byte, Headroom-1), ws.OpText)
}

// TestSealHeadPlusTailIsSeal checks that a head sealed for a tail of k bytes, followed by
// that tail, is byte for byte the frame Seal makes of the whole payload, across the
// length encodings' boundaries (the tail may move the total over one).
func TestSealHeadPlusTailIsSeal(t *testing.T) {
	for _, size := range []int{1, 100, 125, 126, 127, 65535, 65536, 70000} {
		for _, k := range []int{0, 1, 2, 80} {
			if k > size {
				continue
			}
			payload := bytes.Repeat([]byte("x"), size)
			for i := range payload {
				payload[i] = byte('a' + i%26)
			}
			whole := Seal(append(make([]byte, Headroom), payload...), ws.OpText)
			head := SealHead(append(make([]byte, Headroom), payload[:size-k]...), ws.OpText, k)
			got := append(append([]byte{}, head...), payload[size-k:]...)
			if !bytes.Equal(got, whole) {
				t.Fatalf("size %d, tail %d: head+tail differs from Seal (header % x, want % x)",
					size, k, got[:min(len(got), 10)], whole[:min(len(whole), 10)])
			}
		}
	}
}

func TestSealHeadNegativeRestPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatalf("SealHead with a negative rest did not panic")
		}
	}()
	SealHead(make([]byte, Headroom+4), ws.OpText, -1)
}

func TestAppendText(t *testing.T) {
	for _, size := range []int{0, 125, 126, 70000} {
		payload := bytes.Repeat([]byte("é"), size)[:size]
		out := AppendText([]byte("prefix"), payload)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("AppendText lost dst")
		}
		f := readServerFrame(t, out[len("prefix"):])
		if f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, payload) {
			t.Fatalf(
				"size %d: opcode %v, payload of %d bytes",
				size, f.Header.OpCode, len(f.Payload),
			)
		}
	}
}

func TestClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name   string
		code   ws.StatusCode
		reason string
		body   []byte
	}{
		{
			name: "no code",
			code: 0,
			body: nil,
		},
		{
			name:   "normal closure with reason",
			code:   ws.StatusNormalClosure,
			reason: "bye",
			body:   []byte("\x03\xe8bye"),
		},
		{
			name: "protocol error",
			code: ws.StatusProtocolError,
			body: []byte("\x03\xea"),
		},
		{
			name:   "long reason cut at a character boundary",
			code:   ws.StatusPolicyViolation,
			reason: long,
			body:   append([]byte("\x03\xf0"), long[:122]...),
		},
		{
			name:   "1005 is never sent",
			code:   ws.StatusNoStatusRcvd,
			reason: "x",
			body:   nil,
		},
		{
			name: "1006 is never sent",
			code: ws.StatusAbnormalClosure,
			body: nil,
		},
		{
			name: "1015 is never sent",
			code: ws.StatusTLSHandshake,
			body: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readServerFrame(t, Close(tt.code, tt.reason))
			if f.Header.OpCode != ws.OpClose || !bytes.Equal(f.Payload, tt.body) {
				t.Fatalf(
					"opcode %v body %q, want close %q",
					f.Header.OpCode, f.Payload, tt.body,
				)
			}
			if len(f.Payload) > ws.MaxControlFramePayloadSize || !utf8.Valid(f.Payload[min(2, len(f.Payload)):]) {
				t.Fatalf(
					"body %q is not a valid close body",
					f.Payload,
				)
			}
		})
	}
}

func TestPong(t *testing.T) {
	for _, size := range []int{0, 5, 125, 200} {
		payload := bytes.Repeat([]byte("q"), size)
		f := readServerFrame(t, Pong(payload))
		want := payload[:min(size, 125)]
		if f.Header.OpCode != ws.OpPong || !bytes.Equal(f.Payload, want) {
			t.Fatalf(
				"size %d: opcode %v payload of %d bytes, want pong of %d",
				size, f.Header.OpCode, len(f.Payload), len(want),
			)
		}
	}
}

// Seal frames in place: no allocation.
func TestSealAllocs(t *testing.T) {
	buf := make([]byte, Headroom+300)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = Seal(buf, ws.OpText)
	})
	if allocs != 0 {
		t.Errorf(
			"Seal allocates %v times per run, want 0",
			allocs,
		)
	}
}
