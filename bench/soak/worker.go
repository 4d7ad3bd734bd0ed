package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// Index and collections of the soak. Stayers, churners and the groups of slow readers and
// non-readers subscribe to MainCollection; BigCollection gets the large documents only
// slow readers and non-readers join.
const (
	Index          = "soak"
	MainCollection = "main"
	BigCollection  = "big"
)

// filterKinds is the number of filter shapes a group is subscribed with (see GroupFilter).
const filterKinds = 3

// GroupFilter returns the Koncorde filter of group j (0 <= j < groups) in shape kind (mod
// 3): an equals on sg, a range on sn, an in of sg with a value no document has. The three
// match the same documents (those of publications k with k mod groups == j) and are
// three rooms.
func GroupFilter(j, kind int) []byte {
	g := strconv.Itoa(j)
	switch kind % filterKinds {
	case 0:
		return []byte(`{"equals":{"sg":"g` + g + `"}}`)
	case 1:
		return []byte(`{"range":{"sn":{"gte":` + g + `,"lt":` + strconv.Itoa(j+1) + `}}}`)
	default:
		return []byte(`{"in":{"sg":["g` + g + `","none"]}}`)
	}
}

// appendDoc appends the document of publication k of publisher p: its group, sequence number,
// wall-clock send time t (ns) and pad filler bytes.
func appendDoc(b []byte, p int, k int64, groups int, t int64, pad int) []byte {
	g := strconv.FormatInt(k%int64(groups), 10)
	b = append(b, `{"sp":`...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, `,"sk":`...)
	b = strconv.AppendInt(b, k, 10)
	b = append(b, `,"sg":"g`...)
	b = append(b, g...)
	b = append(b, `","sn":`...)
	b = append(b, g...)
	b = append(b, `,"st":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"pad":"`...)
	for range pad {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// note is a parsed document notification.
type note struct {
	room  string
	p, k  int64
	group int64
	t     int64
}

// parseNote reads a notification of appendDoc's documents; ok is false for any other frame.
func parseNote(m []byte) (n note, ok bool) {
	r := gjson.GetManyBytes(m, "room", "result._source.sp", "result._source.sk", "result._source.sn", "result._source.st")
	if !r[2].Exists() || r[2].Type != gjson.Number {
		return n, false
	}
	return note{room: r[0].Str, p: r[1].Int(), k: r[2].Int(), group: r[3].Int(), t: r[4].Int()}, true
}

type worker struct {
	plan   Plan
	target load.Target
	ips    []net.IP
	src    atomic.Uint64

	outMu sync.Mutex
	out   *json.Encoder

	stopCh   chan struct{} // closed by "stop" (or the start's deadline)
	stopOnce sync.Once
	started  atomic.Bool
	loops    sync.WaitGroup
	closing  atomic.Bool

	stayers []*stayer
	pubs    []*publisher
	bigs    []*publisher

	lat [16]latShard

	// counters of Stats (atomics), and mu guarding the maps and first-error texts.
	stayersDropped, delivered, dup, wrongRoom, other                   atomic.Int64
	churnOpened, churnUnsub, churnClose, churnDrop                     atomic.Int64
	churnDelivered, churnWrong, churnErrors                            atomic.Int64
	slowOpened, slowRead, slowCut, nonReadOpened, nonReadCut, nonStill atomic.Int64
	cutNoCode, slowErrors, malOK, malWrong                             atomic.Int64
	mu                                                                 sync.Mutex
	droppedCodes, otherCodes                                           map[int]int64
	malByCase                                                          map[string]int64
	churnFirstErr, slowFirstErr, malFirstWrong, cutNoCodeErr           string
}

type latShard struct {
	mu             sync.Mutex
	interval, full load.Hist
}

// stayer is one connection that must stay connected from setup to the close.
type stayer struct {
	c        *load.Conn
	gi       int
	mask     uint64   // groups subscribed
	channels []string // their channels
	done     chan struct{}

	mu sync.Mutex
	// seen[p] is the bitset of the publications of publisher p read (bit k).
	seen    [][]uint64
	dropped bool
}

// publisher is one publishing connection: pending holds the sequence numbers sent and not
// answered yet, failed those answered with an error or never.
type publisher struct {
	c      *load.Conn
	p      int
	big    bool
	prefix string

	mu      sync.Mutex
	pending map[int64]struct{}
	failed  []int64
	sent    int64
	acked   int64
	errs    int64
	dead    bool
}

// Worker runs one soak worker: it reads its plan and commands from in and writes reports to
// out (see Cmd and Report). It returns at "quit" or when in ends, after closing everything.
func Worker(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<16), 64<<20)
	if !sc.Scan() {
		return errors.New("soak worker: no plan on stdin")
	}
	var first Cmd
	if err := json.Unmarshal(sc.Bytes(), &first); err != nil || first.Cmd != "plan" || first.Plan == nil {
		return fmt.Errorf("soak worker: first line must be a plan: %q (%v)", sc.Text(), err)
	}
	w := &worker{plan: *first.Plan, out: json.NewEncoder(out), stopCh: make(chan struct{}),
		droppedCodes: map[int]int64{}, otherCodes: map[int]int64{}, malByCase: map[string]int64{}}
	if w.plan.MaxLifeMs > 0 {
		time.AfterFunc(time.Duration(w.plan.MaxLifeMs)*time.Millisecond, func() {
			fmt.Fprintf(os.Stderr, "soak worker %s: max life reached\n", w.plan.Name)
			os.Exit(3)
		})
	}
	if err := w.init(); err != nil {
		return err
	}
	t0 := time.Now()
	ok, failed, firstErr := w.setup()
	w.emit(Report{Event: "ready", Connected: ok, Failed: failed, FirstErr: firstErr, SetupMs: time.Since(t0).Milliseconds()})
	go w.pinger()
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var cmd Cmd
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			return fmt.Errorf("soak worker %s: bad command %q: %v", w.plan.Name, sc.Text(), err)
		}
		switch cmd.Cmd {
		case "start":
			w.start(time.Duration(cmd.DurationMs) * time.Millisecond)
			w.emit(Report{Event: "start"})
		case "stats":
			w.emit(Report{Event: "stats", Stats: w.stats()})
		case "stop":
			w.stop()
			w.emit(Report{Event: "stopped", Pubs: w.pubStates()})
		case "verify":
			w.emit(Report{Event: "verify", Verify: w.verify(cmd.Pubs)})
		case "close":
			clean, other := w.closeAll()
			w.emit(Report{Event: "close", ClosedClean: clean, ClosedOther: other})
		case "quit":
			w.stop()
			w.closeAll()
			w.emit(Report{Event: "quit"})
			return nil
		default:
			return fmt.Errorf("soak worker %s: unknown command %q", w.plan.Name, cmd.Cmd)
		}
	}
	w.stop()
	w.closeAll()
	return sc.Err()
}

