package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

const eqBar = `{"equals":{"foo":"bar"}}`

func TestPublishCrossesNodesOnce(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b")
	a, b := n[0], n[1]
	_, onA, idA := a.subscribe(t, "idx", "col", eqBar, room.Options{})
	_, outA, _ := a.subscribe(t, "idx", "col", eqBar, room.Options{Scope: room.OptionOut})
	_, onB, idB := b.subscribe(t, "idx", "col", eqBar, room.Options{})
	if idA != idB {
		t.Fatalf("roomId on A %s, on B %s", idA, idB)
	}
	b.eng.Publish(&room.Publication{Index: "idx", Collection: "col", Body: []byte(`{"foo":"bar","n":1}`),
		ID: []byte(`"doc-1"`), DocumentID: "doc-1", RequestID: []byte(`"req-1"`), Volatile: []byte(`{"v":[1,2]}`), Timestamp: 1234})
	b.publish("idx", "col", `{"foo":"baz"}`)
	b.publish("idx", "other", `{"foo":"bar"}`)
	b.publish("idx", "col", `{"foo":"bar","n":2}`) // a marker: once it is on A, the others were handled
	got := onA.await(t, 2)
	if len(got) != 2 || get(got[0], "result._source.n").Int() != 1 || get(got[1], "result._source.n").Int() != 2 {
		t.Fatalf("A got %q", got)
	}
	local := onB.all()
	if len(local) != 2 || local[0] != got[0] {
		t.Fatalf("B's own subscriber got %q; A got %q: want the same notification", local, got[0])
	}
	for path, want := range map[string]string{"node": "knode-b", "requestId": "req-1", "result._id": "doc-1", "volatile.v": "[1,2]",
		"timestamp": "1234", "scope": "in", "result._source._kuzzle_info.author": "-1", "room": idA + "-311"} {
		if v := get(got[0], path).Raw; strings.Trim(v, `"`) != want {
			t.Errorf("%s = %s, want %s", path, v, want)
		}
	}
	if outA.len() != 0 {
		t.Errorf("a scope:out subscriber got %q", outA.all())
	}
	// Nothing arrives twice, on either node, once everything in flight was handled.
	b.publish("idx", "col", `{"foo":"bar","n":3}`)
	onA.await(t, 3)
	a.publish("idx", "col", `{"foo":"bar","n":4}`)
	onB.await(t, 4)
	if k := onA.len(); k != 4 {
		t.Errorf("A got %d notifications, want 4 (its own publication once): %q", k, onA.all())
	}
	// A received B's "in" and 4 publications of idx/col (the "baz" one too: filters are
	// matched on the subscriber's node), none of idx/other (no interest there); it sent
	// its two connections' "in" and one publication.
	if st := a.node.Status(); st.Received != 5 || st.Sent != 3 || st.Malformed != 0 || st.NotSent != 0 {
		t.Errorf("A's status %+v", st)
	}
}

// A publication made on another node right after a subscription's answer reaches it:
// Subscribe returns once NATS has the new interest.
func TestPublishRightAfterSubscribeIsDelivered(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b")
	a, b := n[0], n[1]
	for i := range 100 {
		filter := fmt.Sprintf(`{"equals":{"i":%d}}`, i)
		_, rec, _ := a.subscribe(t, "fresh", fmt.Sprint("col", i%7), filter, room.Options{})
		b.publish("fresh", fmt.Sprint("col", i%7), fmt.Sprintf(`{"i":%d}`, i))
		rec.await(t, 1)
	}
}

