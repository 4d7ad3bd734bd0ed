package room

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// atomicSub counts deliveries and remembers the last frame, without allocating.
type atomicSub struct {
	n    atomic.Int64
	last atomic.Pointer[byte]
}

func (a *atomicSub) Deliver(frame []byte) {
	a.n.Add(1)
	if len(frame) > 0 {
		a.last.Store(unsafe.SliceData(frame))
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

// TestSealOncePerChannel checks encode-once: Seal runs once per channel on the payload
// behind Headroom bytes, and every subscriber of the channel gets the very same bytes.
func TestSealOncePerChannel(t *testing.T) {
	var calls atomic.Int64
	e := newTestEngine(t, Config{Headroom: 2, Seal: func(b []byte) []byte {
		calls.Add(1)
		b[0], b[1] = 'F', ':'
		return b
	}})
	subs := fillChannel(t, e, 300)
	other := &fakeSub{}
	subscribe(t, e, e.Connect("o", other), `{"index":"idx","collection":"col","body":{},"users":"all"}`)
	calls.Store(0)
	e.Publish(&pubReq)
	if n := calls.Load(); n != 2 {
		t.Errorf("Seal called %d times for 2 channels, want 2", n)
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
		t.Errorf("framed notification: %q", got)
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
