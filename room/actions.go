package room

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room/filter"
)

// Options are the options of a subscription (realtime:subscribe and join): the channel's
// scope and users, and what the connection's "user in" notification carries.
type Options struct {
	// Scope and Users select the channel; OptionDefault means all and none.
	Scope, Users Option
	// Volatile is the raw JSON volatile of the request, kept for the connection's user
	// notifications in this room (only its first subscription's). Empty means null.
	// Copied: the caller may reuse it.
	Volatile []byte
	// Timestamp is the "user in" notification's timestamp in milliseconds; 0 means the
	// engine's clock.
	Timestamp int64
}

// Subscribed is the result of Subscribe and Join.
type Subscribed struct {
	RoomID  string // 64 hex characters, the same on every node and after a restart
	Channel string // the `room` of the notifications this subscription gets
}

// Subscribe subscribes c to the room of (index, collection, filter) as Kuzzle's
// realtime:subscribe does (lib/core/realtime/hotelClerk.ts subscribe). filter is the raw
// JSON of a Koncorde filter (the request's body, present). Errors, in Kuzzle's order:
// api.assert.koncorde_dsl_error, core.realtime.too_many_rooms (a new room only),
// core.realtime.invalid_scope, core.realtime.invalid_users; ErrDisconnected when c is
// disconnected.
//
// A connection's first subscription to a room stores its volatile and sends a "user in"
// notification (count after joining) to the room's channels whose users option is all or
// in, before Subscribe returns; the joiner itself is not notified.
func (e *Engine) Subscribe(c *Conn, index, collection string, filterJSON []byte, o Options) (Subscribed, error) {
	n, err := e.filters.Normalize(index+"/"+collection, filterJSON)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			return Subscribed{}, kuzzle.ErrKoncordeDSL.New(fe.Message)
		}
		return Subscribed{}, kuzzle.ErrUnexpected.New(err.Error())
	}
	return e.enter(c, n.ID, n, index, collection, filterJSON, &o, "subscribe")
}

// Join subscribes c to the existing room roomID (hotelClerk.ts join). With a backplane,
// a room this node does not hold is looked up on the other nodes and created here with
// the definition one of them gives (hotelClerk.ts join asks the cluster too); the
// definition must normalize to roomID. Errors: core.realtime.room_not_found (no node
// holds it), core.realtime.invalid_scope, core.realtime.invalid_users;
// core.realtime.too_many_rooms (a remote room beyond this node's limit); ErrDisconnected.
func (e *Engine) Join(c *Conn, roomID string, o Options) (Subscribed, error) {
	res, err := e.enter(c, roomID, nil, "", "", nil, &o, "join")
	if e.bp == nil || !errors.Is(err, kuzzle.ErrRoomNotFound) || !isRoomID(roomID) {
		return res, err
	}
	def, ok := e.bp.Lookup(roomID)
	if !ok {
		return res, err
	}
	n, nerr := e.filters.Normalize(def.Index+"/"+def.Collection, def.Filter)
	if nerr != nil || n.ID != roomID {
		return res, err // not the room asked for: a node configured differently
	}
	return e.enter(c, roomID, n, def.Index, def.Collection, def.Filter, &o, "join")
}

// Unsubscribe removes c from every channel of room roomID (hotelClerk.ts unsubscribe).
// If others remain they get a "user out" notification before Unsubscribe returns, else
// the room and its filter are deleted. Error: core.realtime.not_subscribed (props:
// connection id, roomId).
func (e *Engine) Unsubscribe(c *Conn, roomID string) error {
	e.mu.RLock()
	rm := e.rooms[roomID]
	e.mu.RUnlock()
	if rm == nil || !e.leave(rm, c, nil) {
		return kuzzle.ErrNotSubscribed.New(c.id, strings.Clone(roomID))
	}
	return nil
}

// Count returns the number of distinct connections in room roomID, 0 for an unknown room
// (hotelClerk.ts countSubscription). With a backplane it is the sum over every live node
// that answers within the backplane's wait (Kuzzle 2.56 lib/cluster/state.ts sums the
// nodes' counts).
func (e *Engine) Count(roomID string) int {
	n := e.LocalCount(roomID)
	if e.bp != nil && isRoomID(roomID) {
		n += e.bp.Count(roomID)
	}
	return n
}

// RoomCount is one room of List.
type RoomCount struct {
	Index, Collection, RoomID string
	Count                     int // distinct connections
}

// List returns every live room with its connection count, sorted by index, collection
// and roomId (hotelClerk.ts listSubscriptions). visible, when not nil, keeps only the
// rooms of the (index, collection) pairs it accepts. With a backplane it covers every
// live node that answers within the backplane's wait, counts summed per room (Kuzzle
// 2.56 lib/cluster/state.ts).
func (e *Engine) List(visible func(index, collection string) bool) []RoomCount {
	var remote []RoomCount
	if e.bp != nil {
		remote = e.bp.List()
	}
	return mergeList(e.LocalList(), remote, visible)
}

