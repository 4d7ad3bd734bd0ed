// Command loadgen is one client process of the benchmark. It opens -n connections to a
// loopback target, spread over the source addresses of -src, at most -par handshakes in flight,
// gives them a role (see load.Role*), then obeys load.Command lines on stdin and answers with
// load.Report lines on stdout (protocol in bench/load/wire.go). It is started by bench/harness,
// one process per at most a few thousand connections to stay under the 20,000 open files limit.
//
// Every loop is bounded: a worker exits on "quit", on stdin EOF, and after -max-life.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

type worker struct {
	name     string
	target   load.Target
	role     string
	index    string
	channels int
	first    int // global index of this worker's first connection
	trickle  time.Duration

	conns []*load.Conn
	raws  []net.Conn // slowloris connections (both kinds)

	shards [64]shard
	other  atomic.Int64
	closed atomic.Int64

	// pub replies: pmu guards pending and pubLat.
	fmu     sync.Mutex // guards fsubs during setup
	pmu     sync.Mutex
	pending map[string]int64
	pubLat  load.Hist
	replies atomic.Int64

	outMu sync.Mutex
	out   *json.Encoder

	// filtered workloads: wl (nil for the other roles), pubs the -pubs of cpub, fsubs the
	// fsub connections, seed the churn filters' seed.
	wl    *load.Workload
	pubs  int
	seed  uint64
	fsubs []*fsub
}

// fsub is one filtered subscriber: its global index, its channel and what it received.
type fsub struct {
	gi      int
	channel string
	// matches is the sorted list of pool documents its filter matches (computed at setup).
	matches []int32

	mu        sync.Mutex
	seqs      []int64
	wrongRoom int64
	other     int64
	lat       load.Hist
}

type shard struct {
	mu  sync.Mutex
	lat map[load.Key][]int64
}

func main() {
	var (
		addr    = flag.String("addr", "127.0.0.1:7513", "target host:port (127.0.0.0/8 only)")
		path    = flag.String("path", "/", "WebSocket path")
		proto   = flag.String("proto", "kuzzle", "wire protocol: kuzzle or centrifugo")
		role    = flag.String("role", load.RoleIdle, "idle, sub, nonread, slowloris, rr, pub, fsub, cpub, churn or msub")
		n       = flag.Int("n", 1, "connections")
		srcs    = flag.String("src", "127.0.0.2", "comma-separated source addresses (127.0.0.0/8)")
		par     = flag.Int("par", 500, "handshakes in flight")
		name    = flag.String("name", "w", "worker name, prefix of request ids")
		index   = flag.String("index", "bench", "index of subscriptions and publications")
		chans   = flag.Int("channels", 1, "subscribers spread over collections c0..c{channels-1}")
		first   = flag.Int("first", 0, "global index of the first connection (collection choice)")
		rcvbuf  = flag.Int("rcvbuf", 0, "SO_RCVBUF in bytes (0: kernel default; nonread uses 4096 when 0)")
		trickle = flag.Duration("trickle", time.Second, "slowloris: one byte per connection every this long")
		maxLife = flag.Duration("max-life", 15*time.Minute, "exit after this long whatever happens")
		work    = flag.String("workload", "", "fsub, cpub: workload kind, targeted or mixed")
		wsubs   = flag.Int("subs", 0, "fsub, cpub: subscribers of the workload (all workers together)")
		seed    = flag.Uint64("seed", 1, "fsub, cpub, churn: seed of the workload's filters and documents")
		pubs    = flag.Int("pubs", 1, "cpub: publishers of the run (all workers together)")
	)
	flag.Parse()
	time.AfterFunc(*maxLife, func() { log.Printf("loadgen %s: max-life reached", *name); os.Exit(3) })
	if err := checkLoopback(*addr, *srcs); err != nil {
		log.Fatal(err)
	}
	w := &worker{
		name:     *name,
		target:   load.Target{Addr: *addr, Path: *path, Proto: load.Proto(*proto), RcvBuf: *rcvbuf},
		role:     *role,
		index:    *index,
		channels: max(*chans, 1),
		first:    *first,
		trickle:  *trickle,
		pending:  make(map[string]int64),
		out:      json.NewEncoder(os.Stdout),
	}
	w.pubs, w.seed = max(*pubs, 1), *seed
	if w.role == load.RoleFSub || w.role == load.RoleCPub {
		wl, err := load.NewWorkload(*work, *wsubs, *seed)
		if err != nil {
			log.Fatalf("loadgen %s: %v", w.name, err)
		}
		w.wl = wl
	}
	if w.role == load.RoleNonRead && w.target.RcvBuf == 0 {
		w.target.RcvBuf = 4096
	}
	for i := range w.shards {
		w.shards[i].lat = make(map[load.Key][]int64)
	}
	var ips []net.IP
	for _, s := range strings.Split(*srcs, ",") {
		ips = append(ips, net.ParseIP(strings.TrimSpace(s)))
	}
	start := time.Now()
	ok, failed, firstErr := w.setup(*n, *par, ips)
	w.emit(load.Report{Event: "ready", Connected: ok, Failed: failed, FirstErr: firstErr, SetupMs: time.Since(start).Milliseconds()})
	if w.role == load.RoleSlowloris {
		go w.trickleLoop()
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var cmd load.Command
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			log.Fatalf("loadgen %s: bad command %q: %v", w.name, sc.Text(), err)
		}
		switch cmd.Cmd {
		case "start":
			go w.start(cmd) // answers when done; "collect" and "cpu" stay served meanwhile
		case "collect":
			w.collect(cmd)
		case "verify":
			w.emit(load.Report{Event: "verify", Verify: w.verify(cmd.PubSent)})
		case "cpu":
			w.emit(load.Report{Event: "cpu"})
		case "quit":
			w.shutdown()
			w.emit(load.Report{Event: "quit"})
			return
		default:
			log.Fatalf("loadgen %s: unknown command %q", w.name, cmd.Cmd)
		}
	}
	w.shutdown()
}

