package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// rssKiB returns the resident set size of process pid, in KiB (/proc/PID/status VmRSS).
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// sendDeep connects to addr, sends one text message of n '[' and returns the answer.
func sendDeep(addr string, msg []byte) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if br == nil {
		br = bufio.NewReader(conn)
	}
	if _, err := conn.Write(msg); err != nil {
		return nil, err
	}
	f, err := ws.ReadFrame(br)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(f.Payload, &m)
}

// A message of 1 MiB of '[' (issue: 227 MiB of RSS kept for one such message, through the
// recursive JSON validation and the worker stacks it grew) is answered with a room-less
// error found in linear time, and 1,000 of them leave the server's memory where it was.
func TestDeepNestingCostsNoMemory(t *testing.T) {
	cmd, addr := startBinary(t, "-max-message-size", strconv.Itoa(2<<20))
	pid := cmd.Process.Pid
	msg := maskedFrame(true, ws.OpText, []byte(strings.Repeat("[", 1<<20)), true)
	check := func(m map[string]any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if field(m, "error", "id") != "network.websocket.unexpected_error" || m["status"] != float64(400) {
			t.Fatalf("answer %v", m)
		}
		if _, ok := m["room"]; ok {
			t.Fatalf("the answer is not room-less: %v", m)
		}
	}
	for range 3 { // warm the buffer pools
		check(sendDeep(addr, msg))
	}
	before := rssKiB(t, pid)
	const clients, parallel = 1000, 2
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	next := make(chan int, clients)
	for i := range clients {
		next <- i
	}
	close(next)
	for range parallel {
		wg.Go(func() {
			for range next {
				m, err := sendDeep(addr, msg)
				if err == nil && field(m, "error", "id") != "network.websocket.unexpected_error" {
					err = &json.UnsupportedValueError{Str: "unexpected answer"}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	after := rssKiB(t, pid)
	t.Logf("RSS %d KiB before, %d KiB after %d messages of 1 MiB of '['", before, after, clients)
	if after > before+16<<10 {
		t.Errorf("RSS grew by %d KiB over %d deep messages (bound 16 MiB)", after-before, clients)
	}
}
