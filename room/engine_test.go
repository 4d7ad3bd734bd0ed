package room

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

const sub = `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}}`

func TestSubscribeChannels(t *testing.T) {
	tests := []struct {
		name   string
		opts   string
		suffix string
	}{
		{name: "defaults", opts: ``, suffix: "-311"},
		{name: "users all", opts: `,"users":"all"`, suffix: "-111"},
		{name: "users in", opts: `,"users":"in"`, suffix: "-211"},
		{name: "users out (distinct from none)", opts: `,"users":"out"`, suffix: "-411"},
		{name: "users none", opts: `,"users":"none"`, suffix: "-311"},
		{name: "scope all", opts: `,"scope":"all"`, suffix: "-311"},
		{name: "scope in", opts: `,"scope":"in"`, suffix: "-312"},
		{name: "scope out", opts: `,"scope":"out"`, suffix: "-313"},
		{name: "scope none", opts: `,"scope":"none"`, suffix: "-31"},
		{name: "users all scope in", opts: `,"users":"all","scope":"in"`, suffix: "-112"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, Config{})
			c := e.Connect("c1", &fakeSub{})
			res := do(t, e, "subscribe", req(t, c, sub+tt.opts+`}`))
			roomID := gjson.Get(res, "roomId").Str
			n, err := e.filters.Normalize("idx/col", []byte(`{"equals":{"foo":"bar"}}`))
			if err != nil {
				t.Fatal(err)
			}
			if roomID != n.ID {
				t.Errorf("roomId %q, want the filter id %q", roomID, n.ID)
			}
			want := `{"channel":"` + roomID + tt.suffix + `","roomId":"` + roomID + `"}`
			if res != want {
				t.Errorf("result %s, want %s", res, want)
			}
		})
	}
}

func TestSubscribeErrors(t *testing.T) {
	tests := []struct {
		name     string
		envelope string
		id       string
		status   int
		message  string
	}{
		{name: "no index", envelope: `{"collection":"col","body":{}}`,
			id: "api.assert.missing_argument", status: 400, message: `Missing argument "index".`},
		{name: "empty index", envelope: `{"index":"","collection":"col","body":{}}`,
			id: "api.assert.missing_argument", status: 400, message: `Missing argument "index".`},
		{name: "null index", envelope: `{"index":null,"collection":"col","body":{}}`,
			id: "api.assert.missing_argument", status: 400, message: `Missing argument "index".`},
		{name: "number index", envelope: `{"index":5,"collection":"col","body":{}}`,
			id: "api.assert.invalid_type", status: 400, message: `Wrong type for argument "index" (expected: string)`},
		{name: "index name with a slash", envelope: `{"index":"a/b","collection":"c","body":{}}`,
			id: "services.storage.invalid_index_name", status: 400, message: `The index name "a/b" is invalid`},
		{name: "collection name with a slash", envelope: `{"index":"a","collection":"b/c","body":{}}`,
			id: "services.storage.invalid_collection_name", status: 400, message: `The collection name "b/c" is invalid`},
		{name: "no collection", envelope: `{"index":"idx","body":{}}`,
			id: "api.assert.missing_argument", status: 400, message: `Missing argument "collection".`},
		{name: "index checked before body", envelope: `{"collection":"col"}`,
			id: "api.assert.missing_argument", status: 400, message: `Missing argument "index".`},
		{name: "no body", envelope: `{"index":"idx","collection":"col"}`,
			id: "api.assert.body_required", status: 400, message: `The request must specify a body.`},
		{name: "null body", envelope: `{"index":"idx","collection":"col","body":null}`,
			id: "api.assert.body_required", status: 400, message: `The request must specify a body.`},
		{name: "bad filter", envelope: `{"index":"idx","collection":"col","body":{"term":{"foo":"bar"}}}`,
			id: "api.assert.koncorde_dsl_error", status: 400, message: `"term": unknown keyword`},
		{name: "filter checked before scope", envelope: `{"index":"idx","collection":"col","body":{"term":{}},"scope":"x"}`,
			id: "api.assert.koncorde_dsl_error", status: 400, message: `"term": unknown keyword`},
		{name: "bad scope", envelope: `{"index":"idx","collection":"col","body":{},"scope":"bogus"}`,
			id: "core.realtime.invalid_scope", status: 400,
			message: `Invalid value for the "scope" parameter (allowed: "all", "in", "out", "none").`},
		{name: "null scope", envelope: `{"index":"idx","collection":"col","body":{},"scope":null}`,
			id: "core.realtime.invalid_scope", status: 400,
			message: `Invalid value for the "scope" parameter (allowed: "all", "in", "out", "none").`},
		{name: "bad users", envelope: `{"index":"idx","collection":"col","body":{},"users":1}`,
			id: "core.realtime.invalid_users", status: 400,
			message: `Invalid value for the "users" parameter (allowed: "all", "in", "out", "none").`},
		{name: "null users", envelope: `{"index":"idx","collection":"col","body":{},"users":null}`,
			id: "core.realtime.invalid_users", status: 400,
			message: `Invalid value for the "users" parameter (allowed: "all", "in", "out", "none").`},
		{name: "scope checked before users", envelope: `{"index":"idx","collection":"col","body":{},"users":"x","scope":"y"}`,
			id: "core.realtime.invalid_scope", status: 400,
			message: `Invalid value for the "scope" parameter (allowed: "all", "in", "out", "none").`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, Config{})
			c := e.Connect("c1", &fakeSub{})
			ke := doErr(t, e, "subscribe", req(t, c, tt.envelope))
			if ke.ID != tt.id || ke.Status != tt.status || ke.Message != tt.message {
				t.Errorf("got %s %d %q, want %s %d %q", ke.ID, ke.Status, ke.Message, tt.id, tt.status, tt.message)
			}
			if e.Rooms() != 0 {
				t.Errorf("a failed subscribe left %d rooms", e.Rooms())
			}
		})
	}
}

