package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// Run builds what cfg needs, runs every scenario for every target in every mode, and writes the
// reports to cfg.OutDir when set. A failing scenario is recorded in TargetRun.Errors and the
// run goes on; an error is returned only when nothing can run (build failure, bad config).
func Run(ctx context.Context, cfg Config) (*Results, error) {
	roots, err := FindRoots()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kuzzlews-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	e := &env{ctx: ctx, cfg: cfg, roots: roots, tmp: tmp, bins: map[string]string{}}
	res := &Results{Machine: describeMachine(roots.Repo, cfg.CommandLine), Config: cfg}
	cfg.logf("building into %s", tmp)
	if err := e.prepare(); err != nil {
		return nil, err
	}
	logDir := tmp
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, err
		}
		logDir = cfg.OutDir
	}
	e.workerLog, err = os.Create(filepath.Join(logDir, "workers.log"))
	if err != nil {
		return nil, err
	}
	defer e.workerLog.Close()
	e.tmp, e.logDir = tmp, logDir
	for _, mode := range cfg.Modes {
		if mode != "pinned" && mode != "shared" {
			return nil, fmt.Errorf("harness: unknown mode %q", mode)
		}
		e.mode = mode
		for _, name := range cfg.Targets {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			t := e.target(name)
			if mode == "pinned" && name == "floor2" {
				continue // two writer threads on one pinned core measure nothing
			}
			cfg.logf("[%s] %s", mode, name)
			res.Runs = append(res.Runs, e.runTarget(ctx, t, logDir))
		}
	}
	res.Machine.LoadAfter = loadAvg()
	if cfg.OutDir != "" {
		if err := WriteReports(res, cfg.OutDir); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (e *env) clientProcs() string {
	if e.mode == "pinned" {
		return "1"
	}
	return "2"
}

// freePort returns a loopback port nobody listens on now (the kernel picks it), so that two
// harness runs side by side never talk to each other's servers.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts t on a fresh port, pinned to CPU 0 with GOMAXPROCS=1 in pinned mode.
func (e *env) startServer(t *target, logDir, scenario string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pp := ""
	if t.hasPprof {
		p2, err := freePort()
		if err != nil {
			return nil, err
		}
		pp = "127.0.0.1:" + strconv.Itoa(p2)
	}
	argv, dir, err := t.argv(port, pp)
	if err != nil {
		return nil, err
	}
	if e.mode == "pinned" {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if t.goRuntime {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+e.clientProcs())
	}
	lf, err := os.Create(filepath.Join(logDir, fmt.Sprintf("server-%s-%s-%s.log", e.mode, t.name, scenario)))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", t.name, err)
	}
	s := &server{name: t.name, addr: "127.0.0.1:" + strconv.Itoa(port), pprof: pp, cmd: cmd, log: lf, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); close(s.done) }()
	if err := waitListening(s); err != nil {
		s.stop()
		return nil, err
	}
	if pp != "" {
		deadline := time.Now().Add(10 * time.Second)
		for s.goroutines() < 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return s, nil
}

func (e *env) runTarget(ctx context.Context, t *target, logDir string) TargetRun {
	tr := TargetRun{Mode: e.mode, Target: t.name}
	for _, sc := range e.cfg.Scenarios {
		if !t.runs(sc) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		srv, err := e.startServer(t, logDir, sc)
		if err != nil {
			tr.Errors = append(tr.Errors, sc+": "+err.Error())
			continue
		}
		err = e.runScenario(t, srv, sc, &tr)
		if err == nil && !srv.alive() {
			err = errors.New("server exited during the scenario")
		}
		srv.stop()
		if err != nil {
			tr.Errors = append(tr.Errors, sc+": "+err.Error())
			e.cfg.logf("  %s %s: ERROR %v", t.name, sc, err)
		}
	}
	return tr
}

