package room

import (
	"cmp"
	"slices"
	"strings"

	"github.com/kuzzlews/kuzzlews/kuzzle"
)

// Backplane links an Engine to the other nodes of a cluster (package room/cluster
// implements it over NATS). Set it in Config.Backplane; nil means a single node, with no
// cost on any path. The engine calls it from the goroutines of its actions, never under
// Engine.mu; ForwardUser runs under the room's write lock (so a room's user events leave
// in the order they happened) and must not call the Engine. Every method must be safe for
// concurrent use and must not keep the slices it is given past the call.
//
// The engine's side of the contract, for events the backplane receives from other
// nodes: DeliverRemote, DeliverRemoteUser, LocalCount, LocalList and Room.
type Backplane interface {
	// RoomCreated is called once for each room the engine creates, before any
	// subscription to it returns: it returns once publications on the room's index and
	// collection and user notifications of the room made on other nodes reach this node
	// (for NATS: the subscriptions are flushed to the server), or at once when the cluster
	// is unreachable (the room then serves local clients only). Calls for rooms of the
	// same index and collection, or of the same roomId after the previous one was
	// dropped, may overlap or arrive in any order with RoomDropped: count them.
	RoomCreated(r RoomInfo)

	// RoomDropped is called once for each room the engine deleted (its last local
	// connection left), after it left the engine's index.
	RoomDropped(r RoomInfo)

	// Forward sends a publication made on this node to the other nodes, once, before
	// its local delivery (the caller's order of publications is kept). It must not
	// block for long: it runs on the publishing request's goroutine.
	Forward(d *DocumentEvent)

	// ForwardUser sends a user notification of a room of this node to the other nodes,
	// including the "out" of the room's last local connection (Count 0), which remote
	// members of the room still get.
	ForwardUser(u *UserEvent)

	// Lookup returns the definition of room roomID from a node that holds it, for a join
	// of a room this node does not hold (Kuzzle 2.56 lib/core/realtime/hotelClerk.ts
	// join asks the cluster's state). false: no node answered in time.
	Lookup(roomID string) (RoomInfo, bool)

	// Count returns the number of connections in room roomID on the other live nodes,
	// within a bounded wait; nodes that do not answer in time count 0.
	Count(roomID string) int

	// List returns the rooms of the other live nodes with their connection counts
	// (one entry per node and room, not merged), within a bounded wait.
	List() []RoomCount
}

// RoomInfo is the definition of a room: what another node needs to create the same
// room (its roomId is a hash of the three, the same on every node).
type RoomInfo struct {
	ID, Index, Collection string
	// Filter is the raw JSON filter the room was created with (the first subscriber's
	// body, or the filter another node gave for a join). It must not be modified. Empty
	// in RoomDropped calls, and from Room on an engine without a backplane.
	Filter []byte
}

// DocumentEvent is a publication as it travels between nodes: everything a node needs to
// build the same document notification as the publishing node. Byte fields are raw
// JSON; empty means null (RequestID, Volatile) or absent (ID).
type DocumentEvent struct {
	// Node is the id of the node the publication was made on; it is the `node` of the
	// notifications it causes on every node, as in Kuzzle 2.56's cluster
	// (lib/cluster/subscriber.ts handleDocumentNotification).
	Node              string
	Index, Collection string
	// Source is the document with its `_kuzzle_info` already set, matched as it is.
	Source     []byte
	ID         []byte
	DocumentID string // ID's value when it is a JSON string, matched by Koncorde's `ids`
	RequestID  []byte
	Volatile   []byte
	Timestamp  int64 // the notification's timestamp, milliseconds since the Unix epoch
}

// UserEvent is a user notification ("in" or "out") of a room as it travels between nodes.
type UserEvent struct {
	Node   string // the node where the connection entered or left: the notification's `node`
	RoomID string
	In     bool
	// Count is the number of connections in the room on Node after the change: Kuzzle
	// 2.56 sends room.size, its own node's count, and its cluster passes it on as it is
	// (lib/core/realtime/hotelClerk.ts subscribeToRoom and unsubscribe,
	// lib/cluster/subscriber.ts handleUserNotification). realtime:count is cluster-wide.
	Count     int
	Timestamp int64  // milliseconds since the Unix epoch
	Volatile  []byte // raw volatile of the connection's subscription; empty means null
	Action    string // subscribe, join or unsubscribe
}

