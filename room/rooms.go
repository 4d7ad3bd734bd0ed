package room

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room/filter"
)

// Option is a value of the users or scope option of realtime:subscribe and join (Kuzzle
// 2.56 lib/core/realtime/channel.ts): which user events (users) or document events
// (scope) a channel gets.
type Option uint8

// Options. OptionDefault is an absent option: scope all, users none (Kuzzle's defaults).
// OptionInvalid is a present value that is none of the four: the action fails with
// core.realtime.invalid_scope or invalid_users at the point Kuzzle checks it.
const (
	OptionDefault Option = iota
	OptionAll
	OptionIn
	OptionOut
	OptionNone
	OptionInvalid
)

// ParseOption returns the Option named s ("all", "in", "out" or "none"), OptionInvalid
// for any other string.
func ParseOption(s string) Option {
	switch s {
	case "all":
		return OptionAll
	case "in":
		return OptionIn
	case "out":
		return OptionOut
	case "none":
		return OptionNone
	}
	return OptionInvalid
}

// collInfo is what every room of one index and collection shares, kept once in
// Engine.colls rather than in each room: the Koncorde index name and the JSON strings
// notifications carry.
type collInfo struct {
	kindex    string // index + "/" + collection
	indexJSON []byte // JSON string of the index
	collJSON  []byte // JSON string of the collection
	rooms     int    // rooms referencing it, guarded by Engine.mu
}

// room is Kuzzle's room: one index, collection and normalized filter.
type room struct {
	id       string // the filter id, the same string the filter engine keys it by
	coll     *collInfo
	dead     atomic.Bool  // set under mu when the last member left; never reset
	count    int32        // distinct connections (members), guarded by mu
	mu       sync.RWMutex // guards channels, count, and each channel's slices
	channels []*channel   // created on first use, kept until the room dies
}

// shared is what a room of an engine with a backplane keeps for the other nodes, in
// Engine.shared rather than in room so that a single node's rooms stay as small as before.
type shared struct {
	filter []byte        // the filter JSON the room was created with, for other nodes' joins
	ready  chan struct{} // closed once Backplane.RoomCreated returned
}

// index and collection return the room's names (not a split of kindex: an index may
// contain "/").
func (r *room) index() string      { return kuzzle.View(r.coll.indexJSON).Str }
func (r *room) collection() string { return kuzzle.View(r.coll.collJSON).Str }

// info returns the room's definition for the backplane.
func (r *room) info(filter []byte) RoomInfo {
	return RoomInfo{ID: r.id, Index: r.index(), Collection: r.collection(), Filter: filter}
}

// sharedOf returns rm's backplane data, nil once rm was dropped (or without a backplane).
func (e *Engine) sharedOf(rm *room) *shared {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.shared[rm]
}

// channel is one notification configuration (users x scope) of a room.
type channel struct {
	tail  []byte // `,"room":"<name>"}`: what ends its notifications (see seal), and the name's only copy
	users Option
	scope Option
	subs  []Subscriber // members' subscribers, for delivery
	mems  []*member    // mems[i] owns subs[i]
}

// tailOpen and tailClose surround the channel name in channel.tail.
const (
	tailOpen  = `,"room":"`
	tailClose = `"}`
)

// name returns the channel name, a view of tail: names are hex digits and "-", which JSON
// quoting leaves as they are, and tail is never modified.
func (ch *channel) name() string {
	return unsafe.String(&ch.tail[len(tailOpen)], len(ch.tail)-len(tailOpen)-len(tailClose))
}

// member is one connection's presence in one room. It is small because a room of many
// connections has one per connection: the connection is its owner (Conn.rooms), the
// first channel joined is inline, the others (a connection subscribing to one room with
// several users/scope options) are in more.
type member struct {
	room     *room
	volatile string   // copy of the volatile of its first subscription; "" = null
	ch0      *channel // first channel joined; nil once the member left (guarded by room.mu)
	pos0     int32    // index in ch0.mems
	connPos  int32    // index in conn.rooms, guarded by conn.mu
	more     *[]slot  // channels joined after ch0; nil for most members
}

