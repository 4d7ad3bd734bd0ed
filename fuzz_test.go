package main

import (
	"encoding/json"
	"testing"
)

// FuzzEnvelope feeds arbitrary messages through the request pipeline: it must never panic
// and must always answer with one JSON object (or nothing for an empty message).
func FuzzEnvelope(f *testing.F) {
	for _, seed := range []string{
		nowReq, `{"p":1}`, `{"p":2}`, `not json`, `null`, `[]`, `42`, `""`,
		`{"controller":123}`, `{"controller":"server","action":"now","volatile":"x"}`,
		`{"controller":"auth","action":"checkToken","body":{"token":null}}`,
		`{"controller":"server","action":"now","requestId":"a\"b\\u0000"}`,
		`{"controller":"server","action":"nope","index":"i","collection":"c"}`,
		`{"a":1}garbage`, "{\"controller\":\"\xff\"}", `{"requestId":123}`, `[[[[[[[[`,
		`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{"equals":{"a":1}}}`,
		`{"controller":"realtime","action":"publish","index":"i","collection":"c","body":{"a":1}}`,
	} {
		f.Add([]byte(seed))
	}
	cfg := Config{Logger: discardLogger()}.withDefaults()
	s := newServer(cfg)
	s.rooms = newRooms(cfg, nil)
	rec := &recorder{}
	ses := &session{s: s, out: rec}
	f.Fuzz(func(t *testing.T, msg []byte) {
		rec.take() // notifications of earlier inputs
		out := ses.process(msg)
		if len(msg) == 0 {
			if out != nil {
				t.Fatalf("answered an empty message: %q", out)
			}
			return
		}
		if len(out) < 2 {
			t.Fatalf("no answer to %q", msg)
		}
		// Server frames here are short or 16-bit lengths: skip the header.
		payload := out[2:]
		if out[1] == 126 {
			payload = out[4:]
		}
		var v map[string]any
		if err := json.Unmarshal(payload, &v); err != nil {
			t.Fatalf("answer to %q is not a JSON object: %q: %v", msg, payload, err)
		}
	})
}