// Publication is a document published with realtime:publish.
type Publication struct {
	Index, Collection string
	// Body is the document, raw JSON (an object gets _kuzzle_info; an array is matched
	// and notified as is). It is read during the call only.
	Body []byte
	// ID is the raw JSON `_id` of the request, copied to the notification's result._id;
	// empty means none. DocumentID is its value when it is a string, matched by the
	// Koncorde `ids` keyword.
	ID         []byte
	DocumentID string
	// RequestID and Volatile are the publishing request's, raw JSON; empty means null.
	RequestID, Volatile []byte
	// Timestamp is the notification's timestamp in milliseconds; 0 means the engine's
	// clock.
	Timestamp int64
	// Author is the kuid put in _kuzzle_info.author; empty means "-1", the anonymous user.
	Author string
}

// Publish sends a document notification for p to every matching subscriber (Kuzzle's
// realtime:publish, lib/core/realtime/notifier.ts notifyDocument). An object body gets
// `_kuzzle_info` {"author":<kuid>,"createdAt":<now ms>} (replacing an existing one in
// place, duplicates removed, else as its last key), is matched with the filter engine
// against the rooms of index/collection, and the notification goes to every channel of
// each matching room whose scope is all or in. Every notification is queued on its
// subscribers (Deliver returned) before Publish returns, so the server queues the
// response after them. It returns the number of subscribers it was delivered to.
//
// With a backplane the publication is forwarded to the other nodes first (once, whatever
// matches here), then delivered here without a round trip.
func (e *Engine) Publish(p *Publication) int {
	now := e.cfg.Clock()
	src := p.Body
	if kuzzle.FirstByte(src) == '{' {
		var info [96]byte
		ib := append(info[:0], `{"author":`...)
		if p.Author == "" {
			ib = append(ib, `"-1"`...)
		} else {
			ib = kuzzle.AppendString(ib, p.Author)
		}
		ib = append(ib, `,"createdAt":`...)
		ib = strconv.AppendInt(ib, now, 10)
		src = kuzzle.SetKey(src, "_kuzzle_info", append(ib, '}'))
	}
	ts := p.Timestamp
	if ts == 0 {
		ts = now
	}
	if e.bp != nil {
		e.bp.Forward(&DocumentEvent{Node: e.cfg.Node, Index: p.Index, Collection: p.Collection, Source: src,
			ID: p.ID, DocumentID: p.DocumentID, RequestID: p.RequestID, Volatile: p.Volatile, Timestamp: ts})
	}
	n := kuzzle.Document{ID: p.ID, Source: src, Node: e.node, RequestID: p.RequestID,
		Timestamp: ts, Volatile: p.Volatile, Index: p.Index, Collection: p.Collection}
	return e.deliverDocument(p.Index+"/"+p.Collection, p.DocumentID, &n)
}

// deliverDocument matches n.Source against the rooms of kindex and delivers n, serialized
// once, to every channel of each matching room whose scope is all or in. It returns the
// number of subscribers it was delivered to.
func (e *Engine) deliverDocument(kindex, docID string, n *kuzzle.Document) int {
	f := e.getFanout()
	f.ids = e.filters.Test(kindex, n.Source, docID, f.ids)
	if len(f.ids) == 0 {
		f.release()
		return 0
	}
	e.mu.RLock()
	for _, id := range f.ids {
		if rm := e.rooms[id]; rm != nil {
			f.rooms = append(f.rooms, rm)
		}
	}
	e.mu.RUnlock()
	// Read-lock the rooms in id order: writers hold one room at a time, so a fixed
	// order among readers rules out lock cycles.
	slices.SortFunc(f.rooms, func(a, b *room) int { return strings.Compare(a.id, b.id) })
	for _, rm := range f.rooms {
		rm.mu.RLock()
	}
	for _, rm := range f.rooms {
		for _, ch := range rm.channels {
			if len(ch.subs) == 0 || (ch.scope != OptionAll && ch.scope != OptionIn) {
				continue
			}
			e.addChannel(f, ch)
		}
	}
	// One payload serves every channel of every room: a document notification carries
	// the publishing request's index and collection.
	if len(f.chans) > 0 {
		e.seal(f, kuzzle.AppendDocument(e.newPayload(f, kuzzle.DocumentSize(n)), n))
	}
	delivered := f.total
	e.run(f)
	for _, rm := range f.rooms {
		rm.mu.RUnlock()
	}
	f.release()
	return delivered
}