func checkLoopback(addr, srcs string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	for _, h := range append(strings.Split(srcs, ","), host) {
		ip := net.ParseIP(strings.TrimSpace(h))
		if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			return fmt.Errorf("loadgen: %q is not a 127.0.0.0/8 address", h)
		}
	}
	return nil
}

func cpuNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func (w *worker) emit(r load.Report) {
	r.Worker = w.name
	r.CPUNs = cpuNs()
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if err := w.out.Encode(r); err != nil {
		log.Fatalf("loadgen %s: stdout: %v", w.name, err)
	}
}

// opened is the outcome of one connection's setup: a WebSocket connection, or a raw
// slowloris connection, or an error.
type opened struct {
	c   *load.Conn
	raw net.Conn
	err error
}

// setup opens n connections, par at a time, and prepares each for the role.
func (w *worker) setup(n, par int, ips []net.IP) (ok, failed int, firstErr string) {
	idx := make(chan int)
	results := make(chan opened)
	for range max(min(par, n), 1) {
		go func() {
			for i := range idx {
				var r opened
				for try := range 3 {
					r = w.open(i, ips[i%len(ips)])
					if r.err == nil {
						break
					}
					time.Sleep(time.Duration(200*(try+1)) * time.Millisecond)
				}
				results <- r
			}
		}()
	}
	go func() {
		for i := range n {
			idx <- i
		}
		close(idx)
	}()
	w.conns = make([]*load.Conn, 0, n)
	for range n {
		r := <-results
		if r.err != nil {
			failed++
			if firstErr == "" {
				firstErr = r.err.Error()
			}
			continue
		}
		ok++
		if r.c != nil {
			w.conns = append(w.conns, r.c)
		}
		if r.raw != nil {
			w.raws = append(w.raws, r.raw)
		}
	}
	return ok, failed, firstErr
}

