package room

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kuzzlews/kuzzlews/kuzzle"

	"github.com/tidwall/gjson"
)

// FuzzActions feeds arbitrary request arguments to every action, on an engine that
// already has subscribers, and checks that nothing panics, every error is a *kuzzle.Error
// with a status, and every result and delivered frame is valid JSON.
func FuzzActions(f *testing.F) {
	f.Add("subscribe", `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"all","scope":"in","volatile":{"a":1}}`)
	f.Add("publish", `{"index":"idx","collection":"col","body":{"foo":"bar","_kuzzle_info":1},"_id":"x","timestamp":12}`)
	f.Add("publish", `{"index":"i\u0000dx","collection":"c\"ol","body":{ },"_id":null,"timestamp":"x"}`)
	f.Add("join", `{"body":{"roomId":"nope"},"users":null}`)
	f.Add("unsubscribe", `{"body":{"roomId":5}}`)
	f.Add("count", `{"body":[]}`)
	f.Add("list", `{}`)
	f.Add("validate", `{"index":0,"collection":"col","body":{}}`)
	f.Add("nope", `{}`)
	f.Fuzz(func(t *testing.T, action, envelope string) {
		if !gjson.Valid(envelope) || !gjson.Parse(envelope).IsObject() {
			return // the server answers invalid JSON with a room-less error frame
		}
		e := newTestEngine(t, Config{FanoutChunk: 2})
		subs := []*fakeSub{{}, {}, {}}
		for i, s := range subs {
			c := e.Connect("c", s)
			for _, opts := range []string{`"users":"all"`, `"scope":"in"`} {
				body := []string{`{}`, `{"equals":{"foo":"bar"}}`, `{"equals":{"_id":"x"}}`}[i]
				subscribe(t, e, c, `{"index":"idx","collection":"col","body":`+body+`,`+opts+`}`)
			}
		}
		for _, s := range subs {
			s.take(t)
		}
		me := e.Connect("me", &fakeSub{})
		r := &request{conn: me}
		if kuzzle.ParseRequest([]byte(envelope), 0, &r.r) != nil {
			return // answered with a room-less error frame: not the engine's business
		}
		res, err := handle(e, action, r)
		if err != nil {
			var ke *kuzzle.Error
			if !errors.As(err, &ke) || ke.Status == 0 || !json.Valid(ke.AppendJSON(nil)) {
				t.Fatalf("bad error %#v", err)
			}
		} else if res != nil && !json.Valid(res) {
			t.Fatalf("result is not JSON: %s", res)
		}
		e.Disconnect(me)
		for _, s := range subs {
			s.take(t) // checks JSON validity
		}
	})
}
