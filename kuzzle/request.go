package kuzzle

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
)

// DefaultMaxDepth is the deepest nesting of arrays and objects a request may have when
// ParseRequest is given 0. Kuzzle's documents and Koncorde filters rarely pass a few
// dozen levels; the bound keeps every recursive step (JSON validation, filter
// normalization) on a small stack whatever a client sends.
const DefaultMaxDepth = 128

// Request is one Kuzzle API request read from its JSON envelope (Kuzzle 2.56
// lib/api/request/kuzzleRequest.ts and requestInput.ts): the top-level keys a server
// reads, each a gjson.Result aliasing the message. A Request is valid only while the
// message bytes are unchanged: copy what must outlive the call. Absent keys are zero
// Results (Exists() false); when a key is repeated the last one wins, as with JSON.parse.
//
// The getters (IndexAndCollection, BodyString, String, ...) are Kuzzle's own argument
// checks: they return the error Kuzzle returns for the same request, always an *Error.
type Request struct {
	// RequestID is the request's requestId as a raw JSON value, the `requestId` and the
	// `room` of its response: the client's string, or a fresh quoted UUIDv4 when it sent
	// none (Kuzzle generates one). When ParseRequest fails it holds the client's value of
	// any type when one was readable, as Kuzzle's wsSendError echoes it.
	RequestID string

	Controller, Action    gjson.Result // strings when present (checked by ParseRequest)
	Index, Collection, ID gjson.Result // resource arguments: `index`, `collection`, `_id`
	Body                  gjson.Result // an object or an array when present
	Volatile              gjson.Result // an object when present
	JWT                   gjson.Result // `jwt`, a string when present
	Scope, Users          gjson.Result // realtime subscription options
	Timestamp             gjson.Result // `timestamp`: overrides the clock of notifications

	envelope  gjson.Result // the whole object, for String and Bool
	otherKeys int          // keys other than "p"
	p         gjson.Result
}

// ParseRequest reads msg, one whole client message, into r. It fails as Kuzzle's
// WebSocket entry point does (lib/core/network/protocols/websocket.ts onMessage, then the
// Request constructor's lib/util/assertType.js), with a room-less error: invalid JSON,
// invalid UTF-8, or nesting deeper than maxDepth (0 means DefaultMaxDepth) is
// network.websocket.unexpected_error (400); a value that is not an object is a bare 500
// "Input request data must be a non-null object"; requestId, jwt, controller or action
// of another type than string, volatile not an object, body neither object nor array is
// a bare 400 "Attribute <name> must be of type "<type>"". A message that cannot be
// parsed never reaches a recursive step: depth is checked first, in linear time.
func ParseRequest(msg []byte, maxDepth int, r *Request) *Error {
	*r = Request{}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if depthExceeds(msg, maxDepth) {
		r.RequestID = newRequestID()
		return ErrWebSocketUnexpected.New("message nested deeper than " + strconv.Itoa(maxDepth) + " levels")
	}
	s := unsafe.String(unsafe.SliceData(msg), len(msg))
	if !gjson.Valid(s) {
		r.RequestID = newRequestID()
		return ErrWebSocketUnexpected.New(invalidJSONReason(msg))
	}
	v := gjson.Parse(s)
	if !v.IsObject() {
		r.RequestID = newRequestID()
		return Bare(500, "Input request data must be a non-null object")
	}
	r.envelope = v
	v.ForEach(func(k, val gjson.Result) bool {
		if k.Str != "p" {
			r.otherKeys++
		}
		switch k.Str {
		case "requestId":
			r.RequestID = val.Raw
		case "controller":
			r.Controller = val
		case "action":
			r.Action = val
		case "index":
			r.Index = val
		case "collection":
			r.Collection = val
		case "_id":
			r.ID = val
		case "body":
			r.Body = val
		case "volatile":
			r.Volatile = val
		case "jwt":
			r.JWT = val
		case "scope":
			r.Scope = val
		case "users":
			r.Users = val
		case "timestamp":
			r.Timestamp = val
		case "p":
			r.p = val
		}
		return true
	})
	if r.RequestID == "null" {
		r.RequestID = ""
	}
	if r.RequestID != "" && r.RequestID[0] != '"' {
		return Bare(400, `Attribute requestId must be of type "string"`)
	}
	for _, f := range [...]struct {
		name string
		v    gjson.Result
	}{{"jwt", r.JWT}, {"controller", r.Controller}, {"action", r.Action}} {
		if Present(f.v) && f.v.Type != gjson.String {
			r.ensureRequestID()
			return Bare(400, "Attribute "+f.name+` must be of type "string"`)
		}
	}
	if Present(r.Volatile) && !r.Volatile.IsObject() {
		r.ensureRequestID()
		return Bare(400, `Attribute volatile must be of type "object"`)
	}
	if Present(r.Body) && !r.Body.IsObject() && !r.Body.IsArray() {
		r.ensureRequestID()
		return Bare(400, `Attribute body must be of type "object"`)
	}
	r.ensureRequestID()
	return nil
}

func (r *Request) ensureRequestID() {
	if r.RequestID == "" {
		r.RequestID = newRequestID()
	}
}

