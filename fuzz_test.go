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
		`{"a":1}garbage`, "{\"controller\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	s, err := NewServer(Config{Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(0) })
	cl := &client{s: s}
	f.Fuzz(func(t *testing.T, msg []byte) {
		out := cl.process(msg)
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
