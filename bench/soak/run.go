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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/harness"
	"github.com/kuzzlews/kuzzlews/bench/load"
)

// Sample is one reading of the server (and, during the soak, of the clients).
type Sample struct {
	// T is the time since the server started, in seconds; Phase one of baseline, ramp,
	// soak, drain, close, settle, end.
	T     float64 `json:"t"`
	Phase string  `json:"phase"`
	// From /proc/PID: VmRSS in bytes, fds, OS threads, utime+stime in ns.
	RSS     int64 `json:"rss"`
	FDs     int   `json:"fds"`
	Threads int   `json:"threads"`
	CPUNs   int64 `json:"cpuNs"`
	// Goroutines is the total of the server's pprof goroutine profile; the others come from
	// its /metrics (-1 when the scrape failed): kuzzlews_connections, kuzzlews_rooms, kuzzlews_slow_clients_closed_total,
	// kuzzlews_handler_panics_total, kuzzlews_connections_accepted_total.
	Goroutines int     `json:"goroutines"`
	Conns      int     `json:"conns"`
	Rooms      int     `json:"rooms"`
	SlowClosed int64   `json:"slowClosed"`
	Panics     int64   `json:"panics"`
	Accepted   int64   `json:"accepted"`
	Load1      float64 `json:"load1"`
	// Clients (soak phase): stayers connected, their deliveries so far, and the delivery
	// latency over the interval (ns); ClientCPUNs the workers' CPU so far.
	StayersUp   int64 `json:"stayersUp,omitempty"`
	Delivered   int64 `json:"delivered,omitempty"`
	P50         int64 `json:"p50,omitempty"`
	P99         int64 `json:"p99,omitempty"`
	Max         int64 `json:"max,omitempty"`
	ClientCPUNs int64 `json:"clientCpuNs,omitempty"`
}

// Check is one back-to-baseline comparison.
type Check struct {
	Name     string `json:"name"`
	Baseline int64  `json:"baseline"`
	Peak     int64  `json:"peak"`
	End      int64  `json:"end"`
	Limit    int64  `json:"limit"`
	OK       bool   `json:"ok"`
}

// Result is a whole soak run.
type Result struct {
	Machine harness.Machine `json:"machine"`
	Config  Config          `json:"config"`
	Roles   Roles           `json:"roles"`
	Workers int             `json:"workers"`
	// SetupMs is the time to connect every stayer and publisher; SoakMs the soak as run.
	SetupMs int64 `json:"setupMs"`
	SoakMs  int64 `json:"soakMs"`
	// Baseline is the server before any client, End after every client closed and the
	// settle; Checks compare them.
	Baseline Sample   `json:"baseline"`
	End      Sample   `json:"end"`
	SettleMs int64    `json:"settleMs"`
	Checks   []Check  `json:"checks"`
	Samples  []Sample `json:"samples"`
	// Stats are the clients' final counters; Verify the check of every stayer.
	Stats  Stats  `json:"stats"`
	Verify Verify `json:"verify"`
	// PubSent and PubFailed: publications of the main publishers, and those without a 200
	// reply (excluded from what the stayers must get).
	PubSent   int64 `json:"pubSent"`
	PubFailed int64 `json:"pubFailed"`
	// ClosedClean: stayers whose close handshake completed at the end; ClosedOther the rest.
	ClosedClean int `json:"closedClean"`
	ClosedOther int `json:"closedOther"`
	// ServerExit is how the server ended after SIGTERM ("exit status 0" expected).
	ServerExit string `json:"serverExit"`
	// Failures lists every requirement the run missed; empty means it passed.
	Failures []string `json:"failures"`
}

// Passed reports whether the run met every requirement.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// wproc is one worker process.
type wproc struct {
	name    string
	cmd     *exec.Cmd
	in      io.WriteCloser
	reports chan Report
	done    chan struct{}
	stash   []Report
}

func (p *wproc) send(c Cmd) error {
	b, _ := json.Marshal(c)
	_, err := p.in.Write(append(b, '\n'))
	return err
}

