package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/tidwall/gjson"
)

// fakeSub is a Subscriber that records every delivered frame.
type fakeSub struct {
	mu     sync.Mutex
	frames [][]byte
}

// Deliver records head+tail; the copy is the test's, as a socket's write would be.
func (f *fakeSub) Deliver(head, tail []byte) {
	frame := append(head[:len(head):len(head)], tail...)
	f.mu.Lock()
	f.frames = append(f.frames, frame)
	f.mu.Unlock()
}

// take returns the frames delivered since the last take, as strings, checking that
// each one is valid JSON.
func (f *fakeSub) take(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.frames))
	for i, b := range f.frames {
		if !json.Valid(b) {
			t.Errorf("frame %d is not valid JSON: %s", i, b)
		}
		out[i] = string(b)
	}
	f.frames = nil
	return out
}

// countSub counts deliveries without allocating.
type countSub struct {
	mu sync.Mutex
	n  int
}

func (c *countSub) Deliver(_, _ []byte) { c.mu.Lock(); c.n++; c.mu.Unlock() }

func (c *countSub) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

const testNow = 1795943744573

func newTestEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	if cfg.Node == "" {
		cfg.Node = "knode-example-42"
	}
	if cfg.Clock == nil {
		cfg.Clock = func() int64 { return testNow }
	}
	return NewEngine(cfg)
}

// request is a realtime request for the tests: a Kuzzle envelope and the connection
// that sends it.
type request struct {
	conn *Conn
	r    kuzzle.Request
}

// req parses envelope, a JSON request envelope, as the server does.
func req(t *testing.T, c *Conn, envelope string) *request {
	t.Helper()
	tr := &request{conn: c}
	if err := kuzzle.ParseRequest([]byte(envelope), 0, &tr.r); err != nil {
		t.Fatalf("bad test envelope %s: %v", envelope, err)
	}
	return tr
}

// option reads a scope or users argument as the server's realtime controller does.
func option(v gjson.Result) Option {
	if !v.Exists() {
		return OptionDefault
	}
	if v.Type != gjson.String {
		return OptionInvalid
	}
	return ParseOption(v.Str)
}

// handle runs one realtime action the way the server's realtime controller does (its
// argument checks, then the engine's typed method, then Kuzzle's result shape), so that
// the engine's tests read as Kuzzle requests and answers.
func handle(e *Engine, action string, tr *request) ([]byte, error) {
	r := &tr.r
	opts := func() Options {
		return Options{Scope: option(r.Scope), Users: option(r.Users), Volatile: []byte(r.Volatile.Raw), Timestamp: r.Stamp(0)}
	}
	subscribed := func(s Subscribed, err error) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		return []byte(`{"channel":"` + s.Channel + `","roomId":"` + s.RoomID + `"}`), nil
	}
	switch action {
	case "subscribe":
		index, collection, err := r.IndexAndCollection()
		if err != nil {
			return nil, err
		}
		if !r.HasBody() {
			return nil, kuzzle.ErrBodyRequired.New()
		}
		return subscribed(e.Subscribe(tr.conn, index, collection, []byte(r.Body.Raw), opts()))
	case "join":
		id, err := r.BodyString("roomId")
		if err != nil {
			return nil, err
		}
		return subscribed(e.Join(tr.conn, id, opts()))
	case "unsubscribe":
		id, err := r.BodyString("roomId")
		if err != nil {
			return nil, err
		}
		if err := e.Unsubscribe(tr.conn, id); err != nil {
			return nil, err
		}
		return []byte(`{"roomId":"` + id + `"}`), nil
	case "count":
		id, err := r.BodyString("roomId")
		if err != nil {
			return nil, err
		}
		return []byte(fmt.Sprintf(`{"count":%d}`, e.Count(id))), nil
	case "list":
		out := map[string]map[string]map[string]int{}
		for _, rc := range e.List(nil) {
			if out[rc.Index] == nil {
				out[rc.Index] = map[string]map[string]int{}
			}
			if out[rc.Index][rc.Collection] == nil {
				out[rc.Index][rc.Collection] = map[string]int{}
			}
			out[rc.Index][rc.Collection][rc.RoomID] = rc.Count
		}
		return json.Marshal(out)
	case "publish":
		if !r.HasBody() {
			return nil, kuzzle.ErrBodyRequired.New()
		}
		index, collection, err := r.IndexAndCollection()
		if err != nil {
			return nil, err
		}
		var id []byte
		if r.ID.Exists() {
			id = []byte(r.ID.Raw)
		}
		e.Publish(&Publication{Index: index, Collection: collection, Body: []byte(r.Body.Raw), ID: id,
			DocumentID: r.DocumentID(), RequestID: []byte(r.RequestID), Volatile: []byte(r.Volatile.Raw), Timestamp: r.Stamp(0)})
		return []byte(`{"published":true}`), nil
	}
	return nil, kuzzle.ErrActionNotFound.New("realtime", action)
}

// do runs action and fails the test on error.
func do(t *testing.T, e *Engine, action string, r *request) string {
	t.Helper()
	res, err := handle(e, action, r)
	if err != nil {
		t.Fatalf("%s: unexpected error %v", action, err)
	}
	if !json.Valid(res) {
		t.Fatalf("%s: result is not JSON: %s", action, res)
	}
	return string(res)
}

// doErr runs action and returns its *kuzzle.Error, failing if it succeeded.
func doErr(t *testing.T, e *Engine, action string, r *request) *kuzzle.Error {
	t.Helper()
	res, err := handle(e, action, r)
	if err == nil {
		t.Fatalf("%s: want an error, got result %s", action, res)
	}
	var ke *kuzzle.Error
	if !errors.As(err, &ke) {
		t.Fatalf("%s: error %T is not *kuzzle.Error", action, err)
	}
	return ke
}

// subscribe subscribes c and returns (roomId, channel).
func subscribe(t *testing.T, e *Engine, c *Conn, envelope string) (string, string) {
	t.Helper()
	res := do(t, e, "subscribe", req(t, c, envelope))
	return gjson.Get(res, "roomId").Str, gjson.Get(res, "channel").Str
}

// expand replaces R in want by roomID.
func expand(want []string, roomID string) []string {
	out := make([]string, len(want))
	for i, w := range want {
		out[i] = strings.ReplaceAll(w, "«R»", roomID)
	}
	return out
}

func equalFrames(t *testing.T, who string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s got %d frames, want %d:\ngot  %q\nwant %q", who, len(got), len(want), got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s frame %d:\ngot  %s\nwant %s", who, i, got[i], want[i])
		}
	}
}
