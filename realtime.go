package main

import (
	"unsafe"

	"github.com/google/uuid"
	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

func init() {
	realtime := map[string]action{}
	for _, name := range []string{"subscribe", "join", "unsubscribe", "count", "list", "publish", "validate"} {
		realtime[name] = realtimeAction(name)
	}
	controllers["realtime"] = realtime
}

// realtimeAction hands one action of Kuzzle's realtime controller (spec section 7) to the
// room engine, with the request's raw JSON arguments.
func realtimeAction(name string) action {
	return func(s *Server, cl *client, env *envelope) response {
		req := room.Request{
			Conn:       cl.roomConn(),
			RequestID:  rawBytes(env.requestIDRaw),
			Index:      rawField(env.index),
			Collection: rawField(env.collection),
			ID:         rawField(env.id),
			Body:       rawField(env.body),
			Scope:      rawField(env.scope),
			Users:      rawField(env.users),
			Volatile:   rawField(env.volatile),
			Timestamp:  rawField(env.timestamp),
		}
		result, err := s.rooms.Handle(name, &req)
		if err != nil {
			return response{err: asAPIError(err)}
		}
		return response{result: result}
	}
}

// roomConn returns the client's connection in the room engine, registering it on first
// use: a client that never uses the realtime controller costs the engine nothing. The
// connection id is a UUIDv4, like Kuzzle's.
func (cl *client) roomConn() *room.Conn {
	if cl.rc == nil {
		cl.rc = cl.s.rooms.Connect(uuid.NewString(), cl)
	}
	return cl.rc
}

// rawField returns the raw JSON of a request field, or nil when the key is absent. The
// bytes alias the message: room copies what it keeps.
func rawField(v gjson.Result) []byte {
	if !v.Exists() {
		return nil
	}
	return rawBytes(v.Raw)
}

func rawBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// asAPIError turns an engine error into a Kuzzle API error; every error room returns is
// one already.
func asAPIError(err error) *room.Error {
	if e, ok := err.(*room.Error); ok {
		return e
	}
	return room.NewError("core.fatal.unexpected_error", err.Error())
}