func (w *worker) init() error {
	if w.plan.Groups < 1 || w.plan.Groups > 64 {
		return fmt.Errorf("soak worker: groups %d not in 1..64", w.plan.Groups)
	}
	host, _, err := net.SplitHostPort(w.plan.Addr)
	if err != nil {
		return err
	}
	for _, s := range append(append([]string{}, w.plan.Srcs...), host) {
		ip := net.ParseIP(s)
		if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
			return fmt.Errorf("soak worker: %q is not a 127.0.0.0/8 address", s)
		}
	}
	for _, s := range w.plan.Srcs {
		w.ips = append(w.ips, net.ParseIP(s))
	}
	if len(w.ips) == 0 {
		return errors.New("soak worker: no source address")
	}
	w.target = load.Target{Addr: w.plan.Addr, Proto: load.Kuzzle}
	return nil
}

func cpuNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func (w *worker) emit(r Report) {
	r.Worker = w.plan.Name
	r.CPUNs = cpuNs()
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if err := w.out.Encode(r); err != nil {
		fmt.Fprintf(os.Stderr, "soak worker %s: stdout: %v\n", w.plan.Name, err)
		os.Exit(1)
	}
}

// replyWait bounds every wait for one answer of the server (a reply, a close code, an echo).
// It is a bound against a hang, not a performance figure: on a 2-core machine shared with
// other work, deliveries took up to 8 s in the full soak.
const replyWait = 30 * time.Second

