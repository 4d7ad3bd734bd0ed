package room

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// linkBackplane links one engine to others in the same process: what a real backplane
// carries between nodes, without the network (package room/cluster tests the NATS one).
// It checks the contract the engine relies on: RoomCreated and RoomDropped balance per
// roomId.
type linkBackplane struct {
	self  *Engine
	peers []*Engine

	mu      sync.Mutex
	live    map[string]int // roomId -> RoomCreated - RoomDropped
	created []string
	gate    chan struct{} // when set, RoomCreated waits on it
	entered chan struct{} // signalled when RoomCreated starts waiting on gate
	doneIDs map[string]bool
}

func (b *linkBackplane) RoomCreated(r RoomInfo) {
	b.mu.Lock()
	if b.live == nil {
		b.live, b.doneIDs = map[string]int{}, map[string]bool{}
	}
	b.live[r.ID]++
	b.created = append(b.created, r.ID)
	gate, entered := b.gate, b.entered
	b.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	b.mu.Lock()
	b.doneIDs[r.ID] = true
	b.mu.Unlock()
}

func (b *linkBackplane) RoomDropped(r RoomInfo) {
	b.mu.Lock()
	b.live[r.ID]--
	if b.live[r.ID] == 0 {
		delete(b.live, r.ID)
	}
	b.mu.Unlock()
}

func (b *linkBackplane) Forward(d *DocumentEvent) {
	for _, p := range b.peers {
		c := *d
		c.Source = slices.Clone(d.Source) // the engine reuses nothing, but a network would copy
		p.DeliverRemote(&c)
	}
}

func (b *linkBackplane) ForwardUser(u *UserEvent) {
	for _, p := range b.peers {
		c := *u
		c.Volatile = slices.Clone(u.Volatile)
		go p.DeliverRemoteUser(&c) // another goroutine, as a network's receiver: never under our room lock
	}
}

func (b *linkBackplane) Lookup(id string) (RoomInfo, bool) {
	for _, p := range b.peers {
		if r, ok := p.Room(id); ok {
			return r, true
		}
	}
	return RoomInfo{}, false
}

func (b *linkBackplane) Count(id string) int {
	n := 0
	for _, p := range b.peers {
		n += p.LocalCount(id)
	}
	return n
}

func (b *linkBackplane) List() []RoomCount {
	var out []RoomCount
	for _, p := range b.peers {
		out = append(out, p.LocalList()...)
	}
	return out
}

// twoNodes returns two engines linked by linkBackplanes.
func twoNodes(t *testing.T) (a, b *Engine, ba, bb *linkBackplane) {
	t.Helper()
	ba, bb = &linkBackplane{}, &linkBackplane{}
	a = newTestEngine(t, Config{Node: "knode-a", Backplane: ba})
	b = newTestEngine(t, Config{Node: "knode-b", Backplane: bb})
	ba.self, ba.peers = a, []*Engine{b}
	bb.self, bb.peers = b, []*Engine{a}
	return a, b, ba, bb
}

func TestBackplanePublishCrossesOnce(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	onA, onB := &fakeSub{}, &fakeSub{}
	rA, _ := subscribe(t, a, a.Connect("ca", onA), `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}}}`)
	rB, _ := subscribe(t, b, b.Connect("cb", onB), `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}}}`)
	if rA != rB {
		t.Fatalf("roomIds differ across nodes: %s %s", rA, rB)
	}
	pub := a.Connect("pub", &fakeSub{})
	do(t, a, "publish", req(t, pub, `{"index":"idx","collection":"col","body":{"foo":"bar"},"_id":"d1","requestId":"r1","volatile":{"v":1},"timestamp":42}`))
	do(t, a, "publish", req(t, pub, `{"index":"idx","collection":"col","body":{"foo":"baz"}}`))
	gotA, gotB := onA.take(t), onB.take(t)
	if len(gotA) != 1 || len(gotB) != 1 {
		t.Fatalf("deliveries: %d on A, %d on B; want 1 and 1:\n%q\n%q", len(gotA), len(gotB), gotA, gotB)
	}
	// Same notification on both nodes, `node` being the publishing node's.
	if gotA[0] != gotB[0] {
		t.Errorf("notifications differ:\nA %s\nB %s", gotA[0], gotB[0])
	}
	for k, want := range map[string]string{"node": "knode-a", "requestId": "r1", "result._id": "d1", "volatile.v": "1",
		"timestamp": "42", "result._source._kuzzle_info.author": "-1", "room": rA + "-311"} {
		if got := gjson.Get(gotB[0], k).String(); got != want {
			t.Errorf("B's %s = %q, want %q", k, got, want)
		}
	}
}

