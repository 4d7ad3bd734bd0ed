package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/kuzzlews/kuzzlews/room/cluster/natstest"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/tidwall/gjson"
)

// startNATS starts an embedded nats-server for the test (package natstest).
func startNATS(t *testing.T, mod func(*natsserver.Options)) *natstest.Server {
	t.Helper()
	return natstest.Start(t, mod)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testNode is one kuzzlews node without its WebSocket server: a room engine and its
// cluster node.
type testNode struct {
	id   string
	eng  *room.Engine
	node *Node
}

// fastConfig shortens heartbeats and reconnection waits so that tests see node loss
// and NATS restarts within a second or two.
func fastConfig(url, id string) Config {
	return Config{
		URLs:              url,
		Node:              id,
		HeartbeatInterval: 50 * time.Millisecond,
		GatherTimeout:     2 * time.Second,
		Logger:            discard(),
		Options:           []nats.Option{nats.ReconnectWait(20 * time.Millisecond), nats.ReconnectJitter(0, 0)},
	}
}

func newTestNode(t *testing.T, cfg Config) *testNode {
	t.Helper()
	node, err := Connect(cfg)
	if err != nil {
		t.Fatalf("Connect %s: %v", cfg.Node, err)
	}
	eng := room.NewEngine(room.Config{Node: cfg.Node, Backplane: node})
	if err := node.Serve(eng); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	return &testNode{id: cfg.Node, eng: eng, node: node}
}

// nodes starts len(ids) nodes on url and waits until each knows all the others.
func nodes(t *testing.T, url string, ids ...string) []*testNode {
	t.Helper()
	out := make([]*testNode, len(ids))
	for i, id := range ids {
		out[i] = newTestNode(t, fastConfig(url, id))
	}
	waitMesh(t, out...)
	return out
}

// waitMesh waits until every node's status lists exactly the given nodes.
func waitMesh(t *testing.T, ns ...*testNode) {
	t.Helper()
	eventually(t, "nodes to see each other", func() bool {
		for _, n := range ns {
			if len(n.node.Status().Nodes) != len(ns) {
				return false
			}
		}
		return true
	})
}

// recorder is a room.Subscriber keeping every frame it gets.
type recorder struct {
	mu     sync.Mutex
	frames []string
}

func (r *recorder) Deliver(head, tail []byte) {
	r.mu.Lock()
	r.frames = append(r.frames, string(head)+string(tail))
	r.mu.Unlock()
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.frames...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

// await waits until r holds n frames and returns them.
func (r *recorder) await(t *testing.T, n int) []string {
	t.Helper()
	eventually(t, fmt.Sprintf("%d frames", n), func() bool { return r.len() >= n })
	return r.all()
}

// subscribe subscribes a new connection of n with filter on idx/col and returns it, its
// recorder and the roomId.
func (n *testNode) subscribe(t *testing.T, index, collection, filter string, o room.Options) (*room.Conn, *recorder, string) {
	t.Helper()
	rec := &recorder{}
	c := n.eng.Connect("c-"+n.id, rec)
	res, err := n.eng.Subscribe(c, index, collection, []byte(filter), o)
	if err != nil {
		t.Fatalf("subscribe on %s: %v", n.id, err)
	}
	return c, rec, res.RoomID
}

func (n *testNode) publish(index, collection, body string) int {
	return n.eng.Publish(&room.Publication{Index: index, Collection: collection, Body: []byte(body)})
}

// eventually polls cond every few milliseconds for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(frame, path string) gjson.Result { return gjson.Get(frame, path) }
