package room

import (
	"runtime"
	"strconv"
	"testing"
)

// nopSub is a Subscriber that does nothing: the memory benchmark measures the engine's
// own structures, not what a subscriber keeps.
type nopSub struct{ _ byte }

func (*nopSub) Deliver([]byte, []byte) {}

// memScale is the number of rooms and of members BenchmarkMemory builds.
const memScale = 100_000

// memLive keeps the last build of BenchmarkMemory reachable after it returns, so that
// the heap profile go test writes at the end (-memprofile) shows where its bytes are.
var memLive []any

// heapInUse returns the live heap in bytes after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemory reports what the engine keeps, in bytes of live heap (HeapAlloc after
// GC, before and after each build):
//
//   - B/conn-handle: one Conn from Connect, with its Subscriber (a one-byte struct),
//     before any subscription; allocated once per connection.
//   - B/room: one distinct room of one {"equals":{"target":"t<i>"}} filter on
//     idx/col, subscribed by one Connect'ed connection of its own (memScale
//     connections, one subscription each), minus B/conn-handle: the room, its channel,
//     its member, its filter and the connection's room list.
//   - B/member: one more member of one existing room (memScale connections with
//     their handle already allocated, subscribing to the same room).
//
// Each iteration builds memScale of each; run it with -benchtime 1x.
func BenchmarkMemory(b *testing.B) {
	var perConn, perRoom, perMember float64
	for range b.N {
		b.StopTimer()
		e := NewEngine(Config{Node: "knode-mem"})
		ids := make([]string, memScale)
		filters := make([][]byte, memScale)
		for i := range ids {
			ids[i] = "c" + strconv.Itoa(i)
			filters[i] = []byte(`{"equals":{"target":"t` + strconv.Itoa(i) + `"}}`)
		}
		conns := make([]*Conn, memScale)
		b.StartTimer()

		h0 := heapInUse()
		for i := range conns {
			conns[i] = e.Connect(ids[i], &nopSub{})
		}
		h1 := heapInUse()
		for i, c := range conns {
			if _, err := e.Subscribe(c, "idx", "col", filters[i], Options{}); err != nil {
				b.Fatal(err)
			}
		}
		h2 := heapInUse()
		if e.Rooms() != memScale {
			b.Fatalf("%d rooms, want %d", e.Rooms(), memScale)
		}

		// Members of one room: fresh handles, the room created by a first subscriber.
		e2 := NewEngine(Config{Node: "knode-mem"})
		first := e2.Connect("first", &nopSub{})
		one := []byte(`{"equals":{"target":"t0"}}`)
		if _, err := e2.Subscribe(first, "idx", "col", one, Options{}); err != nil {
			b.Fatal(err)
		}
		members := make([]*Conn, memScale)
		for i := range members {
			members[i] = e2.Connect(ids[i], &nopSub{})
		}
		h3 := heapInUse()
		for _, c := range members {
			if _, err := e2.Subscribe(c, "idx", "col", one, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		h4 := heapInUse()
		if n := e2.Count(rid(b, e2, one)); n != memScale+1 {
			b.Fatalf("count %d, want %d", n, memScale+1)
		}
		runtime.KeepAlive(ids)
		runtime.KeepAlive(filters)
		memLive = []any{e, e2, conns, members, first}

		perConn = float64(int64(h1-h0)) / memScale
		perRoom = float64(int64(h2-h1)) / memScale
		perMember = float64(int64(h4-h3)) / memScale
	}
	b.ReportMetric(perConn, "B/conn-handle")
	b.ReportMetric(perRoom, "B/room")
	b.ReportMetric(perMember, "B/member")
}

// rid returns the room id of filter on idx/col.
func rid(tb testing.TB, e *Engine, filter []byte) string {
	tb.Helper()
	n, err := e.filters.Normalize("idx/col", filter)
	if err != nil {
		tb.Fatal(err)
	}
	return n.ID
}