func TestBackplaneUserNotificationsCross(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	watcher := &fakeSub{}
	id, _ := subscribe(t, b, b.Connect("w", watcher), `{"index":"idx","collection":"col","body":{},"users":"all"}`)
	ca := a.Connect("ca", &fakeSub{})
	subscribe(t, a, ca, `{"index":"idx","collection":"col","body":{},"volatile":{"who":"ca"}}`)
	waitFrames := func(n int) []string {
		t.Helper()
		var got []string
		for range 2000 {
			watcher.mu.Lock()
			k := len(watcher.frames)
			watcher.mu.Unlock()
			if k >= n {
				break
			}
			waitABit()
		}
		got = watcher.take(t)
		if len(got) != n {
			t.Fatalf("watcher got %d frames, want %d: %q", len(got), n, got)
		}
		return got
	}
	in := waitFrames(1)[0]
	if gjson.Get(in, "user").Str != "in" || gjson.Get(in, "node").Str != "knode-a" || gjson.Get(in, "result.count").Int() != 1 ||
		gjson.Get(in, "volatile.who").Str != "ca" || gjson.Get(in, "room").Str != id+"-111" {
		t.Errorf("remote in: %s", in)
	}
	if n := b.Count(id); n != 2 {
		t.Errorf("cluster count from B = %d, want 2", n)
	}
	// The last local connection of A leaves: B's members still get the "out", count 0 on A.
	do(t, a, "unsubscribe", req(t, ca, `{"controller":"realtime","action":"unsubscribe","body":{"roomId":"`+id+`"}}`))
	out := waitFrames(1)[0]
	if gjson.Get(out, "user").Str != "out" || gjson.Get(out, "result.count").Int() != 0 || gjson.Get(out, "volatile.who").Str != "ca" {
		t.Errorf("remote out: %s", out)
	}
}

func TestBackplaneJoinRemoteRoom(t *testing.T) {
	a, b, ba, _ := twoNodes(t)
	filter := `{"range":{"n":{"gte":10}}}`
	id, _ := subscribe(t, b, b.Connect("cb", &fakeSub{}), `{"index":"idx","collection":"col","body":`+filter+`}`)
	got := &fakeSub{}
	res := do(t, a, "join", req(t, a.Connect("ca", got), `{"body":{"roomId":"`+id+`"}}`))
	if gjson.Get(res, "roomId").Str != id {
		t.Fatalf("join result %s", res)
	}
	if r, ok := a.Room(id); !ok || string(r.Filter) != filter || r.Index != "idx" || r.Collection != "col" {
		t.Errorf("joined room's definition %+v %v", r, ok)
	}
	pub := b.Connect("pub", &fakeSub{})
	do(t, b, "publish", req(t, pub, `{"index":"idx","collection":"col","body":{"n":5}}`))
	do(t, b, "publish", req(t, pub, `{"index":"idx","collection":"col","body":{"n":11}}`))
	if frames := got.take(t); len(frames) != 1 || gjson.Get(frames[0], "result._source.n").Int() != 11 {
		t.Errorf("joiner got %q, want the n=11 document only (filter evaluated on its node)", frames)
	}
	if e := doErr(t, a, "join", req(t, a.Connect("x", &fakeSub{}), `{"body":{"roomId":"`+strings.Repeat("ab", 32)+`"}}`)); e.ID != "core.realtime.room_not_found" {
		t.Errorf("join of a room no node holds: %s", e.ID)
	}
	if e := doErr(t, a, "join", req(t, a.Connect("y", &fakeSub{}), `{"body":{"roomId":"a.b>"}}`)); e.ID != "core.realtime.room_not_found" {
		t.Errorf("join of a malformed roomId: %s", e.ID)
	}
	ba.mu.Lock()
	defer ba.mu.Unlock()
	if ba.live[id] != 1 {
		t.Errorf("A's backplane holds %d live rooms %s, want 1", ba.live[id], id)
	}
}

func TestBackplaneCountAndList(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	body := `{"index":"idx","collection":"col","body":{"equals":{"x":1}}}`
	id, _ := subscribe(t, a, a.Connect("a1", &fakeSub{}), body)
	subscribe(t, a, a.Connect("a2", &fakeSub{}), body)
	subscribe(t, b, b.Connect("b1", &fakeSub{}), body)
	only, _ := subscribe(t, b, b.Connect("b2", &fakeSub{}), `{"index":"i2","collection":"c2","body":{}}`)
	if n := a.Count(id); n != 3 {
		t.Errorf("count on A = %d, want 3", n)
	}
	if n := a.LocalCount(id); n != 2 {
		t.Errorf("local count on A = %d, want 2", n)
	}
	want := []RoomCount{{"i2", "c2", only, 1}, {"idx", "col", id, 3}}
	for _, e := range []*Engine{a, b} {
		if got := e.List(nil); !slices.Equal(got, want) {
			t.Errorf("list = %v, want %v", got, want)
		}
	}
	if got := a.List(func(index, _ string) bool { return index == "idx" }); !slices.Equal(got, want[1:]) {
		t.Errorf("filtered list = %v", got)
	}
}