func TestTooManyRooms(t *testing.T) {
	e := newTestEngine(t, Config{MaxRooms: 1})
	c := e.Connect("c1", &fakeSub{})
	roomID, _ := subscribe(t, e, c, `{"index":"idx","collection":"col","body":{}}`)

	ke := doErr(t, e, "subscribe", req(t, c, `{"index":"idx","collection":"other","body":{}}`))
	if ke.ID != "core.realtime.too_many_rooms" || ke.Status != 413 ||
		ke.Message != "Unable to subscribe: maximum number of unique rooms reached." {
		t.Errorf("new room over the limit: got %s %d %q", ke.ID, ke.Status, ke.Message)
	}
	// Kuzzle checks the room limit before the scope.
	ke = doErr(t, e, "subscribe", req(t, c, `{"index":"idx","collection":"other","body":{},"scope":"x"}`))
	if ke.ID != "core.realtime.too_many_rooms" {
		t.Errorf("new room over the limit with a bad scope: got %s", ke.ID)
	}
	// The existing room is still open, and a bad scope on it is invalid_scope.
	if _, ch := subscribe(t, e, c, `{"index":"idx","collection":"col","body":{},"users":"all"}`); ch != roomID+"-111" {
		t.Errorf("channel %s", ch)
	}
	ke = doErr(t, e, "subscribe", req(t, c, `{"index":"idx","collection":"col","body":{},"scope":"x"}`))
	if ke.ID != "core.realtime.invalid_scope" {
		t.Errorf("existing room with a bad scope: got %s", ke.ID)
	}
	// Once the room is gone, another one fits.
	do(t, e, "unsubscribe", req(t, c, `{"body":{"roomId":"`+roomID+`"}}`))
	subscribe(t, e, c, `{"index":"idx","collection":"other","body":{}}`)
	if e.Rooms() != 1 {
		t.Errorf("rooms = %d, want 1", e.Rooms())
	}
}