type slot struct {
	ch  *channel
	pos int32
}

// volatileJSON returns m's volatile as raw JSON, nil for null, without copying: the
// slice is read-only (notifications and backplane events only read it).
func (m *member) volatileJSON() []byte {
	if m.volatile == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(m.volatile), len(m.volatile))
}

// posIn returns where m's index in ch.mems is kept, nil when m is not in ch.
func (m *member) posIn(ch *channel) *int32 {
	if m.ch0 == ch {
		return &m.pos0
	}
	if m.more != nil {
		for i := range *m.more {
			if s := &(*m.more)[i]; s.ch == ch {
				return &s.pos
			}
		}
	}
	return nil
}

// memberLocked returns c's member of rm, nil if none: a scan, as a connection is in few
// rooms. c.mu must be held.
func (c *Conn) memberLocked(rm *room) *member {
	for _, m := range c.rooms {
		if m.room == rm {
			return m
		}
	}
	return nil
}

// removeLocked deletes m from c.rooms in O(1) when it is there (Disconnect and
// UnsubscribeAll take the whole set first). c.mu must be held.
func (c *Conn) removeLocked(m *member) {
	i := int(m.connPos)
	if i >= len(c.rooms) || c.rooms[i] != m {
		return
	}
	last := len(c.rooms) - 1
	if i != last {
		mv := c.rooms[last]
		c.rooms[i], mv.connPos = mv, int32(i)
	}
	c.rooms[last] = nil
	c.rooms = c.rooms[:last]
}

// newChannel returns a channel of room roomID for users x scope, with no members,
// named as Kuzzle names channels (channel.ts): roomId, "-", then one digit for users
// (all 1, in 2, none 3; out is 4 here where Kuzzle also uses 3, see PROTOCOL-NOTES.md),
// one for cluster propagation (always 1), one for scope (all 1, in 2, out 3). The name
// is built inside the channel's notification tail (kuzzle.AppendRoom's bytes), in a buffer
// of exactly its size.
func newChannel(roomID string, users, scope Option) *channel {
	b := make([]byte, 0, len(tailOpen)+len(roomID)+4+len(tailClose))
	b = append(b, tailOpen...)
	b = append(b, roomID...)
	b = append(b, '-')
	switch users {
	case OptionAll:
		b = append(b, '1')
	case OptionIn:
		b = append(b, '2')
	case OptionOut:
		b = append(b, '4')
	default:
		b = append(b, '3')
	}
	b = append(b, '1')
	switch scope {
	case OptionAll:
		b = append(b, '1')
	case OptionIn:
		b = append(b, '2')
	case OptionOut:
		b = append(b, '3')
	}
	return &channel{tail: append(b, tailClose...), users: users, scope: scope}
}

// channelLocked returns the room's channel for users x scope, creating it.
// r.mu must be held for writing.
func (r *room) channelLocked(users, scope Option) *channel {
	for _, ch := range r.channels {
		if ch.users == users && ch.scope == scope {
			return ch
		}
	}
	ch := newChannel(r.id, users, scope)
	r.channels = append(r.channels, ch)
	return ch
}

// add appends m, whose subscriber is sub, to ch. The room's write lock must be held.
func (ch *channel) add(m *member, sub Subscriber) {
	pos := int32(len(ch.mems))
	if m.ch0 == nil {
		m.ch0, m.pos0 = ch, pos
	} else {
		if m.more == nil {
			m.more = new([]slot)
		}
		*m.more = append(*m.more, slot{ch: ch, pos: pos})
	}
	ch.mems = append(ch.mems, m)
	ch.subs = append(ch.subs, sub)
}

