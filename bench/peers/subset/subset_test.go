package subset

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

type rec struct{ got [][]byte }

func (r *rec) Send(msg []byte) { r.got = append(r.got, msg) }

func TestHandle(t *testing.T) {
	h := New()
	a, b := &rec{}, &rec{}
	tests := []struct {
		name     string
		conn     *rec
		req      string
		wantRoom string
		wantPath string // a gjson path that must exist in the response
		wantErr  bool
	}{
		{name: "now", conn: a, req: `{"controller":"server","action":"now","requestId":"r1"}`, wantRoom: "r1", wantPath: "result.now"},
		{name: "subscribe a", conn: a, req: `{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"r2"}`, wantRoom: "r2", wantPath: "result.channel"},
		{name: "subscribe b", conn: b, req: `{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"r3"}`, wantRoom: "r3", wantPath: "result.roomId"},
		{name: "publish", conn: b, req: `{"controller":"realtime","action":"publish","index":"i","collection":"c","body":{"x":1},"requestId":"r4"}`, wantRoom: "r4", wantPath: "result.published"},
		{name: "unknown action", conn: a, req: `{"controller":"nope","action":"x","requestId":"r5"}`, wantRoom: "r5", wantErr: true},
		{name: "not an object", conn: a, req: `[1]`, wantErr: true},
		{name: "not JSON", conn: a, req: `{"controller":`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.Handle(tt.conn, []byte(tt.req))
			if !gjson.ValidBytes(resp) {
				t.Fatalf("invalid JSON response %s", resp)
			}
			if got := gjson.GetBytes(resp, "room").Str; got != tt.wantRoom {
				t.Errorf("room = %q, want %q", got, tt.wantRoom)
			}
			if tt.wantPath != "" && !gjson.GetBytes(resp, tt.wantPath).Exists() {
				t.Errorf("response %s has no %s", resp, tt.wantPath)
			}
			if e := gjson.GetBytes(resp, "error"); (e.Type != gjson.Null && e.Exists()) != tt.wantErr {
				t.Errorf("error = %s, want error %v", e.Raw, tt.wantErr)
			}
		})
	}
	for name, r := range map[string]*rec{"a": a, "b": b} {
		if len(r.got) != 1 {
			t.Fatalf("%s got %d notifications, want 1", name, len(r.got))
		}
		n := r.got[0]
		if gjson.GetBytes(n, "room").Str != Channel("i", "c") || gjson.GetBytes(n, "result._source.x").Int() != 1 ||
			!strings.Contains(string(n), `"requestId":"r4"`) {
			t.Errorf("%s notification %s", name, n)
		}
	}
	h.Remove(a)
	if subs := h.Subscribers(Channel("i", "c")); len(subs) != 1 || subs[0] != b {
		t.Errorf("after Remove(a): %v", subs)
	}
}
