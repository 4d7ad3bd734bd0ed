package room_test

import (
	"fmt"
	"strings"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

// roomID is replaced by <roomId> in the printed output: its value belongs to the
// filter engine (spec section 7.2), not to this example.
var roomID string

func show(b []byte) string {
	if roomID == "" {
		return string(b)
	}
	return strings.ReplaceAll(string(b), roomID, "<roomId>")
}

// printer is a Subscriber that prints what it gets.
type printer struct{ name string }

func (p printer) Deliver(frame []byte) { fmt.Printf("%s <- %s\n", p.name, show(frame)) }

func ExampleEngine() {
	eng := room.NewEngine(room.Config{
		Node:  "knode-example-42",
		Clock: func() int64 { return 1795943744573 },
	})
	a := eng.Connect("conn-a", printer{"A"})
	b := eng.Connect("conn-b", printer{"B"})

	res, err := eng.Handle("subscribe", &room.Request{
		Conn:       a,
		Index:      []byte(`"idx"`),
		Collection: []byte(`"col"`),
		Body:       []byte(`{"equals":{"foo":"bar"}}`),
	})
	roomID = gjson.GetBytes(res, "roomId").Str
	fmt.Printf("subscribe: %s %v\n", show(res), err)

	res, err = eng.Handle("publish", &room.Request{
		Conn:       b,
		RequestID:  []byte(`"req-2"`),
		Index:      []byte(`"idx"`),
		Collection: []byte(`"col"`),
		Body:       []byte(`{"foo":"bar"}`),
	})
	fmt.Printf("publish: %s %v\n", res, err)

	_, err = eng.Handle("unsubscribe", &room.Request{Conn: b, Body: []byte(`{"roomId":"nope"}`)})
	fmt.Println(err.(*room.Error).ID, err)

	eng.Disconnect(a)
	eng.Disconnect(b)
	fmt.Println("rooms:", eng.Rooms())
	// Output:
	// subscribe: {"channel":"<roomId>-311","roomId":"<roomId>"} <nil>
	// A <- {"type":"document","status":200,"action":"publish","scope":"in","result":{"_source":{"foo":"bar","_kuzzle_info":{"author":"-1","createdAt":1795943744573}}},"node":"knode-example-42","event":"publish","requestId":"req-2","timestamp":1795943744573,"volatile":null,"index":"idx","collection":"col","controller":"realtime","protocol":"websocket","room":"<roomId>-311"}
	// publish: {"published":true} <nil>
	// core.realtime.not_subscribed User "conn-b" has not subscribed to "nope".
	// rooms: 0
}