// wait returns p's next report of event within timeout (other events are kept for later).
func (p *wproc) wait(event string, timeout time.Duration) (Report, error) {
	for i, r := range p.stash {
		if r.Event == event {
			p.stash = append(p.stash[:i], p.stash[i+1:]...)
			return r, nil
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case r, ok := <-p.reports:
			if !ok {
				return Report{}, fmt.Errorf("worker %s exited while waiting for %q (see workers.log)", p.name, event)
			}
			if r.Event == event {
				return r, nil
			}
			p.stash = append(p.stash, r)
		case <-t.C:
			return Report{}, fmt.Errorf("worker %s: no %q within %v", p.name, event, timeout)
		}
	}
}

// server is the kuzzlews process under test.
type server struct {
	cmd     *exec.Cmd
	addr    string
	metrics string
	pprof   string
	done    chan struct{}
	exitErr error
	http    *http.Client
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// run is the state of one Run.
type run struct {
	cfg     Config
	res     *Result
	srv     *server
	workers []*wproc
	t0      time.Time
	tmp     string
	outDir  string
	wlog    *os.File

	wmu   sync.Mutex // serializes command rounds with the workers
	smu   sync.Mutex // guards res.Samples and phase
	phase string
	// soaking: the sampler also asks the workers for their stats.
	soaking bool
}

// Run builds the server and the worker, runs the soak of cfg, and writes soak.json,
// soak.md and soak.png into cfg.OutDir when set. The result's Failures say what was
// missed; an error means the soak could not run (build, start, setup).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	roles, _ := cfg.Roles()
	roots, err := harness.FindRoots()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kuzzlews-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	outDir := cfg.OutDir
	if outDir == "" {
		outDir = tmp
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, tmp: tmp, outDir: outDir,
		res: &Result{Machine: harness.DescribeMachine(roots.Repo, cfg.CommandLine), Config: cfg, Roles: roles}}
	bin := cfg.KuzzlewsBin
	if bin == "" {
		if !harness.RootHasMain(roots.Repo) {
			return nil, errors.New("soak: the repository root is not a main package and no kuzzlews binary was given")
		}
		bin = filepath.Join(tmp, "kuzzlews")
		if err := goBuild(roots.Repo, ".", bin); err != nil {
			return nil, err
		}
	}
	wbin := filepath.Join(tmp, "soak")
	if err := goBuild(roots.Bench, "./cmd/soak", wbin); err != nil {
		return nil, err
	}
	r.wlog, err = os.Create(filepath.Join(outDir, "workers.log"))
	if err != nil {
		return nil, err
	}
	defer r.wlog.Close()
	if err := r.startServer(bin); err != nil {
		return nil, err
	}
	defer r.stopServer()
	defer r.quitWorkers()
	err = r.soak(ctx, wbin, roles)
	r.quitWorkers()
	r.stopServer()
	r.res.Machine.LoadAfter = harness.LoadAvg()
	if err != nil {
		r.fail("run: %v", err)
	} else {
		r.judge()
	}
	if cfg.OutDir != "" {
		if werr := WriteReports(r.res, cfg.OutDir); werr != nil {
			return r.res, werr
		}
	}
	return r.res, err
}