// dial connects from the next source address, with SO_RCVBUF rcvbuf when > 0, within
// replyWait.
func (w *worker) dial(rcvbuf int) (*load.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	t := w.target
	t.RcvBuf = rcvbuf
	return load.Dial(ctx, t, w.ips[w.src.Add(1)%uint64(len(w.ips))])
}

// stopped reports whether the loops must end.
func (w *worker) stopped() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return false
	}
}

// sleep waits d or until stop; it reports whether the loops must end.
func (w *worker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.stopCh:
		return true
	case <-t.C:
		return false
	}
}

func (w *worker) stop() { w.stopOnce.Do(func() { close(w.stopCh) }); w.loops.Wait() }

// stayerGroups returns the groups of stayer gi: group gi mod G in shape (gi/G) mod 3, and
// for one in TwoGroupsEvery, also group (gi + G/2) mod G in the next shape.
func (w *worker) stayerGroups(gi int) (groups, kinds []int) {
	g := w.plan.Groups
	groups, kinds = []int{gi % g}, []int{(gi / g) % filterKinds}
	if e := w.plan.TwoGroupsEvery; e > 0 && gi%e == 0 && g > 1 {
		groups = append(groups, (gi+max(g/2, 1))%g)
		kinds = append(kinds, (kinds[0]+1)%filterKinds)
	}
	return groups, kinds
}

type opened struct {
	s   *stayer
	p   *publisher
	err error
}

// setup connects the stayers and the publishers, Par at a time.
func (w *worker) setup() (ok, failed int, firstErr string) {
	n := w.plan.Stayers + w.plan.Pubs + w.plan.BigPubs
	idx := make(chan int)
	res := make(chan opened)
	for range max(min(w.plan.Par, n), 1) {
		go func() {
			for i := range idx {
				var r opened
				for try := range 3 {
					r = w.open(i)
					if r.err == nil {
						break
					}
					time.Sleep(time.Duration(300*(try+1)) * time.Millisecond)
				}
				res <- r
			}
		}()
	}
	go func() {
		for i := range n {
			idx <- i
		}
		close(idx)
	}()
	for range n {
		r := <-res
		switch {
		case r.err != nil:
			failed++
			if firstErr == "" {
				firstErr = r.err.Error()
			}
		case r.s != nil:
			ok++
			w.stayers = append(w.stayers, r.s)
		case r.p != nil && r.p.big:
			ok++
			w.bigs = append(w.bigs, r.p)
		default:
			ok++
			w.pubs = append(w.pubs, r.p)
		}
	}
	for _, s := range w.stayers {
		go w.stayerReader(s)
	}
	for _, p := range append(append([]*publisher{}, w.pubs...), w.bigs...) {
		go w.pubReader(p)
	}
	return ok, failed, firstErr
}

// open connects connection i of the setup: a stayer, a publisher or a big publisher.
func (w *worker) open(i int) opened {
	c, err := w.dial(0)
	if err != nil {
		return opened{err: err}
	}
	if i >= w.plan.Stayers {
		j := i - w.plan.Stayers
		p := &publisher{c: c, pending: map[int64]struct{}{}}
		if j < w.plan.Pubs {
			p.p = w.plan.PubFirst + j
		} else {
			p.p, p.big = j-w.plan.Pubs, true
		}
		p.prefix = w.plan.Name + "-p" + strconv.Itoa(p.p)
		if p.big {
			p.prefix = w.plan.Name + "-b" + strconv.Itoa(p.p)
		}
		return opened{p: p}
	}
	gi := w.plan.StayerFirst + i
	s := &stayer{c: c, gi: gi, done: make(chan struct{})}
	groups, kinds := w.stayerGroups(gi)
	for x, g := range groups {
		_, ch, err := c.SubscribeFilter(Index, MainCollection, GroupFilter(g, kinds[x]), w.plan.Name+"-s"+strconv.Itoa(gi)+"-"+strconv.Itoa(x))
		if err != nil {
			c.Close()
			return opened{err: fmt.Errorf("stayer subscribe: %w", err)}
		}
		s.mask |= 1 << uint(g)
		s.channels = append(s.channels, ch)
	}
	return opened{s: s}
}