// One publishing connection's order is kept on every node.
func TestOrderKeptPerPublisher(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b", "knode-c")
	_, onA, _ := n[0].subscribe(t, "idx", "col", `{}`, room.Options{})
	_, onC, _ := n[2].subscribe(t, "idx", "col", `{}`, room.Options{})
	_, onA2, _ := n[0].subscribe(t, "idx", "col2", `{}`, room.Options{})
	const count = 500
	for i := range count {
		n[1].publish("idx", "col", fmt.Sprintf(`{"n":%d}`, i))
		n[1].publish("idx", "col2", fmt.Sprintf(`{"n":%d}`, i))
	}
	for name, rec := range map[string]*recorder{"A": onA, "C": onC, "A/col2": onA2} {
		got := rec.await(t, count)
		for i, f := range got {
			if get(f, "result._source.n").Int() != int64(i) {
				t.Fatalf("%s: notification %d is n=%s", name, i, get(f, "result._source.n").Raw)
			}
		}
	}
}

func TestUserNotificationsJoinCountAndList(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b", "knode-c")
	a, b, c := n[0], n[1], n[2]
	_, watch, id := a.subscribe(t, "idx", "col", eqBar, room.Options{Users: room.OptionAll})
	cb, _, _ := b.subscribe(t, "idx", "col", eqBar, room.Options{Volatile: []byte(`{"who":"b"}`)})
	in := watch.await(t, 1)[0]
	if get(in, "user").Str != "in" || get(in, "node").Str != "knode-b" || get(in, "result.count").Int() != 1 ||
		get(in, "volatile.who").Str != "b" || get(in, "action").Str != "subscribe" || get(in, "room").Str != id+"-111" {
		t.Errorf("user in from B: %s", in)
	}
	// C joins the room it does not hold: the definition comes from A or B.
	joiner := &recorder{}
	cc := c.eng.Connect("cc", joiner)
	res, err := c.eng.Join(cc, id, room.Options{Users: room.OptionIn})
	if err != nil || res.RoomID != id {
		t.Fatalf("join on C: %+v %v", res, err)
	}
	if in := watch.await(t, 2)[1]; get(in, "node").Str != "knode-c" || get(in, "action").Str != "join" {
		t.Errorf("user in from C: %s", in)
	}
	if _, err := c.eng.Join(c.eng.Connect("x", &recorder{}), strings.Repeat("0", 64), room.Options{}); !errors.Is(err, kuzzle.ErrRoomNotFound) {
		t.Errorf("join of a room no node holds: %v", err)
	}
	_, _, other := b.subscribe(t, "i2", "c2", `{}`, room.Options{})
	for _, node := range n {
		if got := node.eng.Count(id); got != 3 {
			t.Errorf("count on %s = %d, want 3", node.id, got)
		}
		want := []room.RoomCount{{Index: "i2", Collection: "c2", RoomID: other, Count: 1}, {Index: "idx", Collection: "col", RoomID: id, Count: 3}}
		if got := node.eng.List(nil); !slices.Equal(got, want) {
			t.Errorf("list on %s = %v, want %v", node.id, got, want)
		}
	}
	// B's only connection leaves: A's users:all and C's users:in... only A gets the "out".
	b.eng.Disconnect(cb)
	out := watch.await(t, 3)[2]
	if get(out, "user").Str != "out" || get(out, "result.count").Int() != 0 || get(out, "node").Str != "knode-b" || get(out, "volatile.who").Str != "b" {
		t.Errorf("user out from B: %s", out)
	}
	c.publish("idx", "col", `{"foo":"bar"}`)
	watch.await(t, 4)
	if got := joiner.all(); len(got) != 1 || get(got[0], "type").Str != "document" {
		t.Errorf("the users:in joiner on C got %q, want only the document", got)
	}
	if got := a.eng.Count(id); got != 2 {
		t.Errorf("count after B left = %d, want 2", got)
	}
}

func TestDuplicateNodeRefused(t *testing.T) {
	ns := startNATS(t, nil)
	first := newTestNode(t, fastConfig(ns.URL(), "knode-same"))
	_, err := Connect(fastConfig(ns.URL(), "knode-same"))
	if !errors.Is(err, ErrDuplicateNode) || !strings.Contains(err.Error(), `"knode-same"`) {
		t.Fatalf("second node with the same id: %v, want ErrDuplicateNode", err)
	}
	// Once the first is gone, the id is free again.
	first.node.Close()
	again, err := Connect(fastConfig(ns.URL(), "knode-same"))
	if err != nil {
		t.Fatalf("id after the first node left: %v", err)
	}
	again.Close()
}