// open dials connection i from src and prepares it for the worker's role.
func (w *worker) open(i int, src net.IP) (r opened) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if w.role == load.RoleSlowloris && i%2 == 0 {
		nc, err := load.DialTCP(ctx, w.target, src)
		if err != nil {
			r.err = err
			return r
		}
		hs := handshake(w.target.Addr)
		if _, err := nc.Write(hs[:len(hs)/2]); err != nil {
			nc.Close()
			r.err = err
			return r
		}
		r.raw = &slow{Conn: nc, rest: hs[len(hs)/2 : len(hs)-1]}
		return r
	}
	c, err := load.Dial(ctx, w.target, src)
	if err != nil {
		r.err = err
		return r
	}
	gi := w.first + i
	coll := "c" + strconv.Itoa(gi%w.channels)
	switch w.role {
	case load.RoleSub, load.RoleNonRead:
		if _, err := c.Subscribe(w.index, coll, w.name+"-s"+strconv.Itoa(i)); err != nil {
			c.Close()
			r.err = fmt.Errorf("subscribe: %w", err)
			return r
		}
		if w.role == load.RoleNonRead {
			if _, err := c.Subscribe(w.index, load.FillCollection, w.name+"-f"+strconv.Itoa(i)); err != nil {
				c.Close()
				r.err = fmt.Errorf("subscribe %s: %w", load.FillCollection, err)
				return r
			}
		}
		if w.role == load.RoleSub {
			go w.subReader(c, &w.shards[i%len(w.shards)])
		}
	case load.RoleFSub:
		f := w.wl.Filter(gi)
		_, ch, err := c.SubscribeFilter(w.index, w.wl.Kind, f.AppendJSON(nil), w.name+"-s"+strconv.Itoa(i))
		if err != nil {
			c.Close()
			r.err = fmt.Errorf("subscribe: %w", err)
			return r
		}
		fs := &fsub{gi: gi, channel: ch}
		for m := range w.wl.PoolSize() {
			if w.wl.Matches(gi, m) {
				fs.matches = append(fs.matches, int32(m))
			}
		}
		w.fmu.Lock()
		w.fsubs = append(w.fsubs, fs)
		w.fmu.Unlock()
		go w.fsubReader(c, fs)
	case load.RoleMSub:
		// One request answered before the memory reading: what a connection's first frames
		// cost the server (buffers made on first use) is then in the baseline, not counted
		// as the subscription's.
		req, id := c.AppendRequest(nil, w.name+"-w"+strconv.Itoa(i))
		var stray int64
		err := c.WriteText(req)
		if err == nil {
			_, err = awaitReply(c, id, time.Now().Add(15*time.Second), &stray)
		}
		_ = c.NetConn().SetReadDeadline(time.Time{})
		if err != nil {
			c.Close()
			r.err = fmt.Errorf("warm-up request: %w", err)
			return r
		}
	case load.RoleCPub, load.RoleChurn:
		// read by their own loop on "start"
	case load.RoleIdle:
		go w.drain(c)
	case load.RolePub:
		go w.pubReader(c)
	case load.RoleSlowloris:
		// Half a masked text frame that announces 125 bytes.
		frame := make([]byte, 6+125)
		frame[0], frame[1] = 0x81, 0x80|125
		for j := 6; j < len(frame); j++ {
			frame[j] = 'a'
		}
		if _, err := c.NetConn().Write(frame[:16]); err != nil {
			c.Close()
			r.err = err
			return r
		}
		r.raw = &slow{Conn: c.NetConn(), rest: frame[16 : len(frame)-1]}
		return r
	}
	r.c = c
	return r
}

func handshake(host string) []byte {
	return []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
}

// slow is a slowloris connection with the bytes it still trickles (never the last one).
type slow struct {
	net.Conn
	rest []byte
	dead bool
}

func (w *worker) trickleLoop() {
	t := time.NewTicker(w.trickle)
	defer t.Stop()
	for range t.C {
		for _, rc := range w.raws {
			s := rc.(*slow)
			if s.dead || len(s.rest) == 0 {
				continue
			}
			_ = s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := s.Write(s.rest[:1]); err != nil {
				s.dead = true
				w.closed.Add(1)
				continue
			}
			s.rest = s.rest[1:]
		}
	}
}

// readEach reads c until it ends, calling fn with every protocol message and its wall-clock
// arrival time (pings are answered by c). The end of the connection is counted in w.closed.
func (w *worker) readEach(c *load.Conn, fn func(m []byte, now int64)) {
	for {
		msg, err := c.ReadMessage()
		if err != nil {
			w.closed.Add(1)
			return
		}
		now := time.Now().UnixNano()
		if err := c.Each(msg, func(m []byte) { fn(m, now) }); err != nil {
			w.closed.Add(1)
			return
		}
	}
}

// drain reads and drops everything until the connection ends.
func (w *worker) drain(c *load.Conn) {
	w.readEach(c, func([]byte, int64) { w.other.Add(1) })
}