func (s *stayer) hasChannel(ch string) bool {
	for _, c := range s.channels {
		if c == ch {
			return true
		}
	}
	return false
}

// stayerReader reads s until its connection ends. An end before the close is a drop.
func (w *worker) stayerReader(s *stayer) {
	defer close(s.done)
	sh := &w.lat[s.gi%len(w.lat)]
	for {
		msg, err := s.c.ReadMessage()
		if err != nil {
			if w.closing.Load() {
				return
			}
			s.mu.Lock()
			s.dropped = true
			s.mu.Unlock()
			w.stayersDropped.Add(1)
			w.mu.Lock()
			w.droppedCodes[s.c.CloseCode()]++
			w.mu.Unlock()
			s.c.Close()
			return
		}
		now := time.Now().UnixNano()
		n, ok := parseNote(msg)
		if !ok {
			w.other.Add(1)
			continue
		}
		w.delivered.Add(1)
		if n.group < 0 || n.group >= 64 || s.mask&(1<<uint(n.group)) == 0 || n.k%int64(w.plan.Groups) != n.group || !s.hasChannel(n.room) {
			w.wrongRoom.Add(1)
		}
		if n.p < 0 || n.p >= 1<<16 || n.k < 0 || n.k >= 1<<34 {
			w.wrongRoom.Add(1)
			continue
		}
		s.mu.Lock()
		for int(n.p) >= len(s.seen) {
			s.seen = append(s.seen, nil)
		}
		word := int(n.k / 64)
		if word >= len(s.seen[n.p]) {
			grown := make([]uint64, word+1+word/4)
			copy(grown, s.seen[n.p])
			s.seen[n.p] = grown
		}
		bit := uint64(1) << uint(n.k%64)
		if s.seen[n.p][word]&bit != 0 {
			w.dup.Add(1)
		}
		s.seen[n.p][word] |= bit
		s.mu.Unlock()
		sh.mu.Lock()
		sh.interval.Add(now - n.t)
		sh.full.Add(now - n.t)
		sh.mu.Unlock()
	}
}

// pinger sends {"p":1} to every stayer once per PingEveryMs, spread evenly, until the close.
func (w *worker) pinger() {
	every := time.Duration(w.plan.PingEveryMs) * time.Millisecond
	if every <= 0 || len(w.stayers) == 0 {
		return
	}
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	per := float64(len(w.stayers)) * float64(tick) / float64(every)
	var acc float64
	i := 0
	for range t.C {
		if w.closing.Load() {
			return
		}
		acc += per
		for ; acc >= 1; acc-- {
			s := w.stayers[i%len(w.stayers)]
			i++
			_ = s.c.WriteText([]byte(`{"p":1}`))
		}
	}
}

// pubReader matches a publisher's replies (root room = requestId = prefix-k).
func (w *worker) pubReader(p *publisher) {
	for {
		msg, err := p.c.ReadMessage()
		if err != nil {
			p.mu.Lock()
			if !w.closing.Load() {
				p.dead = true
				p.errs++
			}
			p.mu.Unlock()
			return
		}
		r := gjson.GetManyBytes(msg, "room", "status")
		rest, ok := strings.CutPrefix(r[0].Str, p.prefix+"-")
		k, err := strconv.ParseInt(rest, 10, 64)
		p.mu.Lock()
		if _, pending := p.pending[k]; !ok || err != nil || !pending {
			p.errs++ // a frame that answers no publication of ours
			p.mu.Unlock()
			continue
		}
		delete(p.pending, k)
		if r[1].Int() == 200 {
			p.acked++
		} else {
			p.failed = append(p.failed, k)
			p.errs++
		}
		p.mu.Unlock()
	}
}