// A subscription returns only once RoomCreated has returned, also for a second
// connection that joins the room while its creator waits for the interest.
func TestBackplaneSubscribeWaitsForInterest(t *testing.T) {
	a, _, ba, _ := twoNodes(t)
	ba.mu.Lock()
	ba.gate, ba.entered = make(chan struct{}), make(chan struct{}, 1)
	ba.mu.Unlock()
	body := `{"index":"idx","collection":"col","body":{"equals":{"w":1}}}`
	first, second := make(chan string, 1), make(chan string, 1)
	go func() { id, _ := subscribe(t, a, a.Connect("c1", &fakeSub{}), body); first <- id }()
	<-ba.entered
	go func() { id, _ := subscribe(t, a, a.Connect("c2", &fakeSub{}), body); second <- id }()
	for range 5000 {
		if len(a.LocalList()) == 1 { // the second connection is a member, waiting
			break
		}
		waitABit()
	}
	select {
	case <-second:
		t.Fatal("a subscription returned before the room's interest was active")
	case <-first:
		t.Fatal("the creator returned before RoomCreated did")
	default:
	}
	ba.mu.Lock()
	gate := ba.gate
	ba.gate = nil
	ba.mu.Unlock()
	close(gate)
	id := <-first
	if <-second != id {
		t.Fatal("two roomIds for one filter")
	}
	ba.mu.Lock()
	defer ba.mu.Unlock()
	if !ba.doneIDs[id] || len(ba.created) != 1 {
		t.Errorf("RoomCreated calls %v, done %v", ba.created, ba.doneIDs)
	}
}

// Concurrent subscribe/unsubscribe churn on a few rooms: RoomCreated and RoomDropped
// balance, and nothing is left once every connection left.
func TestBackplaneRoomEventsBalance(t *testing.T) {
	a, _, ba, _ := twoNodes(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := a.Connect("g", &fakeSub{})
			for i := range 300 {
				body := `{"index":"idx","collection":"col","body":{"equals":{"k":` + string(rune('0'+(g+i)%3)) + `}}}`
				id, _ := subscribe(t, a, c, body)
				if i%2 == 0 {
					a.Unsubscribe(c, id)
				}
			}
			a.Disconnect(c)
		}()
	}
	wg.Wait()
	ba.mu.Lock()
	defer ba.mu.Unlock()
	if len(ba.live) != 0 || a.Rooms() != 0 {
		t.Errorf("after churn: backplane live %v, engine rooms %d", ba.live, a.Rooms())
	}
}

func waitABit() { time.Sleep(time.Millisecond) }

// The room dies while its creator is still in RoomCreated (another connection joined and
// was disconnected meanwhile): nobody hangs, the creator gets a new room, and the
// backplane's counts balance.
func TestBackplaneRoomDiesDuringRoomCreated(t *testing.T) {
	a, _, ba, _ := twoNodes(t)
	ba.mu.Lock()
	ba.gate, ba.entered = make(chan struct{}), make(chan struct{}, 1)
	ba.mu.Unlock()
	body := `{"index":"idx","collection":"col","body":{"equals":{"d":1}}}`
	first := make(chan string, 1)
	go func() { id, _ := subscribe(t, a, a.Connect("c1", &fakeSub{}), body); first <- id }()
	<-ba.entered
	other := a.Connect("c2", &fakeSub{})
	second := make(chan struct{})
	go func() { handle(a, "subscribe", req(t, other, body)); close(second) }()
	for len(a.LocalList()) != 1 {
		waitABit()
	}
	a.Disconnect(other) // the room's only member leaves: it dies under its creator
	ba.mu.Lock()
	gate := ba.gate
	ba.gate = nil
	ba.mu.Unlock()
	close(gate)
	<-second
	id := <-first
	if got := a.LocalCount(id); got != 1 {
		t.Errorf("creator's room has %d members, want 1", got)
	}
	ba.mu.Lock()
	defer ba.mu.Unlock()
	if ba.live[id] != 1 || len(ba.created) != 2 {
		t.Errorf("live %v, RoomCreated calls %d; want one live room made twice", ba.live, len(ba.created))
	}
}
