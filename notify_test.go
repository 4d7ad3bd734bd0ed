package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gobwas/ws"
	"github.com/kuzzlews/kuzzlews/frame"
)

// TestNotificationOfManyRoomsOverSockets publishes a document matched by many distinct
// rooms, over real sockets: each notification arrives as one whole text frame (a shared
// head and its channel's tail, never cut or mixed with another), byte for byte the
// channel's notification as a single frame: the common payload, then its own room as the
// last key; two subscribers of one channel get identical frames.
func TestNotificationOfManyRoomsOverSockets(t *testing.T) {
	s := startServer(t, Config{})
	a, b, pub := dialWS(t, s), dialWS(t, s), dialWS(t, s)
	const rooms = 40
	channels := map[string]bool{}
	var shared string
	for i := range rooms {
		req := fmt.Sprintf(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c",`+
			`"body":{"range":{"n":{"gt":%d}}},"requestId":"s%d"}`, -1-i, i)
		ch, _ := field(a.request(req), "result", "channel").(string)
		if ch == "" {
			t.Fatalf("subscribe %d: no channel", i)
		}
		channels[ch] = true
		if i == rooms/2 {
			shared = ch
			if got := field(b.request(req), "result", "channel"); got != ch {
				t.Fatalf("b subscribed to %v, want %s", got, ch)
			}
		}
	}
	if got := field(pub.request(`{"controller":"realtime","action":"publish","index":"i","collection":"c",`+
		`"body":{"n":1},"requestId":"p"}`), "result", "published"); got != true {
		t.Fatalf("publish response: published = %v", got)
	}

	var common []byte // the payload before `,"room"`: the same in every notification
	seen := map[string][]byte{}
	for range rooms {
		f := a.readFrame()
		if f.Header.OpCode != ws.OpText || !f.Header.Fin {
			t.Fatalf("notification frame: opcode %v, fin %v", f.Header.OpCode, f.Header.Fin)
		}
		var m struct{ Room string }
		if err := json.Unmarshal(f.Payload, &m); err != nil || !channels[m.Room] || seen[m.Room] != nil {
			t.Fatalf("notification %q: room %q (unmarshal error %v), want a new channel of a's", f.Payload, m.Room, err)
		}
		tail := []byte(`,"room":"` + m.Room + `"}`)
		if !bytes.HasSuffix(f.Payload, tail) {
			t.Fatalf("notification does not end with its room: %q", f.Payload)
		}
		head := f.Payload[:len(f.Payload)-len(tail)]
		if common == nil {
			common = head
		} else if !bytes.Equal(head, common) {
			t.Fatalf("notifications differ before their room:\n%s\n%s", head, common)
		}
		// The frame as it used to be made: the whole payload sealed in one piece.
		seen[m.Room] = frame.AppendText(nil, f.Payload)
	}
	fb := b.readFrame()
	if got, want := frame.AppendText(nil, fb.Payload), seen[shared]; !bytes.Equal(got, want) {
		t.Fatalf("the two subscribers of %s got different frames:\n%q\n%q", shared, got, want)
	}
}
