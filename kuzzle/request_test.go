package kuzzle

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name      string
		msg       string
		err       string // "" for success, else the error's JSON
		requestID string // the RequestID after the call; "uuid" for a generated one
	}{
		{name: "request", msg: `{"controller":"server","action":"now","requestId":"r1"}`, requestID: `"r1"`},
		{name: "no requestId", msg: `{"controller":"server","action":"now"}`, requestID: "uuid"},
		{name: "null requestId", msg: `{"controller":"server","action":"now","requestId":null}`, requestID: "uuid"},
		{name: "invalid JSON", msg: `not json`, requestID: "uuid",
			err: `{"code":50528257,"id":"network.websocket.unexpected_error","message":"Caught an unexpected WebSocket error: message is not valid JSON: \"not json\"","props":["message is not valid JSON: \"not json\""],"status":400}`},
		{name: "not an object", msg: `[1]`, requestID: "uuid", err: `{"message":"Input request data must be a non-null object","status":500}`},
		{name: "null", msg: `null`, requestID: "uuid", err: `{"message":"Input request data must be a non-null object","status":500}`},
		{name: "numeric requestId is echoed", msg: `{"requestId":123,"controller":"server","action":"now"}`, requestID: `123`,
			err: `{"message":"Attribute requestId must be of type \"string\"","status":400}`},
		{name: "object requestId is echoed", msg: `{"requestId":{"a":1},"controller":"server","action":"now"}`, requestID: `{"a":1}`,
			err: `{"message":"Attribute requestId must be of type \"string\"","status":400}`},
		{name: "controller of the wrong type keeps the requestId", msg: `{"controller":1,"requestId":"t1"}`, requestID: `"t1"`,
			err: `{"message":"Attribute controller must be of type \"string\"","status":400}`},
		{name: "jwt of the wrong type", msg: `{"jwt":false}`, requestID: "uuid", err: `{"message":"Attribute jwt must be of type \"string\"","status":400}`},
		{name: "volatile of the wrong type", msg: `{"volatile":[]}`, requestID: "uuid", err: `{"message":"Attribute volatile must be of type \"object\"","status":400}`},
		{name: "body of the wrong type", msg: `{"body":"x"}`, requestID: "uuid", err: `{"message":"Attribute body must be of type \"object\"","status":400}`},
		{name: "too deep", msg: `{"body":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, requestID: "uuid",
			err: `{"code":50528257,"id":"network.websocket.unexpected_error","message":"Caught an unexpected WebSocket error: message nested deeper than 128 levels","props":["message nested deeper than 128 levels"],"status":400}`},
		{name: "deep but within the limit", msg: `{"body":` + strings.Repeat("[", 127) + strings.Repeat("]", 127) + `}`, requestID: "uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			e := ParseRequest([]byte(tt.msg), 0, &r)
			switch {
			case tt.err == "" && e != nil:
				t.Fatalf("unexpected error %s", e.AppendJSON(nil))
			case tt.err != "" && e == nil:
				t.Fatalf("no error, want %s", tt.err)
			case e != nil && string(e.AppendJSON(nil)) != tt.err:
				t.Fatalf("error\ngot  %s\nwant %s", e.AppendJSON(nil), tt.err)
			}
			if tt.requestID == "uuid" {
				if len(r.RequestID) != 38 || r.RequestID[0] != '"' {
					t.Fatalf("RequestID %s, want a quoted UUID", r.RequestID)
				}
			} else if r.RequestID != tt.requestID {
				t.Fatalf("RequestID %s, want %s", r.RequestID, tt.requestID)
			}
		})
	}
}

func TestAppPing(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"p":1}`:       true,
		`{"p":2,"p":1}`: true, // the last occurrence wins, as with JSON.parse
		`{"p":2}`:       false,
		`{"p":"1"}`:     false,
		`{"p":1,"a":1}`: false,
	} {
		var r Request
		if e := ParseRequest([]byte(msg), 0, &r); e != nil {
			t.Fatal(e)
		}
		if r.IsAppPing() != want {
			t.Errorf("%s: IsAppPing %v", msg, !want)
		}
	}
}

