// Package kuzzle is Kuzzle's wire vocabulary, shared by every part of kuzzlews that speaks
// Kuzzle's API: the request read once from its JSON envelope with Kuzzle's own argument
// checks, the response and notification encoders, and the error catalog. It follows
// Kuzzle 2.56 (lib/api/request, lib/kerror, lib/core/realtime/notification); the source
// of each rule is written beside it.
//
// # Concurrency and ownership
//
// Everything here is a pure function or a value: safe for concurrent use. A Request
// aliases the message it was parsed from (gjson Results over the caller's bytes): it is
// valid while those bytes are, and strings returned by its getters too. Append* functions
// only append to the slice they are given and keep nothing.
//
// # Errors
//
// Every error id kuzzlews raises is an exported *Kind (ErrRoomNotFound, ErrForbidden,
// ...): a typo does not compile. Kind.New fills the message template and returns an
// *Error, which AppendJSON serializes as Kuzzle does. Getters return error values that
// are always *Error; AsError converts any error for a response.
//
// # JSON
//
// AppendString is the one JSON string encoder (JavaScript's escapes) and AppendRoom the one
// way to set the `room` attribute every message to a client carries: the requestId of a
// response, the channel of a notification, appended as the last key as Kuzzle does.
//
// # Example
//
//	var r kuzzle.Request
//	if err := kuzzle.ParseRequest(msg, 0, &r); err != nil {
//		// a room-less error frame: kuzzle.AppendResponse(nil, &r, node, nil, err)
//	}
//	index, collection, err := r.IndexAndCollection()
//	...
//	out := kuzzle.AppendResponse(buf, &r, node, result, kuzzle.AsError(err))
//	out = kuzzle.AppendRoom(out, r.RequestID)
package kuzzle