// remove deletes the member at pos in O(1) (the last member takes its place).
// The room's write lock must be held.
func (ch *channel) remove(pos int32) {
	last := int32(len(ch.mems) - 1)
	if pos != last {
		mv := ch.mems[last]
		ch.mems[pos], ch.subs[pos] = mv, ch.subs[last]
		*mv.posIn(ch) = pos
	}
	ch.mems[last], ch.subs[last] = nil, nil
	ch.mems, ch.subs = ch.mems[:last], ch.subs[:last]
	if c := cap(ch.mems); c > 64 && int(last) < c/4 {
		ch.mems = slices.Clone(ch.mems)
		ch.subs = slices.Clone(ch.subs)
	}
}

// removeFromChannels takes m out of every channel it joined and marks it left.
// The room's write lock must be held.
func (m *member) removeFromChannels() {
	m.ch0.remove(m.pos0)
	if m.more != nil {
		for _, s := range *m.more {
			s.ch.remove(s.pos)
		}
	}
	m.ch0, m.more = nil, nil
}

// enter is the shared part of subscribe (n != nil: the room may be created, with
// filterJSON as its definition for other nodes) and join: c joins the channel of o's
// options in room id, and gets (roomId, channel). With a backplane, it returns only once
// the room's interest is active (Backplane.RoomCreated returned).
func (e *Engine) enter(c *Conn, id string, n *filter.Normalized, index, collection string, filterJSON []byte, o *Options, action string) (Subscribed, error) {
	var optErr error
	scope, users := o.Scope, o.Users
	if scope == OptionDefault {
		scope = OptionAll
	}
	if users == OptionDefault {
		users = OptionNone
	}
	if scope == OptionInvalid {
		optErr = kuzzle.ErrInvalidScope.New()
	} else if users == OptionInvalid {
		optErr = kuzzle.ErrInvalidUsers.New()
	}
	for {
		rm, sh, err := e.roomFor(id, n, index, collection, filterJSON, optErr)
		if err != nil {
			return Subscribed{}, err
		}
		if sh != nil { // created, with a backplane
			e.bp.RoomCreated(rm.info(sh.filter))
			close(sh.ready)
		}
		rm.mu.Lock()
		if rm.dead.Load() {
			rm.mu.Unlock()
			continue // emptied meanwhile: make a new one
		}
		c.mu.Lock()
		m := c.memberLocked(rm)
		isNew := m == nil
		if isNew {
			if c.closed {
				c.mu.Unlock()
				empty := rm.count == 0
				if empty {
					e.killLocked(rm)
				}
				rm.mu.Unlock()
				if empty {
					e.dropRoom(rm)
				}
				return Subscribed{}, ErrDisconnected
			}
			m = &member{room: rm, connPos: int32(len(c.rooms)), volatile: string(o.Volatile)}
			c.rooms = append(c.rooms, m)
			rm.count++
		}
		c.mu.Unlock()
		ch := rm.channelLocked(users, scope)
		if isNew {
			ts := o.Timestamp
			if ts == 0 {
				ts = e.cfg.Clock()
			}
			e.notifyUserLocked(rm, true, ts, m.volatileJSON(), action)
		}
		if m.posIn(ch) == nil {
			ch.add(m, c.sub)
		}
		rm.mu.Unlock()
		if e.bp != nil {
			if sh := e.sharedOf(rm); sh != nil {
				<-sh.ready // another node's publication right after our answer must reach us
			}
		}
		return Subscribed{RoomID: rm.id, Channel: ch.name()}, nil
	}
}

