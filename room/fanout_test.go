package room

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/tidwall/gjson"
)

// atomicSub counts deliveries and remembers the last frame, without allocating.
type atomicSub struct {
	n    atomic.Int64
	last atomic.Pointer[byte]
}

func (a *atomicSub) Deliver(head, _ []byte) {
	a.n.Add(1)
	if len(head) > 0 {
		a.last.Store(unsafe.SliceData(head))
	}
}

// fillChannel connects n subscribers to the default channel of the {"equals":{"foo":"bar"}}
// room of idx/col and returns them.
func fillChannel(tb testing.TB, e *Engine, n int) []*atomicSub {
	tb.Helper()
	subs := make([]*atomicSub, n)
	for i := range subs {
		subs[i] = &atomicSub{}
		c := e.Connect(fmt.Sprint("c", i), subs[i])
		if _, err := e.Subscribe(c, "idx", "col", []byte(`{"equals":{"foo":"bar"}}`), Options{}); err != nil {
			tb.Fatal(err)
		}
	}
	return subs
}

var pubReq = Publication{
	RequestID:  []byte(`"ce8d9320-5a87-4068-8bc6-76eaec44779b"`),
	Index:      "idx",
	Collection: "col",
	Body:       []byte(`{"foo":"bar","n":1}`),
	Volatile:   []byte(`{"sdkInstanceId":"1281d8bd-9f3f-495f-820e-b8d447229129","sdkName":"js@7.17.1-beta.1"}`),
}

// TestSealOncePerNotification checks encode-once: Seal runs once for a notification to
// two channels, on the payload behind Headroom bytes, every subscriber of a channel gets
// the very same bytes, and each frame is the payload with its channel's room appended.
func TestSealOncePerNotification(t *testing.T) {
	var calls atomic.Int64
	e := newTestEngine(t, Config{Headroom: 2, Seal: func(b []byte, _ int) []byte {
		calls.Add(1)
		b[0], b[1] = 'F', ':'
		return b
	}})
	subs := fillChannel(t, e, 300)
	other := &fakeSub{}
	subscribe(t, e, e.Connect("o", other), `{"index":"idx","collection":"col","body":{},"users":"all"}`)
	calls.Store(0)
	e.Publish(&pubReq)
	if n := calls.Load(); n != 1 {
		t.Errorf("Seal called %d times for 2 channels, want 1", n)
	}
	first := subs[0].last.Load()
	for i, s := range subs {
		if s.n.Load() != 1 || s.last.Load() != first {
			t.Fatalf("subscriber %d: %d deliveries, same bytes as subscriber 0: %v", i, s.n.Load(), s.last.Load() == first)
		}
	}
	other.mu.Lock()
	got := other.frames
	other.mu.Unlock()
	if len(got) != 1 || !bytes.HasPrefix(got[0], []byte(`F:{"type":"document"`)) {
		t.Fatalf("framed notification: %q", got)
	}
	room := gjson.GetBytes(got[0][2:], "room").String()
	if !strings.HasSuffix(room, "-111") || !bytes.HasSuffix(got[0], []byte(`,"room":"`+room+`"}`)) {
		t.Errorf("framed notification does not end with its room: %q", got[0])
	}
}

// lenSeal is a Seal that writes the frame's whole payload length (4 bytes, big-endian)
// in the headroom, so that a head used with a tail of the wrong length shows.
func lenSeal(copyHead bool) func([]byte, int) []byte {
	return func(b []byte, rest int) []byte {
		binary.BigEndian.PutUint32(b, uint32(len(b)-4+rest))
		if copyHead { // a Seal whose head does not end where b ends: room must copy
			return bytes.Clone(b)
		}
		return b
	}
}

