package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// startBinary builds the kuzzlews command and runs it on a free loopback port, as a user
// would. It returns the process and its address.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"-host", "127.0.0.1", "-port", "0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() { // keep draining the log so the server never blocks on it
				for sc.Scan() {
				}
			}()
			return cmd, m[1]
		}
	}
	t.Fatalf("kuzzlews exited before listening: %v", sc.Err())
	return nil, ""
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// The binary: each open client costs exactly one descriptor, and SIGTERM closes every
// client with 1001 and exits 0.
func TestBinaryDescriptorsAndSIGTERM(t *testing.T) {
	cmd, addr := startBinary(t)
	pid := cmd.Process.Pid
	fds0 := countFDs(t, pid)
	const n = 100
	conns := make([]*wsClient, n)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		conns[i] = &wsClient{t: t, conn: conn, br: br}
		if br == nil {
			conns[i].br = bufio.NewReader(conn)
		}
		conns[i].request(nowReq) // registered and served
	}
	if got := countFDs(t, pid) - fds0; got != n {
		t.Fatalf("server descriptors grew by %d for %d clients, want exactly %d", got, n, n)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if code := c.expectClose(); code != ws.StatusGoingAway {
			t.Fatalf("client %d: close code %d, want 1001", i, code)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kuzzlews exited with %v, want status 0", err)
	}
}

// buildBinary builds the kuzzlews command into the test's temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kuzzlews")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestBinaryHelpExitsZero(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	for _, flag := range []string{"-port", "-host", "-workers", "-max-message-size", "-idle-timeout", "-max-queued-bytes"} {
		if !regexp.MustCompile(`(?m)^\s+` + flag + `\b`).Match(out) {
			t.Errorf("-h does not document %s:\n%s", flag, out)
		}
	}
	for _, args := range [][]string{{"-no-such-flag"}, {"-port", "-1"}, {"-workers", "-3"}, {"-max-message-size", "-1"}, {"-close-timeout", "-1s"}} {
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want status 2\n%s", args, err, out)
		}
	}
}

// SIGTERM with -drain-delay: /_healthCheck answers 503 at once while clients are still
// served; a second SIGTERM during the drain exits at once with status 1.
func TestBinaryDrainThenSecondSignalExits(t *testing.T) {
	cmd, addr := startBinary(t, "-drain-delay", "10m", "-shutdown-timeout", "10m")
	c := dialAddr(t, addr)
	if m := c.request(nowReq); m["status"] != float64(200) {
		t.Fatalf("server:now: %v", m)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	eventually(t, "/_healthCheck to answer 503", func() bool {
		resp, err := hc.Get("http://" + addr + "/_healthCheck")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	})
	if m := c.request(nowReq); m["status"] != float64(200) {
		t.Fatalf("server:now while draining: %v", m)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 1)
}

// A second signal while the shutdown waits for slow clients exits at once.
func TestBinarySecondSignalDuringShutdownExits(t *testing.T) {
	cmd, addr := startBinary(t, "-shutdown-timeout", "10m")
	c := dialAddr(t, addr)
	c.request(nowReq)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The client gets 1001 and does not answer: the shutdown keeps waiting for it.
	for {
		if f := c.readFrame(); f.Header.OpCode == ws.OpClose {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 1)
}

// Bad settings from the environment or the file stop the start with status 2.
func TestBinaryBadSettingsExitTwo(t *testing.T) {
	bin := buildBinary(t)
	file := filepath.Join(t.TempDir(), "k.json")
	os.WriteFile(file, []byte(`{"prot": 1}`), 0o600)
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"-config", file}, "", `unknown key "prot"`},
		{nil, "KUZZLEWS_NOPE=1", "KUZZLEWS_NOPE"},
		{nil, "KUZZLEWS_PORT=-1", "KUZZLEWS_PORT"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), tc.env)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v %s: exit %d, output %q; want status 2 naming %s", tc.args, tc.env, cmd.ProcessState.ExitCode(), out, tc.want)
		}
	}
}

// dialAddr opens a WebSocket client to addr.
func dialAddr(t *testing.T, addr string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if br == nil {
		br = bufio.NewReader(conn)
	}
	return &wsClient{t: t, conn: conn, br: br}
}

// waitExit waits (at most 20 s) for cmd to exit with status code.
func waitExit(t *testing.T, cmd *exec.Cmd, code int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("kuzzlews did not exit after the second signal")
	}
	if got := cmd.ProcessState.ExitCode(); got != code {
		t.Fatalf("exit status %d, want %d", got, code)
	}
}
