package kuzzle

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// AppendResponse appends the response envelope of r to dst, in Kuzzle's key order
// (Kuzzle 2.56 lib/api/request/kuzzleResponse.ts toJSON, serialized by the WebSocket
// entry point): action, collection (when given), controller, error, headers, index (when
// given), node, requestId, result, status, volatile. `room` is not included: set it with
// AppendRoom. node is a raw JSON string. An error response has result null and the
// error's status; a success has status 200 and result as given (raw JSON; nil writes
// null).
func AppendResponse(dst []byte, r *Request, node string, result []byte, err *Error) []byte {
	dst = append(dst, `{"action":`...)
	dst = AppendRawOrNull(dst, presentRaw(r.Action))
	if Present(r.Collection) {
		dst = append(dst, `,"collection":`...)
		dst = append(dst, r.Collection.Raw...)
	}
	dst = append(dst, `,"controller":`...)
	dst = AppendRawOrNull(dst, presentRaw(r.Controller))
	dst = append(dst, `,"error":`...)
	if err != nil {
		dst = err.AppendJSON(dst)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"headers":{}`...)
	if Present(r.Index) {
		dst = append(dst, `,"index":`...)
		dst = append(dst, r.Index.Raw...)
	}
	dst = append(dst, `,"node":`...)
	dst = append(dst, node...)
	dst = append(dst, `,"requestId":`...)
	dst = AppendRawOrNull(dst, r.RequestID)
	dst = append(dst, `,"result":`...)
	status := 200
	if err != nil {
		status = err.Status
		dst = append(dst, "null"...)
	} else {
		dst = AppendRawOrNull(dst, result)
	}
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"volatile":`...)
	if r.Volatile.IsObject() {
		dst = append(dst, r.Volatile.Raw...)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// ResponseSize is an estimate of the bytes AppendResponse and AppendRoom (with the
// requestId as room) write, so that a buffer sized with it rarely grows.
func ResponseSize(r *Request, node string, result []byte, err *Error) int {
	n := 160 + 2*len(r.RequestID) + len(node) + len(r.Action.Raw) + len(r.Controller.Raw) +
		len(r.Index.Raw) + len(r.Collection.Raw) + len(r.Volatile.Raw) + len(result)
	if err != nil {
		n += err.jsonSize()
	}
	return n
}

// presentRaw returns v's raw JSON, "" when it is absent or null.
func presentRaw(v gjson.Result) string {
	if Present(v) {
		return v.Raw
	}
	return ""
}
