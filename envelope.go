package main

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/google/uuid"
	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

// envelope holds the top-level fields of one request (spec section 5.1), read with gjson
// in one pass over the object's keys. Every Result aliases the message bytes: it is valid
// only while the message is being handled.
type envelope struct {
	requestID, controller, action gjson.Result
	index, collection, id         gjson.Result
	body, volatile, jwt           gjson.Result
	scope, users, timestamp       gjson.Result
	otherKeys                     int // keys other than "p"
	p                             gjson.Result

	// requestIDRaw is the requestId as a raw JSON string: the client's, or a generated
	// UUID when it sent none. Set before the action runs.
	requestIDRaw string
}

// castError is why a message could not become a request: the room-less error frame of
// spec section 6.3 that answers it.
type castError struct {
	err       *room.Error
	requestID gjson.Result // the client's requestId when it was readable, else empty
}

// parseEnvelope reads msg (a whole client message) into env. It fails, as Kuzzle's
// WebSocket entry point does (spec sections 1.1, 5.1, 6.3), on invalid JSON
// (network.websocket.unexpected_error, 400), on a value that is not an object (500), and on
// envelope fields of the wrong type (400, message `Attribute <name> must be of type "<t>"`).
func parseEnvelope(msg []byte, env *envelope) *castError {
	s := unsafe.String(unsafe.SliceData(msg), len(msg))
	if !gjson.Valid(s) {
		return &castError{err: room.NewError("network.websocket.unexpected_error", invalidJSONReason(msg))}
	}
	v := gjson.Parse(s)
	if !v.IsObject() {
		return &castError{err: &room.Error{Status: 500, Message: "Input request data must be a non-null object"}}
	}
	*env = envelope{}
	v.ForEach(func(k, val gjson.Result) bool {
		if k.Str != "p" {
			env.otherKeys++
		}
		switch k.Str {
		case "requestId":
			env.requestID = val
		case "controller":
			env.controller = val
		case "action":
			env.action = val
		case "index":
			env.index = val
		case "collection":
			env.collection = val
		case "_id":
			env.id = val
		case "body":
			env.body = val
		case "volatile":
			env.volatile = val
		case "jwt":
			env.jwt = val
		case "scope":
			env.scope = val
		case "users":
			env.users = val
		case "timestamp":
			env.timestamp = val
		case "p":
			env.p = val
		}
		return true
	})
	for _, f := range [...]struct {
		name string
		v    gjson.Result
	}{{"requestId", env.requestID}, {"jwt", env.jwt}, {"controller", env.controller}, {"action", env.action}} {
		if present(f.v) && f.v.Type != gjson.String {
			return &castError{err: typeError(f.name, "string"), requestID: stringOnly(env.requestID)}
		}
	}
	if present(env.volatile) && !env.volatile.IsObject() {
		return &castError{err: typeError("volatile", "object"), requestID: stringOnly(env.requestID)}
	}
	if present(env.body) && !env.body.IsObject() && !env.body.IsArray() {
		return &castError{err: typeError("body", "object"), requestID: stringOnly(env.requestID)}
	}
	return nil
}

// isAppPing reports whether env is {"p":1}, Kuzzle's application-level ping (spec
// section 3.4): after JSON.parse, one key, p, whose value is the number 1 (a repeated
// key counts once and its last value wins, as in JavaScript).
func (env *envelope) isAppPing() bool {
	return env.otherKeys == 0 && env.p.Type == gjson.Number && env.p.Num == 1
}

// present reports whether a field exists and is not null (Kuzzle treats null as absent
// for the envelope's type checks).
func present(v gjson.Result) bool { return v.Exists() && v.Type != gjson.Null }

func stringOnly(v gjson.Result) gjson.Result {
	if v.Type == gjson.String {
		return v
	}
	return gjson.Result{}
}

func typeError(name, typ string) *room.Error {
	return &room.Error{Status: 400, Message: "Attribute " + name + ` must be of type "` + typ + `"`}
}

// invalidJSONReason describes why msg is not JSON, for unexpected_error's message.
func invalidJSONReason(msg []byte) string {
	if !utf8.Valid(msg) {
		return "message is not valid UTF-8"
	}
	const show = 32
	if len(msg) > show {
		return "message is not valid JSON (starts with " + strconv.Quote(string(msg[:show])) + ")"
	}
	return "message is not valid JSON: " + strconv.Quote(string(msg))
}

// response is what an action produced: a raw JSON result, or an error.
type response struct {
	result []byte
	err    *room.Error
}

// appendResponse appends the response envelope of spec section 5.2 (success) or 6.2
// (error) to dst, in Kuzzle's key order, without `room`. requestID and node are raw JSON
// strings.
func appendResponse(dst []byte, env *envelope, requestID, node string, r response) []byte {
	dst = append(dst, `{"action":`...)
	dst = appendRawOrNull(dst, env.action)
	if present(env.collection) {
		dst = append(dst, `,"collection":`...)
		dst = append(dst, env.collection.Raw...)
	}
	dst = append(dst, `,"controller":`...)
	dst = appendRawOrNull(dst, env.controller)
	dst = append(dst, `,"error":`...)
	if r.err != nil {
		dst = r.err.AppendJSON(dst)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"headers":{}`...)
	if present(env.index) {
		dst = append(dst, `,"index":`...)
		dst = append(dst, env.index.Raw...)
	}
	dst = append(dst, `,"node":`...)
	dst = append(dst, node...)
	dst = append(dst, `,"requestId":`...)
	dst = append(dst, requestID...)
	dst = append(dst, `,"result":`...)
	if r.err != nil || r.result == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.result...)
	}
	dst = append(dst, `,"status":`...)
	status := 200
	if r.err != nil {
		status = r.err.Status
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"volatile":`...)
	if env.volatile.IsObject() {
		dst = append(dst, env.volatile.Raw...)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// appendRoom sets the root attribute `room` of obj, a JSON object that ends with its
// closing brace and has no `room` key yet, to rawRoom (a raw JSON string: the requestId
// for a response, spec section 4), as its last key. The result is what
// sjson.SetRawBytes(obj, "room", rawRoom) returns (TestAppendRoomMatchesSjson), without
// re-scanning obj and in place when obj has the capacity: sjson's scan and copy were 11%
// of the server's CPU under request/response load.
func appendRoom(obj []byte, rawRoom string) []byte {
	obj = append(obj[:len(obj)-1], `,"room":`...)
	obj = append(obj, rawRoom...)
	return append(obj, '}')
}

func appendRawOrNull(dst []byte, v gjson.Result) []byte {
	if present(v) {
		return append(dst, v.Raw...)
	}
	return append(dst, "null"...)
}

// newRequestID returns a fresh UUIDv4 as a raw JSON string, Kuzzle's id for requests that
// came without one (spec section 5.1).
func newRequestID() string {
	return `"` + uuid.NewString() + `"`
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}