// start launches every loop; they end on stop or after d plus a minute.
func (w *worker) start(d time.Duration) {
	if !w.started.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(d+time.Minute, func() { w.stopOnce.Do(func() { close(w.stopCh) }) })
	run := func(f func()) {
		w.loops.Add(1)
		go func() { defer w.loops.Done(); f() }()
	}
	for _, p := range w.pubs {
		run(func() { w.publish(p, w.plan.PubRate, w.plan.Pad) })
	}
	for _, p := range w.bigs {
		run(func() { w.publish(p, w.plan.BigRate, w.plan.BigSize) })
	}
	for i := range w.plan.Churn {
		run(func() { w.churn(i) })
	}
	for i := range w.plan.Slow {
		run(func() { w.slowReader(i) })
	}
	for i := range w.plan.NonRead {
		run(func() { w.nonReader(i) })
	}
	for i := range w.plan.Malformed {
		run(func() { w.malformed(i) })
	}
}

// publish sends rate publications per second on p until stop, then waits up to replyWait for
// the replies; the unanswered ones are failed.
func (w *worker) publish(p *publisher, rate float64, pad int) {
	if rate <= 0 {
		return
	}
	gap := time.Duration(float64(time.Second) / rate)
	t0 := time.Now()
	var buf, body []byte
	coll := MainCollection
	if p.big {
		coll = BigCollection
	}
	for k := int64(0); ; k++ {
		if w.sleep(time.Until(t0.Add(time.Duration(k) * gap))) {
			break
		}
		body = appendDoc(body[:0], p.p, k, w.plan.Groups, time.Now().UnixNano(), pad)
		buf, _ = p.c.AppendPublish(buf[:0], Index, coll, p.prefix+"-"+strconv.FormatInt(k, 10), body)
		p.mu.Lock()
		p.pending[k] = struct{}{}
		p.sent++
		p.mu.Unlock()
		if err := p.c.WriteText(buf); err != nil {
			p.mu.Lock()
			p.dead = true
			p.errs++
			p.mu.Unlock()
			break
		}
	}
	deadline := time.Now().Add(replyWait)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	for k := range p.pending {
		p.failed = append(p.failed, k)
	}
	clear(p.pending)
	p.mu.Unlock()
}

func (w *worker) pubStates() []PubState {
	var out []PubState
	for _, p := range w.pubs {
		p.mu.Lock()
		out = append(out, PubState{Pub: p.p, Sent: p.sent, Failed: append([]int64(nil), p.failed...)})
		p.mu.Unlock()
	}
	return out
}

func (w *worker) noteErr(counter *atomic.Int64, first *string, err error) {
	counter.Add(1)
	w.mu.Lock()
	if *first == "" {
		*first = err.Error()
	}
	w.mu.Unlock()
}

// reader reads c until it ends, calling fn for each message; done gets the end's error.
func reader(c *load.Conn, fn func(m []byte)) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			fn(msg)
		}
	}()
	return done
}

// closeHandshake sends a close 1000 and waits (up to replyWait) for the server's echo on done.
func closeHandshake(c *load.Conn, done <-chan error) error {
	defer c.Close()
	if err := c.WriteClose(1000); err != nil {
		return fmt.Errorf("write close: %w", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) || c.CloseCode() != 1000 {
			return fmt.Errorf("close handshake: %v, code %d", err, c.CloseCode())
		}
		return nil
	case <-time.After(replyWait):
		return fmt.Errorf("close handshake: no echo within %v", replyWait)
	}
}