// A node that dies (no goodbye: its NATS connection just drops) leaves the counts at
// once and the live nodes within a few heartbeats.
func TestDeadNodeAgedOut(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b", "knode-c")
	_, _, id := n[0].subscribe(t, "idx", "col", `{}`, room.Options{})
	n[1].subscribe(t, "idx", "col", `{}`, room.Options{})
	n[2].subscribe(t, "idx", "col", `{}`, room.Options{})
	n[2].subscribe(t, "idx", "col", `{}`, room.Options{})
	if got := n[0].eng.Count(id); got != 4 {
		t.Fatalf("count = %d, want 4", got)
	}
	n[2].node.nc.Close() // a crash, as NATS sees it
	if got := n[0].eng.Count(id); got != 2 {
		t.Errorf("count right after C died = %d, want 2", got)
	}
	eventually(t, "C to be aged out", func() bool {
		st := n[0].node.Status()
		return slices.Equal(st.Nodes, []string{"knode-a", "knode-b"})
	})
	if got := n[1].eng.List(nil); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("list without C = %v", got)
	}
}

// NATS goes away: each node keeps delivering to its own clients; once NATS is back,
// interests (including rooms created meanwhile) are restored and publications cross
// again, without a restart.
func TestNATSRestart(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b")
	a, b := n[0], n[1]
	_, onA, _ := a.subscribe(t, "idx", "col", `{}`, room.Options{})
	_, onB, _ := b.subscribe(t, "idx", "col", `{}`, room.Options{})
	b.publish("idx", "col", `{"phase":"before"}`)
	onA.await(t, 1)

	ns.Stop()
	eventually(t, "both nodes to see NATS down", func() bool { return !a.node.Status().Connected && !b.node.Status().Connected })
	if d := b.publish("idx", "col", `{"phase":"down"}`); d != 1 {
		t.Errorf("local delivery while NATS is down reached %d, want 1", d)
	}
	if got := onB.await(t, 2); get(got[1], "result._source.phase").Str != "down" {
		t.Errorf("B's subscriber got %q", got)
	}
	_, lateA, _ := a.subscribe(t, "idx", "late", `{}`, room.Options{}) // created while NATS is away
	if st := b.node.Status(); st.NotSent == 0 || st.Connected {
		t.Errorf("B's status while NATS is down: %+v", st)
	}

	ns.Start()
	eventually(t, "both nodes to reconnect", func() bool { return a.node.Status().Connected && b.node.Status().Connected })
	waitMesh(t, a, b)
	// Resubscription is asynchronous to the reconnection: publish until A sees one.
	for i := 0; onA.len() < 2; i++ {
		if i == 1000 {
			t.Fatal("no cross-node delivery 1000 publications after NATS came back")
		}
		b.publish("idx", "col", `{"phase":"after"}`)
		time.Sleep(2 * time.Millisecond)
	}
	if got := onA.all(); get(got[1], "result._source.phase").Str != "after" {
		t.Errorf("A got the publication made while NATS was down: %q", got)
	}
	b.publish("idx", "late", `{"x":1}`)
	lateA.await(t, 1)
	if st := a.node.Status(); st.Reconnects == 0 {
		t.Errorf("A's status after the restart: %+v", st)
	}
}

