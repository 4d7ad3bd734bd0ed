package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// proc is one loadgen worker process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	in      io.WriteCloser
	reports chan load.Report
	done    chan struct{}
	stash   []load.Report // reports read while waiting for another event
}

// crowd is the workers of one role in one scenario.
type crowd struct {
	role  string
	procs []*proc
	// Connected, Failed and FirstErr sum up the ready reports.
	Connected, Failed int
	FirstErr          string
	SetupMs           int64
}

// spawnOpts are the role-specific worker settings.
type spawnOpts struct {
	channels int
	rcvbuf   int
	// workload (fsub, cpub): its kind and subscriber count; pubs: the publishers of the run.
	workload string
	subs     int
	pubs     int
	// first is the global index of the first connection (its filter, or its publisher
	// number): crowds on several servers share one workload.
	first int
}

// srcAddr returns the i-th client source address, 127.1.0.1 upward: every worker of a run gets
// fresh addresses, so TIME_WAIT left by earlier scenarios never collides with new connections.
func srcAddr(i int) string {
	return fmt.Sprintf("127.%d.%d.%d", 1+i/62500, (i/250)%250, i%250+1)
}

// spawn starts enough workers for n connections of role to target t on srv and waits for
// every one to be ready.
func (e *env) spawn(srv *server, t *target, role string, n int, o spawnOpts) (*crowd, error) {
	k := max((n+e.cfg.PerWorker-1)/e.cfg.PerWorker, 1)
	par := max(e.cfg.DialInFlight/k, 1)
	c := &crowd{role: role}
	first := o.first
	for i := range k {
		share := n / k
		if i < n%k {
			share++
		}
		name := fmt.Sprintf("%s-%s-%d", t.name, role, e.nextWorker)
		e.nextWorker++
		srcs := []string{srcAddr(e.nextSrc), srcAddr(e.nextSrc + 1)}
		e.nextSrc += 2
		args := []string{
			"-addr", srv.addr, "-path", t.path, "-proto", string(t.proto), "-role", role,
			"-n", strconv.Itoa(share), "-src", strings.Join(srcs, ","), "-par", strconv.Itoa(par),
			"-name", name, "-first", strconv.Itoa(first), "-channels", strconv.Itoa(max(o.channels, 1)),
			"-rcvbuf", strconv.Itoa(o.rcvbuf), "-max-life", "30m",
			"-seed", strconv.FormatUint(e.cfg.seed(), 10), "-pubs", strconv.Itoa(max(o.pubs, 1)),
		}
		if o.workload != "" {
			args = append(args, "-workload", o.workload, "-subs", strconv.Itoa(o.subs))
		}
		first += share
		p, err := e.startProc(name, args)
		if err != nil {
			c.quit()
			return nil, err
		}
		c.procs = append(c.procs, p)
	}
	reps, err := c.wait("ready", 180*time.Second)
	if err != nil {
		c.quit()
		return nil, err
	}
	for _, r := range reps {
		c.Connected += r.Connected
		c.Failed += r.Failed
		c.SetupMs = max(c.SetupMs, r.SetupMs)
		if c.FirstErr == "" {
			c.FirstErr = r.FirstErr
		}
	}
	e.cfg.logf("    %s: %d %s connections ready in %d ms (%d failed %s)", t.name, c.Connected, role, c.SetupMs, c.Failed, c.FirstErr)
	return c, nil
}

func (e *env) startProc(name string, args []string) (*proc, error) {
	argv := append([]string{e.bins["loadgen"]}, args...)
	if e.mode == "pinned" {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+e.clientProcs())
	cmd.Stderr = e.workerLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start loadgen: %w", err)
	}
	p := &proc{name: name, cmd: cmd, in: in, reports: make(chan load.Report, 16), done: make(chan struct{})}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(p.reports)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 512<<20)
		for sc.Scan() {
			var r load.Report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				e.cfg.logf("    %s: bad report: %v", name, err)
				continue
			}
			p.reports <- r
		}
	}()
	go func() {
		<-readerDone // Wait closes stdout: read it to the end first
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// send writes cmd to every worker.
func (c *crowd) send(cmd load.Command) error {
	b, _ := json.Marshal(cmd)
	b = append(b, '\n')
	for _, p := range c.procs {
		if _, err := p.in.Write(b); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// wait returns one report with Event == event from every worker, within timeout.
func (c *crowd) wait(event string, timeout time.Duration) ([]load.Report, error) {
	deadline := time.After(timeout)
	out := make([]load.Report, 0, len(c.procs))
	for _, p := range c.procs {
		found := false
		for i, r := range p.stash {
			if r.Event == event {
				out = append(out, r)
				p.stash = append(p.stash[:i], p.stash[i+1:]...)
				found = true
				break
			}
		}
		for !found {
			select {
			case r, ok := <-p.reports:
				if !ok {
					return nil, fmt.Errorf("worker %s exited while waiting for %q (see workers.log)", p.name, event)
				}
				if r.Event == event {
					out = append(out, r)
					found = true
				} else {
					p.stash = append(p.stash, r)
				}
			case <-deadline:
				return nil, fmt.Errorf("worker %s: no %q report within %v", p.name, event, timeout)
			}
		}
	}
	return out, nil
}

// cpuNs returns the summed utime+stime of the workers, from /proc.
func (c *crowd) cpuNs() int64 {
	var t int64
	for _, p := range c.procs {
		if v, err := procCPU(p.cmd.Process.Pid); err == nil {
			t += v
		}
	}
	return t
}

// quit asks every worker to quit and kills those still running after 10 s.
func (c *crowd) quit() {
	if c == nil {
		return
	}
	_ = c.send(load.Command{Cmd: "quit"})
	for _, p := range c.procs {
		p.in.Close()
	}
	deadline := time.After(10 * time.Second)
	for _, p := range c.procs {
		select {
		case <-p.done:
		case <-deadline:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func cpuSum(cs ...*crowd) int64 {
	var t int64
	for _, c := range cs {
		if c != nil {
			t += c.cpuNs()
		}
	}
	return t
}