// churn runs churn slot i: connect, subscribe, hold, end, again, until stop.
func (w *worker) churn(i int) {
	rng := rand.New(rand.NewPCG(w.plan.Seed, uint64(i)<<8|1))
	minH, maxH := w.plan.ChurnHoldMinMs, max(w.plan.ChurnHoldMaxMs, w.plan.ChurnHoldMinMs+1)
	fail := func(err error) bool {
		w.noteErr(&w.churnErrors, &w.churnFirstErr, fmt.Errorf("churn: %w", err))
		return w.sleep(time.Second)
	}
	for cycle := 0; !w.stopped(); cycle++ {
		c, err := w.dial(0)
		if err != nil {
			if fail(err) {
				return
			}
			continue
		}
		w.churnOpened.Add(1)
		j, kind := rng.IntN(w.plan.Groups), rng.IntN(filterKinds)
		id := w.plan.Name + "-c" + strconv.Itoa(i) + "-" + strconv.Itoa(cycle)
		roomID, ch, err := c.SubscribeFilter(Index, MainCollection, GroupFilter(j, kind), id+"s")
		if err != nil {
			c.Close()
			if fail(fmt.Errorf("subscribe: %w", err)) {
				return
			}
			continue
		}
		replies := make(chan []byte, 1)
		done := reader(c, func(m []byte) {
			if n, ok := parseNote(m); ok {
				w.churnDelivered.Add(1)
				if n.room != ch || n.group != int64(j) {
					w.churnWrong.Add(1)
				}
				return
			}
			if gjson.GetBytes(m, "room").Str == id+"u" {
				replies <- append([]byte(nil), m...)
			}
		})
		hold := time.Duration(minH+rng.Int64N(maxH-minH)) * time.Millisecond
		select {
		case err := <-done:
			c.Close()
			if fail(fmt.Errorf("connection ended during its hold: %v, code %d", err, c.CloseCode())) {
				return
			}
			continue
		case <-time.After(hold):
		case <-w.stopCh:
			_ = closeHandshake(c, done)
			return
		}
		switch rng.IntN(3) {
		case 0: // unsubscribe, then the close handshake
			err = c.WriteText(load.AppendUnsubscribe(nil, roomID, id+"u"))
			if err == nil {
				select {
				case m := <-replies:
					r := gjson.GetManyBytes(m, "status", "result.roomId")
					if r[0].Int() != 200 || r[1].Str != roomID {
						err = fmt.Errorf("unsubscribe reply %.200s", m)
					}
				case err = <-done:
					err = fmt.Errorf("connection ended before the unsubscribe reply: %v", err)
				case <-time.After(replyWait):
					err = fmt.Errorf("no unsubscribe reply within %v", replyWait)
				}
			}
			if err == nil {
				err = closeHandshake(c, done)
			}
			c.Close()
			if err == nil {
				w.churnUnsub.Add(1)
			}
		case 1:
			if err = closeHandshake(c, done); err == nil {
				w.churnClose.Add(1)
			}
		default: // drop the TCP connection without a close frame
			c.Close()
			<-done
			w.churnDrop.Add(1)
		}
		if err != nil && fail(err) {
			return
		}
	}
}

// subscribeSlow subscribes c to group j and to BigCollection.
func subscribeSlow(c *load.Conn, name string, j int) error {
	if _, _, err := c.SubscribeFilter(Index, MainCollection, GroupFilter(j, 0), name+"g"); err != nil {
		return err
	}
	_, _, err := c.SubscribeFilter(Index, BigCollection, []byte("{}"), name+"b")
	return err
}

// pingLoop writes {"p":1} to c every `every` until done is closed or a write fails.
func pingLoop(c *load.Conn, every time.Duration, done <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if c.WriteText([]byte(`{"p":1}`)) != nil {
				return
			}
		}
	}
}

// ended records how the server ended a slow reader or a non-reader: with 1011 (counted in
// cut), another close code, or no close frame.
func (w *worker) ended(c *load.Conn, err error, cut *atomic.Int64) {
	switch code := c.CloseCode(); {
	case errors.Is(err, io.EOF) && code == 1011:
		cut.Add(1)
	case code == 0:
		w.cutNoCode.Add(1)
		w.mu.Lock()
		if w.cutNoCodeErr == "" {
			w.cutNoCodeErr = fmt.Sprint(err)
		}
		w.mu.Unlock()
	default:
		w.mu.Lock()
		w.otherCodes[code]++
		w.mu.Unlock()
	}
}

// slowReader runs slow slot i: a small receive buffer, one message read every SlowReadMs.
func (w *worker) slowReader(i int) {
	pause := time.Duration(w.plan.SlowReadMs) * time.Millisecond
	for cycle := 0; !w.stopped(); cycle++ {
		c, err := w.dial(w.plan.RcvBuf)
		if err == nil {
			err = subscribeSlow(c, w.plan.Name+"-sl"+strconv.Itoa(i)+"-"+strconv.Itoa(cycle), i%w.plan.Groups)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			w.noteErr(&w.slowErrors, &w.slowFirstErr, fmt.Errorf("slow reader: %w", err))
			if w.sleep(time.Second) {
				return
			}
			continue
		}
		w.slowOpened.Add(1)
		pinged := make(chan struct{})
		go pingLoop(c, time.Duration(w.plan.PingEveryMs)*time.Millisecond, pinged)
		stopWatch := make(chan struct{})
		go func() {
			select {
			case <-w.stopCh:
				c.Close()
			case <-stopWatch:
			}
		}()
		for {
			_, err = c.ReadMessage()
			if err != nil {
				break
			}
			w.slowRead.Add(1)
			if w.sleep(pause) {
				break
			}
		}
		close(pinged)
		close(stopWatch)
		c.Close()
		if w.stopped() {
			return
		}
		w.ended(c, err, &w.slowCut)
		if w.sleep(time.Second) {
			return
		}
	}
}

