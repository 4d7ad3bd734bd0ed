package kuzzle

import "strconv"

// Document is a document notification (Kuzzle 2.56 lib/core/realtime/notification/
// document.ts, sent by notifier.ts notifyDocument) of a realtime:publish. Raw fields are
// raw JSON (empty writes null), names are plain strings.
type Document struct {
	ID         []byte // the publication's `_id`, raw; empty leaves result._id out
	Source     []byte // the published document with its _kuzzle_info, a JSON object
	Node       string // raw JSON string of the node id
	RequestID  []byte // raw requestId of the publication
	Timestamp  int64  // milliseconds since the Unix epoch
	Volatile   []byte // raw volatile of the publication
	Index      string
	Collection string
}

// AppendDocument appends n without `room` (set it per channel with AppendRoom), in
// Kuzzle's key order: type, status, action, scope, result {_id, _source}, node, event,
// requestId, timestamp, volatile, index, collection, controller, protocol.
func AppendDocument(dst []byte, n *Document) []byte {
	dst = append(dst, `{"type":"document","status":200,"action":"publish","scope":"in","result":{`...)
	if len(n.ID) > 0 {
		dst = append(dst, `"_id":`...)
		dst = append(dst, n.ID...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"_source":`...)
	dst = append(dst, n.Source...)
	dst = append(dst, `},"node":`...)
	dst = append(dst, n.Node...)
	dst = append(dst, `,"event":"publish","requestId":`...)
	dst = AppendRawOrNull(dst, n.RequestID)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, n.Timestamp, 10)
	dst = append(dst, `,"volatile":`...)
	dst = AppendRawOrNull(dst, n.Volatile)
	dst = append(dst, `,"index":`...)
	dst = AppendString(dst, n.Index)
	dst = append(dst, `,"collection":`...)
	dst = AppendString(dst, n.Collection)
	return append(dst, `,"controller":"realtime","protocol":"websocket"}`...)
}

// DocumentSize is an estimate of len(AppendDocument(nil, n)) plus a channel name.
func DocumentSize(n *Document) int {
	return 384 + len(n.ID) + len(n.Source) + len(n.Node) + len(n.RequestID) + len(n.Volatile) + len(n.Index) + len(n.Collection)
}

// User is a user notification (lib/core/realtime/notification/user.ts, notifier.ts
// notifyUser): a connection entered (In) or left a room.
type User struct {
	In         bool   // "in" (subscribe, join) or "out" (unsubscribe, disconnect)
	Count      int    // connections in the room after the change
	Node       string // raw JSON string of the node id
	Timestamp  int64  // milliseconds since the Unix epoch
	Volatile   []byte // raw volatile of the connection's subscription; empty writes null
	Index      []byte // raw JSON string of the room's index
	Collection []byte // raw JSON string of the room's collection
	Action     string // the action that caused it: subscribe, join, unsubscribe
}

// AppendUser appends n without `room`, in Kuzzle's key order: type, status, user, result
// {count}, node, timestamp, volatile, index, collection, controller, action, protocol
// ("websocket" for in; null for out, as Kuzzle's disconnection path has no protocol).
func AppendUser(dst []byte, n *User) []byte {
	dst = append(dst, `{"type":"user","status":200,"user":`...)
	if n.In {
		dst = append(dst, `"in"`...)
	} else {
		dst = append(dst, `"out"`...)
	}
	dst = append(dst, `,"result":{"count":`...)
	dst = strconv.AppendInt(dst, int64(n.Count), 10)
	dst = append(dst, `},"node":`...)
	dst = append(dst, n.Node...)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, n.Timestamp, 10)
	dst = append(dst, `,"volatile":`...)
	dst = AppendRawOrNull(dst, n.Volatile)
	dst = append(dst, `,"index":`...)
	dst = append(dst, n.Index...)
	dst = append(dst, `,"collection":`...)
	dst = append(dst, n.Collection...)
	dst = append(dst, `,"controller":"realtime","action":`...)
	dst = AppendString(dst, n.Action)
	if n.In {
		return append(dst, `,"protocol":"websocket"}`...)
	}
	return append(dst, `,"protocol":null}`...)
}

// UserSize is an estimate of len(AppendUser(nil, n)) plus a channel name.
func UserSize(n *User) int {
	return 320 + len(n.Node) + len(n.Volatile) + len(n.Index) + len(n.Collection) + len(n.Action)
}

// ServerChannel is the `room` of server notifications (lib/core/realtime/notifier.ts).
const ServerChannel = "kuzzle:notification:server"

// AppendTokenExpired appends Kuzzle's TokenExpired server notification
// (lib/core/realtime/notification/server.ts), `room` included: the SDK clears its token
// and its subscriptions when it gets it. node is a raw JSON string.
func AppendTokenExpired(dst []byte, node string) []byte {
	dst = append(dst, `{"status":200,"info":"This is an automated server notification","message":"Authentication Token Expired","type":"TokenExpired","node":`...)
	dst = append(dst, node...)
	return append(dst, `,"room":"`+ServerChannel+`"}`...)
}
