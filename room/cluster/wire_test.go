package cluster

import (
	"reflect"
	"testing"

	"github.com/kuzzlews/kuzzlews/room"
)

func TestWireRoundTrip(t *testing.T) {
	d := room.DocumentEvent{Node: "knode-a", Index: "idx", Collection: "col", Source: []byte(`{"a":1}`), ID: []byte(`"x"`),
		DocumentID: "x", RequestID: []byte(`"r"`), Volatile: []byte(`{"v":true}`), Timestamp: -5}
	var e encoder
	encodeDocument(&e, &d)
	kind, dec := open(e.b)
	var got room.DocumentEvent
	if kind != kindDocument || !decodeDocument(&dec, &got) || !reflect.DeepEqual(got, d) {
		t.Errorf("document: %c %+v", kind, got)
	}
	u := room.UserEvent{Node: "knode-b", RoomID: "r1", In: true, Count: 7, Timestamp: 99, Volatile: []byte(`null`), Action: "join"}
	encodeUser(&e, &u)
	kind, dec = open(e.b)
	var gu room.UserEvent
	if kind != kindUser || !decodeUser(&dec, &gu) || !reflect.DeepEqual(gu, u) {
		t.Errorf("user: %c %+v", kind, gu)
	}
	// Every truncation of a valid message is rejected, never a panic.
	encodeDocument(&e, &d)
	for i := range len(e.b) {
		_, dec := open(e.b[:i])
		if decodeDocument(&dec, &got) {
			t.Errorf("a document cut at %d bytes decoded", i)
		}
	}
}

// FuzzWire feeds arbitrary bytes to every decoder: they must reject or decode, never
// panic nor read past the message.
func FuzzWire(f *testing.F) {
	var e encoder
	encodeDocument(&e, &room.DocumentEvent{Node: "n", Index: "i", Collection: "c", Source: []byte(`{}`)})
	f.Add(append([]byte(nil), e.b...))
	encodeUser(&e, &room.UserEvent{Node: "n", RoomID: "r", Action: "subscribe"})
	f.Add(append([]byte(nil), e.b...))
	f.Add([]byte{wireVersion, kindListed, 1, 'n', 1, 200, 1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, d := open(msg)
		var doc room.DocumentEvent
		decodeDocument(&d, &doc)
		_, d = open(msg)
		var u room.UserEvent
		decodeUser(&d, &u)
		_, d = open(msg)
		for range 4 {
			decodeRoomCount(&d)
		}
		_, d = open(msg)
		d.str()
		d.uint()
		d.int()
		d.json()
		d.end()
	})
}