// IsAppPing reports whether the request is {"p":1}, Kuzzle's application-level ping
// (lib/core/network/protocols/websocket.ts): after JSON.parse, one key, p, whose value
// is the number 1. It is answered {"p":2} and is not an API request.
func (r *Request) IsAppPing() bool {
	return r.otherKeys == 0 && r.p.Type == gjson.Number && r.p.Num == 1
}

// newRequestID returns a fresh UUIDv4 as a raw JSON string, Kuzzle's id for requests that
// came without one (kuzzleRequest.ts: `data.requestId || uuid.v4()`).
func newRequestID() string {
	return `"` + uuid.NewString() + `"`
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

// ControllerName returns the controller, "" when absent.
func (r *Request) ControllerName() string { return r.Controller.Str }

// ActionName returns the action, "" when absent.
func (r *Request) ActionName() string { return r.Action.Str }

// Token returns the `jwt` argument, "" when absent.
func (r *Request) Token() string { return r.JWT.Str }

// HasBody reports whether the request has a body (present and not null).
func (r *Request) HasBody() bool { return Present(r.Body) }

// IndexAndCollection returns the index and collection arguments (kuzzleRequest.ts
// getIndexAndCollection): a falsy value is api.assert.missing_argument, another
// non-string api.assert.invalid_type. Names containing "/" are refused as Kuzzle refuses
// to create them (services.storage.invalid_index_name, invalid_collection_name): a
// Koncorde index is index + "/" + collection. The strings alias the message.
func (r *Request) IndexAndCollection() (index, collection string, err error) {
	if index, err = stringArg(r.Index, "index"); err != nil {
		return "", "", err
	}
	if collection, err = stringArg(r.Collection, "collection"); err != nil {
		return "", "", err
	}
	if strings.Contains(index, "/") {
		return "", "", ErrInvalidIndexName.New(index)
	}
	if strings.Contains(collection, "/") {
		return "", "", ErrInvalidCollectionName.New(collection)
	}
	return index, collection, nil
}

// stringArg is Kuzzle's string argument check on v: falsy is missing, a non-string is
// invalid_type. The string aliases the message.
func stringArg(v gjson.Result, name string) (string, error) {
	if !Truthy(v) {
		return "", ErrMissingArgument.New(name)
	}
	if v.Type != gjson.String {
		return "", ErrInvalidType.New(name, "string")
	}
	return v.Str, nil
}

// BodyString returns the string body.<name> (kuzzleRequest.ts getBodyString): no body is
// api.assert.body_required, a missing key (or a body that is an array)
// api.assert.missing_argument "body.<name>", a non-string api.assert.invalid_type. The
// string aliases the message.
func (r *Request) BodyString(name string) (string, error) {
	if !r.HasBody() {
		return "", ErrBodyRequired.New()
	}
	v := r.Body.Get(name)
	if !v.Exists() || !r.Body.IsObject() {
		return "", ErrMissingArgument.New("body." + name)
	}
	if v.Type != gjson.String {
		return "", ErrInvalidType.New("body."+name, "string")
	}
	return v.Str, nil
}

// String returns the top-level argument name as a string (kuzzleRequest.ts getString):
// absent or null is api.assert.missing_argument, a non-string api.assert.invalid_type.
// name must be a plain key (no gjson path syntax). The string aliases the message.
func (r *Request) String(name string) (string, error) {
	v := r.Arg(name)
	if !Present(v) {
		return "", ErrMissingArgument.New(name)
	}
	if v.Type != gjson.String {
		return "", ErrInvalidType.New(name, "string")
	}
	return v.Str, nil
}

// Bool returns the top-level boolean argument name (kuzzleRequest.ts getBoolean): absent
// or null is false, a non-boolean api.assert.invalid_type.
func (r *Request) Bool(name string) (bool, error) {
	v := r.Arg(name)
	switch {
	case !Present(v):
		return false, nil
	case v.Type == gjson.True:
		return true, nil
	case v.Type == gjson.False:
		return false, nil
	}
	return false, ErrInvalidType.New(name, "boolean")
}

// Arg returns the top-level key name of the envelope (the first occurrence when it is
// repeated), for the arguments that have no field. name must be a plain key.
func (r *Request) Arg(name string) gjson.Result {
	if !r.envelope.Exists() {
		return gjson.Result{}
	}
	return r.envelope.Get(name)
}

// Stamp returns the request's timestamp when it is a non-zero integer number of
// milliseconds (kuzzleRequest.ts: `data.timestamp || Date.now()`), else now.
func (r *Request) Stamp(now int64) int64 {
	v := r.Timestamp
	if v.Type != gjson.Number || v.Num == 0 || v.Num != math.Trunc(v.Num) || math.Abs(v.Num) > 1<<53 {
		return now
	}
	return int64(v.Num)
}

// DocumentID returns `_id` when it is a string, else "".
func (r *Request) DocumentID() string {
	if r.ID.Type == gjson.String {
		return r.ID.Str
	}
	return ""
}

func countByte(b []byte, c byte) int { return bytes.Count(b, []byte{c}) }
