package frame

import (
	"encoding/binary"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// DefaultMaxMessageSize is the message size limit used when
// Reader.MaxMessageSize is zero: Kuzzle's default server.maxRequestSize,
// 1 MiB (spec 3.6).
const DefaultMaxMessageSize = 1 << 20

// Kind says what an Event holds.
type Kind uint8

// Kinds of Event.
const (
	// KindMessage is a complete data message (text or binary), reassembled
	// when it came in fragments.
	KindMessage Kind = iota + 1
	// KindPing is a PING; answer it with Pong(ev.Payload).
	KindPing
	// KindPong is a PONG (unsolicited or answering a ping).
	KindPong
	// KindClose is a valid CLOSE; write ev.Reply, then close the connection
	// (RFC 6455 section 5.5.1). Bytes after it are not data (section 1.4).
	KindClose
)

// String returns the kind's name, for logs and test output.
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindPing:
		return "ping"
	case KindPong:
		return "pong"
	case KindClose:
		return "close"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing Reader.Next found in the client's bytes.
type Event struct {
	// Kind says which of the fields below are set.
	Kind Kind
	// OpCode is ws.OpText or ws.OpBinary for KindMessage (the opcode of the
	// first fragment), and the control opcode otherwise.
	OpCode ws.OpCode
	// Payload is the unmasked message or control payload. It aliases the
	// data given to Next (unfragmented frames) or a pooled reassembly buffer
	// (fragmented messages) and is only valid until the next call to Next or
	// Reset: copy what must outlive it. For KindClose it is the raw close
	// body (code and reason).
	Payload []byte
	// Code is the close status code of a KindClose event,
	// ws.StatusNoStatusRcvd (1005) when the close frame had no body.
	Code ws.StatusCode
	// Reason is the close reason of a KindClose event (valid UTF-8, may be
	// empty). It is a copy and does not alias data.
	Reason string
	// Reply is, for KindClose, the complete close frame the server must send
	// back (RFC 6455 section 5.5.1): the client's code echoed, or an empty
	// body when the client sent none. It is a fresh slice owned by the caller.
	Reply []byte
}

// CloseError is a protocol violation by the client. The server must fail the
// connection (RFC 6455 section 7.1.7): write Frame(), then close. Code is one
// of 1002 (protocol error), 1007 (invalid UTF-8) or 1009 (message too big),
// RFC 6455 section 7.4.1.
type CloseError struct {
	Code   ws.StatusCode
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	return "frame: " + strconv.Itoa(int(e.Code)) + ": " + e.Reason
}

// Frame returns the close frame that reports e to the client.
func (e *CloseError) Frame() []byte { return Close(e.Code, e.Reason) }

// Reader parses the client-to-server frames of one connection incrementally
// (RFC 6455 section 5), keeping only the state of a fragmented message in
// progress. The zero value is ready to use. A Reader is owned by one goroutine
// at a time.
type Reader struct {
	// MaxMessageSize is the largest message accepted, in bytes, after
	// reassembly of fragments. Zero or negative means DefaultMaxMessageSize
	// (1 MiB).
	// A larger message fails the connection with 1009 (RFC 6455 section
	// 7.4.1) as soon as a frame header declares a length that would exceed
	// it, before its payload arrives.
	MaxMessageSize int

	// frag is the reassembly buffer of a fragmented message in progress, or
	// nil. Its op is fragOp and its first utf8Done bytes are known to be
	// valid UTF-8 (text messages only).
	frag     *[]byte
	fragOp   ws.OpCode
	utf8Done int

	// part is the progress of the UTF-8 check of the incomplete text frame
	// that starts the data given to Next, identified by its declared length
	// and masking key: its first part.done payload bytes (after the
	// unchecked end of frag, for a continuation) are valid UTF-8 ending on a
	// character boundary.
	part partialFrame

	// done is a reassembly buffer handed out in the last Event, returned to
	// the pool by the next Next or Reset.
	done *[]byte

	// err is the violation already reported: Next keeps returning it.
	err *CloseError
}

// Largest reassembly buffer kept in the pool; larger ones are dropped so a
// single big message does not pin memory.
const maxPooledBuffer = 64 << 10

// partialFrame is the UTF-8 progress of an incomplete text frame.
type partialFrame struct {
	length int64   // declared payload length; 0 when no frame is tracked
	mask   [4]byte // masking key
	done   int     // payload bytes checked, ending on a character boundary
}

var fragPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Next parses at most one frame from the start of data, the bytes received
// and not yet consumed. It unmasks the payload in place (data is modified).
//
//   - n is the number of bytes consumed: 0 when data does not hold a whole
//     frame yet (call again once more bytes have arrived, with the same bytes
//     first), the frame length otherwise.
//   - ok is true when ev holds an event to handle. A non-final data fragment
//     is consumed (n > 0) with ok false.
//   - err is a *CloseError when the client broke the protocol: fail the
//     connection with err's Frame(). The check happens as soon as the
//     offending bytes are present; in particular a header declaring a message
//     longer than MaxMessageSize fails without waiting for the payload, and
//     text fails with 1007 once the payload bytes received can no longer
//     begin valid UTF-8, before its frame is complete (a character cut by the
//     end of the bytes received waits for the rest). After an error Next
//     returns the same error until Reset.
//
// Call Next in a loop until n is 0 to handle every frame that arrived. Next
// never allocates on a length the peer declared: reassembly buffers grow only
// by the payload bytes that arrived. While a frame is incomplete, each call
// checks the UTF-8 of only the payload bytes that arrived since the last one,
// so a frame trickling in is checked once in all; a frame that arrives whole
// is unmasked and checked in one pass each, as before.
func (r *Reader) Next(data []byte) (n int, ev Event, ok bool, err error) {
	if r.err != nil {
		return 0, ev, false, r.err
	}
	if r.done != nil {
		putBuffer(r.done)
		r.done = nil
	}
	n, ev, ok, cerr := r.next(data)
	if cerr != nil {
		r.err = cerr
		r.release()
		return 0, Event{}, false, cerr
	}
	return n, ev, ok, nil
}

func (r *Reader) next(data []byte) (n int, ev Event, ok bool, cerr *CloseError) {
	if len(data) < 2 {
		return 0, ev, false, nil
	}
	b0, b1 := data[0], data[1]
	fin := b0&0x80 != 0
	op := ws.OpCode(b0 & 0x0f)
	len7 := int64(b1 & 0x7f)

	// Everything the first two bytes tell is checked at once, by gobwas/ws:
	// reserved opcodes, RSV bits, the mask, control frames (FIN set, at most
	// 125 bytes: len7 is 126 or 127 for anything longer) and the order of
	// fragments (RFC 6455 sections 5.2, 5.4, 5.5). All are 1002.
	state := ws.StateServerSide
	if r.frag != nil {
		state = state.Set(ws.StateFragmented)
	}
	h := ws.Header{Fin: fin, Rsv: (b0 >> 4) & 0x07, OpCode: op, Masked: b1&0x80 != 0, Length: len7}
	if err := ws.CheckHeader(h, state); err != nil {
		return 0, ev, false, protocolError(err.Error())
	}

	hlen := 2
	length := len7
	switch len7 {
	case 126:
		hlen += 2
		if len(data) < hlen {
			return 0, ev, false, nil
		}
		length = int64(binary.BigEndian.Uint16(data[2:4]))
	case 127:
		hlen += 8
		if len(data) < hlen {
			return 0, ev, false, nil
		}
		u := binary.BigEndian.Uint64(data[2:10])
		if u>>63 != 0 {
			return 0, ev, false, protocolError("64-bit payload length with the most significant bit set")
		}
		length = int64(u)
	}
	if op.IsData() {
		limit := int64(r.maxMessageSize())
		have := int64(0)
		if r.frag != nil {
			have = int64(len(*r.frag))
		}
		if length > limit-have {
			return 0, ev, false, &CloseError{
				Code:   ws.StatusMessageTooBig,
				Reason: "message longer than " + strconv.FormatInt(limit, 10) + " bytes",
			}
		}
	}
	hlen += 4 // masking key
	if len(data) < hlen {
		return 0, ev, false, nil
	}
	var mask [4]byte
	copy(mask[:], data[hlen-4:hlen])
	text := op == ws.OpText || (op == ws.OpContinuation && r.fragOp == ws.OpText)
	if int64(len(data)-hlen) < length {
		if text {
			return 0, ev, false, r.checkPartial(data[hlen:], length, mask)
		}
		return 0, ev, false, nil
	}
	// Payload bytes an earlier call found valid while the frame was
	// incomplete: only the rest is checked below.
	checked := 0
	if r.part.length != 0 {
		if r.part.length == length && r.part.mask == mask {
			checked = r.part.done
		}
		r.part = partialFrame{}
	}
	n = hlen + int(length)
	payload := data[hlen:n]
	ws.Cipher(payload, mask, 0)

	switch op {
	case ws.OpPing:
		return n, Event{Kind: KindPing, OpCode: op, Payload: payload}, true, nil
	case ws.OpPong:
		return n, Event{Kind: KindPong, OpCode: op, Payload: payload}, true, nil
	case ws.OpClose:
		ev, cerr = closeEvent(payload)
		return n, ev, cerr == nil, cerr
	}

	if r.frag == nil && fin {
		// The common case: a whole message in one frame, no copy.
		if text && !utf8.Valid(payload[checked:]) {
			return 0, ev, false, invalidUTF8()
		}
		return n, Event{Kind: KindMessage, OpCode: op, Payload: payload}, true, nil
	}

	if r.frag == nil {
		r.frag = getBuffer()
		r.fragOp = op
		r.utf8Done = 0
	}
	if checked > 0 {
		// The unchecked end of frag and the first checked payload bytes
		// are whole characters.
		r.utf8Done = len(*r.frag) + checked
	}
	*r.frag = append(*r.frag, payload...)
	if text && !r.checkUTF8(fin) {
		return 0, ev, false, invalidUTF8()
	}
	if !fin {
		return n, ev, false, nil
	}
	ev = Event{Kind: KindMessage, OpCode: r.fragOp, Payload: *r.frag}
	r.done, r.frag = r.frag, nil
	return n, ev, true, nil
}

// checkUTF8 validates the reassembled text that arrived since the last call,
// so that invalid text fails on the fragment that brings it (RFC 6455 section
// 8.1). A message may end in the middle of a character only when it is not
// final.
func (r *Reader) checkUTF8(final bool) bool {
	p := (*r.frag)[r.utf8Done:]
	if final {
		return utf8.Valid(p)
	}
	end, ok := validPrefix(p)
	r.utf8Done += end
	return ok
}

// checkPartial validates the UTF-8 of the payload bytes of an incomplete text
// frame that have arrived (payload, still masked with mask; length is the
// declared length), so that text that can no longer be valid fails at once,
// not when the rest of its frame arrives (RFC 6455 section 8.1: "as soon as"
// an endpoint finds invalid UTF-8; Autobahn cases 6.4.x). The bytes are
// unmasked into a scratch buffer, never in place, because Next parses the
// frame again, whole, once the rest has arrived. Each call looks only at the
// bytes after those an earlier call found valid (r.part), so a frame arriving
// in many pieces is checked once in all, and the check when it completes
// starts where this one stopped.
func (r *Reader) checkPartial(payload []byte, length int64, mask [4]byte) *CloseError {
	if r.part.length != length || r.part.mask != mask {
		r.part = partialFrame{length: length, mask: mask}
	}
	// The incomplete character that ends the fragments before, if any: the
	// payload continues it.
	var tail []byte
	if r.frag != nil && r.part.done == 0 {
		tail = (*r.frag)[r.utf8Done:]
	}
	var scratch [512]byte
	for k := r.part.done; k < len(payload); {
		t := copy(scratch[:], tail)
		c := copy(scratch[t:], payload[k:])
		ws.Cipher(scratch[t:t+c], mask, k)
		end, ok := validPrefix(scratch[:t+c])
		if !ok {
			return invalidUTF8()
		}
		last := k+c == len(payload)
		if end > t {
			// At least one character completed: the tail is in it.
			k += end - t
			r.part.done = k
			tail = nil
		}
		if last {
			break
		}
	}
	return nil
}

// validPrefix reports whether p can begin valid UTF-8: it is valid, except
// that it may end with the first bytes of a character, which are not
// themselves invalid (utf8.FullRune reports an invalid sequence as complete).
// end is the length of its whole characters: len(p) minus those first bytes.
func validPrefix(p []byte) (end int, ok bool) {
	end = len(p)
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				end = i
			}
			break
		}
	}
	return end, utf8.Valid(p[:end])
}