func TestUserNotifications(t *testing.T) {
	e := newTestEngine(t, Config{})
	sa, sb := &fakeSub{}, &fakeSub{}
	a, b := e.Connect("conn-a", sa), e.Connect("conn-b", sb)

	roomID, chA := subscribe(t, e, a, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"all","volatile":{"who":"A"}}`)
	_, chA2 := subscribe(t, e, a, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}}}`)
	equalFrames(t, "A after its own subscriptions", sa.take(t), nil)

	_, chB := subscribe(t, e, b, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"all","volatile":{"who":"B"},"timestamp":1795943744470}`)
	if chA != roomID+"-111" || chA2 != roomID+"-311" || chB != chA {
		t.Fatalf("channels %s %s %s", chA, chA2, chB)
	}
	equalFrames(t, "A after B joined", sa.take(t), expand([]string{
		`{"type":"user","status":200,"user":"in","result":{"count":2},"node":"knode-example-42","timestamp":1795943744470,"volatile":{"who":"B"},"index":"idx","collection":"col","controller":"realtime","action":"subscribe","protocol":"websocket","room":"«R»-111"}`,
	}, roomID))
	equalFrames(t, "B (the joiner)", sb.take(t), nil)

	// A second subscription of B to the same room: no notification, volatile kept.
	subscribe(t, e, b, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"in","volatile":{"who":"B2"}}`)
	equalFrames(t, "A after B's second subscription", sa.take(t), nil)
	if got := do(t, e, "count", req(t, a, `{"body":{"roomId":"`+roomID+`"}}`)); got != `{"count":2}` {
		t.Errorf("count = %s", got)
	}

	res := do(t, e, "unsubscribe", req(t, b, `{"body":{"roomId":"`+roomID+`"},"volatile":{"ignored":true}}`))
	if res != `{"roomId":"`+roomID+`"}` {
		t.Errorf("unsubscribe result %s", res)
	}
	equalFrames(t, "A after B left", sa.take(t), expand([]string{
		`{"type":"user","status":200,"user":"out","result":{"count":1},"node":"knode-example-42","timestamp":1795943744573,"volatile":{"who":"B"},"index":"idx","collection":"col","controller":"realtime","action":"unsubscribe","protocol":null,"room":"«R»-111"}`,
	}, roomID))
	equalFrames(t, "B (the leaver)", sb.take(t), nil)

	// Only users all/in channels get "in", only all/out get "out".
	c := e.Connect("conn-c", &fakeSub{})
	so := &fakeSub{}
	o := e.Connect("conn-o", so)
	subscribe(t, e, o, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"out"}`)
	sa.take(t)
	subscribe(t, e, c, `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}}}`)
	if got := len(sa.take(t)); got != 1 {
		t.Errorf("A (users all) got %d in-notifications for C, want 1", got)
	}
	equalFrames(t, "O (users out) after C joined", so.take(t), nil)
	e.Disconnect(c)
	equalFrames(t, "O after C disconnected", so.take(t), expand([]string{
		`{"type":"user","status":200,"user":"out","result":{"count":2},"node":"knode-example-42","timestamp":1795943744573,"volatile":null,"index":"idx","collection":"col","controller":"realtime","action":"unsubscribe","protocol":null,"room":"«R»-411"}`,
	}, roomID))
	if got := len(sa.take(t)); got != 1 {
		t.Errorf("A (users all) got %d out-notifications for C, want 1", got)
	}
}

func TestPublish(t *testing.T) {
	e := newTestEngine(t, Config{})
	sa, sb, sc := &fakeSub{}, &fakeSub{}, &fakeSub{}
	a, b, c := e.Connect("conn-a", sa), e.Connect("conn-b", sb), e.Connect("conn-c", sc)
	roomID, _ := subscribe(t, e, a, sub+`}`)
	subscribe(t, e, a, sub+`,"users":"all"}`)
	subscribe(t, e, b, sub+`,"users":"all"}`)
	subscribe(t, e, c, sub+`,"scope":"out"}`)
	subscribe(t, e, c, sub+`,"scope":"none"}`)
	subscribe(t, e, c, `{"index":"idx","collection":"col","body":{"equals":{"foo":"baz"}}}`)
	sa.take(t)
	sb.take(t)

	vol := `{"sdkInstanceId":"1281d8bd-9f3f-495f-820e-b8d447229129","sdkName":"js@7.17.1-beta.1"}`
	res := do(t, e, "publish", req(t, b, `{"body":{"foo":"bar","n":1},"collection":"col","index":"idx","requestId":"ce8d9320-5a87-4068-8bc6-76eaec44779b","volatile":`+vol+`}`))
	if res != `{"published":true}` {
		t.Errorf("publish result %s", res)
	}
	doc := `{"type":"document","status":200,"action":"publish","scope":"in","result":{"_source":{"foo":"bar","n":1,"_kuzzle_info":{"author":"-1","createdAt":1795943744573}}},"node":"knode-example-42","event":"publish","requestId":"ce8d9320-5a87-4068-8bc6-76eaec44779b","timestamp":1795943744573,"volatile":` + vol + `,"index":"idx","collection":"col","controller":"realtime","protocol":"websocket","room":"«R»-%s"}`
	got := sa.take(t)
	equalFrames(t, "A (two channels)", got, expand([]string{
		strings.Replace(doc, "%s", "311", 1),
		strings.Replace(doc, "%s", "111", 1),
	}, roomID))
	equalFrames(t, "B (publisher, subscribed)", sb.take(t), expand([]string{strings.Replace(doc, "%s", "111", 1)}, roomID))
	equalFrames(t, "C (scope out/none, other filter)", sc.take(t), nil)

	// _id, request timestamp, existing _kuzzle_info replaced in place.
	do(t, e, "publish", req(t, b, `{"_id":"my-id","body":{"_kuzzle_info":{"x":1},"foo":"bar"},"collection":"col","index":"idx","requestId":"r2","timestamp":42}`))
	equalFrames(t, "B with _id", sb.take(t), expand([]string{
		`{"type":"document","status":200,"action":"publish","scope":"in","result":{"_id":"my-id","_source":{"_kuzzle_info":{"author":"-1","createdAt":1795943744573},"foo":"bar"}},"node":"knode-example-42","event":"publish","requestId":"r2","timestamp":42,"volatile":null,"index":"idx","collection":"col","controller":"realtime","protocol":"websocket","room":"«R»-111"}`,
	}, roomID))
	if n := len(sa.take(t)); n != 2 {
		t.Errorf("A got %d notifications with _id, want 2", n)
	}

	// The filter sees _id.
	do(t, e, "publish", req(t, b, `{"_id":"bar","body":{"x":1},"collection":"col","index":"idx","requestId":"r3"}`))
	equalFrames(t, "B, document without foo", sb.take(t), nil)
	d := e.Connect("conn-d", &fakeSub{})
	sd := d.sub.(*fakeSub)
	subscribe(t, e, d, `{"index":"idx","collection":"col","body":{"equals":{"_id":"bar"}}}`)
	do(t, e, "publish", req(t, b, `{"_id":"bar","body":{"x":1},"collection":"col","index":"idx","requestId":"r4"}`))
	if n := len(sd.take(t)); n != 1 {
		t.Errorf("D (filter on _id) got %d notifications, want 1", n)
	}

	// Other collection: nothing.
	do(t, e, "publish", req(t, b, `{"body":{"foo":"bar"},"collection":"other","index":"idx"}`))
	equalFrames(t, "A, other collection", sa.take(t), nil)
}

func TestPublishErrors(t *testing.T) {
	tests := []struct {
		name     string
		envelope string
		id       string
		message  string
	}{
		{name: "no body (checked before index)", envelope: `{"collection":"col"}`,
			id: "api.assert.body_required", message: `The request must specify a body.`},
		{name: "null body", envelope: `{"index":"idx","collection":"col","body":null}`,
			id: "api.assert.body_required", message: `The request must specify a body.`},
		{name: "no index", envelope: `{"collection":"col","body":{}}`,
			id: "api.assert.missing_argument", message: `Missing argument "index".`},
		{name: "no collection", envelope: `{"index":"idx","body":{}}`,
			id: "api.assert.missing_argument", message: `Missing argument "collection".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, Config{})
			ke := doErr(t, e, "publish", req(t, e.Connect("c", &fakeSub{}), tt.envelope))
			if ke.ID != tt.id || ke.Message != tt.message || ke.Status != 400 {
				t.Errorf("got %s %d %q, want %s 400 %q", ke.ID, ke.Status, ke.Message, tt.id, tt.message)
			}
		})
	}
}

func TestRoomIDArgumentErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		id      string
		message string
	}{
		{name: "no body", body: ``, id: "api.assert.body_required", message: `The request must specify a body.`},
		{name: "null body", body: `,"body":null`, id: "api.assert.body_required", message: `The request must specify a body.`},
		{name: "no roomId", body: `,"body":{}`, id: "api.assert.missing_argument", message: `Missing argument "body.roomId".`},
		{name: "array body", body: `,"body":[1]`, id: "api.assert.missing_argument", message: `Missing argument "body.roomId".`},
		{name: "number roomId", body: `,"body":{"roomId":5}`, id: "api.assert.invalid_type", message: `Wrong type for argument "body.roomId" (expected: string)`},
		{name: "null roomId", body: `,"body":{"roomId":null}`, id: "api.assert.invalid_type", message: `Wrong type for argument "body.roomId" (expected: string)`},
	}
	for _, action := range []string{"join", "unsubscribe", "count"} {
		for _, tt := range tests {
			t.Run(action+"/"+tt.name, func(t *testing.T) {
				e := newTestEngine(t, Config{})
				ke := doErr(t, e, action, req(t, e.Connect("c", &fakeSub{}), `{"controller":"realtime"`+tt.body+`}`))
				if ke.ID != tt.id || ke.Message != tt.message || ke.Status != 400 {
					t.Errorf("got %s %d %q, want %s 400 %q", ke.ID, ke.Status, ke.Message, tt.id, tt.message)
				}
			})
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	e := newTestEngine(t, Config{})
	a, b := e.Connect("9b29879b-7f0f-4281-80be-d3c0bda24f27", &fakeSub{}), e.Connect("conn-b", &fakeSub{})

	ke := doErr(t, e, "unsubscribe", req(t, a, `{"body":{"roomId":"nope"}}`))
	if ke.ID != "core.realtime.not_subscribed" || ke.Status != 412 || ke.Code != 65544 ||
		ke.Message != `User "9b29879b-7f0f-4281-80be-d3c0bda24f27" has not subscribed to "nope".` ||
		strings.Join(ke.Props, ",") != "9b29879b-7f0f-4281-80be-d3c0bda24f27,nope" {
		t.Errorf("unknown room: %+v", ke)
	}

	roomID, _ := subscribe(t, e, b, sub+`}`)
	ke = doErr(t, e, "unsubscribe", req(t, a, `{"body":{"roomId":"`+roomID+`"}}`))
	if ke.ID != "core.realtime.not_subscribed" {
		t.Errorf("room of another connection: %s", ke.ID)
	}
	do(t, e, "unsubscribe", req(t, b, `{"body":{"roomId":"`+roomID+`"}}`))
	if e.Rooms() != 0 {
		t.Errorf("rooms = %d after the last member left", e.Rooms())
	}
	if got := do(t, e, "count", req(t, a, `{"body":{"roomId":"`+roomID+`"}}`)); got != `{"count":0}` {
		t.Errorf("count of a deleted room = %s", got)
	}
	if got := do(t, e, "list", req(t, a, `{}`)); got != `{}` {
		t.Errorf("list = %s", got)
	}
	ke = doErr(t, e, "unsubscribe", req(t, b, `{"body":{"roomId":"`+roomID+`"}}`))
	if ke.ID != "core.realtime.not_subscribed" {
		t.Errorf("second unsubscribe: %s", ke.ID)
	}
	// The filter was removed with the room: publishing matches nothing.
	if ids := e.filters.Test("idx/col", []byte(`{"foo":"bar"}`), "", nil); len(ids) != 0 {
		t.Errorf("filter still stored: %v", ids)
	}
}

func TestJoin(t *testing.T) {
	e := newTestEngine(t, Config{})
	sa := &fakeSub{}
	a, b := e.Connect("conn-a", sa), e.Connect("conn-b", &fakeSub{})

	ke := doErr(t, e, "join", req(t, b, `{"body":{"roomId":"nope"}}`))
	if ke.ID != "core.realtime.room_not_found" || ke.Status != 404 || ke.Message != `The room "nope" doesn't exist` {
		t.Errorf("unknown room: %+v", ke)
	}
	roomID, _ := subscribe(t, e, a, sub+`,"users":"all"}`)
	ke = doErr(t, e, "join", req(t, b, `{"body":{"roomId":"`+roomID+`"},"users":"x"}`))
	if ke.ID != "core.realtime.invalid_users" {
		t.Errorf("bad users: %s", ke.ID)
	}
	res := do(t, e, "join", req(t, b, `{"body":{"roomId":"`+roomID+`"},"scope":"in","volatile":{"j":1},"timestamp":7}`))
	if res != `{"channel":"`+roomID+`-312","roomId":"`+roomID+`"}` {
		t.Errorf("join result %s", res)
	}
	equalFrames(t, "A after B joined", sa.take(t), expand([]string{
		`{"type":"user","status":200,"user":"in","result":{"count":2},"node":"knode-example-42","timestamp":7,"volatile":{"j":1},"index":"idx","collection":"col","controller":"realtime","action":"join","protocol":"websocket","room":"«R»-111"}`,
	}, roomID))
}

func TestCountAndList(t *testing.T) {
	e := newTestEngine(t, Config{})
	a, b := e.Connect("a", &fakeSub{}), e.Connect("b", &fakeSub{})
	r1, _ := subscribe(t, e, a, sub+`}`)
	subscribe(t, e, a, sub+`,"users":"all"}`)
	subscribe(t, e, b, sub+`}`)
	r2, _ := subscribe(t, e, b, `{"index":"idx","collection":"a.b","body":{}}`)
	r3, _ := subscribe(t, e, b, `{"index":"i\"x","collection":"col","body":{}}`)

	if got := do(t, e, "count", req(t, a, `{"body":{"roomId":"`+r1+`"}}`)); got != `{"count":2}` {
		t.Errorf("count = %s", got)
	}
	want := `{"i\"x":{"col":{"` + r3 + `":1}},"idx":{"a.b":{"` + r2 + `":1},"col":{"` + r1 + `":2}}}`
	if got := do(t, e, "list", req(t, nil, `{}`)); got != want {
		t.Errorf("list:\ngot  %s\nwant %s", got, want)
	}
}

func TestDisconnect(t *testing.T) {
	e := newTestEngine(t, Config{})
	sa := &fakeSub{}
	a, b := e.Connect("a", sa), e.Connect("b", &fakeSub{})
	r1, _ := subscribe(t, e, a, sub+`,"users":"all"}`)
	subscribe(t, e, b, sub+`,"volatile":{"who":"B"}}`)
	subscribe(t, e, b, `{"index":"idx","collection":"col","body":{}}`)
	sa.take(t)
	if e.Rooms() != 2 {
		t.Fatalf("rooms = %d", e.Rooms())
	}

	e.Disconnect(b)
	equalFrames(t, "A after B disconnected", sa.take(t), expand([]string{
		`{"type":"user","status":200,"user":"out","result":{"count":1},"node":"knode-example-42","timestamp":1795943744573,"volatile":{"who":"B"},"index":"idx","collection":"col","controller":"realtime","action":"unsubscribe","protocol":null,"room":"«R»-111"}`,
	}, r1))
	if e.Rooms() != 1 {
		t.Errorf("rooms = %d after B left, want 1", e.Rooms())
	}
	e.Disconnect(b) // no-op

	// A closed connection cannot subscribe again (the request raced with the close).
	if res, err := handle(e, "subscribe", req(t, b, sub+`}`)); !errors.Is(err, ErrDisconnected) {
		t.Errorf("subscribe after disconnect: %s %v, want ErrDisconnected", res, err)
	}
	if res, err := handle(e, "subscribe", req(t, b, `{"index":"new","collection":"col","body":{}}`)); !errors.Is(err, ErrDisconnected) || e.Rooms() != 1 {
		t.Errorf("subscribe to a new room after disconnect: %s %v, rooms %d", res, err, e.Rooms())
	}
	e.Disconnect(a)
	if e.Rooms() != 0 {
		t.Errorf("rooms = %d after everyone left", e.Rooms())
	}
}

func TestUserNotificationDispatchByUsersOption(t *testing.T) {
	tests := []struct {
		users string
		want  []string // "user" values received, in order
	}{
		{users: `"all"`, want: []string{"in", "out"}},
		{users: `"in"`, want: []string{"in"}},
		{users: `"out"`, want: []string{"out"}},
		{users: `"none"`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.users, func(t *testing.T) {
			e := newTestEngine(t, Config{})
			w := &fakeSub{}
			subscribe(t, e, e.Connect("watcher", w), `{"index":"idx","collection":"col","body":{},"users":`+tt.users+`}`)
			other := e.Connect("other", &fakeSub{})
			roomID, _ := subscribe(t, e, other, `{"index":"idx","collection":"col","body":{}}`)
			do(t, e, "unsubscribe", req(t, other, `{"body":{"roomId":"`+roomID+`"}}`))
			var got []string
			for _, f := range w.take(t) {
				got = append(got, gjson.Get(f, "user").Str)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("watcher with users %s got %v, want %v", tt.users, got, tt.want)
			}
		})
	}
}

func TestMembershipBookkeeping(t *testing.T) {
	t.Run("connection in several rooms", func(t *testing.T) {
		e := newTestEngine(t, Config{})
		s := &fakeSub{}
		x := e.Connect("x", s)
		var ids []string
		for _, body := range []string{`{}`, `{"equals":{"foo":"bar"}}`, `{"equals":{"n":1}}`} {
			id, _ := subscribe(t, e, x, `{"index":"idx","collection":"col","body":`+body+`}`)
			ids = append(ids, id)
		}
		do(t, e, "unsubscribe", req(t, x, `{"body":{"roomId":"`+ids[0]+`"}}`))
		do(t, e, "publish", req(t, x, `{"index":"idx","collection":"col","body":{"foo":"bar","n":1}}`))
		var rooms []string
		for _, f := range s.take(t) {
			rooms = append(rooms, strings.Split(gjson.Get(f, "room").Str, "-")[0])
		}
		if strings.Join(rooms, ",") != ids[1]+","+ids[2] && strings.Join(rooms, ",") != ids[2]+","+ids[1] {
			t.Errorf("notified rooms %v, want %v", rooms, ids[1:])
		}
		do(t, e, "unsubscribe", req(t, x, `{"body":{"roomId":"`+ids[2]+`"}}`))
		if e.Rooms() != 1 {
			t.Errorf("rooms = %d, want 1", e.Rooms())
		}
		e.Disconnect(x)
		if e.Rooms() != 0 {
			t.Errorf("rooms = %d after disconnect, want 0", e.Rooms())
		}
	})
	t.Run("large channel shrinking", func(t *testing.T) {
		e := newTestEngine(t, Config{})
		const n = 200
		subs := make([]*fakeSub, n)
		conns := make([]*Conn, n)
		var roomID string
		for i := range subs {
			subs[i] = &fakeSub{}
			conns[i] = e.Connect("c", subs[i])
			roomID, _ = subscribe(t, e, conns[i], `{"index":"idx","collection":"col","body":{}}`)
		}
		// Leave in a scrambled order, keeping every 20th member.
		for k := range n {
			i := (k * 37) % n
			if i%20 != 0 {
				do(t, e, "unsubscribe", req(t, conns[i], `{"body":{"roomId":"`+roomID+`"}}`))
			}
		}
		if got := do(t, e, "count", req(t, conns[0], `{"body":{"roomId":"`+roomID+`"}}`)); got != `{"count":10}` {
			t.Errorf("count = %s", got)
		}
		do(t, e, "publish", req(t, conns[0], `{"index":"idx","collection":"col","body":{}}`))
		for i, s := range subs {
			want := 0
			if i%20 == 0 {
				want = 1
			}
			if got := len(s.take(t)); got != want {
				t.Errorf("member %d got %d notifications, want %d", i, got, want)
			}
		}
	})
}