// roomFor returns the live room id, creating it when n is not nil (subscribe). With a
// backplane, it also returns the shared data of a room it created (nil otherwise): the
// caller must call Backplane.RoomCreated and close its ready channel. optErr, the
// scope/users error, is returned at Kuzzle's place: after the room existence and limit
// checks, but before a room is created.
func (e *Engine) roomFor(id string, n *filter.Normalized, index, collection string, filterJSON []byte, optErr error) (*room, *shared, error) {
	e.mu.RLock()
	rm := e.rooms[id]
	e.mu.RUnlock()
	if rm != nil && !rm.dead.Load() {
		if optErr != nil {
			return nil, nil, optErr
		}
		return rm, nil, nil
	}
	if n == nil {
		return nil, nil, kuzzle.ErrRoomNotFound.New(strings.Clone(id))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rm = e.rooms[id]
	if rm != nil && !rm.dead.Load() {
		if optErr != nil {
			return nil, nil, optErr
		}
		return rm, nil, nil
	}
	if e.cfg.MaxRooms > 0 && e.numRooms.Load() >= int64(e.cfg.MaxRooms) {
		return nil, nil, kuzzle.ErrTooManyRooms.New()
	}
	if optErr != nil {
		return nil, nil, optErr
	}
	if err := e.filters.Store(n); err != nil {
		return nil, nil, kuzzle.ErrUnexpected.New(err.Error())
	}
	coll := e.colls[n.Index]
	if coll == nil {
		coll = &collInfo{kindex: n.Index, indexJSON: kuzzle.AppendString(nil, index),
			collJSON: kuzzle.AppendString(nil, collection)}
		e.colls[n.Index] = coll
	}
	coll.rooms++
	rm = &room{id: id, coll: coll}
	var sh *shared
	if e.bp != nil {
		sh = &shared{filter: slices.Clone(filterJSON), ready: make(chan struct{})}
		e.shared[rm] = sh
	}
	e.numRooms.Add(1) // a dead room still in the map was uncounted when it died
	e.rooms[id] = rm
	return rm, sh, nil
}

// killLocked marks rm dead (it has no member left). rm.mu must be held for writing;
// call dropRoom after releasing it.
func (e *Engine) killLocked(rm *room) {
	rm.dead.Store(true)
	e.numRooms.Add(-1)
}

// dropRoom removes a dead room from the index and its filter from the filter engine,
// unless a new room already replaced it, and tells the backplane. e.mu must not be held.
func (e *Engine) dropRoom(rm *room) {
	e.mu.Lock()
	if e.rooms[rm.id] == rm {
		delete(e.rooms, rm.id)
		e.filters.Remove(rm.coll.kindex, rm.id)
	}
	if rm.coll.rooms--; rm.coll.rooms == 0 {
		delete(e.colls, rm.coll.kindex)
	}
	if e.bp != nil {
		delete(e.shared, rm)
	}
	e.mu.Unlock()
	if e.bp != nil {
		e.bp.RoomDropped(rm.info(nil))
	}
}

// leave removes c from rm and reports whether it was a member. m is c's member of rm
// when the caller has it (Disconnect took c's rooms), nil to look it up.
func (e *Engine) leave(rm *room, c *Conn, m *member) bool {
	rm.mu.Lock()
	c.mu.Lock()
	if m == nil {
		m = c.memberLocked(rm)
	}
	if m == nil || m.ch0 == nil { // not a member, or left meanwhile (Unsubscribe racing Disconnect)
		c.mu.Unlock()
		rm.mu.Unlock()
		return false
	}
	c.removeLocked(m)
	c.mu.Unlock()
	m.removeFromChannels()
	rm.count--
	empty := rm.count == 0
	if empty {
		if e.bp != nil {
			// Members of this room on other nodes still get the "out" (Kuzzle 2.56
			// hotelClerk.ts unsubscribe notifies even when the room is deleted here).
			e.bp.ForwardUser(&UserEvent{Node: e.cfg.Node, RoomID: rm.id, Count: 0, Timestamp: e.cfg.Clock(),
				Volatile: m.volatileJSON(), Action: "unsubscribe"})
		}
		e.killLocked(rm)
	} else {
		e.notifyUserLocked(rm, false, e.cfg.Clock(), m.volatileJSON(), "unsubscribe")
	}
	rm.mu.Unlock()
	if empty {
		e.dropRoom(rm)
	}
	return true
}