// Reset returns pooled buffers and clears the state, including a reported
// error, so that the Reader can serve a new connection. Call it when the
// connection closes. Payloads from earlier events become invalid.
func (r *Reader) Reset() {
	r.release()
	r.err = nil
}

func (r *Reader) release() {
	if r.frag != nil {
		putBuffer(r.frag)
		r.frag = nil
	}
	if r.done != nil {
		putBuffer(r.done)
		r.done = nil
	}
	r.fragOp, r.utf8Done = 0, 0
	r.part = partialFrame{}
}

func (r *Reader) maxMessageSize() int {
	if r.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return r.MaxMessageSize
}

func getBuffer() *[]byte {
	b := fragPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	fragPool.Put(b)
}

// closeEvent checks a close frame body (RFC 6455 sections 5.5.1 and 7.4) and
// builds the event with the reply to send back.
func closeEvent(body []byte) (Event, *CloseError) {
	ev := Event{Kind: KindClose, OpCode: ws.OpClose, Payload: body}
	switch len(body) {
	case 0:
		ev.Code = ws.StatusNoStatusRcvd
		ev.Reply = Close(0, "")
		return ev, nil
	case 1:
		return ev, protocolError("close frame body of 1 byte")
	}
	code := ws.StatusCode(binary.BigEndian.Uint16(body))
	if !validCloseCode(code) {
		return ev, protocolError("invalid close code " + strconv.Itoa(int(code)))
	}
	if !utf8.Valid(body[2:]) {
		return ev, &CloseError{Code: ws.StatusInvalidFramePayloadData, Reason: "close reason is not valid UTF-8"}
	}
	ev.Code = code
	ev.Reason = string(body[2:])
	ev.Reply = Close(code, "")
	return ev, nil
}

// validCloseCode reports whether code may appear in a close frame: a code
// defined by RFC 6455 section 7.4.1 other than 1004, 1005, 1006 and 1015, or
// a registered (3000-3999) or private (4000-4999) code (section 7.4.2). The
// codes gobwas/ws accepts in 1000-2999 are those the Autobahn test suite
// expects (case 7.7 accepts, case 7.9 rejects); codes from 5000 up are not
// defined at all.
func validCloseCode(code ws.StatusCode) bool {
	if code >= 5000 {
		return false
	}
	return ws.CheckCloseFrameData(code, "") == nil
}

func protocolError(reason string) *CloseError {
	return &CloseError{Code: ws.StatusProtocolError, Reason: reason}
}

func invalidUTF8() *CloseError {
	return &CloseError{Code: ws.StatusInvalidFramePayloadData, Reason: "text message is not valid UTF-8"}
}
