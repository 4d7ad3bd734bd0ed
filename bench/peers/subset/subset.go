// Package subset implements the part of Kuzzle's WebSocket protocol that every benchmark peer
// speaks, independent of any network library: server:now, realtime:subscribe on a whole
// index/collection (the `{}` filter), and realtime:publish, with the shapes of Kuzzle 2.56
// (responses: lib/api/request/requestResponse.ts; subscribe result {roomId, channel}:
// lib/core/realtime/hotelClerk.ts; notifications: lib/core/realtime/notification/document.ts,
// with the root `room` set to the channel by lib/core/network/protocols/httpwsProtocol.ts).
//
// Concurrency: Hub is safe for concurrent use. Handle may be called from any goroutine; it
// calls Subscriber.Send for the notifications and returns the response bytes for the caller to
// write. Send must not block for long: the fan-out loop calls it once per subscriber.
//
// Example (a peer's message callback):
//
//	resp := hub.Handle(conn, payload)
//	conn.WriteMessage(websocket.TextMessage, resp)
package subset

import (
	"strconv"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// Subscriber is one connection as the hub sees it.
type Subscriber interface {
	// Send writes one notification frame's payload. msg is shared by every subscriber of the
	// publication and must not be modified; it stays valid after Send returns.
	Send(msg []byte)
}

// Hub holds the channels: one per index/collection pair. The zero value is not usable; call New.
type Hub struct {
	mu sync.RWMutex
	// subs maps channel name to its subscribers; mu guards it.
	subs map[string]map[Subscriber]struct{}
}

// New returns an empty hub.
func New() *Hub { return &Hub{subs: make(map[string]map[Subscriber]struct{})} }

// Subscribers returns the subscribers of channel ch, a fresh slice the caller owns.
func (h *Hub) Subscribers(ch string) []Subscriber {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Subscriber, 0, len(h.subs[ch]))
	for s := range h.subs[ch] {
		out = append(out, s)
	}
	return out
}

// Remove drops s from every channel (connection close: HotelClerk.removeConnection in
// lib/core/realtime/hotelClerk.ts).
func (h *Hub) Remove(s Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		delete(m, s)
	}
}

// Channel returns the channel name of an index/collection pair: roomId + "-1".
func Channel(index, collection string) string { return RoomID(index, collection) + "-1" }

// RoomID returns the room id of an index/collection pair with the `{}` filter.
func RoomID(index, collection string) string { return "bench:" + index + "/" + collection }

// Request is the decoded part of a request envelope the subset uses.
type Request struct {
	Controller, Action, RequestID, Index, Collection string
	// Body is the raw JSON of `body`, a sub-slice of the payload given to Parse.
	Body []byte
}

// Parse decodes payload. ok is false for anything that is not a JSON object.
func Parse(payload []byte) (r Request, ok bool) {
	if !gjson.ValidBytes(payload) {
		return r, false
	}
	res := gjson.ParseBytes(payload)
	if !res.IsObject() {
		return r, false
	}
	res.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "controller":
			r.Controller = v.Str
		case "action":
			r.Action = v.Str
		case "requestId":
			r.RequestID = v.Str
		case "index":
			r.Index = v.Str
		case "collection":
			r.Collection = v.Str
		case "body":
			r.Body = []byte(v.Raw)
		}
		return true
	})
	return r, true
}

// Handle runs one request from conn and returns the response payload (always with root
// `room` = requestId). Notifications of a publish are sent with Subscriber.Send before Handle
// returns. Unknown actions get a 404 error response; a non-object payload a room-less 400.
func (h *Hub) Handle(conn Subscriber, payload []byte) []byte {
	r, ok := Parse(payload)
	if !ok {
		return []byte(`{"status":400,"error":{"message":"Input request data must be a non-null object","status":400}}`)
	}
	switch r.Controller + ":" + r.Action {
	case "server:now":
		return Response(r, `{"now":`+strconv.FormatInt(time.Now().UnixMilli(), 10)+`}`)
	case "realtime:subscribe":
		ch := Channel(r.Index, r.Collection)
		h.mu.Lock()
		m := h.subs[ch]
		if m == nil {
			m = make(map[Subscriber]struct{})
			h.subs[ch] = m
		}
		m[conn] = struct{}{}
		h.mu.Unlock()
		return Response(r, `{"roomId":`+strconv.Quote(RoomID(r.Index, r.Collection))+`,"channel":`+strconv.Quote(ch)+`}`)
	case "realtime:publish":
		ch := Channel(r.Index, r.Collection)
		msg := Notification(r, ch)
		for _, s := range h.Subscribers(ch) {
			s.Send(msg)
		}
		return Response(r, `{"published":true}`)
	}
	return ErrorResponse(r, 404, "API controller or action not found.")
}

// Notification builds the document notification of a publish for channel ch
// (lib/core/realtime/notification/document.ts, action "publish", scope "in").
func Notification(r Request, ch string) []byte {
	body := r.Body
	if len(body) == 0 {
		body = []byte("{}")
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	b := make([]byte, 0, 256+len(body))
	b = append(b, `{"type":"document","status":200,"action":"publish","scope":"in","result":{"_source":`...)
	b = append(b, body...)
	b = append(b, `},"event":"publish","requestId":`...)
	b = strconv.AppendQuote(b, r.RequestID)
	b = append(b, `,"timestamp":`...)
	b = append(b, now...)
	b = append(b, `,"index":`...)
	b = strconv.AppendQuote(b, r.Index)
	b = append(b, `,"collection":`...)
	b = strconv.AppendQuote(b, r.Collection)
	b = append(b, `,"controller":"realtime","protocol":"websocket","room":`...)
	b = strconv.AppendQuote(b, ch)
	return append(b, '}')
}

// Response builds a success response to r whose `result` is the raw JSON result; its root
// `room` is r.RequestID (the minimal form of a Kuzzle response).
func Response(r Request, result string) []byte {
	b := make([]byte, 0, 160+len(result))
	b = append(b, `{"action":`...)
	b = strconv.AppendQuote(b, r.Action)
	b = append(b, `,"controller":`...)
	b = strconv.AppendQuote(b, r.Controller)
	b = append(b, `,"error":null,"requestId":`...)
	b = strconv.AppendQuote(b, r.RequestID)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	b = append(b, `,"status":200,"room":`...)
	b = strconv.AppendQuote(b, r.RequestID)
	return append(b, '}')
}

// ErrorResponse builds an error response to r with an HTTP-like status and a message.
func ErrorResponse(r Request, status int, msg string) []byte {
	b := make([]byte, 0, 200)
	b = append(b, `{"action":`...)
	b = strconv.AppendQuote(b, r.Action)
	b = append(b, `,"controller":`...)
	b = strconv.AppendQuote(b, r.Controller)
	b = append(b, `,"error":{"message":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `},"requestId":`...)
	b = strconv.AppendQuote(b, r.RequestID)
	b = append(b, `,"result":null,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"room":`...)
	b = strconv.AppendQuote(b, r.RequestID)
	return append(b, '}')
}
