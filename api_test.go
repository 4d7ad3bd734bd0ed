package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

func TestRequestEnvelope(t *testing.T) {
	cases := []struct {
		name  string
		req   string
		check func(t *testing.T, raw []byte, m map[string]any)
	}{
		{
			name: "server:now answers with room = requestId, last key",
			req:  `{"controller":"server","action":"now","requestId":"abc","volatile":{"sdkInstanceId":"x"}}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if m["room"] != "abc" || m["requestId"] != "abc" || m["status"] != float64(200) || m["error"] != nil {
					t.Fatalf("envelope %s", raw)
				}
				now, _ := field(m, "result", "now").(float64)
				if d := time.Since(time.UnixMilli(int64(now))); d < -time.Minute || d > time.Minute {
					t.Fatalf("now = %v", now)
				}
				if field(m, "volatile", "sdkInstanceId") != "x" || m["node"] == "" {
					t.Fatalf("envelope %s", raw)
				}
				if !bytes.HasSuffix(raw, []byte(`,"room":"abc"}`)) {
					t.Fatalf("room is not the last key: %s", raw)
				}
				for _, k := range []string{"action", "controller", "headers"} {
					if _, ok := m[k]; !ok {
						t.Fatalf("missing %s in %s", k, raw)
					}
				}
			},
		},
		{
			name: "missing requestId gets a UUID and the same room",
			req:  `{"controller":"server","action":"now"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				id, _ := m["requestId"].(string)
				if len(id) != 36 || m["room"] != id {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "index and collection echoed when given",
			req:  `{"controller":"server","action":"now","requestId":"i","index":"idx","collection":"col"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if m["index"] != "idx" || m["collection"] != "col" {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name:  "unknown controller",
			req:   `{"controller":"nope","action":"x","requestId":"e1"}`,
			check: wantError("e1", "api.process.controller_not_found", 33685508, 404, `API controller "nope" not found.`),
		},
		{
			name:  "unknown action",
			req:   `{"controller":"server","action":"nope","requestId":"e2"}`,
			check: wantError("e2", "api.process.action_not_found", 33685509, 404, `API action "server":"nope" not found`),
		},
		{
			name:  "missing controller",
			req:   `{"action":"now","requestId":"e3"}`,
			check: wantError("e3", "api.assert.missing_argument", 33619971, 400, `Missing argument "controller".`),
		},
		{
			name:  "{p:2} is a request, not a ping",
			req:   `{"p":2}`,
			check: wantError("", "api.assert.missing_argument", 33619971, 400, `Missing argument "controller".`),
		},
		{
			name:  "invalid JSON: room-less unexpected_error",
			req:   `not json`,
			check: wantRoomless("network.websocket.unexpected_error", 400),
		},
		{
			name:  "JSON that is not an object: room-less 500",
			req:   `[1,2]`,
			check: wantRoomless("", 500),
		},
		{
			name:  "null: room-less 500",
			req:   `null`,
			check: wantRoomless("", 500),
		},
		{
			name: "controller of the wrong type: room-less, the client's requestId",
			req:  `{"controller":123,"action":"now","requestId":"t1"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				wantRoomless("", 400)(t, raw, m)
				if m["requestId"] != "t1" || field(m, "error", "message") != `Attribute controller must be of type "string"` {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "numeric requestId: echoed in the room-less type error, as Kuzzle's wsSendError",
			req:  `{"requestId":123,"controller":"server","action":"now"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				wantRoomless("", 400)(t, raw, m)
				if m["requestId"] != float64(123) || field(m, "error", "message") != `Attribute requestId must be of type "string"` {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name:  "volatile of the wrong type",
			req:   `{"controller":"server","action":"now","volatile":"x"}`,
			check: wantRoomless("", 400),
		},
		{
			name: "auth:checkToken without token: anonymous",
			req:  `{"controller":"auth","action":"checkToken","body":{},"requestId":"a1","cookieAuth":false}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "valid") != true || field(m, "result", "kuid") != "-1" || m["room"] != "a1" {
					t.Fatalf("envelope %s", raw)
				}
				if r := field(m, "result").(map[string]any); r["expiresAt"] != nil {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "auth:checkToken with a token: invalid",
			req:  `{"controller":"auth","action":"checkToken","body":{"token":"abc"},"requestId":"a2"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "valid") != false || field(m, "result", "state") != "Invalid token." {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "auth:getCurrentUser: anonymous",
			req:  `{"controller":"auth","action":"getCurrentUser","requestId":"a3"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "_id") != "-1" {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "server:healthCheck",
			req:  `{"controller":"server","action":"healthCheck","requestId":"h"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "status") != "green" {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "server:info",
			req:  `{"controller":"server","action":"info","requestId":"i"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "serverInfo", "kuzzle", "api", "routes", "server", "now", "action") != "now" {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
		{
			name: "server:publicApi lists this server's actions",
			req:  `{"controller":"server","action":"publicApi","requestId":"p"}`,
			check: func(t *testing.T, raw []byte, m map[string]any) {
				if field(m, "result", "auth", "checkToken", "controller") != "auth" {
					t.Fatalf("envelope %s", raw)
				}
			},
		},
	}
	s := startServer(t, Config{})
	c := dialWS(t, s) // one connection for all: errors must leave it usable
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.sendText(tc.req)
			f := c.readFrame()
			var m map[string]any
			if err := json.Unmarshal(f.Payload, &m); err != nil {
				t.Fatalf("not JSON: %q", f.Payload)
			}
			tc.check(t, f.Payload, m)
		})
	}
}

func wantError(room, id string, code, status int, msg string) func(*testing.T, []byte, map[string]any) {
	return func(t *testing.T, raw []byte, m map[string]any) {
		t.Helper()
		if room != "" && m["room"] != room {
			t.Fatalf("room %v, want %s: %s", m["room"], room, raw)
		}
		if m["room"] == nil || m["room"] != m["requestId"] {
			t.Fatalf("error response without room = requestId: %s", raw)
		}
		e, _ := m["error"].(map[string]any)
		if e["id"] != id || e["code"] != float64(code) || e["status"] != float64(status) || e["message"] != msg || m["status"] != float64(status) || m["result"] != nil {
			t.Fatalf("error %s", raw)
		}
		if _, ok := e["props"].([]any); !ok {
			t.Fatalf("error without props: %s", raw)
		}
	}
}

func wantRoomless(id string, status int) func(*testing.T, []byte, map[string]any) {
	return func(t *testing.T, raw []byte, m map[string]any) {
		t.Helper()
		if _, ok := m["room"]; ok {
			t.Fatalf("room-less frame has a room: %s", raw)
		}
		if m["action"] != nil || m["controller"] != nil || m["volatile"] != nil || m["status"] != float64(status) {
			t.Fatalf("envelope %s", raw)
		}
		if got := field(m, "error", "id"); id != "" && got != id {
			t.Fatalf("error id %v, want %s: %s", got, id, raw)
		}
		if field(m, "error", "status") != float64(status) {
			t.Fatalf("envelope %s", raw)
		}
	}
}

func TestAppPing(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.sendText(`{"p":1}`)
	if f := c.readFrame(); string(f.Payload) != `{"p":2}` || f.Header.OpCode != ws.OpText {
		t.Fatalf("got %v %q", f.Header.OpCode, f.Payload)
	}
	// With more keys it is a request.
	m := c.request(`{"p":1,"controller":"server","action":"now","requestId":"x"}`)
	if m["room"] != "x" {
		t.Fatalf("got %v", m)
	}
}

func TestEmptyMessageIgnored(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.sendText("")
	if m := c.request(nowReq); m["room"] != "r1" {
		t.Fatalf("first frame after an empty message: %v", m)
	}
}

func TestRateLimit(t *testing.T) {
	s := startServer(t, Config{RateLimit: 2})
	c := dialWS(t, s)
	var all []byte
	for range 5 {
		all = append(all, maskedFrame(true, ws.OpText, []byte(nowReq), true)...)
	}
	c.writeRaw(all) // handled in one turn: at most two one-second windows
	var limited int
	for range 5 {
		m := c.readJSON()
		if field(m, "error", "id") == "network.websocket.ratelimit_exceeded" {
			limited++
			if _, ok := m["room"]; ok || m["status"] != float64(429) {
				t.Fatalf("rate-limit frame %v", m)
			}
		} else if m["room"] != "r1" {
			t.Fatalf("response %v", m)
		}
	}
	if limited < 1 || limited > 3 {
		t.Fatalf("%d of 5 refused at 2 per second, want 1 to 3", limited)
	}
}

func TestRateWindow(t *testing.T) {
	var w rateWindow
	got := []bool{w.allow(10, 2), w.allow(10, 2), w.allow(10, 2), w.allow(11, 2), w.allow(11, 2), w.allow(11, 2)}
	want := []bool{true, true, false, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allow #%d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.request(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"s"}`)
	addr, err := s.serveMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"kuzzlews_connections 1", "kuzzlews_rooms 1", "kuzzlews_connections_accepted_total 1"} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// recorder is a transport that keeps every frame's payload: the request pipeline runs
// on it without sockets or a poller.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
}

func (r *recorder) Send(f []byte) {
	h, err := ws.ReadHeader(bytes.NewReader(f))
	if err != nil {
		panic(err)
	}
	r.mu.Lock()
	r.frames = append(r.frames, f[len(f)-int(h.Length):])
	r.mu.Unlock()
}

// Deliver records the frame head+tail, joined in a copy of the test's.
func (r *recorder) Deliver(head, tail []byte) { r.Send(append(head[:len(head):len(head)], tail...)) }

// take returns the payloads sent since the last call.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.frames))
	for i, f := range r.frames {
		out[i] = string(f)
	}
	r.frames = nil
	return out
}

// newSession returns a session of a server that has no poller (no sockets, no epoll).
func newSession(t *testing.T, cfg Config) (*session, *recorder) {
	t.Helper()
	cfg.Node = "knode-test"
	cfg = cfg.withDefaults()
	s := newServer(cfg)
	s.rooms = newRooms(cfg, nil)
	rec := &recorder{}
	return &session{s: s, out: rec}, rec
}

// The pipeline sets room exactly where sjson would, for success and error responses.
func TestResponseRoomMatchesSjson(t *testing.T) {
	ses, rec := newSession(t, Config{})
	for _, msg := range []string{
		`{"controller":"server","action":"healthCheck","requestId":"a\"b","volatile":{"x":[1,{"y":"}"}]}}`,
		`{"controller":"nope","action":"x","requestId":"r","index":"i","collection":"c"}`,
		`{"controller":"realtime","action":"count","body":{"roomId":"x"}}`,
	} {
		ses.handle([]byte(msg))
		got := rec.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d frames", msg, len(got))
		}
		roomRaw := gjson.Get(got[0], "room").Raw
		without, err := sjson.Delete(got[0], "room")
		if err != nil {
			t.Fatal(err)
		}
		want, err := sjson.SetRaw(without, "room", roomRaw)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != want || roomRaw != gjson.Get(got[0], "requestId").Raw {
			t.Errorf("%s:\ngot  %s\nwant %s", msg, got[0], want)
		}
	}
}

// The realtime controller through the pipeline, without a poller: subscribe, publish
// (the notification precedes the response), validate, list and an unknown action.
func TestPipelineRealtime(t *testing.T) {
	ses, rec := newSession(t, Config{})
	ses.handle([]byte(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{"equals":{"a":1}},"requestId":"s"}`))
	sub := rec.take()
	if len(sub) != 1 || gjson.Get(sub[0], "status").Int() != 200 {
		t.Fatalf("subscribe: %q", sub)
	}
	roomID := gjson.Get(sub[0], "result.roomId").Str
	ses.handle([]byte(`{"controller":"realtime","action":"publish","index":"i","collection":"c","body":{"a":1},"requestId":"p"}`))
	pub := rec.take()
	if len(pub) != 2 || gjson.Get(pub[0], "type").Str != "document" || gjson.Get(pub[0], "room").Str != roomID+"-311" ||
		gjson.Get(pub[1], "result.published").Bool() != true || gjson.Get(pub[1], "room").Str != "p" {
		t.Fatalf("publish: %q", pub)
	}
	for _, tt := range []struct {
		msg, result, errID string
	}{
		{msg: `{"controller":"realtime","action":"validate","index":"i","collection":"c","body":{}}`, result: `{"errorMessages":{},"valid":true}`},
		{msg: `{"controller":"realtime","action":"validate","index":"i","collection":"c"}`, errID: "api.assert.body_required"},
		{msg: `{"controller":"realtime","action":"validate","collection":"c","body":{}}`, errID: "api.assert.missing_argument"},
		{msg: `{"controller":"realtime","action":"list"}`, result: `{"i":{"c":{"` + roomID + `":1}}}`},
		{msg: `{"controller":"realtime","action":"nope"}`, errID: "api.process.action_not_found"},
		{msg: `{"controller":"realtime","action":"subscribe","index":"i","collection":"c"}`, errID: "api.assert.body_required"},
		{msg: `{"controller":"realtime","action":"unsubscribe","body":{"roomId":"nope"}}`, errID: "core.realtime.not_subscribed"},
	} {
		ses.handle([]byte(tt.msg))
		got := rec.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d frames", tt.msg, len(got))
		}
		if r := gjson.Get(got[0], "result").Raw; tt.result != "" && r != tt.result {
			t.Errorf("%s: result %s, want %s", tt.msg, r, tt.result)
		}
		if id := gjson.Get(got[0], "error.id").Str; id != tt.errID {
			t.Errorf("%s: error %q, want %q", tt.msg, id, tt.errID)
		}
	}
	ses.close()
	if n := ses.s.rooms.Rooms(); n != 0 {
		t.Errorf("%d rooms after close", n)
	}
}

func TestAppPingWithRepeatedKey(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.sendText(`{"p":2,"p":1}`) // JSON.parse keeps the last value: a ping
	if f := c.readFrame(); string(f.Payload) != `{"p":2}` {
		t.Fatalf("got %q", f.Payload)
	}
}

// A binary frame is read as text the way Kuzzle reads it: invalid UTF-8 becomes U+FFFD,
// so nothing the server echoes or publishes is invalid UTF-8 in a text frame.
func TestBinaryFrameInvalidUTF8IsReplaced(t *testing.T) {
	s := startServer(t, Config{})
	c := dialWS(t, s)
	c.writeRaw(maskedFrame(true, ws.OpBinary, []byte("{\"controller\":\"server\",\"action\":\"now\",\"requestId\":\"b\",\"volatile\":{\"x\":\"\xff\"}}"), true))
	f := c.readFrame()
	if !utf8.Valid(f.Payload) {
		t.Fatalf("response is not valid UTF-8: %q", f.Payload)
	}
	var m map[string]any
	json.Unmarshal(f.Payload, &m)
	if field(m, "volatile", "x") != "\uFFFD" || m["room"] != "b" {
		t.Fatalf("response %s", f.Payload)
	}
}

// One response larger than -max-queued-bytes is still delivered to a client that reads.
func TestLargeResponseToPromptReader(t *testing.T) {
	s := startServer(t, Config{MaxQueuedBytes: 64 << 10})
	c := dialWS(t, s)
	big := `{"controller":"server","action":"now","requestId":"big","volatile":{"pad":"` + strings.Repeat("x", 512<<10) + `"}}`
	if m := c.request(big); m["room"] != "big" {
		t.Fatalf("got %v", m["room"])
	}
	if s.slowClosed.Load() != 0 {
		t.Fatal("a prompt reader was closed as slow")
	}
}

// Shutdown answers a client still in its handshake in HTTP, not with a WebSocket frame.
func TestShutdownDuringHandshakeAnswers503(t *testing.T) {
	s := startServer(t, Config{})
	conn := dialTCP(t, s)
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
	eventually(t, "the connection to be registered", func() bool { return s.poll.Stats().Conns == 1 })
	go s.Shutdown(5 * time.Second)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	conn.Close()
}
