package frame

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Headroom is the number of bytes Seal needs in front of a payload to write
// the longest server frame header there: 2 bytes plus an 8-byte extended
// length (RFC 6455 section 5.2; server frames carry no masking key).
const Headroom = 10

// Seal frames the payload buf[Headroom:] in place as a single final frame
// (FIN set) with opcode op, unmasked, and returns the frame: the sub-slice of
// buf that starts where the header begins and ends with buf. The header uses
// the minimal length encoding (RFC 6455 section 5.2), so it starts at
// buf[Headroom-2], buf[Headroom-4] or buf[0].
//
// This lets the server encode a message once after Headroom reserved bytes
// and write the same frame to many connections. Seal writes only
// buf[:Headroom]; the payload is not copied. It panics if len(buf) < Headroom.
func Seal(buf []byte, op ws.OpCode) []byte { return SealHead(buf, op, 0) }

// SealHead is Seal for a frame whose payload is buf[Headroom:] followed by rest more
// bytes sent separately (a tail): the header declares len(buf)-Headroom+rest payload
// bytes, and the returned head is the header and buf[Headroom:]. head followed by the
// tail is then one complete frame, byte for byte what Seal makes of the whole payload,
// so one head can be shared by many tails of the same length. It writes only
// buf[:Headroom] and panics if len(buf) < Headroom or rest < 0.
func SealHead(buf []byte, op ws.OpCode, rest int) []byte {
	n := len(buf) - Headroom
	if n < 0 || rest < 0 {
		panic("frame: Seal: buffer shorter than Headroom or negative rest")
	}
	start := Headroom - headerSize(n+rest)
	putHeader(buf[start:Headroom], op, n+rest)
	return buf[start:]
}

// AppendText appends a final text frame carrying payload to dst and returns
// the extended slice. The payload is copied; it is not checked for UTF-8.
func AppendText(dst, payload []byte) []byte {
	return AppendFrame(dst, ws.OpText, payload)
}

// AppendFrame appends a final, unmasked frame with opcode op carrying payload
// to dst and returns the extended slice. The payload is copied. A control
// opcode with a payload over 125 bytes produces a frame the client will
// reject: keep control payloads short (Close and Pong do).
func AppendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	var h [Headroom]byte
	size := headerSize(len(payload))
	putHeader(h[:size], op, len(payload))
	dst = append(dst, h[:size]...)
	return append(dst, payload...)
}

// Close returns a close frame (RFC 6455 section 5.5.1) carrying code and
// reason. A code of 0 gives an empty body (no code, no reason). The reason is
// cut to the 123 bytes a control frame leaves for it, at a UTF-8 character
// boundary. Codes 1005, 1006 and 1015 must not be sent (section 7.4.1): Close
// sends an empty body for them instead.
func Close(code ws.StatusCode, reason string) []byte {
	if code == 0 || code.IsProtocolReserved() {
		return AppendFrame(make([]byte, 0, 2), ws.OpClose, nil)
	}
	reason = cutUTF8(reason, ws.MaxControlFramePayloadSize-2)
	body := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(body, uint16(code))
	body = append(body, reason...)
	return AppendFrame(make([]byte, 0, 2+len(body)), ws.OpClose, body)
}

// Pong returns a PONG frame carrying payload, the answer to a PING with that
// payload (RFC 6455 section 5.5.3). The payload is copied; more than 125 bytes
// (impossible for a ping the Reader accepted) are cut to 125.
func Pong(payload []byte) []byte {
	payload = payload[:min(len(payload), ws.MaxControlFramePayloadSize)]
	return AppendFrame(make([]byte, 0, 2+len(payload)), ws.OpPong, payload)
}

// headerSize returns the length of a server frame header for a payload of n
// bytes.
func headerSize(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 0xffff:
		return 4
	}
	return 10
}

// putHeader writes a FIN, unmasked header for opcode op and an n-byte payload
// into h, which is exactly headerSize(n) bytes long.
func putHeader(h []byte, op ws.OpCode, n int) {
	h[0] = 0x80 | byte(op&0x0f)
	switch len(h) {
	case 2:
		h[1] = byte(n)
	case 4:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
}

// cutUTF8 returns the longest prefix of s of at most max bytes that does not
// end in the middle of a UTF-8 character.
func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			break
		}
	}
	return s
}