// Invalid messages on the cluster's subjects are counted and dropped; nothing reaches a
// client and the node goes on.
func TestMalformedMessagesDropped(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a")
	a := n[0]
	_, rec, id := a.subscribe(t, "idx", "col", `{}`, room.Options{Users: room.OptionAll})
	raw, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var bad encoder
	bad.start(kindDocument)
	bad.str("knode-x")
	bad.str("idx")
	bad.str("col")
	bad.int(1)
	bad.raw(nil)
	bad.str("")
	bad.raw(nil)
	bad.raw(nil)
	bad.raw([]byte(`{"unterminated":`))
	var user encoder
	user.start(kindUser)
	user.str("knode-x")
	user.str(id)
	user.uint(1)
	user.uint(1)
	user.int(1)
	user.str("hack")
	user.raw(nil)
	for _, m := range []struct {
		subject string
		data    []byte
	}{
		{"kzws.d.idx.col", []byte("garbage")},
		{"kzws.d.idx.col", nil},
		{"kzws.d.idx.col", []byte{wireVersion, kindDocument, 0xff, 0xff, 0xff}},
		{"kzws.d.idx.col", bad.b},
		{"kzws.r." + id, user.b},
		{"kzws.r." + id, []byte{9, kindUser}},
	} {
		if err := raw.Publish(m.subject, m.data); err != nil {
			t.Fatal(err)
		}
	}
	raw.Flush()
	eventually(t, "6 malformed messages", func() bool { return a.node.Status().Malformed == 6 })
	var good encoder
	encodeDocument(&good, &room.DocumentEvent{Node: "knode-x", Index: "idx", Collection: "col", Source: []byte(`{"ok":true}`)})
	raw.Publish("kzws.d.idx.col", good.b)
	got := rec.await(t, 1)
	if len(got) != 1 || get(got[0], "result._source.ok").Raw != "true" || get(got[0], "node").Str != "knode-x" {
		t.Errorf("subscriber got %q", got)
	}
}