func TestGetters(t *testing.T) {
	parse := func(msg string) *Request {
		t.Helper()
		var r Request
		if e := ParseRequest([]byte(msg), 0, &r); e != nil {
			t.Fatal(e)
		}
		return &r
	}
	wantKind := func(err error, k *Kind, msg string) {
		t.Helper()
		if !errors.Is(err, k) || err.Error() != msg {
			t.Errorf("error %v, want %s %q", err, k.ID, msg)
		}
	}
	_, _, err := parse(`{"collection":"c"}`).IndexAndCollection()
	wantKind(err, ErrMissingArgument, `Missing argument "index".`)
	_, _, err = parse(`{"index":"","collection":"c"}`).IndexAndCollection()
	wantKind(err, ErrMissingArgument, `Missing argument "index".`)
	_, _, err = parse(`{"index":1,"collection":"c"}`).IndexAndCollection()
	wantKind(err, ErrInvalidType, `Wrong type for argument "index" (expected: string)`)
	_, _, err = parse(`{"index":"i"}`).IndexAndCollection()
	wantKind(err, ErrMissingArgument, `Missing argument "collection".`)
	_, _, err = parse(`{"index":"a/b","collection":"c"}`).IndexAndCollection()
	wantKind(err, ErrInvalidIndexName, `The index name "a/b" is invalid`)
	_, _, err = parse(`{"index":"a","collection":"b/c"}`).IndexAndCollection()
	wantKind(err, ErrInvalidCollectionName, `The collection name "b/c" is invalid`)
	if i, c, err := parse(`{"index":"i","collection":"c"}`).IndexAndCollection(); i != "i" || c != "c" || err != nil {
		t.Errorf("IndexAndCollection = %q %q %v", i, c, err)
	}

	_, err = parse(`{}`).BodyString("roomId")
	wantKind(err, ErrBodyRequired, "The request must specify a body.")
	_, err = parse(`{"body":{}}`).BodyString("roomId")
	wantKind(err, ErrMissingArgument, `Missing argument "body.roomId".`)
	_, err = parse(`{"body":[{"roomId":"x"}]}`).BodyString("roomId")
	wantKind(err, ErrMissingArgument, `Missing argument "body.roomId".`)
	_, err = parse(`{"body":{"roomId":1}}`).BodyString("roomId")
	wantKind(err, ErrInvalidType, `Wrong type for argument "body.roomId" (expected: string)`)
	if s, err := parse(`{"body":{"roomId":"r"}}`).BodyString("roomId"); s != "r" || err != nil {
		t.Errorf("BodyString = %q %v", s, err)
	}

	_, err = parse(`{}`).String("strategy")
	wantKind(err, ErrMissingArgument, `Missing argument "strategy".`)
	_, err = parse(`{"strategy":1}`).String("strategy")
	wantKind(err, ErrInvalidType, `Wrong type for argument "strategy" (expected: string)`)
	if b, err := parse(`{"cookieAuth":true}`).Bool("cookieAuth"); !b || err != nil {
		t.Errorf("Bool = %v %v", b, err)
	}
	_, err = parse(`{"cookieAuth":"yes"}`).Bool("cookieAuth")
	wantKind(err, ErrInvalidType, `Wrong type for argument "cookieAuth" (expected: boolean)`)

	for msg, want := range map[string]int64{
		`{}`:                  7,
		`{"timestamp":42}`:    42,
		`{"timestamp":0}`:     7,
		`{"timestamp":1.5}`:   7,
		`{"timestamp":"42"}`:  7,
		`{"timestamp":1e300}`: 7,
	} {
		if got := parse(msg).Stamp(7); got != want {
			t.Errorf("%s: Stamp = %d, want %d", msg, got, want)
		}
	}
}
