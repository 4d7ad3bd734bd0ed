package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// FuzzHTTPRequest feeds arbitrary HTTP requests (method, target, headers, body) to the HTTP
// API, without sockets: it must never panic and must always answer with a JSON body and
// the status of its envelope.
func FuzzHTTPRequest(f *testing.F) {
	for _, seed := range []struct{ method, target, contentType, body string }{
		{"GET", "/_now", "", ""},
		{"POST", "/shop/orders/_publish", "application/json", `{"total":250}`},
		{"POST", "/shop/orders/_publish?pretty&x=1", "application/json; charset=utf-8", `[1,2]`},
		{"POST", "/a/b/_publish", "text/plain", `not json`},
		{"PUT", "/_now", "", ""},
		{"GET", "/%zz", "", ""},
		{"POST", "/_checkToken", "application/json", `{"token":"x"}`},
		{"OPTIONS", "/", "", ""},
		{"POST", "/a%2Fb/c/_publish", "application/json", `{"a":` + "[[[[[[[[" + `}`},
	} {
		f.Add(seed.method, seed.target, seed.contentType, []byte(seed.body))
	}
	s, err := NewServer(Config{Logger: discardLogger()}) // a poller, for server:info; never listening
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(0) })
	f.Fuzz(func(t *testing.T, method, target, contentType string, body []byte) {
		r, err := http.NewRequest(method, "http://kuzzlews"+target, bytes.NewReader(body))
		if err != nil || r.URL.Path == "" || r.URL.Path[0] != '/' {
			return // net/http's server would not hand such a request over
		}
		if contentType != "" {
			r.Header["Content-Type"] = []string{contentType}
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		res := w.Result()
		if res.StatusCode < 200 || res.StatusCode > 599 {
			t.Fatalf("%s %s: status %d", method, target, res.StatusCode)
		}
		if method == "HEAD" || method == "OPTIONS" && len(w.Body.Bytes()) == 0 {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q: %v", method, target, w.Body.Bytes(), err)
		}
		if st, _ := v["status"].(float64); st != 0 && int(st) != res.StatusCode {
			t.Fatalf("%s %s: HTTP status %d, envelope status %v", method, target, res.StatusCode, v["status"])
		}
	})
}
