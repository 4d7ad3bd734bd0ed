package room_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room"
)

// roomID is replaced by <roomId> in the printed output: its value belongs to the
// filter engine (a hash of the normalized filter), not to this example.
var roomID string

func show(b []byte) string {
	if roomID == "" {
		return string(b)
	}
	return strings.ReplaceAll(string(b), roomID, "<roomId>")
}

// printer is a Subscriber that prints what it gets.
type printer struct{ name string }

func (p printer) Deliver(head, tail []byte) {
	fmt.Printf("%s <- %s\n", p.name, show(append(head[:len(head):len(head)], tail...)))
}

func ExampleEngine() {
	eng := room.NewEngine(room.Config{
		Node:  "knode-example-42",
		Clock: func() int64 { return 1795943744573 },
	})
	a := eng.Connect("conn-a", printer{"A"})
	b := eng.Connect("conn-b", printer{"B"})

	res, err := eng.Subscribe(a, "idx", "col", []byte(`{"equals":{"foo":"bar"}}`), room.Options{})
	roomID = res.RoomID
	fmt.Printf("subscribe: %s %s %v\n", show([]byte(res.RoomID)), show([]byte(res.Channel)), err)

	n := eng.Publish(&room.Publication{
		Index:      "idx",
		Collection: "col",
		Body:       []byte(`{"foo":"bar"}`),
		RequestID:  []byte(`"req-2"`),
	})
	fmt.Println("delivered to", n)

	err = eng.Unsubscribe(b, "nope")
	fmt.Println(errors.Is(err, kuzzle.ErrNotSubscribed), err)

	eng.Disconnect(a)
	eng.Disconnect(b)
	fmt.Println("rooms:", eng.Rooms())
	// Output:
	// subscribe: <roomId> <roomId>-311 <nil>
	// A <- {"type":"document","status":200,"action":"publish","scope":"in","result":{"_source":{"foo":"bar","_kuzzle_info":{"author":"-1","createdAt":1795943744573}}},"node":"knode-example-42","event":"publish","requestId":"req-2","timestamp":1795943744573,"volatile":null,"index":"idx","collection":"col","controller":"realtime","protocol":"websocket","room":"<roomId>-311"}
	// delivered to 1
	// true User "conn-b" has not subscribed to "nope".
	// rooms: 0
}