// TestSealAnyTailLength builds the frames of channels whose tails have different lengths
// and subscriber counts on both sides of wholeMin: every subscriber gets exactly the
// payload with its channel's room as last key (kuzzle.AppendRoom) behind a header that
// declares its length, whichever way the frame is made (shared head and tail, one
// piece in place, one piece copied).
func TestSealAnyTailLength(t *testing.T) {
	for _, copyHead := range []bool{false, true} {
		e := NewEngine(Config{Headroom: 4, Seal: lenSeal(copyHead)})
		names := []string{"a-311", "b-311", "long-channel-name-111", "x", "c-311", "wide-\u00e9-411"}
		counts := []int{1, wholeMin, 2, wholeMin + 5, 3, 1}
		f := e.getFanout()
		subs := make([][]*fakeSub, len(names))
		for i, name := range names {
			ch := &channel{tail: roomTail(name)}
			for range counts[i] {
				s := &fakeSub{}
				subs[i] = append(subs[i], s)
				ch.subs = append(ch.subs, s)
			}
			e.addChannel(f, ch)
		}
		payload := []byte(`{"type":"document","result":{"_source":{"n":1}}}`)
		e.seal(f, append(e.newPayload(f, len(payload)), payload...))
		e.run(f)
		f.release()
		for i, name := range names {
			want := kuzzle.AppendRoom(bytes.Clone(payload), kuzzle.AppendString(nil, name))
			for j, s := range subs[i] {
				got := s.frames
				if len(got) != 1 || len(got[0]) < 4 || !bytes.Equal(got[0][4:], want) ||
					binary.BigEndian.Uint32(got[0]) != uint32(len(want)) {
					t.Fatalf("copyHead %v, channel %q, subscriber %d: got %q, want %d-byte header then %s",
						copyHead, name, j, got, len(want), want)
				}
			}
		}
	}
}