// nonReader runs non-reader slot i: subscribe, never read for NonReadHoldMs (pinging), then
// drain: the server's 1011 is there if it cut the connection.
func (w *worker) nonReader(i int) {
	hold := time.Duration(w.plan.NonReadHoldMs) * time.Millisecond
	for cycle := 0; !w.stopped(); cycle++ {
		c, err := w.dial(w.plan.RcvBuf)
		if err == nil {
			err = subscribeSlow(c, w.plan.Name+"-nr"+strconv.Itoa(i)+"-"+strconv.Itoa(cycle), (i+1)%w.plan.Groups)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			w.noteErr(&w.slowErrors, &w.slowFirstErr, fmt.Errorf("non-reader: %w", err))
			if w.sleep(time.Second) {
				return
			}
			continue
		}
		w.nonReadOpened.Add(1)
		pinged := make(chan struct{})
		go pingLoop(c, time.Duration(w.plan.PingEveryMs)*time.Millisecond, pinged)
		stop := w.sleep(hold)
		close(pinged)
		if stop {
			c.Close()
			return
		}
		// Drain: what the server sent, then its close frame if it cut the connection; a
		// connection still open delivers until this deadline.
		_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
		stopWatch := make(chan struct{})
		go func() {
			select {
			case <-w.stopCh:
				c.Close()
			case <-stopWatch:
			}
		}()
		for err == nil {
			_, err = c.ReadMessage()
		}
		close(stopWatch)
		c.Close()
		if w.stopped() {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			w.nonStill.Add(1)
		} else {
			w.ended(c, err, &w.nonReadCut)
		}
	}
}

// stats returns the counters; the latency histograms since the previous call are reset.
func (w *worker) stats() *Stats {
	s := &Stats{
		StayersDropped: w.stayersDropped.Load(), Delivered: w.delivered.Load(), Dup: w.dup.Load(),
		WrongRoom: w.wrongRoom.Load(), Other: w.other.Load(),
		ChurnOpened: w.churnOpened.Load(), ChurnUnsub: w.churnUnsub.Load(), ChurnClose: w.churnClose.Load(),
		ChurnDrop: w.churnDrop.Load(), ChurnDelivered: w.churnDelivered.Load(), ChurnWrong: w.churnWrong.Load(),
		ChurnErrors: w.churnErrors.Load(),
		SlowOpened:  w.slowOpened.Load(), SlowRead: w.slowRead.Load(), SlowCut1011: w.slowCut.Load(),
		NonReadOpened: w.nonReadOpened.Load(), NonReadCut1011: w.nonReadCut.Load(), NonReadStill: w.nonStill.Load(),
		CutNoCode: w.cutNoCode.Load(), SlowErrors: w.slowErrors.Load(),
		MalformedOK: w.malOK.Load(), MalformedWrong: w.malWrong.Load(),
	}
	s.StayersUp = int64(len(w.stayers)) - s.StayersDropped
	w.mu.Lock()
	s.DroppedCodes = addCodes(nil, w.droppedCodes)
	s.OtherCodes = addCodes(nil, w.otherCodes)
	if len(w.malByCase) > 0 {
		s.MalformedByCase = map[string]int64{}
		for k, v := range w.malByCase {
			s.MalformedByCase[k] = v
		}
	}
	s.ChurnFirstErr, s.SlowFirstErr, s.MalformedFirstWrong = w.churnFirstErr, w.slowFirstErr, w.malFirstWrong
	s.CutNoCodeErr = w.cutNoCodeErr
	w.mu.Unlock()
	for _, p := range append(append([]*publisher{}, w.pubs...), w.bigs...) {
		p.mu.Lock()
		if p.big {
			s.BigSent += p.sent
			s.BigAcked += p.acked
		} else {
			s.PubSent += p.sent
			s.PubAcked += p.acked
			s.PubErrors += p.errs
		}
		p.mu.Unlock()
	}
	for i := range w.lat {
		sh := &w.lat[i]
		sh.mu.Lock()
		s.Latency.Merge(&sh.interval)
		sh.interval = load.Hist{}
		sh.mu.Unlock()
	}
	return s
}

