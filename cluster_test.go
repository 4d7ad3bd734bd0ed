package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/kuzzlews/kuzzlews/room/cluster"
	"github.com/kuzzlews/kuzzlews/room/cluster/natstest"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/tidwall/gjson"
)

// startNATS starts an embedded nats-server for the test (package natstest).
func startNATS(t *testing.T, mod func(*natsserver.Options)) *natstest.Server {
	t.Helper()
	return natstest.Start(t, mod)
}

// startNode starts a server that joins the cluster on url as node id, with heartbeats
// short enough for tests.
func startNode(t *testing.T, url, id string) *Server {
	t.Helper()
	return startServer(t, Config{Node: id, Cluster: cluster.Config{URLs: url, HeartbeatInterval: 50 * time.Millisecond, GatherTimeout: 2 * time.Second}})
}

// waitNodes waits until every server sees all of them as live nodes.
func waitNodes(t *testing.T, servers ...*Server) {
	t.Helper()
	eventually(t, "the nodes to see each other", func() bool {
		for _, s := range servers {
			if st, ok := s.ClusterStatus(); !ok || len(st.Nodes) != len(servers) {
				return false
			}
		}
		return true
	})
}

func port(s *Server) string { return strconv.Itoa(s.Addr().(*net.TCPAddr).Port) }

// The official SDK on node A gets what the SDK publishes on node B: filters, volatile,
// scope, users, the same roomId, cluster-wide count and list, join of a remote room.
func TestClusterSDKAcrossNodes(t *testing.T) {
	ns := startNATS(t, nil)
	a := startNode(t, ns.URL(), "knode-a")
	b := startNode(t, ns.URL(), "knode-b")
	waitNodes(t, a, b)
	out := runSDK(t, a, "cluster.js", "KUZZLEWS_PORT_B="+port(b))
	t.Logf("SDK scenario:\n%s", out)
	eventually(t, "rooms to be freed", func() bool { return a.rooms.Rooms() == 0 && b.rooms.Rooms() == 0 })
}

// dialAddr opens a raw-frame WebSocket client to addr; it reports errors instead of
// failing, for use from several goroutines.
func dialWSAddr(addr string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	return &wsClient{conn: conn, br: br}, nil
}

// frameJSON reads one text frame and decodes it, without a testing.T.
func (c *wsClient) frameJSON() (map[string]any, error) {
	f, err := ws.ReadFrame(c.br)
	if err != nil {
		return nil, err
	}
	if f.Header.OpCode != ws.OpText {
		return nil, fmt.Errorf("opcode %v: %q", f.Header.OpCode, f.Payload)
	}
	var m map[string]any
	return m, json.Unmarshal(f.Payload, &m)
}

func (c *wsClient) send(s string) error {
	_, err := c.conn.Write(maskedFrame(true, ws.OpText, []byte(s), true))
	return err
}

