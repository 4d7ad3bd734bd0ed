package kuzzle

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

type refError struct {
	code    int
	class   string
	message string
}

// readReference reads testdata/kuzzle-errors.tsv, Kuzzle 2.56's whole catalog.
func readReference(t *testing.T) map[string]refError {
	t.Helper()
	f, err := os.Open("testdata/kuzzle-errors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]refError{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("kuzzle-errors.tsv: %d columns in %q", len(cols), line)
		}
		code, err := strconv.Atoi(cols[1])
		if err != nil {
			t.Fatalf("kuzzle-errors.tsv: bad code in %q", line)
		}
		var msg string
		if err := json.Unmarshal([]byte(cols[3]), &msg); err != nil {
			t.Fatalf("kuzzle-errors.tsv: bad message in %q: %v", line, err)
		}
		out[cols[0]] = refError{code: code, class: cols[2], message: msg}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 270 {
		t.Fatalf("kuzzle-errors.tsv: only %d errors", len(out))
	}
	return out
}

func TestCatalogMatchesKuzzle(t *testing.T) {
	ref := readReference(t)
	seen := map[string]bool{}
	for _, k := range catalog {
		if seen[k.ID] {
			t.Errorf("%s: twice in the catalog", k.ID)
		}
		seen[k.ID] = true
		want, ok := ref[k.ID]
		if !ok {
			t.Errorf("%s: not a Kuzzle error id", k.ID)
			continue
		}
		if k.Code != want.code || k.Class != want.class || k.Message != want.message {
			t.Errorf("%s: catalog has %d %s %q, Kuzzle has %d %s %q", k.ID, k.Code, k.Class, k.Message, want.code, want.class, want.message)
		}
		if _, ok := classStatus[k.Class]; !ok {
			t.Errorf("%s: no status for class %s", k.ID, k.Class)
		}
	}
}

func TestKindStatus(t *testing.T) {
	for _, tt := range []struct {
		kind   *Kind
		status int
	}{
		{kind: ErrNotSubscribed, status: 412},
		{kind: ErrTooManyRooms, status: 413},
		{kind: ErrRateLimitExceeded, status: 429},
		{kind: ErrShuttingDown, status: 503},
		{kind: ErrUnauthorized, status: 401},
		{kind: ErrForbidden, status: 403},
		{kind: ErrRoomNotFound, status: 404},
		{kind: ErrUnexpected, status: 500},
	} {
		if got := tt.kind.Status(); got != tt.status {
			t.Errorf("%s: status %d, want %d", tt.kind.ID, got, tt.status)
		}
	}
}

func TestNewError(t *testing.T) {
	tests := []struct {
		name  string
		kind  *Kind
		props []string
		json  string
	}{
		{name: "no props", kind: ErrInvalidScope,
			json: `{"code":65540,"id":"core.realtime.invalid_scope","message":"Invalid value for the \"scope\" parameter (allowed: \"all\", \"in\", \"out\", \"none\").","props":[],"status":400}`},
		{name: "two props", kind: ErrNotSubscribed, props: []string{"9b29879b", "nope"},
			json: `{"code":65544,"id":"core.realtime.not_subscribed","message":"User \"9b29879b\" has not subscribed to \"nope\".","props":["9b29879b","nope"],"status":412}`},
		{name: "prop with a percent sign", kind: ErrKoncordeDSL, props: []string{`"%s": 100%`},
			json: `{"code":33619982,"id":"api.assert.koncorde_dsl_error","message":"\"%s\": 100%","props":["\"%s\": 100%"],"status":400}`},
		{name: "missing prop keeps %s", kind: ErrActionNotFound, props: []string{"server"},
			json: `{"code":33685509,"id":"api.process.action_not_found","message":"API action \"server\":\"%s\" not found","props":["server"],"status":404}`},
		{name: "room-less websocket error", kind: ErrWebSocketUnexpected, props: []string{"Unexpected token 'o'"},
			json: `{"code":50528257,"id":"network.websocket.unexpected_error","message":"Caught an unexpected WebSocket error: Unexpected token 'o'","props":["Unexpected token 'o'"],"status":400}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.kind.New(tt.props...)
			if got := string(e.AppendJSON(nil)); got != tt.json {
				t.Errorf("got  %s\nwant %s", got, tt.json)
			}
			if !errors.Is(e, tt.kind) || errors.Is(e, ErrUnexpected) && tt.kind != ErrUnexpected {
				t.Errorf("errors.Is does not tell the kind")
			}
			if n := len(e.AppendJSON(nil)); n > e.jsonSize() {
				t.Errorf("jsonSize %d < %d", e.jsonSize(), n)
			}
		})
	}
	bare := Bare(400, `Attribute controller must be of type "string"`)
	if got := string(bare.AppendJSON(nil)); got != `{"message":"Attribute controller must be of type \"string\"","status":400}` {
		t.Errorf("bare error: %s", got)
	}
	if e := AsError(errors.New("boom")); e.ID != ErrUnexpected.ID || e.Message != "Caught an unexpected error: boom." {
		t.Errorf("AsError: %+v", e)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) is not nil")
	}
}