func goBuild(dir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (r *run) startServer(bin string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	maddr, err := freeAddr()
	if err != nil {
		return err
	}
	paddr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-host", "127.0.0.1", "-port", port, "-metrics", maddr, "-pprof", paddr}, r.cfg.KuzzlewsArgs...)
	cmd := exec.Command(bin, args...)
	lf, err := os.Create(filepath.Join(r.outDir, "server-soak.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start kuzzlews: %w", err)
	}
	s := &server{cmd: cmd, addr: addr, metrics: maddr, pprof: paddr, done: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	go func() { s.exitErr = cmd.Wait(); lf.Close(); close(s.done) }()
	r.srv, r.t0 = s, time.Now()
	r.cfg.logf("kuzzlews pid %d on %s (metrics %s, pprof %s): %s", cmd.Process.Pid, addr, maddr, paddr, strings.Join(args, " "))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("kuzzlews exited at start: %v (see server-soak.log)", s.exitErr)
		}
		if _, err := r.scrape(); err == nil {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("kuzzlews not ready within 30 s")
}

// stopServer sends SIGTERM and waits (the server drains within its -shutdown-timeout).
func (r *run) stopServer() {
	s := r.srv
	if s == nil || r.res.ServerExit != "" {
		return
	}
	if s.alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	r.res.ServerExit = "exit status 0"
	if s.exitErr != nil {
		r.res.ServerExit = s.exitErr.Error()
	}
}

// metricsOf are the un-labelled series read from /metrics.
type metricsOf map[string]float64

// scrape reads the server's Prometheus text exposition (version 0.0.4: one "name value"
// line per un-labelled sample, # for comments).
func (r *run) scrape() (metricsOf, error) {
	resp, err := r.srv.http.Get("http://" + r.srv.metrics + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	m := metricsOf{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			m[name] = v
		}
	}
	return m, sc.Err()
}

// forceGC asks pprof for a heap profile after a GC (gc=1).
func (r *run) forceGC() {
	resp, err := r.srv.http.Get("http://" + r.srv.pprof + "/debug/pprof/heap?gc=1")
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// goroutines returns the "total" of the server's goroutine profile, -1 when unreadable.
// It is steadier than the metrics' go_goroutines, which also counts the goroutines of HTTP
// connections that are still closing.
func (r *run) goroutines() int {
	resp, err := r.srv.http.Get("http://" + r.srv.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n') // "goroutine profile: total 12"
	n, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]))
	_, _ = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return -1
	}
	return n
}

// dumpGoroutines writes the server's goroutine profile (debug=1: one entry per distinct
// stack, with its count) to the output directory as goroutines-<name>.txt.
func (r *run) dumpGoroutines(name string) {
	resp, err := r.srv.http.Get("http://" + r.srv.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		r.cfg.logf("goroutine dump: %v", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(r.outDir, "goroutines-"+name+".txt"))
	if err != nil {
		return
	}
	_, _ = io.Copy(f, resp.Body)
	f.Close()
}

// sample reads the server: /proc first, then /metrics (whose scrape connection would
// otherwise be counted in the fds).
func (r *run) sample() (Sample, error) {
	s := Sample{T: time.Since(r.t0).Seconds(), Goroutines: -1, Conns: -1, Rooms: -1, SlowClosed: -1, Panics: -1, Accepted: -1}
	r.smu.Lock()
	s.Phase = r.phase
	r.smu.Unlock()
	p, err := harness.ReadProc(r.srv.cmd.Process.Pid)
	if err != nil {
		return s, err
	}
	s.RSS, s.FDs, s.Threads, s.CPUNs = p.RSS, p.FDs, p.Threads, p.CPUNs
	s.Goroutines = r.goroutines()
	if m, err := r.scrape(); err == nil {
		s.Conns, s.Rooms = int(m["kuzzlews_connections"]), int(m["kuzzlews_rooms"])
		s.SlowClosed, s.Panics = int64(m["kuzzlews_slow_clients_closed_total"]), int64(m["kuzzlews_handler_panics_total"])
		s.Accepted = int64(m["kuzzlews_connections_accepted_total"])
	}
	if f := strings.Fields(harness.LoadAvg()); len(f) > 0 {
		s.Load1, _ = strconv.ParseFloat(f[0], 64)
	}
	return s, nil
}

func (r *run) setPhase(p string) {
	r.smu.Lock()
	r.phase = p
	r.smu.Unlock()
	r.cfg.logf("phase %s", p)
}

// record takes a sample (and the workers' stats while soaking) and appends it.
func (r *run) record() (Sample, error) {
	s, err := r.sample()
	if err != nil {
		return s, err
	}
	r.smu.Lock()
	soaking := r.soaking
	r.smu.Unlock()
	if soaking {
		if st, cpu, err := r.stats(); err == nil {
			s.StayersUp, s.Delivered, s.ClientCPUNs = st.StayersUp, st.Delivered, cpu
			s.P50, s.P99, s.Max = st.Latency.Quantile(0.5), st.Latency.Quantile(0.99), st.Latency.Max
		} else {
			r.cfg.logf("stats: %v", err)
		}
	}
	r.smu.Lock()
	r.res.Samples = append(r.res.Samples, s)
	r.smu.Unlock()
	return s, nil
}

// sampler records every interval until stop is closed.
func (r *run) sampler(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s, err := r.record()
			if err != nil {
				r.cfg.logf("sample: %v", err)
				continue
			}
			extra := ""
			if s.StayersUp > 0 {
				extra = fmt.Sprintf(", stayers %d, delivered %d, p99 %.1f ms", s.StayersUp, s.Delivered, float64(s.P99)/1e6)
			}
			r.cfg.logf("  %5.0fs %-8s RSS %6.1f MiB, fds %5d, goroutines %4d, conns %5d, rooms %4d, load %.1f%s",
				s.T, s.Phase, float64(s.RSS)/(1<<20), s.FDs, s.Goroutines, s.Conns, s.Rooms, s.Load1, extra)
		}
	}
}

