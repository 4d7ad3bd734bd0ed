package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
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

func TestSDKServerNow(t *testing.T) {
	s := startServer(t, Config{})
	runSDK(t, s, "now.js")
}
