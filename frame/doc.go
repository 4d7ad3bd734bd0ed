// Package frame implements the server side of RFC 6455 (WebSocket) as pure,
// incremental parsers and encoders on top of github.com/gobwas/ws. It knows
// nothing of sockets, polling or goroutines.
//
// # Concurrency
//
// A Reader holds the state of one connection and is owned by one goroutine at
// a time (the worker serving that connection); it has no locks. Upgrade,
// Seal, AppendText, AppendFrame, Close and Pong are pure functions, safe for
// concurrent use; they only touch the slices given to them.
//
// # Model
//
// The server reads whatever bytes have arrived on a non-blocking socket into
// a per-connection buffer and hands that buffer to this package. Nothing here
// blocks or waits for bytes, and nothing keeps the caller's bytes: when a
// request or frame is incomplete, the parser consumes nothing and says so
// (Upgrade returns ErrIncomplete; Reader.Next returns n == 0), and the server
// calls again with the same bytes followed by the new ones.
//
//   - Upgrade checks the HTTP upgrade request (RFC 6455 section 4.2) once it
//     is complete and returns the bytes of the response: 101 Switching
//     Protocols, or an HTTP error to write before closing. Connection and
//     Upgrade are read as lists, on one line or several (RFC 7230 section 7);
//     Sec-WebSocket-Key must appear once (section 11.3.1). Any bytes after
//     the request are the client's first frames.
//   - Reader.Next parses one client frame (section 5): it checks the header
//     as soon as its bytes are there (mask, RSV bits, opcodes, control frame
//     rules, fragmentation order, message size before any allocation),
//     unmasks the payload in place, reassembles fragmented messages in a
//     pooled buffer, and validates text as UTF-8 (section 8.1) and close
//     frames (sections 5.5.1, 7.4). Text is checked as it arrives: invalid
//     UTF-8 fails as soon as its bytes are there, even when the frame that
//     carries them is incomplete (that frame is neither consumed nor
//     modified). A violation is a *CloseError whose Code (1002, 1007 or
//     1009) fails the connection (section 7.1.7).
//   - Seal frames a payload in place behind Headroom reserved bytes, so a
//     message encoded once is written unchanged to every subscriber.
//     AppendText, Close and Pong build frames by copying. Server frames are
//     never masked.
//
// # Ownership
//
// Next may modify the data it is given (unmasking complete frames) and
// returns events whose Payload aliases either that data or a pooled reassembly buffer; a Payload
// is valid until the next call to Next or Reset on the same Reader. The
// server owns its read buffer and must not reuse the consumed bytes while it
// still uses a Payload. Event.Reason, Event.Reply and every slice returned by
// Upgrade, Close, Pong and CloseError.Frame are fresh and owned by the
// caller. Seal returns a sub-slice of the buffer given to it.
package frame
