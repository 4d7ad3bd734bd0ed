package room

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// fakeSub is a Subscriber that records every delivered frame.
type fakeSub struct {
	mu     sync.Mutex
	frames [][]byte
}

func (f *fakeSub) Deliver(frame []byte) {
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

func (c *countSub) Deliver([]byte) { c.mu.Lock(); c.n++; c.mu.Unlock() }

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

// req builds a Request from a JSON envelope the way the server does with gjson.
func req(t *testing.T, c *Conn, envelope string) *Request {
	t.Helper()
	if !gjson.Valid(envelope) {
		t.Fatalf("bad test envelope %s", envelope)
	}
	raw := func(key string) []byte {
		v := gjson.Get(envelope, key)
		if !v.Exists() {
			return nil
		}
		return []byte(v.Raw)
	}
	return &Request{
		Conn:       c,
		RequestID:  raw("requestId"),
		Index:      raw("index"),
		Collection: raw("collection"),
		ID:         raw("_id"),
		Body:       raw("body"),
		Scope:      raw("scope"),
		Users:      raw("users"),
		Volatile:   raw("volatile"),
		Timestamp:  raw("timestamp"),
	}
}

// do runs action and fails the test on error.
func do(t *testing.T, e *Engine, action string, r *Request) string {
	t.Helper()
	res, err := e.Handle(action, r)
	if err != nil {
		t.Fatalf("%s: unexpected error %v", action, err)
	}
	if !json.Valid(res) {
		t.Fatalf("%s: result is not JSON: %s", action, res)
	}
	return string(res)
}

// doErr runs action and returns its *Error, failing if it succeeded.
func doErr(t *testing.T, e *Engine, action string, r *Request) *Error {
	t.Helper()
	res, err := e.Handle(action, r)
	if err == nil {
		t.Fatalf("%s: want an error, got result %s", action, res)
	}
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("%s: error %T is not *Error", action, err)
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

// fillFromEnvelope sets every argument field of r (all but Conn) from msg, a request
// envelope (a JSON object, spec section 5.1), in one pass over its top-level keys and
// without allocating (the server reads the envelope itself): the fields alias msg, which must stay unmodified until the
// action returns. Absent keys leave nil fields; when a key is repeated the last one
// wins, as with JSON.parse. msg must be valid JSON (gjson.ValidBytes).
func fillFromEnvelope(r *Request, msg []byte) {
	*r = Request{Conn: r.Conn}
	view(msg).ForEach(func(k, v gjson.Result) bool {
		if v.Index <= 0 {
			return true // cannot happen for a parsed object; keep the field absent
		}
		raw := msg[v.Index : v.Index+len(v.Raw) : v.Index+len(v.Raw)]
		switch k.Str {
		case "requestId":
			r.RequestID = raw
		case "index":
			r.Index = raw
		case "collection":
			r.Collection = raw
		case "_id":
			r.ID = raw
		case "body":
			r.Body = raw
		case "scope":
			r.Scope = raw
		case "users":
			r.Users = raw
		case "volatile":
			r.Volatile = raw
		case "timestamp":
			r.Timestamp = raw
		}
		return true
	})
}
