package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTick = 100

// ProcSample is one reading of a process from /proc.
type ProcSample struct {
	// RSS is VmRSS in bytes; Threads the OS threads; FDs the entries of /proc/PID/fd.
	RSS     int64 `json:"rss"`
	Threads int   `json:"threads"`
	FDs     int   `json:"fds"`
	// CPUNs is utime+stime in nanoseconds (10 ms resolution).
	CPUNs int64 `json:"cpuNs"`
	// Goroutines is the goroutine count from the server's pprof, -1 when it has none.
	Goroutines int `json:"goroutines"`
}

func readProc(pid int) (ProcSample, error) {
	s := ProcSample{Goroutines: -1}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			s.RSS = kb * 1024
		case "Threads:":
			s.Threads, _ = strconv.Atoi(f[1])
		}
	}
	s.CPUNs, err = procCPU(pid)
	if err != nil {
		return s, err
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.FDs = len(ents)
	return s, nil
}

// procCPU returns utime+stime of pid in nanoseconds.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesized command name: state is field 3; utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("harness: malformed /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("harness: short /proc/PID/stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return (ut + stt) * (int64(time.Second) / clockTick), nil
}

// slabBytes returns Slab from /proc/meminfo: the kernel's object caches, socket memory included.
func slabBytes() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Slab:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// server is one running target.
type server struct {
	name  string
	addr  string // host:port of the WebSocket endpoint
	pprof string // host:port of net/http/pprof, "" when none
	cmd   *exec.Cmd
	log   *os.File
	done  chan error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// sample reads /proc and, when the server has pprof, its goroutine count.
func (s *server) sample() (ProcSample, error) {
	p, err := readProc(s.pid())
	if err != nil {
		return p, fmt.Errorf("%s: %w", s.name, err)
	}
	if s.pprof != "" {
		p.Goroutines = s.goroutines()
	}
	return p, nil
}

func (s *server) goroutines() int {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + s.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	// "goroutine profile: total 123"
	n, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]))
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return n
}

// forceGC asks the server's pprof for a heap profile after a GC (gc=1). It reports whether it could.
func (s *server) forceGC() bool {
	if s.pprof == "" {
		return false
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + s.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// heapAlloc forces a GC through the server's pprof and returns the live heap after it, in
// bytes (runtime.MemStats.HeapAlloc, the "# HeapAlloc = N" line of /debug/pprof/heap?debug=1);
// -1 when the server has no pprof or the line is missing.
func (s *server) heapAlloc() int64 {
	if s.pprof == "" {
		return -1
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + s.pprof + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	v := int64(-1)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20) // stack lines of a big profile can be long
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				v = n
			}
		}
	}
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	return v
}

// stop ends the server: SIGTERM, then SIGKILL after 3 s. Only this child is signalled.
func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.log != nil {
		s.log.Close()
	}
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// waitListening dials addr until it accepts or the server exits or 30 s pass.
func waitListening(s *server) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("%s exited before listening (log %s)", s.name, s.log.Name())
		}
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening on %s after 30 s (log %s)", s.name, s.addr, s.log.Name())
}
