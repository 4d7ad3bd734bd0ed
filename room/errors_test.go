package room

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/sjson"
)

// sharedSpec returns the path of a file of shared/spec, the reference folder beside
// the repository root (../../shared from this package; a git worktree may sit one
// level deeper, so parents are searched too). It fails the test clearly when the file
// is missing.
func sharedSpec(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..")
	for range 3 {
		p := filepath.Join(dir, "shared", "spec", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Join(dir, "..")
	}
	t.Fatalf("reference file shared/spec/%s not found beside the repository root (../../shared/spec from room/)", name)
	return ""
}

type tsvError struct {
	code    int
	class   string
	message string
}

func readTSV(t *testing.T) map[string]tsvError {
	t.Helper()
	f, err := os.Open(sharedSpec(t, "kuzzle-errors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]tsvError{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 5 {
			t.Fatalf("kuzzle-errors.tsv: %d columns in %q", len(cols), sc.Text())
		}
		code, err := strconv.Atoi(cols[1])
		if err != nil {
			t.Fatalf("kuzzle-errors.tsv: bad code in %q", sc.Text())
		}
		var msg string
		if err := json.Unmarshal([]byte(cols[4]), &msg); err != nil {
			t.Fatalf("kuzzle-errors.tsv: bad message in %q: %v", sc.Text(), err)
		}
		out[cols[0]] = tsvError{code: code, class: cols[2], message: msg}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 200 {
		t.Fatalf("kuzzle-errors.tsv: only %d errors", len(out))
	}
	return out
}

func TestErrorTableMatchesTSV(t *testing.T) {
	tsv := readTSV(t)
	for id, d := range errorDefs {
		want, ok := tsv[id]
		if !ok {
			t.Errorf("%s: not in kuzzle-errors.tsv", id)
			continue
		}
		if d.code != want.code || d.class != want.class || d.message != want.message {
			t.Errorf("%s: table has %d %s %q, TSV has %d %s %q", id, d.code, d.class, d.message, want.code, want.class, want.message)
		}
		if _, ok := classStatus[d.class]; !ok {
			t.Errorf("%s: no status for class %s", id, d.class)
		}
	}
}

// TestErrorTableCoversSpec checks that NewError knows every id of the table of spec
// section 6.4, with its code and status.
func TestErrorTableCoversSpec(t *testing.T) {
	b, err := os.ReadFile(sharedSpec(t, "kuzzle-protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "### 6.4")
	if !ok {
		t.Fatal("kuzzle-protocol.md has no section 6.4")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| ([0-9]+) \\| ([0-9]+) \\|")
	rows := row.FindAllStringSubmatch(sec, -1)
	if len(rows) < 20 {
		t.Fatalf("found only %d error rows in spec section 6.4", len(rows))
	}
	for _, r := range rows {
		e := NewError(r[1])
		if e.ID != r[1] || strconv.Itoa(e.Code) != r[2] || strconv.Itoa(e.Status) != r[3] {
			t.Errorf("NewError(%q) = %s %d %d, spec says %s %s", r[1], e.ID, e.Code, e.Status, r[2], r[3])
		}
	}
}

func TestNewError(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		props []string
		json  string
	}{
		{name: "no props", id: "core.realtime.invalid_scope",
			json: `{"code":65540,"id":"core.realtime.invalid_scope","message":"Invalid value for the \"scope\" parameter (allowed: \"all\", \"in\", \"out\", \"none\").","props":[],"status":400}`},
		{name: "two props", id: "core.realtime.not_subscribed", props: []string{"9b29879b", "nope"},
			json: `{"code":65544,"id":"core.realtime.not_subscribed","message":"User \"9b29879b\" has not subscribed to \"nope\".","props":["9b29879b","nope"],"status":412}`},
		{name: "prop with a percent sign", id: "api.assert.koncorde_dsl_error", props: []string{`"%s": 100%`},
			json: `{"code":33619982,"id":"api.assert.koncorde_dsl_error","message":"\"%s\": 100%","props":["\"%s\": 100%"],"status":400}`},
		{name: "unknown id", id: "nope.nope.nope",
			json: `{"code":1,"id":"core.fatal.unexpected_error","message":"Caught an unexpected error: unknown error id \"nope.nope.nope\".","props":["unknown error id \"nope.nope.nope\""],"status":500}`},
		{name: "room-less websocket error", id: "network.websocket.unexpected_error", props: []string{"Unexpected token 'o'"},
			json: `{"code":50528257,"id":"network.websocket.unexpected_error","message":"Caught an unexpected WebSocket error: Unexpected token 'o'","props":["Unexpected token 'o'"],"status":400}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(NewError(tt.id, tt.props...).AppendJSON(nil))
			if got != tt.json {
				t.Errorf("got  %s\nwant %s", got, tt.json)
			}
		})
	}
	bare := &Error{Status: 400, Message: `Attribute controller must be of type "string"`}
	if got := string(bare.AppendJSON(nil)); got != `{"message":"Attribute controller must be of type \"string\"","status":400}` {
		t.Errorf("bare error: %s", got)
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "idx", want: `"idx"`},
		{name: "escapes", in: "a\"b\\c\nd\te\r\b\f\x01", want: `"a\"b\\c\nd\te\r\b\f\u0001"`},
		{name: "unicode kept", in: "é€😀<>&\u2028", want: "\"é€😀<>&\u2028\""},
		{name: "invalid utf-8", in: "a\xffb", want: "\"a\ufffdb\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendString(nil, tt.in))
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("%s is not valid JSON", got)
			}
		})
	}
}

// TestSetKeyAndWithRoomMatchSjson checks the two hand-written JSON edits against
// sjson, which they replace on the publish path.
func TestSetKeyAndWithRoomMatchSjson(t *testing.T) {
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
			got := setKey(in, "_kuzzle_info", info)
			if string(got) != string(want) {
				t.Errorf("setKey:\ngot  %s\nwant %s", got, want)
			}
			if string(in) != body {
				t.Errorf("setKey modified its input")
			}
		})
	}
	payload := []byte(`{"type":"user","result":{"room":1}}`)
	quoted := []byte(`"abc-311"`)
	want, err := sjson.SetRawBytes(payload, "room", quoted)
	if err != nil {
		t.Fatal(err)
	}
	if got := withRoom(payload, quoted); string(got) != string(want) {
		t.Errorf("withRoom:\ngot  %s\nwant %s", got, want)
	}
}

// A duplicated _kuzzle_info key must not let a publisher forge the value subscribers read
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
		got := setKey([]byte(tc.body), "_kuzzle_info", info)
		if string(got) != tc.want {
			t.Errorf("setKey(%s):\ngot  %s\nwant %s", tc.body, got, tc.want)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil || m["_kuzzle_info"].(map[string]any)["author"] != "-1" {
			t.Errorf("decoded %v (%v)", m, err)
		}
	}
}