// verify checks every stayer that stayed against pubs. It may be called again while late
// deliveries arrive.
func (w *worker) verify(pubs []PubState) *Verify {
	v := &Verify{}
	g := int64(w.plan.Groups)
	type pubInfo struct {
		sent   int64
		failed map[int64]bool
	}
	info := map[int]pubInfo{}
	for _, p := range pubs {
		pi := pubInfo{sent: p.Sent, failed: map[int64]bool{}}
		for _, k := range p.Failed {
			pi.failed[k] = true
		}
		info[p.Pub] = pi
	}
	for _, s := range w.stayers {
		v.Stayers++
		s.mu.Lock()
		if s.dropped {
			s.mu.Unlock()
			continue
		}
		v.Stayed++
		missing := int64(0)
		first := ""
		for p, pi := range info {
			var bits []uint64
			if p < len(s.seen) {
				bits = s.seen[p]
			}
			for k := int64(0); k < pi.sent; k++ {
				if s.mask&(1<<uint(k%g)) == 0 || pi.failed[k] {
					continue
				}
				v.Expected++
				if wi := int(k / 64); wi < len(bits) && bits[wi]&(1<<uint(k%64)) != 0 {
					v.Matched++
				} else {
					missing++
					if first == "" {
						first = fmt.Sprintf("stayer %d (channels %v) misses publication %d of publisher %d", s.gi, s.channels, k, p)
					}
				}
			}
		}
		for p, bits := range s.seen {
			pi, known := info[p]
			for wi, word := range bits {
				for b := 0; word != 0 && b < 64; b++ {
					if word&(1<<uint(b)) == 0 {
						continue
					}
					word &^= 1 << uint(b)
					k := int64(wi*64 + b)
					if !known || k >= pi.sent || s.mask&(1<<uint(k%g)) == 0 {
						v.Unexpected++
					}
				}
			}
		}
		s.mu.Unlock()
		if missing > 0 {
			v.Missing += missing
			v.MissingStayers++
			if v.FirstMissing == "" {
				v.FirstMissing = first
			}
		}
	}
	v.Dup, v.WrongRoom = w.dup.Load(), w.wrongRoom.Load()
	for i := range w.lat {
		sh := &w.lat[i]
		sh.mu.Lock()
		v.Latency.Merge(&sh.full)
		sh.mu.Unlock()
	}
	return v
}

// closeAll ends the stayers and publishers with the close handshake (2 x replyWait for all), then
// closes every socket. It returns the stayers whose handshake completed and the others.
func (w *worker) closeAll() (clean, other int) {
	if !w.closing.CompareAndSwap(false, true) {
		return 0, 0
	}
	for _, s := range w.stayers {
		s.mu.Lock()
		dropped := s.dropped
		s.mu.Unlock()
		if !dropped {
			_ = s.c.WriteClose(1000)
		}
	}
	for _, p := range append(append([]*publisher{}, w.pubs...), w.bigs...) {
		_ = p.c.WriteClose(1000)
	}
	expired := make(chan struct{})
	timer := time.AfterFunc(2*replyWait, func() { close(expired) })
	defer timer.Stop()
	for _, s := range w.stayers {
		select {
		case <-s.done:
		case <-expired:
			s.c.Close()
			<-s.done
		}
		s.mu.Lock()
		dropped := s.dropped
		s.mu.Unlock()
		if !dropped && s.c.CloseCode() == 1000 {
			clean++
		} else if !dropped {
			other++
		}
		s.c.Close()
	}
	for _, p := range append(append([]*publisher{}, w.pubs...), w.bigs...) {
		p.c.Close()
	}
	return clean, other
}