// subReader records the latency of every document notification in sh.
func (w *worker) subReader(c *load.Conn, sh *shard) {
	w.readEach(c, func(m []byte, now int64) {
		step, seq, t, ok := load.ParseBody(m)
		if !ok {
			w.other.Add(1)
			return
		}
		k := load.Key{Step: step, Seq: seq}
		sh.mu.Lock()
		sh.lat[k] = append(sh.lat[k], now-t)
		sh.mu.Unlock()
	})
}

// pubReader matches the publisher's replies to its pending publications.
func (w *worker) pubReader(c *load.Conn) {
	w.readEach(c, func(m []byte, now int64) {
		id := c.ReplyID(m)
		w.pmu.Lock()
		defer w.pmu.Unlock()
		if t, ok := w.pending[id]; ok {
			delete(w.pending, id)
			w.pubLat.Add(now - t)
			w.replies.Add(1)
		} else {
			w.other.Add(1)
		}
	})
}

func (w *worker) collect(cmd load.Command) {
	merged := make(map[load.Key]*load.Hist)
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		for k, vals := range sh.lat {
			if !cmd.BySeq {
				k.Seq = -1
			}
			h := merged[k]
			if h == nil {
				h = &load.Hist{}
				merged[k] = h
			}
			for _, v := range vals {
				h.Add(v)
			}
		}
		if cmd.Reset {
			sh.lat = make(map[load.Key][]int64)
		}
		sh.mu.Unlock()
	}
	r := load.Report{Event: "collect", Other: w.other.Load(), Closed: w.closed.Load()}
	for k, h := range merged {
		r.Groups = append(r.Groups, load.Group{Key: k, Hist: *h})
	}
	w.emit(r)
}

func (w *worker) start(cmd load.Command) {
	switch w.role {
	case load.RoleRR:
		w.runRR(cmd)
	case load.RolePub:
		w.runPub(cmd)
	case load.RoleCPub:
		w.runClosedPub(cmd)
	case load.RoleChurn:
		w.runChurn(cmd)
	case load.RoleMSub:
		w.runMemSub(cmd)
	default:
		w.emit(load.Report{Event: "start", FirstErr: "role " + w.role + " has no start"})
	}
}

func (w *worker) runPub(cmd load.Command) {
	if len(w.conns) == 0 {
		w.emit(load.Report{Event: "start", FirstErr: "no connection"})
		return
	}
	chans := max(cmd.Channels, 1)
	total := cmd.Count
	var gap time.Duration
	if cmd.Rate > 0 {
		total = int(cmd.Rate * float64(cmd.DurationMs) / 1000)
		gap = time.Duration(float64(time.Second) / cmd.Rate)
	} else {
		gap = time.Duration(cmd.IntervalUs) * time.Microsecond
	}
	wait := replyWait(cmd, 10*time.Second)
	deadline := time.Now().Add(time.Duration(total)*gap + wait)
	var sent, errs int64
	t0 := time.Now()
	var buf, body []byte
	for i := range total {
		if d := time.Until(t0.Add(time.Duration(i) * gap)); d > 0 {
			time.Sleep(d)
		}
		if time.Now().After(deadline) {
			break
		}
		c := w.conns[i%len(w.conns)]
		now := time.Now().UnixNano()
		body = load.AppendBody(body[:0], cmd.Step, i, now, cmd.Pad)
		var id string
		coll := cmd.Collection
		if coll == "" {
			coll = "c" + strconv.Itoa(i%chans)
		}
		buf, id = c.AppendPublish(buf[:0], w.index, coll, w.name+"-p"+strconv.Itoa(cmd.Step)+"-"+strconv.Itoa(i), body)
		w.pmu.Lock()
		w.pending[id] = now
		w.pmu.Unlock()
		if err := c.WriteText(buf); err != nil {
			errs++
			continue
		}
		sent++
	}
	for time.Now().Before(deadline) && w.replies.Load() < sent {
		time.Sleep(5 * time.Millisecond)
	}
	w.pmu.Lock()
	lat := w.pubLat
	w.pubLat = load.Hist{}
	clear(w.pending)
	w.pmu.Unlock()
	r := load.Report{Event: "start", Sent: sent, Replies: w.replies.Swap(0), Errors: errs, Latency: &lat, WindowNs: time.Since(t0).Nanoseconds()}
	w.emit(r)
}

