package frame

import "github.com/gobwas/ws"

// OpCode is a frame's opcode (RFC 6455 section 5.2), gobwas/ws's type, so that users of
// this package need not import gobwas/ws.
type OpCode = ws.OpCode

// Opcodes of data frames (RFC 6455 section 5.6) and the ping control frame (5.5.2).
const (
	OpText   = ws.OpText
	OpBinary = ws.OpBinary
	OpPing   = ws.OpPing
)

// StatusCode is a close code (RFC 6455 section 7.4), gobwas/ws's type.
type StatusCode = ws.StatusCode

// Close codes a server sends (RFC 6455 section 7.4.1).
const (
	StatusNormalClosure  = ws.StatusNormalClosure           // 1000
	StatusGoingAway      = ws.StatusGoingAway               // 1001: idle, shutting down
	StatusProtocolError  = ws.StatusProtocolError           // 1002
	StatusInvalidPayload = ws.StatusInvalidFramePayloadData // 1007: invalid UTF-8
	StatusMessageTooBig  = ws.StatusMessageTooBig           // 1009
	StatusInternalError  = ws.StatusInternalServerError     // 1011: slow client
)
