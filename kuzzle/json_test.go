package kuzzle

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/sjson"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "idx", want: `"idx"`},
		// JSON.stringify writes \b and \f as short escapes, other controls as \u00XX.
		{name: "escapes as JavaScript", in: "a\"b\\c\nd\te\r\b\f\x01\x1f", want: `"a\"b\\c\nd\te\r\b\f\u0001\u001f"`},
		{name: "unicode kept", in: "é€😀<>&\u2028", want: "\"é€😀<>&\u2028\""},
		{name: "invalid utf-8", in: "a\xffb", want: "\"a\ufffdb\""},
		{name: "empty", in: "", want: `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendString(nil, tt.in))
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("%s is not valid JSON", got)
			}
		})
	}
}

// TestAppendRoomMatchesSjson checks the one way of setting `room` against sjson, which
// it replaces on every response and notification.
func TestAppendRoomMatchesSjson(t *testing.T) {
	for _, obj := range []string{
		`{"a":1}`,
		`{"type":"user","result":{"room":1}}`,
		`{"action":"now","controller":"server","error":null,"headers":{},"node":"n","requestId":"x","result":{"now":1},"status":200,"volatile":null}`,
	} {
		for _, room := range []string{`"abc-311"`, `"09aed01c-b9b5-4820-ac8a-74f372b25e2a"`, `"a\"b"`} {
			want, err := sjson.SetRawBytes([]byte(obj), "room", []byte(room))
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendRoom([]byte(obj), room); string(got) != string(want) {
				t.Errorf("AppendRoom(%s, %s):\ngot  %s\nwant %s", obj, room, got, want)
			}
			if got := AppendRoom([]byte(obj), []byte(room)); string(got) != string(want) {
				t.Errorf("AppendRoom([]byte):\ngot  %s\nwant %s", got, want)
			}
		}
	}
}

func TestSetKeyMatchesSjson(t *testing.T) {
	info := []byte(`{"author":"-1","createdAt":1}`)
	for _, body := range []string{
		`{}`,
		`{ }`,
		`{"foo":"bar"}`,
		`{"foo":"bar","n":1} `,
		"{\n  \"a\": [1, {\"_kuzzle_info\": 2}],\n  \"b\": {}\n}",
		`{"_kuzzle_info":{"x":1},"foo":"bar"}`,
		`{"a":1,"_kuzzle_info":null}`,
		`{"a":"}","b":"\"_kuzzle_info\""}`,
	} {
		t.Run(body, func(t *testing.T) {
			want, err := sjson.SetRawBytes([]byte(body), "_kuzzle_info", info)
			if err != nil {
				t.Fatal(err)
			}
			in := []byte(body)
			got := SetKey(in, "_kuzzle_info", info)
			if string(got) != string(want) {
				t.Errorf("SetKey:\ngot  %s\nwant %s", got, want)
			}
			if string(in) != body {
				t.Errorf("SetKey modified its input")
			}
		})
	}
}

// A duplicated key must not let a sender forge the value a JavaScript reader sees
// (JSON.parse keeps the last occurrence): every later occurrence is removed.
func TestSetKeyRemovesDuplicates(t *testing.T) {
	info := []byte(`{"author":"-1","createdAt":1}`)
	for _, tc := range []struct {
		body, want string
	}{
		{
			body: `{"_kuzzle_info":0,"msg":"hi","_kuzzle_info":{"author":"admin"}}`,
			want: `{"_kuzzle_info":{"author":"-1","createdAt":1},"msg":"hi"}`,
		},
		{
			body: `{"a":1, "_kuzzle_info" : 0 , "_kuzzle_info":2,"b":3, "_kuzzle\u005finfo":4}`,
			want: `{"a":1, "_kuzzle_info" : {"author":"-1","createdAt":1},"b":3}`,
		},
	} {
		got := SetKey([]byte(tc.body), "_kuzzle_info", info)
		if string(got) != tc.want {
			t.Errorf("SetKey(%s):\ngot  %s\nwant %s", tc.body, got, tc.want)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil || m["_kuzzle_info"].(map[string]any)["author"] != "-1" {
			t.Errorf("decoded %v (%v)", m, err)
		}
	}
}

func TestDepthExceeds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want bool
	}{
		{name: "flat", in: `{"a":1}`, max: 1, want: false},
		{name: "at the limit", in: `{"a":[[1]]}`, max: 3, want: false},
		{name: "past the limit", in: `{"a":[[1]]}`, max: 2, want: true},
		{name: "brackets in strings do not count", in: `{"a":"[[[[{{{{"}`, max: 1, want: false},
		{name: "escaped quote keeps the string open", in: `{"a":"\"[[[["}`, max: 1, want: false},
		{name: "siblings are not depth", in: `[[],[],[],[],[]]`, max: 2, want: false},
		{name: "unbalanced opening flood", in: strings.Repeat("[", 1000), max: 128, want: true},
		{name: "closing flood", in: strings.Repeat("]", 1000), max: 128, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := depthExceeds([]byte(tt.in), tt.max); got != tt.want {
				t.Errorf("depthExceeds(%q, %d) = %v", tt.in, tt.max, got)
			}
		})
	}
}