func (w *worker) runRR(cmd load.Command) {
	k := max(cmd.InFlight, 1)
	t0 := time.Now()
	from := t0.Add(time.Duration(cmd.WarmupMs) * time.Millisecond)
	to := from.Add(time.Duration(cmd.DurationMs) * time.Millisecond)
	var mu sync.Mutex
	var total load.Hist
	var done, mism, errs int64
	var wg sync.WaitGroup
	for ci, c := range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h load.Hist
			var d, mm int64
			err := rrLoop(c, w.name+"-"+strconv.Itoa(ci)+"-", k, from, to, &h, &d, &mm)
			mu.Lock()
			total.Merge(&h)
			done += d
			mism += mm
			if err != nil {
				errs++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	w.emit(load.Report{Event: "start", Done: done, WindowNs: to.Sub(from).Nanoseconds(), Mismatched: mism, Errors: errs, Latency: &total})
}

// rrLoop keeps k requests in flight on c until to, recording the latency of responses that
// arrive within [from, to) and whose id matches an outstanding request.
func rrLoop(c *load.Conn, prefix string, k int, from, to time.Time, h *load.Hist, done, mism *int64) error {
	type out struct {
		id string
		t  time.Time
	}
	pending := make([]out, 0, k)
	var buf []byte
	seq := 0
	send := func() error {
		var id string
		buf, id = c.AppendRequest(buf[:0], prefix+strconv.Itoa(seq))
		seq++
		pending = append(pending, out{id: id, t: time.Now()})
		return c.WriteText(buf)
	}
	for range k {
		if err := send(); err != nil {
			return err
		}
	}
	_ = c.NetConn().SetReadDeadline(to.Add(3 * time.Second))
	defer c.NetConn().SetReadDeadline(time.Time{})
	for len(pending) > 0 {
		msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		now := time.Now()
		var werr error
		err = c.Each(msg, func(m []byte) {
			id := c.ReplyID(m)
			j := -1
			for x := range pending {
				if pending[x].id == id {
					j = x
					break
				}
			}
			if j < 0 {
				*mism++
				return
			}
			if !now.Before(from) && now.Before(to) {
				h.Add(now.Sub(pending[j].t).Nanoseconds())
				*done++
			}
			pending = append(pending[:j], pending[j+1:]...)
			if now.Before(to) && werr == nil {
				werr = send()
			}
		})
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		// One message per connection per turn, as independent clients would: without it a
		// connection whose responses are already buffered keeps its worker's thread for a
		// whole preemption slice (10 ms) while the others' responses wait, and the latency
		// tail measures the load generator's scheduler, not the server.
		runtime.Gosched()
	}
	return nil
}

func (w *worker) shutdown() {
	for _, c := range w.conns {
		c.Close()
	}
	for _, c := range w.raws {
		c.Close()
	}
}

// fsubReader records, for every notification, its seq, whether its root room is fs's
// channel, and its latency.
func (w *worker) fsubReader(c *load.Conn, fs *fsub) {
	w.readEach(c, func(m []byte, now int64) {
		_, seq, t, ok := load.ParseBody(m)
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if !ok {
			fs.other++
			return
		}
		if gjson.GetBytes(m, "room").Str != fs.channel {
			fs.wrongRoom++
		}
		fs.seqs = append(fs.seqs, int64(seq))
		fs.lat.Add(now - t)
	})
}

// verify checks every delivery of the worker's filtered subscribers against the publications
// of pubSent (see load.Command.PubSent) and the workload's filters. It keeps what it read, so
// it may be called again while late deliveries arrive.
func (w *worker) verify(pubSent []int64) *load.Verify {
	v := &load.Verify{}
	if w.wl == nil {
		return v
	}
	n := len(pubSent)
	cnt := make([]int64, w.wl.PoolSize())
	for p, sent := range pubSent {
		for k := range sent {
			cnt[w.wl.Class(load.Seq(p, n, k))]++
		}
	}
	published := func(seq int64) bool {
		return n > 0 && seq >= 0 && seq/int64(n) < pubSent[seq%int64(n)]
	}
	for _, fs := range w.fsubs {
		v.Subs++
		for _, m := range fs.matches {
			v.Expected += cnt[m]
		}
		fs.mu.Lock()
		seqs := slices.Clone(fs.seqs)
		v.WrongRoom += fs.wrongRoom
		v.Other += fs.other
		v.Latency.Merge(&fs.lat)
		fs.mu.Unlock()
		slices.Sort(seqs)
		v.Delivered += int64(len(seqs))
		for j, seq := range seqs {
			switch {
			case j > 0 && seqs[j-1] == seq:
				v.Duplicates++
			case !published(seq):
				v.Unexpected++
			default:
				if _, ok := slices.BinarySearch(fs.matches, int32(w.wl.Class(seq))); ok {
					v.Matched++
				} else {
					v.Unexpected++
				}
			}
		}
	}
	return v
}

// awaitReply reads c until the Kuzzle response whose room is id, by deadline; every other
// frame is counted in *stray.
func awaitReply(c *load.Conn, id string, deadline time.Time, stray *int64) ([]byte, error) {
	_ = c.NetConn().SetReadDeadline(deadline)
	for {
		msg, err := c.ReadMessage()
		if err != nil {
			return nil, err
		}
		if c.ReplyID(msg) == id {
			return msg, nil
		}
		*stray++
	}
}

// replyWait is how long cmd lets a request wait for its reply: cmd.ReplyWaitMs, or def
// when that is zero.
func replyWait(cmd load.Command, def time.Duration) time.Duration {
	if cmd.ReplyWaitMs > 0 {
		return time.Duration(cmd.ReplyWaitMs) * time.Millisecond
	}
	return def
}

func replyOK(m []byte) bool { return gjson.GetBytes(m, "status").Int() == 200 }

// runClosedPub runs every publisher connection in a closed loop (one publication in flight)
// for cmd.DurationMs or cmd.Count publications, whichever ends first.
func (w *worker) runClosedPub(cmd load.Command) {
	stop := time.Now().Add(time.Duration(cmd.DurationMs) * time.Millisecond)
	wait := replyWait(cmd, 10*time.Second)
	rep := load.Report{Event: "start", PubFirst: w.first, PubSent: make([]int64, len(w.conns)), Latency: &load.Hist{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for j, c := range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := w.first + j
			var h load.Hist
			var sent, errs, unanswered, stray int64
			var buf, body []byte
			for k := int64(0); time.Now().Before(stop) && (cmd.Count <= 0 || k < int64(cmd.Count)); k++ {
				seq := load.Seq(p, w.pubs, k)
				d := w.wl.Doc(w.wl.Class(seq))
				t := time.Now()
				body = load.AppendDocBody(body[:0], cmd.Step, seq, t.UnixNano(), &d)
				var id string
				buf, id = c.AppendPublish(buf[:0], w.index, w.wl.Kind, w.name+"-p"+strconv.Itoa(j)+"-"+strconv.FormatInt(k, 10), body)
				if err := c.WriteText(buf); err != nil {
					errs++
					break
				}
				sent++
				reply, err := awaitReply(c, id, stop.Add(wait), &stray)
				if err != nil {
					unanswered++
					break
				}
				h.Add(time.Since(t).Nanoseconds())
				if !replyOK(reply) {
					errs++
				}
			}
			_ = c.NetConn().SetReadDeadline(time.Time{})
			mu.Lock()
			rep.PubSent[j] = sent
			rep.Errors += errs
			rep.Unanswered += unanswered
			rep.Stray += stray
			rep.Replies += sent - unanswered
			rep.Sent += sent
			rep.Latency.Merge(&h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.WindowNs = time.Since(t0).Nanoseconds()
	w.emit(rep)
}

// runChurn runs every churn connection in a loop of subscribe (a fresh filter) then
// unsubscribe, for cmd.DurationMs or cmd.Count cycles, whichever ends first. A cycle counts
// when both replies are 200 and carry the room: the subscribe's result.channel is
// result.roomId + "-" + a suffix, and the unsubscribe's result.roomId is that room.
func (w *worker) runChurn(cmd load.Command) {
	stop := time.Now().Add(time.Duration(cmd.DurationMs) * time.Millisecond)
	rep := load.Report{Event: "start", Latency: &load.Hist{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for j, c := range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gi := w.first + j
			var h load.Hist
			var done, errs, mism, stray int64
			var buf, fb []byte
			for k := int64(0); time.Now().Before(stop) && (cmd.Count <= 0 || k < int64(cmd.Count)); k++ {
				t := time.Now()
				f := load.ChurnFilter(w.name, gi, k, w.seed)
				fb = f.AppendJSON(fb[:0])
				id := w.name + "-c" + strconv.Itoa(j) + "-" + strconv.FormatInt(k, 10)
				buf = load.AppendSubscribe(buf[:0], w.index, load.WorkMixed, fb, id+"s")
				if err := c.WriteText(buf); err != nil {
					errs++
					break
				}
				reply, err := awaitReply(c, id+"s", stop.Add(10*time.Second), &stray)
				if err != nil {
					errs++
					break
				}
				roomID := gjson.GetBytes(reply, "result.roomId").Str
				ch := gjson.GetBytes(reply, "result.channel").Str
				if !replyOK(reply) {
					errs++
					continue
				}
				if roomID == "" || !strings.HasPrefix(ch, roomID+"-") {
					mism++
					continue
				}
				buf = load.AppendUnsubscribe(buf[:0], roomID, id+"u")
				if err := c.WriteText(buf); err != nil {
					errs++
					break
				}
				reply, err = awaitReply(c, id+"u", stop.Add(10*time.Second), &stray)
				if err != nil {
					errs++
					break
				}
				if !replyOK(reply) {
					errs++
					continue
				}
				if gjson.GetBytes(reply, "result.roomId").Str != roomID {
					mism++
					continue
				}
				done++
				h.Add(time.Since(t).Nanoseconds())
			}
			_ = c.NetConn().SetReadDeadline(time.Time{})
			mu.Lock()
			rep.Done += done
			rep.Errors += errs
			rep.Mismatched += mism
			rep.Stray += stray
			rep.Latency.Merge(&h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.WindowNs = time.Since(t0).Nanoseconds()
	w.emit(rep)
}

// runMemSub subscribes every connection to cmd.Count filters (load.MemSubFilter) on
// cmd.Collection, one request in flight per connection, then keeps reading each connection
// (pings answered, anything else dropped) until it ends. A subscription counts when its reply
// is 200 with a roomId and a channel that starts with roomId + "-".
func (w *worker) runMemSub(cmd load.Command) {
	count := max(cmd.Count, 1)
	wait := replyWait(cmd, 30*time.Second)
	rep := load.Report{Event: "start"}
	rooms := map[string]struct{}{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for j, c := range w.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gi := w.first + j
			var done, errs, mism, stray int64
			var mine []string
			var buf, fb []byte
			for k := range count {
				f := load.MemSubFilter(gi, count, k, cmd.SameFilter)
				fb = f.AppendJSON(fb[:0])
				id := w.name + "-m" + strconv.Itoa(j) + "-" + strconv.Itoa(k)
				buf = load.AppendSubscribe(buf[:0], w.index, cmd.Collection, fb, id)
				if err := c.WriteText(buf); err != nil {
					errs++
					break
				}
				reply, err := awaitReply(c, id, time.Now().Add(wait), &stray)
				if err != nil {
					errs++
					break
				}
				if !replyOK(reply) {
					errs++
					continue
				}
				roomID := gjson.GetBytes(reply, "result.roomId").Str
				if roomID == "" || !strings.HasPrefix(gjson.GetBytes(reply, "result.channel").Str, roomID+"-") {
					mism++
					continue
				}
				done++
				mine = append(mine, roomID)
			}
			_ = c.NetConn().SetReadDeadline(time.Time{})
			go w.drain(c) // no notification is due: keep answering pings, count the end
			mu.Lock()
			rep.Done += done
			rep.Errors += errs
			rep.Mismatched += mism
			rep.Stray += stray
			for _, id := range mine {
				rooms[id] = struct{}{}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.WindowNs = time.Since(t0).Nanoseconds()
	rep.Rooms = len(rooms)
	if len(rooms) <= load.MaxRoomIDs {
		for id := range rooms {
			rep.RoomIDs = append(rep.RoomIDs, id)
		}
		slices.Sort(rep.RoomIDs)
	}
	w.emit(rep)
}