// round sends c to every worker and waits for event from each.
func (r *run) round(c Cmd, event string, timeout time.Duration) ([]Report, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	for _, p := range r.workers {
		if err := p.send(c); err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return r.waitAll(event, timeout)
}

// collect waits for event from every worker, sending nothing.
func (r *run) collect(event string, timeout time.Duration) ([]Report, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return r.waitAll(event, timeout)
}

// waitAll waits for event from every worker; r.wmu must be held.
func (r *run) waitAll(event string, timeout time.Duration) ([]Report, error) {
	out := make([]Report, 0, len(r.workers))
	for _, p := range r.workers {
		rep, err := p.wait(event, timeout)
		if err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// stats merges the workers' stats and their CPU.
func (r *run) stats() (*Stats, int64, error) {
	reps, err := r.round(Cmd{Cmd: "stats"}, "stats", 60*time.Second)
	if err != nil {
		return nil, 0, err
	}
	s := &Stats{}
	var cpu int64
	for _, rep := range reps {
		if rep.Stats != nil {
			s.Add(rep.Stats)
		}
		cpu += rep.CPUNs
	}
	return s, cpu, nil
}

// srcAddr returns the i-th client source address of this run: 127.77.x.y, from a base drawn
// per run so that a run right after another does not meet its TIME_WAIT ports.
func srcAddr(base, i int) string {
	j := base + i
	return fmt.Sprintf("127.77.%d.%d", (j/250)%250, j%250+1)
}

// plans splits the roles over worker processes: stayers PerWorker at most each, and one
// worker for the publishers, churners, slow readers, non-readers and malformed slots.
func (r *run) plans(roles Roles) []Plan {
	c := r.cfg
	k := (roles.Stayers + c.PerWorker - 1) / c.PerWorker
	base := rand.IntN(40000)
	src := 0
	next := func(n int) []string {
		var out []string
		for range n {
			out = append(out, srcAddr(base, src))
			src++
		}
		return out
	}
	life := (c.Duration + c.Grace + c.Settle + 30*time.Minute).Milliseconds()
	common := Plan{Addr: r.srv.addr, MaxLifeMs: life, Seed: c.Seed, Groups: c.Groups, PingEveryMs: c.PingEvery.Milliseconds(),
		TwoGroupsEvery: c.TwoGroupsEvery}
	var plans []Plan
	first := 0
	for i := range k {
		p := common
		p.Name = "st" + strconv.Itoa(i)
		p.Stayers = roles.Stayers / k
		if i < roles.Stayers%k {
			p.Stayers++
		}
		p.StayerFirst = first
		first += p.Stayers
		p.Srcs = next(2)
		p.Par = max(c.DialInFlight/(k+1), 1)
		plans = append(plans, p)
	}
	m := common
	m.Name = "mix"
	m.Srcs = next(16)
	m.Par = max(c.DialInFlight/(k+1), 1)
	m.Pubs, m.PubRate, m.Pad = roles.Pubs, c.PubRate/float64(roles.Pubs), c.Pad
	m.BigPubs, m.BigRate, m.BigSize = roles.BigPubs, c.BigRate, c.BigSize
	m.Churn, m.ChurnHoldMinMs, m.ChurnHoldMaxMs = roles.Churn, c.ChurnHoldMin.Milliseconds(), c.ChurnHoldMax.Milliseconds()
	m.Slow, m.SlowReadMs, m.NonRead, m.NonReadHoldMs, m.RcvBuf = roles.Slow, c.SlowRead.Milliseconds(), roles.NonRead, c.NonReadHold.Milliseconds(), c.RcvBuf
	m.Malformed, m.MalformedPauseMs = roles.Malformed, c.MalformedPause.Milliseconds()
	return append(plans, m)
}

func (r *run) startWorker(bin string, plan Plan) (*wproc, error) {
	cmd := exec.Command(bin, "-worker")
	cmd.Stderr = r.wlog
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	p := &wproc{name: plan.Name, cmd: cmd, in: in, reports: make(chan Report, 16), done: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(p.reports)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		for sc.Scan() {
			var rep Report
			if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
				r.cfg.logf("worker %s: bad report: %v", p.name, err)
				continue
			}
			p.reports <- rep
		}
	}()
	go func() { <-read; _ = cmd.Wait(); close(p.done) }()
	if err := p.send(Cmd{Cmd: "plan", Plan: &plan}); err != nil {
		return p, err
	}
	return p, nil
}

// quitWorkers asks every worker to quit and kills those still there after 20 s.
func (r *run) quitWorkers() {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	for _, p := range r.workers {
		_ = p.send(Cmd{Cmd: "quit"})
		p.in.Close()
	}
	expired := make(chan struct{})
	t := time.AfterFunc(20*time.Second, func() { close(expired) })
	defer t.Stop()
	for _, p := range r.workers {
		select {
		case <-p.done:
		case <-expired:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	r.workers = nil
}

func (r *run) fail(format string, args ...any) {
	r.res.Failures = append(r.res.Failures, fmt.Sprintf(format, args...))
}

// soak runs the phases: baseline, ramp, soak, drain (verify), close, settle.
func (r *run) soak(ctx context.Context, wbin string, roles Roles) error {
	c := r.cfg
	res := r.res
	r.setPhase("baseline")
	r.forceGC()
	time.Sleep(time.Second)
	for range 3 {
		s, err := r.record()
		if err != nil {
			return err
		}
		res.Baseline = s
		time.Sleep(500 * time.Millisecond)
	}
	r.dumpGoroutines("baseline")
	r.cfg.logf("baseline: RSS %.1f MiB, fds %d, goroutines %d, threads %d", float64(res.Baseline.RSS)/(1<<20), res.Baseline.FDs, res.Baseline.Goroutines, res.Baseline.Threads)
	stopSampler, samplerDone := make(chan struct{}), make(chan struct{})
	go r.sampler(stopSampler, samplerDone)
	stopped := false
	stopSampling := func() {
		if !stopped {
			stopped = true
			close(stopSampler)
			<-samplerDone
		}
	}
	defer stopSampling()

	r.setPhase("ramp")
	plans := r.plans(roles)
	res.Workers = len(plans)
	for _, pl := range plans {
		p, err := r.startWorker(wbin, pl)
		if p != nil {
			r.workers = append(r.workers, p)
		}
		if err != nil {
			return err
		}
	}
	ready, err := r.collect("ready", 10*time.Minute)
	if err != nil {
		return err
	}
	connected, failed := 0, 0
	for _, rep := range ready {
		connected += rep.Connected
		failed += rep.Failed
		res.SetupMs = max(res.SetupMs, rep.SetupMs)
		if rep.Failed > 0 {
			r.fail("setup: %s: %d connections failed: %s", rep.Worker, rep.Failed, rep.FirstErr)
		}
	}
	r.cfg.logf("ramp: %d stayers and publishers connected in %d ms (%d failed)", connected, res.SetupMs, failed)
	if failed > 0 {
		return errors.New("setup failed")
	}

	r.setPhase("soak")
	r.smu.Lock()
	r.soaking = true
	r.smu.Unlock()
	t0 := time.Now()
	if _, err := r.round(Cmd{Cmd: "start", DurationMs: c.Duration.Milliseconds()}, "start", time.Minute); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		r.fail("interrupted after %v", time.Since(t0).Round(time.Second))
	case <-time.After(c.Duration):
	case <-r.srv.done:
		r.fail("kuzzlews exited during the soak: %v", r.srv.exitErr)
	}
	res.SoakMs = time.Since(t0).Milliseconds()
	if !r.srv.alive() {
		return errors.New("kuzzlews exited")
	}

	r.setPhase("drain")
	stoppedReps, err := r.round(Cmd{Cmd: "stop"}, "stopped", 2*time.Minute)
	if err != nil {
		return err
	}
	var pubs []PubState
	for _, rep := range stoppedReps {
		for _, p := range rep.Pubs {
			pubs = append(pubs, p)
			res.PubSent += p.Sent
			res.PubFailed += int64(len(p.Failed))
		}
	}
	deadline := time.Now().Add(c.Grace)
	for {
		reps, err := r.round(Cmd{Cmd: "verify", Pubs: pubs}, "verify", 2*time.Minute)
		if err != nil {
			return err
		}
		v := Verify{}
		for _, rep := range reps {
			if rep.Verify != nil {
				v.Add(rep.Verify)
			}
		}
		res.Verify = v
		if v.Missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	st, _, err := r.stats()
	if err != nil {
		return err
	}
	r.smu.Lock()
	r.soaking = false
	r.smu.Unlock()
	res.Stats = *st
	res.Stats.Latency = load.Hist{} // the last interval's: the whole run's is res.Verify.Latency
	r.cfg.logf("verify: %d stayers stayed of %d, expected %d deliveries, matched %d, missing %d, unexpected %d, dup %d",
		res.Verify.Stayed, res.Verify.Stayers, res.Verify.Expected, res.Verify.Matched, res.Verify.Missing, res.Verify.Unexpected, res.Verify.Dup)

	r.setPhase("close")
	closed, err := r.round(Cmd{Cmd: "close"}, "close", 2*time.Minute)
	if err != nil {
		return err
	}
	for _, rep := range closed {
		res.ClosedClean += rep.ClosedClean
		res.ClosedOther += rep.ClosedOther
	}
	r.quitWorkers()

	stopSampling() // the settle samples every second itself
	r.setPhase("settle")
	t1 := time.Now()
	lastGC := time.Time{}
	for {
		if time.Since(lastGC) >= 5*time.Second {
			r.forceGC()
			lastGC = time.Now()
			time.Sleep(200 * time.Millisecond)
		}
		s, err := r.record()
		if err != nil {
			return err
		}
		res.End = s
		if r.backAtBaseline(s) || time.Since(t1) > c.Settle {
			break
		}
		time.Sleep(time.Second)
	}
	res.SettleMs = time.Since(t1).Milliseconds()
	r.dumpGoroutines("end")
	r.cfg.logf("settle: %.1f s: RSS %.1f MiB (baseline %.1f), fds %d (%d), goroutines %d (%d), conns %d, rooms %d",
		float64(res.SettleMs)/1e3, float64(res.End.RSS)/(1<<20), float64(res.Baseline.RSS)/(1<<20), res.End.FDs, res.Baseline.FDs,
		res.End.Goroutines, res.Baseline.Goroutines, res.End.Conns, res.End.Rooms)
	return nil
}

// backAtBaseline reports whether s is back at the baseline (see Config.Grace).
func (r *run) backAtBaseline(s Sample) bool {
	b := r.res.Baseline
	return s.Conns == 0 && s.Rooms == 0 && s.FDs <= b.FDs && s.Goroutines >= 0 && s.Goroutines <= b.Goroutines &&
		s.RSS <= b.RSS+r.cfg.RSSSlack
}

// judge fills Checks and Failures from the result.
func (r *run) judge() {
	res := r.res
	b, e := res.Baseline, res.End
	var peak Sample
	for _, s := range res.Samples {
		peak.RSS = max(peak.RSS, s.RSS)
		peak.FDs = max(peak.FDs, s.FDs)
		peak.Goroutines = max(peak.Goroutines, s.Goroutines)
		peak.Threads = max(peak.Threads, s.Threads)
		peak.Conns = max(peak.Conns, s.Conns)
		peak.Rooms = max(peak.Rooms, s.Rooms)
	}
	add := func(name string, base, pk, end, limit int64) {
		ok := end <= limit
		res.Checks = append(res.Checks, Check{Name: name, Baseline: base, Peak: pk, End: end, Limit: limit, OK: ok})
		if !ok {
			r.fail("not back at baseline: %s %d at the end, baseline %d, limit %d", name, end, base, limit)
		}
	}
	add("connections", 0, int64(peak.Conns), int64(e.Conns), 0)
	add("rooms", 0, int64(peak.Rooms), int64(e.Rooms), 0)
	add("fds", int64(b.FDs), int64(peak.FDs), int64(e.FDs), int64(b.FDs))
	add("goroutines", int64(b.Goroutines), int64(peak.Goroutines), int64(e.Goroutines), int64(b.Goroutines))
	add("rss_bytes", b.RSS, peak.RSS, e.RSS, b.RSS+r.cfg.RSSSlack)
	if e.Goroutines < 0 || e.Conns < 0 {
		r.fail("the server's metrics could not be read at the end")
	}
	v, st := res.Verify, res.Stats
	if v.Missing > 0 {
		r.fail("lost deliveries: %d of %d to %d stayers that stayed connected (%s)", v.Missing, v.Expected, v.MissingStayers, v.FirstMissing)
	}
	if v.Expected == 0 {
		r.fail("no delivery was expected: nothing was published")
	}
	if v.Stayed < v.Stayers {
		r.fail("stayers dropped: %d of %d connections that should have stayed ended early (close codes %v)", v.Stayers-v.Stayed, v.Stayers, st.DroppedCodes)
	}
	if v.Unexpected+v.Dup+v.WrongRoom > 0 {
		r.fail("wrong deliveries to stayers: %d unexpected, %d duplicated, %d wrong room or group", v.Unexpected, v.Dup, v.WrongRoom)
	}
	if res.PubFailed > 0 || st.PubErrors > 0 {
		r.fail("publications: %d without a 200 reply, %d publisher errors", res.PubFailed, st.PubErrors)
	}
	if st.ChurnErrors > 0 || st.ChurnWrong > 0 {
		r.fail("churn: %d failures (%s), %d wrong notifications", st.ChurnErrors, st.ChurnFirstErr, st.ChurnWrong)
	}
	if st.SlowErrors > 0 || len(st.OtherCodes) > 0 {
		r.fail("slow readers and non-readers: %d failures (%s), ends with unexpected close codes %v", st.SlowErrors, st.SlowFirstErr, st.OtherCodes)
	}
	if st.MalformedWrong > 0 {
		r.fail("malformed input: %d wrong answers (%s)", st.MalformedWrong, st.MalformedFirstWrong)
	}
	if st.MalformedOK == 0 {
		r.fail("malformed input: no case ran")
	}
	if res.ClosedOther > 0 {
		r.fail("close: %d stayers did not complete the close handshake", res.ClosedOther)
	}
	if e.Panics > 0 {
		r.fail("the server recovered %d panics", e.Panics)
	}
	if res.ServerExit != "" && res.ServerExit != "exit status 0" {
		r.fail("kuzzlews did not exit cleanly: %s", res.ServerExit)
	}
}