// DeliverRemote delivers a publication made on another node to this node's matching
// subscribers, as Publish does for a local one: the document is matched here against
// this node's rooms of d.Index/d.Collection, the notification is serialized once and
// framed once per channel. It is not forwarded again. d's slices are read during the
// call only. It returns the number of subscribers it was delivered to.
func (e *Engine) DeliverRemote(d *DocumentEvent) int {
	node := string(kuzzle.AppendString(nil, d.Node))
	n := kuzzle.Document{ID: d.ID, Source: d.Source, Node: node, RequestID: d.RequestID,
		Timestamp: d.Timestamp, Volatile: d.Volatile, Index: d.Index, Collection: d.Collection}
	return e.deliverDocument(d.Index+"/"+d.Collection, d.DocumentID, &n)
}

// DeliverRemoteUser delivers a user notification of another node to this node's members
// of room u.RoomID whose channel's users option asks for it. It returns the number of
// subscribers it was delivered to (0 when this node does not hold the room).
func (e *Engine) DeliverRemoteUser(u *UserEvent) int {
	e.mu.RLock()
	rm := e.rooms[u.RoomID]
	e.mu.RUnlock()
	if rm == nil {
		return 0
	}
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	if rm.dead.Load() {
		return 0
	}
	n := kuzzle.User{In: u.In, Count: u.Count, Node: string(kuzzle.AppendString(nil, u.Node)), Timestamp: u.Timestamp,
		Volatile: u.Volatile, Index: rm.coll.indexJSON, Collection: rm.coll.collJSON, Action: u.Action}
	return e.deliverUserLocked(rm, &n)
}

// LocalCount returns the number of distinct connections of this node in room roomID, 0
// for a room it does not hold.
func (e *Engine) LocalCount(roomID string) int {
	e.mu.RLock()
	rm := e.rooms[roomID]
	e.mu.RUnlock()
	if rm == nil {
		return 0
	}
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return int(rm.count)
}

// LocalList returns this node's live rooms with their connection counts, unsorted.
func (e *Engine) LocalList() []RoomCount {
	e.mu.RLock()
	rooms := make([]*room, 0, len(e.rooms))
	for _, rm := range e.rooms {
		rooms = append(rooms, rm)
	}
	e.mu.RUnlock()
	out := make([]RoomCount, 0, len(rooms))
	for _, rm := range rooms {
		rm.mu.RLock()
		n := int(rm.count)
		rm.mu.RUnlock()
		if n == 0 {
			continue
		}
		out = append(out, RoomCount{Index: rm.index(), Collection: rm.collection(), RoomID: rm.id, Count: n})
	}
	return out
}

// Room returns the definition of live room roomID of this node, for another node's join.
// Its Filter is set only when the engine has a backplane (a single node keeps no copy).
func (e *Engine) Room(roomID string) (RoomInfo, bool) {
	e.mu.RLock()
	rm := e.rooms[roomID]
	var filter []byte
	if sh := e.shared[rm]; sh != nil {
		filter = sh.filter
	}
	e.mu.RUnlock()
	if rm == nil || rm.dead.Load() {
		return RoomInfo{}, false
	}
	return rm.info(filter), true
}

// mergeList adds remote to local (one entry per room: counts summed) and sorts the
// result by index, collection and roomId; visible, when not nil, keeps only the rooms of
// the (index, collection) pairs it accepts.
func mergeList(local, remote []RoomCount, visible func(index, collection string) bool) []RoomCount {
	if len(remote) > 0 {
		at := make(map[string]int, len(local)+len(remote))
		for i, rc := range local {
			at[rc.RoomID] = i
		}
		for _, rc := range remote {
			if i, ok := at[rc.RoomID]; ok {
				local[i].Count += rc.Count
				continue
			}
			at[rc.RoomID] = len(local)
			local = append(local, rc)
		}
	}
	if visible != nil {
		local = slices.DeleteFunc(local, func(rc RoomCount) bool { return !visible(rc.Index, rc.Collection) })
	}
	slices.SortFunc(local, func(a, b RoomCount) int {
		return cmp.Or(strings.Compare(a.Index, b.Index), strings.Compare(a.Collection, b.Collection), strings.Compare(a.RoomID, b.RoomID))
	})
	return local
}

// isRoomID reports whether id has the form of every roomId (filter.Normalized.ID: 64
// lowercase hex characters); another string names no room on any node.
func isRoomID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