func (e *env) runScenario(t *target, srv *server, sc string, tr *TargetRun) error {
	switch sc {
	case "idle":
		r, err := e.idle(t, srv)
		tr.Idle = r
		return err
	case "fanout":
		for _, s := range e.cfg.FanoutSubs {
			if err := e.ctx.Err(); err != nil {
				return err
			}
			r, err := e.fanout(t, srv, s, &fanoutExtra{})
			if err != nil {
				return err
			}
			tr.Fanout = append(tr.Fanout, *r)
			e.cfg.logf("  %s fanout %d: ttl median %s p99 %s, deliv p99 %s, %.2f us CPU/delivery, missing %d",
				t.name, s, ms(r.TTLMedian), ms(r.TTLP99), ms(r.DelivP99), r.CPUPerDelivNs/1e3, r.Missing)
		}
	case "rr":
		for _, c := range e.cfg.RRConns {
			for _, k := range e.cfg.RRInFlight {
				if err := e.ctx.Err(); err != nil {
					return err
				}
				r, err := e.rr(t, srv, c, k)
				if err != nil {
					return err
				}
				tr.RR = append(tr.RR, *r)
				e.cfg.logf("  %s rr %d x %d: %.0f req/s p50 %s p99 %s p99.9 %s mismatched %d",
					t.name, c, k, r.ReqPerSec, ms(r.P50), ms(r.P99), ms(r.P999), r.Mismatched)
			}
		}
	case "adversary":
		r, err := e.adversary(t, srv)
		tr.Adversary = r
		return err
	case "sustained":
		r, err := e.sustained(t, srv)
		tr.Sustained = r
		return err
	case "targeted":
		r, err := e.filtered(t, srv, load.WorkTargeted)
		tr.Targeted = r
		return err
	case "mixed":
		r, err := e.filtered(t, srv, load.WorkMixed)
		tr.Mixed = r
		return err
	case "churn":
		r, err := e.churn(t, srv)
		tr.Churn = r
		return err
	case "subsmem":
		r, err := e.subsmem(t, srv)
		tr.SubsMem = r
		return err
	default:
		return fmt.Errorf("unknown scenario %q", sc)
	}
	return nil
}

func ms(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 2, 64) + "ms" }

// slope is the least-squares slope of y against x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	if len(x) < 2 {
		return math.NaN()
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / d
}

func orMinus1(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	return v
}

func (e *env) idle(t *target, srv *server) (*IdleResult, error) {
	var crowds []*crowd
	defer func() {
		for _, c := range crowds {
			c.quit()
		}
	}()
	r := &IdleResult{}
	sample := func(n, connected int) error {
		time.Sleep(e.cfg.IdleWait)
		p, err := srv.sample()
		if err != nil {
			return err
		}
		pt := IdlePoint{Conns: n, Connected: connected, Server: p, RSSAfterGC: -1, Slab: slabBytes()}
		if srv.forceGC() {
			time.Sleep(200 * time.Millisecond)
			if q, err := readProc(srv.pid()); err == nil {
				pt.RSSAfterGC = q.RSS
			}
		}
		for _, c := range crowds {
			if err := c.send(load.Command{Cmd: "collect"}); err != nil {
				return err
			}
			reps, err := c.wait("collect", 60*time.Second)
			if err != nil {
				return err
			}
			for _, rep := range reps {
				pt.Lost += rep.Closed
			}
		}
		r.Points = append(r.Points, pt)
		e.cfg.logf("  %s idle %d: RSS %.1f MiB (after GC %.1f), fds %d, goroutines %d, threads %d, lost %d",
			t.name, connected, float64(p.RSS)/(1<<20), float64(pt.RSSAfterGC)/(1<<20), p.FDs, p.Goroutines, p.Threads, pt.Lost)
		return nil
	}
	if err := sample(0, 0); err != nil {
		return nil, err
	}
	have := 0
	for _, n := range e.cfg.IdleConns {
		if err := e.ctx.Err(); err != nil {
			return r, err
		}
		c, err := e.spawn(srv, t, load.RoleIdle, n-have, spawnOpts{})
		if err != nil {
			return r, err
		}
		crowds = append(crowds, c)
		have += c.Connected
		if c.Failed > 0 {
			return r, fmt.Errorf("idle %d: %d connections failed: %s", n, c.Failed, c.FirstErr)
		}
		if err := sample(n, have); err != nil {
			return r, err
		}
	}
	var x, rss, gc, fds, gor, slab []float64
	for _, p := range r.Points {
		x = append(x, float64(p.Connected))
		rss = append(rss, float64(p.Server.RSS))
		gc = append(gc, float64(p.RSSAfterGC))
		fds = append(fds, float64(p.Server.FDs))
		gor = append(gor, float64(p.Server.Goroutines))
		slab = append(slab, float64(p.Slab))
	}
	r.RSSPerConn = orMinus1(slope(x, rss))
	r.FDsPerConn = orMinus1(slope(x, fds))
	r.SlabPerConn = orMinus1(slope(x, slab))
	r.RSSPerConnAfterGC, r.GoroutinesPerConn = -1, -1
	if t.hasPprof {
		r.RSSPerConnAfterGC = orMinus1(slope(x, gc))
		r.GoroutinesPerConn = orMinus1(slope(x, gor))
	}
	r.ThreadsAtMax = r.Points[len(r.Points)-1].Server.Threads
	e.cfg.logf("  %s idle: %.0f B/conn RSS (%.0f after GC), %.3f fds/conn, %.3f goroutines/conn, %.0f B/conn slab",
		t.name, r.RSSPerConn, r.RSSPerConnAfterGC, r.FDsPerConn, r.GoroutinesPerConn, r.SlabPerConn)
	return r, nil
}

