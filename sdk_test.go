package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/netpoll"
)

// sdkDir holds the Node.js scenarios that drive the official Kuzzle JavaScript SDK.
const sdkDir = "testdata/sdk"

var npmOnce struct {
	sync.Once
	err error
	out []byte
}

// requireSDK makes sure Node.js is there and the SDK is installed (npm ci, from the
// committed lockfile). A missing Node.js fails the test with a clear message.
func requireSDK(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH: the SDK tests need Node.js >= 18 and npm", tool)
		}
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", "kuzzle-sdk", "package.json")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = sdkDir
		npmOnce.out, npmOnce.err = cmd.CombinedOutput()
	})
	if npmOnce.err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", sdkDir, npmOnce.err, npmOnce.out)
	}
}

// runSDK runs a scenario script against s and fails the test with its output if it fails.
func runSDK(t *testing.T, s *Server, script string, env ...string) []byte {
	t.Helper()
	requireSDK(t)
	cmd := exec.Command("node", script)
	cmd.Dir = sdkDir
	port := strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	cmd.Env = append(append(os.Environ(), "KUZZLEWS_PORT="+port), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("node %s did not finish in 60 s\nstdout:\n%s\nstderr:\n%s", script, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// runSDKInteractive runs a scenario that may print "DROP" on a line of its own: the
// server then closes every connection with 1011 (as Kuzzle does when it drops a client)
// and the script is told on stdin.
func runSDKInteractive(t *testing.T, s *Server, script string) string {
	t.Helper()
	requireSDK(t)
	cmd := exec.Command("node", script)
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(), "KUZZLEWS_PORT="+strconv.Itoa(s.Addr().(*net.TCPAddr).Port))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(90*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if line == "DROP" {
			s.poll.ForEach(func(c *netpoll.Conn) { c.Close(frame.Close(ws.StatusInternalServerError, "dropped by test")) })
			io.WriteString(stdin, "dropped\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, out.String(), stderr.Bytes())
	}
	return out.String()
}

func TestSDKRealtime(t *testing.T) {
	s := startServer(t, Config{})
	out := runSDKInteractive(t, s, "realtime.js")
	t.Logf("SDK scenario:\n%s", out)
	eventually(t, "rooms to be freed", func() bool { return s.rooms.Rooms() == 0 })
}

func TestSDKServerNow(t *testing.T) {
	s := startServer(t, Config{})
	runSDK(t, s, "now.js")
}

// The SDK's Http protocol and a curl-equivalent request both publish over plain HTTP on
// the WebSocket port; a WebSocket subscriber receives both notifications.
func TestSDKHttpProtocol(t *testing.T) {
	s := startServer(t, Config{})
	sub := subscribeWS(t, s, "shop", "orders", `{"range":{"total":{"gte":100}}}`)

	// curl -X POST :port/shop/orders/_publish -H 'Content-Type: application/json' -d '{"total":250,"via":"curl"}'
	resp, err := http.Post(baseURL(s)+"/shop/orders/_publish", "application/json", strings.NewReader(`{"total":250,"via":"curl"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("curl-equivalent publish: %d", resp.StatusCode)
	}
	out := runSDK(t, s, "http.js", "KUZZLEWS_VERSION=kuzzlews "+version)
	t.Logf("SDK Http scenario:\n%s", out)

	for _, want := range []struct{ via, who string }{{"curl", ""}, {"sdk-http", "http.js"}} {
		n := sub.readJSON()
		if field(n, "result", "_source", "via") != want.via || n["action"] != "publish" {
			t.Fatalf("notification %v, want the %s publication", n, want.via)
		}
		if want.who != "" && (field(n, "volatile", "who") != want.who || field(n, "volatile", "sdkName") == nil) {
			t.Fatalf("notification volatile %v, want the SDK's", n["volatile"])
		}
	}
	if st := s.poll.Stats(); st.Detached == 0 {
		t.Fatal("no connection was handed to the HTTP server")
	}
}