// Index, collection and node names that NATS subjects cannot hold as they are still
// make one subject each, and cross nodes.
func TestSubjectTokens(t *testing.T) {
	cases := map[string]string{"": "%", "orders": "orders", "a.b": "a%2Eb", "x y*>": "x%20y%2A%3E", "é": "%C3%A9", "%": "%25"}
	for in, want := range cases {
		if got := token(in); got != want {
			t.Errorf("token(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", 1000)
	if got := token(long); !strings.HasPrefix(got, "#") || len(got) > maxToken || got == token(long+"b") {
		t.Errorf("token of a long name: %q", got)
	}
	if got := token(strings.Repeat(".", 100)); !strings.HasPrefix(got, "#") {
		t.Errorf("token of 100 dots: %q", got)
	}
	seen := map[string]string{}
	for _, s := range []string{"a.b", "a%2Eb", "a_b", "a-b", "A.B", "a b", "a\x00b", "$a"} {
		tok := token(s)
		if prev, dup := seen[tok]; dup {
			t.Errorf("token(%q) = token(%q) = %q", s, prev, tok)
		}
		seen[tok] = s
		if strings.ContainsAny(tok, ".*> \t\r\n\x00") {
			t.Errorf("token(%q) = %q is not one NATS token", s, tok)
		}
	}
	for _, p := range []string{"", "$sys", "a..b", "a.*", "a b"} {
		if checkPrefix(p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}

	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode a.*>", "knode-b")
	index, collection := "shop.eu >*", "orders "+strings.Repeat("x", 5000)
	_, rec, _ := n[0].subscribe(t, index, collection, `{}`, room.Options{})
	n[1].publish(index, collection, `{"k":1}`)
	n[1].publish(index, collection+"y", `{"k":2}`)
	n[1].publish("shop", "eu", `{"k":3}`)
	n[1].publish(index, collection, `{"k":4}`)
	got := rec.await(t, 2)
	if len(got) != 2 || get(got[0], "result._source.k").Int() != 1 || get(got[1], "result._source.k").Int() != 4 {
		t.Errorf("got %q", got)
	}
	if get(got[0], "node").Str != "knode-b" {
		t.Errorf("node %s", get(got[0], "node").Raw)
	}
}

func TestBroadcastEvents(t *testing.T) {
	ns := startNATS(t, nil)
	n := nodes(t, ns.URL(), "knode-a", "knode-b", "knode-c")
	var mu sync.Mutex
	got := map[string][]string{}
	for _, node := range n {
		id := node.id
		if err := node.node.Handle("token:revoked", func(origin string, payload []byte) {
			mu.Lock()
			got[id] = append(got[id], origin+":"+string(payload))
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := n[0].node.Broadcast("token:revoked", []byte(fmt.Sprint("t", i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "events on B and C", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["knode-b"]) == 3 && len(got["knode-c"]) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	want := []string{"knode-a:t0", "knode-a:t1", "knode-a:t2"}
	if !slices.Equal(got["knode-b"], want) || !slices.Equal(got["knode-c"], want) || len(got["knode-a"]) != 0 {
		t.Errorf("events %v", got)
	}
}

// A publication over the NATS server's max_payload is delivered on its node only and
// counted; smaller ones still cross.
func TestOverMaxPayloadStaysLocal(t *testing.T) {
	ns := startNATS(t, func(o *natsserver.Options) { o.MaxPayload = 16 << 10 })
	n := nodes(t, ns.URL(), "knode-a", "knode-b")
	_, onA, _ := n[0].subscribe(t, "idx", "col", `{}`, room.Options{})
	_, onB, _ := n[1].subscribe(t, "idx", "col", `{}`, room.Options{})
	big := `{"big":"` + strings.Repeat("x", 20<<10) + `"}`
	if d := n[1].publish("idx", "col", big); d != 1 {
		t.Errorf("local delivery of a large publication: %d", d)
	}
	n[1].publish("idx", "col", `{"small":1}`)
	got := onA.await(t, 1)
	if len(got) != 1 || !get(got[0], "result._source.small").Exists() {
		t.Errorf("A got %d frames", len(got))
	}
	if onB.len() != 2 {
		t.Errorf("B got %d frames, want 2", onB.len())
	}
	if st := n[1].node.Status(); st.NotSent != 1 {
		t.Errorf("B's status %+v", st)
	}
}

func TestConnectErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Node: "n"}, "no NATS URL"},
		{Config{URLs: "nats://127.0.0.1:1"}, "empty node id"},
		{Config{URLs: "nats://127.0.0.1:1", Node: "n", Prefix: "a.>"}, "prefix"},
		{Config{URLs: "nats://user:s3cret@127.0.0.1:1", Node: "n", Options: []nats.Option{nats.Timeout(100 * time.Millisecond)}}, "redacted@127.0.0.1:1"},
	} {
		tc.cfg.Logger = discard()
		_, err := Connect(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Connect(%+v) = %v, want an error with %q and no password", tc.cfg.URLs, err, tc.want)
		}
	}
	if got := redactURLs("nats://tok@h:1, tls://u:p@h2:2,nats://h3:3"); got != "nats://redacted@h:1,tls://redacted@h2:2,nats://h3:3" {
		t.Errorf("redactURLs = %q", got)
	}
}

// A token in the NATS URL works and appears in no log line and not in Status.
func TestTokenNeverShown(t *testing.T) {
	ns := startNATS(t, func(o *natsserver.Options) { o.Authorization = "t0ken-s3cret" })
	var logs strings.Builder
	var mu sync.Mutex
	cfg := fastConfig(strings.Replace(ns.URL(), "nats://", "nats://t0ken-s3cret@", 1), "knode-a")
	cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newTestNode(t, cfg)
	b := newTestNode(t, fastConfig(strings.Replace(ns.URL(), "nats://", "nats://t0ken-s3cret@", 1), "knode-b"))
	waitMesh(t, a, b)
	ns.Stop()
	eventually(t, "disconnect", func() bool { return !a.node.Status().Connected })
	ns.Start()
	eventually(t, "reconnect", func() bool { return a.node.Status().Connected })
	st := a.node.Status()
	a.node.Close()
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(st.Server, "s3cret") || !strings.Contains(st.Server, "redacted@127.0.0.1") {
		t.Errorf("status server %q; logs:\n%s", st.Server, logs.String())
	}
	if !strings.Contains(logs.String(), "NATS connection back") {
		t.Errorf("no reconnection log:\n%s", logs.String())
	}
	if _, err := Connect(fastConfig(ns.URL(), "knode-c")); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Connect without the token: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