// fanoutExtra adds adversaries to a fan-out run.
type fanoutExtra struct {
	slowloris, nonRead, prefill int
	// filled by fanout: adversaries set up, and slowloris connections the server cut.
	slowConnected, nonReadConnected int
	slowCut                         int64
}

func quantile(v []int64, q float64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func (e *env) fanout(t *target, srv *server, subs int, x *fanoutExtra) (*FanoutResult, error) {
	sc, err := e.spawn(srv, t, load.RoleSub, subs, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer sc.quit()
	if sc.Failed > 0 {
		return nil, fmt.Errorf("fanout %d: %d subscribers failed: %s", subs, sc.Failed, sc.FirstErr)
	}
	var adv []*crowd
	defer func() {
		for _, c := range adv {
			c.quit()
		}
	}()
	if x.slowloris > 0 {
		c, err := e.spawn(srv, t, load.RoleSlowloris, x.slowloris, spawnOpts{})
		if err != nil {
			return nil, err
		}
		adv = append(adv, c)
		x.slowConnected = c.Connected
	}
	if x.nonRead > 0 {
		c, err := e.spawn(srv, t, load.RoleNonRead, x.nonRead, spawnOpts{})
		if err != nil {
			return nil, err
		}
		adv = append(adv, c)
		x.nonReadConnected = c.Connected
	}
	pc, err := e.spawn(srv, t, load.RolePub, 1, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer pc.quit()
	if pc.Connected != 1 {
		return nil, fmt.Errorf("publisher did not connect: %s", pc.FirstErr)
	}
	r := &FanoutResult{Subs: subs, Connected: sc.Connected}
	start, err := srv.sample()
	if err != nil {
		return nil, err
	}
	r.RSSBefore = start.RSS // before any filling of non-readers
	if x.prefill > 0 {
		if err := pc.send(load.Command{Cmd: "start", Count: x.prefill, IntervalUs: 1000, Step: 1, Pad: e.cfg.AdvFillPad,
			Collection: load.FillCollection, ReplyWaitMs: int(e.cfg.StallAfter / time.Millisecond)}); err != nil {
			return nil, err
		}
		reps, err := pc.wait("start", time.Duration(x.prefill)*time.Millisecond+e.cfg.StallAfter+30*time.Second)
		if err != nil {
			return nil, err
		}
		if reps[0].Replies < reps[0].Sent {
			e.cfg.logf("  %s: filling the non-readers stalled: %d of %d replies within %v", t.name, reps[0].Replies, reps[0].Sent, e.cfg.StallAfter)
			r.Stalled = true
			r.Missing = int64(e.cfg.Pubs) * int64(sc.Connected)
			if p, err := srv.sample(); err == nil {
				r.RSSAfter = p.RSS
			}
			return r, nil
		}
	}
	before, err := srv.sample()
	if err != nil {
		return nil, err
	}
	cl0 := cpuSum(sc, pc)
	t0 := time.Now()
	interval := max(e.cfg.PubInterval, time.Duration(subs)*e.cfg.PubIntervalPerSub)
	r.IntervalNs = interval.Nanoseconds()
	if err := pc.send(load.Command{Cmd: "start", Count: e.cfg.Pubs, IntervalUs: int(interval / time.Microsecond), Pad: e.cfg.Pad,
		ReplyWaitMs: int(e.cfg.StallAfter / time.Millisecond)}); err != nil {
		return nil, err
	}
	preps, err := pc.wait("start", time.Duration(e.cfg.Pubs)*interval+e.cfg.StallAfter+30*time.Second)
	if err != nil {
		return nil, err
	}
	pr := preps[0]
	r.Sent = pr.Sent
	if pr.Latency != nil {
		r.PubRTTMedian = pr.Latency.Quantile(0.5)
	}
	if pr.Replies < pr.Sent {
		e.cfg.logf("  %s: fan-out %d stalled: %d of %d replies within %v", t.name, subs, pr.Replies, pr.Sent, e.cfg.StallAfter)
		r.Stalled = true
	}
	expected := r.Sent * int64(sc.Connected)
	var perSeq map[int]*load.Hist
	for {
		time.Sleep(e.cfg.Grace)
		if err := sc.send(load.Command{Cmd: "collect", BySeq: true}); err != nil {
			return nil, err
		}
		reps, err := sc.wait("collect", 120*time.Second)
		if err != nil {
			return nil, err
		}
		perSeq = map[int]*load.Hist{}
		r.Delivered, r.SubsClosed = 0, 0
		for _, rep := range reps {
			r.SubsClosed += rep.Closed
			for _, g := range rep.Groups {
				if g.Step != 0 {
					continue
				}
				h := perSeq[g.Seq]
				if h == nil {
					h = &load.Hist{}
					perSeq[g.Seq] = h
				}
				h.Merge(&g.Hist)
				r.Delivered += int64(g.Hist.N)
			}
		}
		if r.Delivered >= expected || r.Stalled || time.Since(t0) > time.Duration(e.cfg.Pubs)*interval+e.cfg.StallAfter {
			break
		}
	}
	r.WallNs = time.Since(t0).Nanoseconds()
	after, err := srv.sample()
	if err != nil {
		return nil, err
	}
	r.RSSAfter = after.RSS
	if x.slowloris > 0 {
		sl := adv[0]
		if err := sl.send(load.Command{Cmd: "collect"}); err != nil {
			return nil, err
		}
		reps, err := sl.wait("collect", 60*time.Second)
		if err != nil {
			return nil, err
		}
		for _, rep := range reps {
			x.slowCut += rep.Closed
		}
	}
	r.ServerCPUNs = after.CPUNs - before.CPUNs
	r.ClientCPUNs = cpuSum(sc, pc) - cl0
	r.Missing = expected - r.Delivered
	if r.Delivered > 0 {
		r.CPUPerDelivNs = float64(r.ServerCPUNs) / float64(r.Delivered)
	}
	var all load.Hist
	var ttls []int64
	seqs := make([]int, 0, len(perSeq))
	for s := range perSeq {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		h := perSeq[s]
		r.PerPub = append(r.PerPub, PubStat{Seq: s, N: int64(h.N), P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.Max})
		ttls = append(ttls, h.Max)
		all.Merge(h)
	}
	r.TTLMedian = quantile(ttls, 0.5)
	r.TTLP99 = quantile(ttls, 0.99)
	r.DelivP50 = all.Quantile(0.5)
	r.DelivP99 = all.Quantile(0.99)
	if r.Delivered == 0 && !r.Stalled {
		return r, fmt.Errorf("fanout %d: no delivery at all", subs)
	}
	return r, nil
}

func (e *env) rr(t *target, srv *server, conns, inFlight int) (*RRResult, error) {
	c, err := e.spawn(srv, t, load.RoleRR, conns, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer c.quit()
	if c.Failed > 0 {
		return nil, fmt.Errorf("rr %d: %d connections failed: %s", conns, c.Failed, c.FirstErr)
	}
	r := &RRResult{Conns: conns, InFlight: inFlight, Connected: c.Connected}
	if err := c.send(load.Command{Cmd: "start", WarmupMs: int(e.cfg.RRWarmup / time.Millisecond),
		DurationMs: int(e.cfg.RRDuration / time.Millisecond), InFlight: inFlight}); err != nil {
		return nil, err
	}
	time.Sleep(e.cfg.RRWarmup)
	s0, err := srv.sample()
	if err != nil {
		return nil, err
	}
	cl0 := c.cpuNs()
	time.Sleep(e.cfg.RRDuration)
	s1, err := srv.sample()
	if err != nil {
		return nil, err
	}
	r.ClientCPUNs = c.cpuNs() - cl0
	r.ServerCPUNs = s1.CPUNs - s0.CPUNs
	reps, err := c.wait("start", e.cfg.RRDuration+60*time.Second)
	if err != nil {
		return nil, err
	}
	var h load.Hist
	for _, rep := range reps {
		r.Done += rep.Done
		r.Mismatched += rep.Mismatched
		r.Errors += rep.Errors
		r.WindowNs = max(r.WindowNs, rep.WindowNs)
		h.Merge(rep.Latency)
	}
	if r.WindowNs > 0 {
		r.ReqPerSec = float64(r.Done) / (float64(r.WindowNs) / 1e9)
	}
	if r.ServerCPUNs > 0 {
		r.ReqPerCPUSec = float64(r.Done) / (float64(r.ServerCPUNs) / 1e9)
	}
	r.P50, r.P90, r.P99, r.P999 = h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), h.Quantile(0.999)
	if r.Done == 0 {
		return r, fmt.Errorf("rr %d x %d: no response in the window", conns, inFlight)
	}
	return r, nil
}

func shift(base, v int64) float64 {
	if base <= 0 {
		return -1
	}
	return float64(v)/float64(base) - 1
}

// adversary runs the three fan-outs (alone, beside slowloris, beside non-readers)
// Config.AdvRepeat times on srv, each fan-out with its own fresh clients, and takes the
// median shift of each condition over the runs. It stops repeating after a run that stalled.
func (e *env) adversary(t *target, srv *server) (*AdvResult, error) {
	r := &AdvResult{}
	n := max(e.cfg.AdvRepeat, 1)
	var err error
	for i := range n {
		if err = e.ctx.Err(); err != nil {
			break
		}
		var run *AdvRun
		if run, err = e.adversaryRun(t, srv); err != nil {
			if n > 1 {
				err = fmt.Errorf("run %d of %d: %w", i+1, n, err)
			}
			break
		}
		r.Runs = append(r.Runs, *run)
		e.cfg.logf("  %s adversary run %d of %d: ttl median %s ms alone, %s beside %d slowloris (%s, %d cut), %s beside %d non-readers (%s); RSS %.1f -> %.1f MiB",
			t.name, i+1, n, ttlOrStall(run.Baseline), ttlOrStall(run.Slowloris), run.SlowlorisConnected, shiftText(run.Slowloris, run.SlowlorisShift), run.SlowlorisCut,
			ttlOrStall(run.NonRead), run.NonReadConnected, shiftText(run.NonRead, run.NonReadShift), float64(run.NonRead.RSSBefore)/(1<<20), float64(run.NonRead.RSSAfter)/(1<<20))
		if run.Slowloris.Stalled || run.NonRead.Stalled {
			break
		}
	}
	if len(r.Runs) == 0 {
		return nil, err
	}
	r.AdvRun = r.Runs[0]
	var sl, nr []float64
	for _, run := range r.Runs {
		sl = append(sl, run.SlowlorisShift)
		nr = append(nr, run.NonReadShift)
	}
	r.SlowlorisShift, r.NonReadShift = medianOf(sl), medianOf(nr)
	e.cfg.logf("  %s adversary: median shift over %d runs %+.0f%% beside slowloris, %+.0f%% beside non-readers (stalled: %v, %v)",
		t.name, len(r.Runs), 100*r.SlowlorisShift, 100*r.NonReadShift, r.Stalled(false), r.Stalled(true))
	return r, err // the runs done so far, with what ended the others
}

// medianOf returns the median of v, the lower middle value for an even count (0 for none).
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// adversaryRun is one run of the adversary scenario.
func (e *env) adversaryRun(t *target, srv *server) (*AdvRun, error) {
	r := &AdvRun{}
	b, err := e.fanout(t, srv, e.cfg.AdvSubs, &fanoutExtra{})
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	r.Baseline = *b
	x := fanoutExtra{slowloris: e.cfg.AdvSlowloris}
	s, err := e.fanout(t, srv, e.cfg.AdvSubs, &x)
	if err != nil {
		return nil, fmt.Errorf("slowloris: %w", err)
	}
	r.Slowloris = *s
	r.SlowlorisConnected, r.SlowlorisCut = x.slowConnected, x.slowCut
	y := fanoutExtra{nonRead: e.cfg.AdvNonRead, prefill: e.cfg.AdvPrefill}
	n, err := e.fanout(t, srv, e.cfg.AdvSubs, &y)
	if err != nil {
		return nil, fmt.Errorf("non-readers: %w", err)
	}
	r.NonRead = *n
	r.NonReadConnected = y.nonReadConnected
	r.SlowlorisShift = shift(r.Baseline.TTLMedian, r.Slowloris.TTLMedian)
	r.NonReadShift = shift(r.Baseline.TTLMedian, r.NonRead.TTLMedian)
	return r, nil
}