// TestPublishAllocsDoNotGrowWithChannels pins the shared head: a publication matched by
// 400 rooms (one channel and one subscriber each) allocates no more, in count and in
// bytes, than one matched by 10 rooms: the payload is not copied per channel. Asserted
// without -race, as TestPublishAllocsDoNotGrowWithSubscribers.
func TestPublishAllocsDoNotGrowWithChannels(t *testing.T) {
	measure := func(n int) (allocs, bytes float64) {
		e := newTestEngine(t, Config{Headroom: 10, Seal: func(b []byte, _ int) []byte { return b[8:] }})
		subs := fillRooms(t, e, n)
		for range 100 { // warm up the recycled fan-out batches
			e.Publish(&pubReq)
		}
		allocs = testing.AllocsPerRun(50, func() { e.Publish(&pubReq) })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 200
		for range runs {
			if got := e.Publish(&pubReq); got != n {
				t.Fatalf("delivered to %d, want %d", got, n)
			}
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(subs)
		return allocs, float64(after.TotalAlloc-before.TotalAlloc) / runs
	}
	fewA, fewB := measure(10)
	manyA, manyB := measure(400)
	t.Logf("per publish: 10 rooms %.2f allocations, %.0f bytes; 400 rooms %.2f allocations, %.0f bytes",
		fewA, fewB, manyA, manyB)
	if raceEnabled {
		return
	}
	if manyA > fewA+0.5 {
		t.Errorf("a publish matched by 400 rooms allocates %.2f times, by 10 rooms %.2f", manyA, fewA)
	}
	// The payload is about 500 bytes: one copy per extra channel would be 190 KB.
	if manyB > fewB+1024 {
		t.Errorf("a publish matched by 400 rooms allocates %.0f bytes, by 10 rooms %.0f", manyB, fewB)
	}
}

func TestSpread(t *testing.T) {
	const n = 2000
	tests := []struct {
		name   string
		spread func(late *[]func()) func(func()) bool
	}{
		{name: "refused", spread: func(*[]func()) func(func()) bool {
			return func(func()) bool { return false }
		}},
		{name: "goroutines", spread: func(*[]func()) func(func()) bool {
			return func(task func()) bool { go task(); return true }
		}},
		{name: "accepted but run after publish returned (busy pool)", spread: func(late *[]func()) func(func()) bool {
			return func(task func()) bool { *late = append(*late, task); return true }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var late []func()
			e := newTestEngine(t, Config{FanoutChunk: 64, Spread: tt.spread(&late)})
			subs := fillChannel(t, e, n)
			for round := int64(1); round <= 3; round++ {
				e.Publish(&pubReq)
				for i, s := range subs {
					if got := s.n.Load(); got != round {
						t.Fatalf("round %d: subscriber %d got %d notifications when Publish returned", round, i, got)
					}
				}
			}
			for _, task := range late {
				task() // finds nothing left to do
			}
			for i, s := range subs {
				if got := s.n.Load(); got != 3 {
					t.Fatalf("subscriber %d got %d notifications after late tasks ran, want 3", i, got)
				}
			}
		})
	}
}

// TestPublishAllocsDoNotGrowWithSubscribers pins the encode-once design: a publish to
// 10,000 subscribers allocates no more than a publish to one. The counts are asserted in
// builds without -race (the race detector empties the filter engine's sync.Pool at
// random); `go test ./...` runs them.
func TestPublishAllocsDoNotGrowWithSubscribers(t *testing.T) {
	allocs := func(n int, spread func(func()) bool) float64 {
		e := newTestEngine(t, Config{Spread: spread})
		fillChannel(t, e, n)
		// Warm up: with helper tasks that finish late, a few batches are in flight
		// at once; let the free list hold enough of them.
		for range 100 {
			e.Publish(&pubReq)
		}
		return testing.AllocsPerRun(50, func() {
			e.Publish(&pubReq)
		})
	}
	pool := newWorkerPool(4)
	defer pool.close()
	for _, tt := range []struct {
		name   string
		spread func(func()) bool
	}{
		{name: "inline"},
		{name: "spread refused", spread: func(func()) bool { return false }},
		{name: "spread to a worker pool", spread: pool.spread},
	} {
		t.Run(tt.name, func(t *testing.T) {
			one, many := allocs(1, nil), allocs(10_000, tt.spread)
			t.Logf("allocations per publish: 1 subscriber %.2f, 10,000 subscribers %.2f", one, many)
			if many > one+0.5 && !raceEnabled {
				t.Errorf("publish to 10,000 subscribers allocates %.2f times, to 1 subscriber %.2f", many, one)
			}
		})
	}
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSubscribeDisconnectCyclesLeaveNoTrace runs 10,000 connect/subscribe/disconnect
// cycles, with rooms created and deleted and members joining and leaving a large
// room, and checks that the room count and the heap come back where they started.
func TestSubscribeDisconnectCyclesLeaveNoTrace(t *testing.T) {
	e := newTestEngine(t, Config{})
	stayers := fillChannel(t, e, 100)
	rooms := e.Rooms()
	cycle := func(i int) {
		c := e.Connect("cycle", &fakeSub{})
		for _, body := range []string{`{"equals":{"foo":"bar"}}`, fmt.Sprintf(`{"equals":{"n":%d}}`, i)} {
			o := Options{Users: OptionAll, Volatile: []byte(`{"who":"cycle"}`)}
			if _, err := e.Subscribe(c, "idx", "col", []byte(body), o); err != nil {
				t.Fatal(err)
			}
		}
		e.Disconnect(c)
	}
	for i := range 1000 { // warm pools and maps
		cycle(i)
	}
	before := heapAlloc()
	for i := range 10_000 {
		cycle(i)
	}
	after := heapAlloc()
	if e.Rooms() != rooms {
		t.Errorf("rooms: %d before, %d after", rooms, e.Rooms())
	}
	const bound = 1 << 20
	t.Logf("heap before %d B, after %d B", before, after)
	if after > before+bound {
		t.Errorf("heap grew by %d B over 10,000 cycles (bound %d B)", after-before, bound)
	}
	runtime.KeepAlive(stayers)
}

// TestMemoryPerSubscription bounds what one subscription costs (a generous bound: the
// measured value is logged).
func TestMemoryPerSubscription(t *testing.T) {
	e := newTestEngine(t, Config{})
	conns := make([]*Conn, 10_000)
	for i := range conns {
		conns[i] = e.Connect("c", &fakeSub{})
	}
	before := heapAlloc()
	for _, c := range conns {
		if _, err := e.Subscribe(c, "idx", "col", []byte(`{}`), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(heapAlloc()-before) / float64(len(conns))
	t.Logf("%.0f bytes per subscription", per)
	if per > 1024 {
		t.Errorf("%.0f bytes per subscription, want at most 1024", per)
	}
	runtime.KeepAlive(conns)
}

// workerPool is a bounded pool for benchmarks: Spread hands a task to an idle worker
// or reports false.
type workerPool struct {
	tasks chan func()
	wg    sync.WaitGroup
}

func newWorkerPool(n int) *workerPool {
	p := &workerPool{tasks: make(chan func())}
	for range n {
		p.wg.Go(func() {
			for task := range p.tasks {
				task()
			}
		})
	}
	return p
}

func (p *workerPool) spread(task func()) bool {
	select {
	case p.tasks <- task:
		return true
	default:
		return false
	}
}

func (p *workerPool) close() { close(p.tasks); p.wg.Wait() }

func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		for _, spread := range []bool{false, true} {
			b.Run(fmt.Sprintf("subs=%d/spread=%v", n, spread), func(b *testing.B) {
				cfg := Config{Clock: func() int64 { return testNow }}
				if spread {
					p := newWorkerPool(runtime.GOMAXPROCS(0))
					defer p.close()
					cfg.Spread = p.spread
				}
				e := NewEngine(cfg)
				subs := fillChannel(b, e, n)
				b.ReportAllocs()
				for b.Loop() {
					e.Publish(&pubReq)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/delivery")
				runtime.KeepAlive(subs)
			})
		}
	}
}

func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			e := NewEngine(Config{})
			fillChannel(b, e, n)
			c := e.Connect("churn", &atomicSub{})
			filter := []byte(`{"equals":{"foo":"bar"}}`)
			res, err := e.Subscribe(c, "idx", "col", filter, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Unsubscribe(c, res.RoomID); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Subscribe(c, "idx", "col", filter, Options{}); err != nil {
					b.Fatal(err)
				}
				if err := e.Unsubscribe(c, res.RoomID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillRooms subscribes one connection to each of n distinct rooms of idx/col, all matching
// pubReq's body (a range that every filter accepts, with a distinct bound), and returns
// their subscribers.
func fillRooms(tb testing.TB, e *Engine, n int) []*atomicSub {
	tb.Helper()
	subs := make([]*atomicSub, n)
	for i := range subs {
		subs[i] = &atomicSub{}
		c := e.Connect(fmt.Sprint("r", i), subs[i])
		f := fmt.Sprintf(`{"range":{"n":{"gt":%d}}}`, -1-i)
		if _, err := e.Subscribe(c, "idx", "col", []byte(f), Options{}); err != nil {
			tb.Fatal(err)
		}
	}
	return subs
}

// BenchmarkPublishManyRooms is a publication matched by many distinct filters, one
// subscriber each: the per-channel cost of a notification.
func BenchmarkPublishManyRooms(b *testing.B) {
	for _, n := range []int{400} {
		b.Run(fmt.Sprintf("rooms=%d", n), func(b *testing.B) {
			e := NewEngine(Config{Clock: func() int64 { return testNow }, Headroom: 10,
				Seal: func(buf []byte, _ int) []byte { return buf[10-2:] }})
			subs := fillRooms(b, e, n)
			b.ReportAllocs()
			for b.Loop() {
				if got := e.Publish(&pubReq); got != n {
					b.Fatalf("delivered to %d, want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/delivery")
			runtime.KeepAlive(subs)
		})
	}
}

// roomTail returns `,"room":<JSON string of name>}`, what kuzzle.AppendRoom appends in
// place of an object's closing brace, for any name (newChannel builds it for Kuzzle's).
func roomTail(name string) []byte {
	return append(kuzzle.AppendString([]byte(`,"room":`), name), '}')
}