// 3 nodes x 2,000 raw WebSocket subscribers (4 rooms per node), one publication from
// each node: every subscriber gets each publication once. Then each node publishes a
// marker: NATS keeps one publisher's order, so a duplicate of a first-round publication
// would arrive before its node's marker.
func TestClusterFanout3Nodes2000Subscribers(t *testing.T) {
	const perNode = 2000
	ns := startNATS(t, nil)
	servers := []*Server{startNode(t, ns.URL(), "knode-0"), startNode(t, ns.URL(), "knode-1"), startNode(t, ns.URL(), "knode-2")}
	waitNodes(t, servers...)
	filters := []string{`{}`, `{"exists":"n"}`, `{"range":{"n":{"gte":0}}}`, `{"equals":{"kind":"x"}}`}
	clients := make([]*wsClient, 0, 3*perNode)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for si, s := range servers {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < perNode; i += 4 {
					c, err := dialWSAddr(s.Addr().String())
					if err != nil {
						errs <- fmt.Errorf("node %d client %d: %w", si, i, err)
						return
					}
					mu.Lock()
					clients = append(clients, c)
					mu.Unlock()
					if err := c.send(`{"controller":"realtime","action":"subscribe","index":"big","collection":"fan","requestId":"s","body":` + filters[i%4] + `}`); err != nil {
						errs <- err
						return
					}
					if m, err := c.frameJSON(); err != nil || m["status"] != float64(200) {
						errs <- fmt.Errorf("node %d client %d subscribe: %v %v", si, i, m, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			c.conn.Close()
		}
	})
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	publish := func(n int) {
		for si, s := range servers {
			pub := dialWS(t, s)
			r := pub.request(`{"controller":"realtime","action":"publish","index":"big","collection":"fan","requestId":"p","body":{"kind":"x","n":` + strconv.Itoa(n+si) + `}}`)
			if r["status"] != float64(200) {
				t.Fatalf("publish on node %d: %v", si, r)
			}
			pub.conn.Close()
		}
	}
	// check reads c's notifications until it has each of want, failing on a repeat or
	// on one of the first round (n < 10) during the second.
	check := func(c *wsClient, want []int) error {
		seen := map[int]int{}
		for len(seen) < len(want) {
			m, err := c.frameJSON()
			if err != nil {
				return err
			}
			n, _ := field(m, "result", "_source", "n").(float64)
			if seen[int(n)]++; seen[int(n)] > 1 || (want[0] >= 10 && n < 10) {
				return fmt.Errorf("publication n=%v delivered twice", n)
			}
		}
		for _, n := range want {
			if seen[n] != 1 {
				return fmt.Errorf("got %v, want each of %v once", seen, want)
			}
		}
		return nil
	}
	readAll := func(want []int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(clients); i += 8 {
					if err := check(clients[i], want); err != nil {
						errs <- fmt.Errorf("client %d: %w", i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	publish(0)
	readAll([]int{0, 1, 2})
	publish(10)
	readAll([]int{10, 11, 12})
	for _, s := range servers {
		if st, _ := s.ClusterStatus(); st.NotSent != 0 || st.SlowConsumer != 0 || st.Malformed != 0 {
			t.Errorf("%s: %+v", st.Node, st)
		}
	}
}

// logBuffer collects a process's stderr, safe for concurrent reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runNode runs the kuzzlews binary bin on a free loopback port with args and returns it,
// its address and its log.
func runNode(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *logBuffer) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-host", "127.0.0.1", "-port", "0"}, args...)...)
	logs := &logBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	var addr string
	eventually(t, "the node to listen", func() bool {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	})
	return cmd, addr, logs
}

// Built binaries on a NATS that wants a password: a second node with a taken -node is
// refused (exit 1, clear error); a node killed with SIGKILL takes its clients'
// subscriptions out of the counts at once and out of the live nodes within a few
// heartbeats; no log shows the password.
func TestClusterBinaryNodes(t *testing.T) {
	ns := startNATS(t, func(o *natsserver.Options) { o.Username, o.Password = "kz", "s3cret" })
	url := "nats://kz:s3cret@127.0.0.1:" + strconv.Itoa(ns.Port())
	bin := buildBinary(t)
	_, addrA, logA := runNode(t, bin, "-nats", url, "-node", "knode-a")
	b, addrB, logB := runNode(t, bin, "-nats", url, "-node", "knode-b")

	dup := exec.Command(bin, "-host", "127.0.0.1", "-port", "0", "-nats", url, "-node", "knode-a")
	out, err := dup.CombinedOutput()
	if dup.ProcessState == nil || dup.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "node id already in use") {
		t.Errorf("a second knode-a: %v\n%s", err, out)
	}

	dial := func(addr string) *wsClient {
		c, err := dialWSAddr(addr)
		if err != nil {
			t.Fatal(err)
		}
		c.t = t
		t.Cleanup(func() { c.conn.Close() })
		return c
	}
	sub := `{"controller":"realtime","action":"subscribe","index":"idx","collection":"col","body":{}}`
	onA := dial(addrA)
	roomID := gjson.Get(mustJSON(t, onA.request(sub)), "result.roomId").Str
	for range 3 {
		dial(addrB).request(sub)
	}
	count := func() int {
		m := onA.request(`{"controller":"realtime","action":"count","body":{"roomId":"` + roomID + `"}}`)
		n, _ := field(m, "result", "count").(float64)
		return int(n)
	}
	eventually(t, "the cluster-wide count to reach 4", func() bool { return count() == 4 })
	if m := onA.request(`{"controller":"server","action":"healthCheck"}`); field(m, "result", "services", "cluster") != "green" {
		t.Errorf("healthCheck: %v", m)
	}

	if err := b.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.Wait()
	eventually(t, "B's subscribers to leave the count", func() bool { return count() == 1 })
	eventually(t, "A to age B out", func() bool { return strings.Contains(logA.String(), "no longer counted") })
	for name, l := range map[string]string{"A": logA.String(), "B": logB.String(), "duplicate": string(out)} {
		if strings.Contains(l, "s3cret") {
			t.Errorf("%s's log shows the NATS password:\n%s", name, l)
		}
	}
}

func mustJSON(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// healthCheck and metrics follow the NATS link; a node keeps serving its own clients
// while NATS is down.
func TestClusterHealthWhileNATSDown(t *testing.T) {
	ns := startNATS(t, nil)
	a := startNode(t, ns.URL(), "knode-a")
	c := dialWS(t, a)
	health := func() any {
		return field(c.request(`{"controller":"server","action":"healthCheck"}`), "result")
	}
	want := map[string]any{"services": map[string]any{"cluster": "green"}, "status": "green"}
	if got := health(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("healthCheck = %v", got)
	}
	if v, ok := metricValue(t, a, "kuzzlews_cluster_connected", nil); !ok || v != 1 {
		t.Error("kuzzlews_cluster_connected is not 1")
	}
	ns.Stop()
	eventually(t, "the node to see NATS down", func() bool {
		st, _ := a.ClusterStatus()
		return !st.Connected
	})
	if got := field(health().(map[string]any), "services", "cluster"); got != "red" {
		t.Errorf("healthCheck while NATS is down: %v", got)
	}
	if v, ok := metricValue(t, a, "kuzzlews_cluster_connected", nil); !ok || v != 0 {
		t.Error("kuzzlews_cluster_connected is not 0")
	}
	c.request(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","requestId":"s","body":{}}`)
	c.sendText(`{"controller":"realtime","action":"publish","index":"i","collection":"c","requestId":"p","body":{"x":1}}`)
	if n := c.readJSON(); n["type"] != "document" {
		t.Errorf("local delivery while NATS is down: %v", n)
	}
	c.readJSON() // the publish response
	ns.Start()
	eventually(t, "healthCheck green again", func() bool { return field(health().(map[string]any), "status") == "green" })
}

func TestClusterFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-nats-creds", "x.creds"},
		{"-nats", "nats://127.0.0.1:1", "-nats-tls-cert", "c.pem"},
		{"-nats", "nats://127.0.0.1:1", "-nats-nkey", "/nonexistent/seed"},
	} {
		var stderr bytes.Buffer
		if code := run(args, nil, io.Discard, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), "-nats") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	// NATS unreachable at start: exit 1 with the reason, no password shown.
	var stderr bytes.Buffer
	if code := run([]string{"-host", "127.0.0.1", "-port", "0", "-nats", "nats://u:s3cret@127.0.0.1:1"}, nil, io.Discard, &stderr, nil); code != 1 ||
		!strings.Contains(stderr.String(), "cannot connect to NATS") || strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("unreachable NATS: exit %d, stderr %q", code, stderr.String())
	}
}

// Over WebSocket: a publication sent on node B right after node A answered a
// subscription that created a new room reaches A's subscriber.
func TestClusterPublishRightAfterSubscribe(t *testing.T) {
	ns := startNATS(t, nil)
	a := startNode(t, ns.URL(), "knode-a")
	b := startNode(t, ns.URL(), "knode-b")
	waitNodes(t, a, b)
	sub, pub := dialWS(t, a), dialWS(t, b)
	for i := range 50 {
		if r := sub.request(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","requestId":"s","body":{"equals":{"k":` + strconv.Itoa(i) + `}}}`); r["status"] != float64(200) {
			t.Fatalf("subscribe: %v", r)
		}
		pub.request(`{"controller":"realtime","action":"publish","index":"i","collection":"c","requestId":"p","body":{"k":` + strconv.Itoa(i) + `}}`)
		if n := sub.readJSON(); n["type"] != "document" || field(n, "result", "_source", "k") != float64(i) || n["node"] != "knode-b" {
			t.Fatalf("iteration %d: %v", i, n)
		}
	}
}

// A logout on one node is honoured on the others: node B refuses the token from then on
// and the connection linked to it there loses its subscriptions (and stays usable), while
// the token never travels (only its hash). Bob's token, on another connection, is not
// affected.
func TestClusterLogoutOnAllNodes(t *testing.T) {
	ns := startNATS(t, nil)
	file := writeFile(t, "security.json", securityFile())
	node := func(id string) *Server {
		return startServer(t, Config{Node: id, Auth: AuthConfig{SecurityFile: file, Secret: testJWTSecret},
			Cluster: cluster.Config{URLs: ns.URL(), HeartbeatInterval: 50 * time.Millisecond, GatherTimeout: 2 * time.Second}})
	}
	a, b := node("knode-a"), node("knode-b")
	waitNodes(t, a, b)
	alice, bob := token(t, "alice"), token(t, "bob")
	subscribe := func(c *wsClient, tok string) string {
		t.Helper()
		m := c.request(req("realtime", "subscribe", tok, "index", `"shop"`, "collection", `"orders"`, "body", `{}`, "requestId", `"s"`))
		if m["status"] != float64(200) {
			t.Fatalf("subscribe: %v", m)
		}
		return field(m, "result", "roomId").(string)
	}
	aliceOnB, bobOnB := dialWS(t, b), dialWS(t, b)
	roomID := subscribe(aliceOnB, alice)
	subscribe(bobOnB, bob)
	count := req("realtime", "count", bob, "requestId", `"c"`, "body", `{"roomId":`+string(quoteJSON(roomID))+`}`)
	if n := field(bobOnB.request(count), "result", "count"); n != float64(2) {
		t.Fatalf("count before the logout: %v", n)
	}

	if m := dialWS(t, a).request(req("auth", "logout", alice, "requestId", `"l"`)); m["status"] != float64(200) {
		t.Fatalf("logout on A: %v", m)
	}
	eventually(t, "B to refuse alice's token", func() bool {
		m := aliceOnB.request(req("realtime", "count", alice, "requestId", `"n"`, "body", `{"roomId":"x"}`))
		return field(m, "error", "id") == "security.token.invalid"
	})
	if n := field(bobOnB.request(count), "result", "count"); n != float64(1) {
		t.Errorf("count after alice's logout: %v, want 1 (bob's subscription only)", n)
	}
	if m := aliceOnB.request(req("server", "publicApi", "", "requestId", `"p"`)); m["status"] != float64(200) {
		t.Errorf("alice's connection after the logout: %v", m)
	}
}
