package cluster

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

// Messages between nodes are binary: a version byte, a kind byte, then fields in a fixed
// order, each string or byte field as a uvarint length and its bytes, each number as a
// (u)varint (encoding/binary). JSON fields (document, volatile, requestId, _id, filter)
// travel as the raw bytes the client sent or the node built, never re-encoded; the
// receiving node checks they are JSON before delivering them.
const wireVersion = 1

// Message kinds.
const (
	kindDocument  = 'D' // a publication: room.DocumentEvent
	kindUser      = 'U' // a user notification: room.UserEvent
	kindLookup    = 'L' // request on a room's subject: its definition
	kindRoomDef   = 'R' // reply to kindLookup: room.RoomInfo
	kindCount     = 'C' // scatter-gather request: a room's local count
	kindCounted   = 'c' // reply to kindCount
	kindList      = 'S' // scatter-gather request: local rooms
	kindListed    = 's' // reply to kindList, in chunks
	kindHeartbeat = 'H' // a node's heartbeat, or its goodbye
	kindPing      = 'P' // request on a node's subject: is this id taken?
	kindPong      = 'p' // reply to kindPing
	kindEvent     = 'E' // a cluster-wide event (Node.Broadcast)
)

var errMalformed = errors.New("cluster: malformed message")

// encoder appends fields to a buffer.
type encoder struct{ b []byte }

func (e *encoder) start(kind byte) { e.b = append(e.b[:0], wireVersion, kind) }
func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) raw(b []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(b)))
	e.b = append(e.b, b...)
}
func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

// encoders recycles encoders; one over maxKeptEncoder is dropped after use.
var encoders = sync.Pool{New: func() any { return &encoder{b: make([]byte, 0, 1024)} }}

const maxKeptEncoder = 64 << 10

func getEncoder(kind byte) *encoder {
	e := encoders.Get().(*encoder)
	e.start(kind)
	return e
}

func putEncoder(e *encoder) {
	if cap(e.b) <= maxKeptEncoder {
		encoders.Put(e)
	}
}

// decoder reads fields; the first error sticks and later reads return zero values.
// Byte fields alias the message.
type decoder struct {
	b   []byte
	bad bool
}

// open checks the header of msg and returns its kind, or 0 for a message of another
// version or too short.
func open(msg []byte) (byte, decoder) {
	if len(msg) < 2 || msg[0] != wireVersion {
		return 0, decoder{bad: true}
	}
	return msg[1], decoder{b: msg[2:]}
}

func (d *decoder) uint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.raw()) }

// json reads a raw field that must be empty or one JSON value.
func (d *decoder) json() []byte {
	v := d.raw()
	if len(v) > 0 && !gjson.ValidBytes(v) {
		d.bad = true
		return nil
	}
	return v
}

// end reports whether every read succeeded and nothing is left.
func (d *decoder) end() bool { return !d.bad && len(d.b) == 0 }

// encodeDocument encodes a publication.
func encodeDocument(e *encoder, d *room.DocumentEvent) {
	e.start(kindDocument)
	e.str(d.Node)
	e.str(d.Index)
	e.str(d.Collection)
	e.int(d.Timestamp)
	e.raw(d.ID)
	e.str(d.DocumentID)
	e.raw(d.RequestID)
	e.raw(d.Volatile)
	e.raw(d.Source)
}

// decodeDocument decodes the body of a kindDocument message into d (aliasing it).
func decodeDocument(dec *decoder, d *room.DocumentEvent) bool {
	d.Node = dec.str()
	d.Index = dec.str()
	d.Collection = dec.str()
	d.Timestamp = dec.int()
	d.ID = dec.json()
	d.DocumentID = dec.str()
	d.RequestID = dec.json()
	d.Volatile = dec.json()
	d.Source = dec.json()
	return dec.end() && len(d.Source) > 0
}

// encodeUser encodes a user notification.
func encodeUser(e *encoder, u *room.UserEvent) {
	e.start(kindUser)
	e.str(u.Node)
	e.str(u.RoomID)
	var flags uint64
	if u.In {
		flags = 1
	}
	e.uint(flags)
	e.uint(uint64(max(u.Count, 0)))
	e.int(u.Timestamp)
	e.str(u.Action)
	e.raw(u.Volatile)
}

// decodeUser decodes the body of a kindUser message into u (aliasing it).
func decodeUser(dec *decoder, u *room.UserEvent) bool {
	u.Node = dec.str()
	u.RoomID = dec.str()
	flags := dec.uint()
	u.In = flags&1 != 0
	count := dec.uint()
	u.Timestamp = dec.int()
	u.Action = dec.str()
	u.Volatile = dec.json()
	if count > 1<<40 {
		return false
	}
	u.Count = int(count)
	switch u.Action {
	case "subscribe", "join", "unsubscribe":
	default:
		return false
	}
	return dec.end()
}

// roomCount is one entry of a kindListed reply.
func encodeRoomCount(e *encoder, rc *room.RoomCount) {
	e.str(rc.RoomID)
	e.str(rc.Index)
	e.str(rc.Collection)
	e.uint(uint64(max(rc.Count, 0)))
}

func decodeRoomCount(dec *decoder) room.RoomCount {
	rc := room.RoomCount{RoomID: dec.str(), Index: dec.str(), Collection: dec.str()}
	n := dec.uint()
	if n > 1<<40 {
		dec.bad = true
	}
	rc.Count = int(n)
	return rc
}
