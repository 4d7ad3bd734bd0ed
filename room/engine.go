package room

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuzzlews/kuzzlews/room/filter"
	"github.com/tidwall/gjson"
)

// Subscriber is the connection side of a subscription: the server implements it.
//
// Deliver queues frame for sending on the connection and returns at once: it must not
// block, must not call back into the Engine (room locks are held while it runs) and
// may be called from several goroutines at once. frame is shared by every subscriber
// of a channel and by concurrent deliveries: it must never be modified, and it stays
// valid for as long as the subscriber keeps it (room never reuses it).
// A connection that cannot take more (slow client) should drop itself later, outside
// Deliver, and then call Engine.Disconnect.
type Subscriber interface {
	Deliver(frame []byte)
}

// Config configures an Engine. The zero value works (notifications are delivered as
// bare JSON, inline on the publishing goroutine).
type Config struct {
	// Node is the `node` attribute of notifications (Kuzzle's node id, spec section 5.2).
	// Empty means "knode-kuzzlews-0".
	Node string

	// Frame turns a notification's JSON payload into the bytes handed to Deliver,
	// typically a WebSocket text frame (header + payload). It is called once per
	// channel per notification, never per subscriber. payload is owned by room and
	// never modified afterwards: Frame may return it as is or a new slice. It may be
	// called concurrently. Nil means the identity (subscribers get the JSON).
	Frame func(payload []byte) []byte

	// Spread tries to run task on another worker of the server's pool and reports
	// whether it was accepted; it must not block (return false when the pool is busy).
	// Fan-out to more than FanoutChunk subscribers hands up to MaxSpread helper tasks
	// to it. The caller delivers chunks itself too, and waits only for chunks a helper
	// actually started, so a publish never deadlocks on a saturated pool. A helper task
	// that runs late finds no work and returns. Nil means every delivery runs inline.
	Spread func(task func()) bool

	// FanoutChunk is the number of subscribers one fan-out chunk delivers to. Zero
	// means 512.
	FanoutChunk int

	// MaxSpread is the largest number of helper tasks one notification batch hands to
	// Spread. Zero means 8.
	MaxSpread int

	// MaxConditions is Kuzzle's limits.subscriptionConditionsCount, passed to the
	// filter engine (filter.Config.MaxConditions). Zero means 100; negative, no limit.
	MaxConditions int

	// MaxRooms is Kuzzle's limits.subscriptionRooms: the largest number of rooms
	// (distinct index+collection+filter). Subscribing to a new room beyond it fails
	// with core.realtime.too_many_rooms (413). Zero means 1,000,000; negative, no limit.
	MaxRooms int

	// Clock returns the current time in milliseconds since the Unix epoch. Nil means
	// time.Now().UnixMilli().
	Clock func() int64
}

func (c Config) withDefaults() Config {
	if c.Node == "" {
		c.Node = "knode-kuzzlews-0"
	}
	if c.Frame == nil {
		c.Frame = func(p []byte) []byte { return p }
	}
	if c.FanoutChunk <= 0 {
		c.FanoutChunk = 512
	}
	if c.MaxSpread <= 0 {
		c.MaxSpread = 8
	}
	if c.MaxRooms == 0 {
		c.MaxRooms = 1_000_000
	}
	if c.Clock == nil {
		c.Clock = func() int64 { return time.Now().UnixMilli() }
	}
	return c
}

// Engine is Kuzzle's realtime engine: rooms, channels and subscriptions of every
// connection, and the fan-out of notifications. It is safe for concurrent use; see the
// package doc for the lock order.
type Engine struct {
	cfg      Config
	node     []byte // JSON string of cfg.Node
	filters  *filter.Engine
	free     chan *fanout     // idle fanouts (a free list: unlike sync.Pool, GC and -race never empty it)
	mu       sync.RWMutex     // guards rooms
	rooms    map[string]*room // roomId -> room; may briefly hold a dead room
	numRooms atomic.Int64     // live rooms
}

// NewEngine returns an engine with no rooms.
func NewEngine(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:     cfg,
		node:    appendString(nil, cfg.Node),
		filters: filter.NewEngine(filter.Config{MaxConditions: cfg.MaxConditions}),
		rooms:   map[string]*room{},
	}
	e.free = make(chan *fanout, 64)
	return e
}

// Conn is one client connection as the engine knows it. Make it with Connect when the
// connection opens, pass it in every Request, and call Disconnect when it closes.
// A Conn is safe for concurrent use.
type Conn struct {
	id  string
	sub Subscriber

	mu     sync.Mutex // guards closed, rooms and the connPos of its members
	closed bool       // set by Disconnect; later subscriptions are refused
	rooms  []*member  // its presence in each room; members[i].connPos == i
}

// Connect returns the handle of a newly opened connection. id is its connection id,
// used in the message of core.realtime.not_subscribed (Kuzzle uses a UUID); sub
// receives its notifications. The engine keeps no reference to the Conn until it
// subscribes, so a connection that never subscribes costs only the Conn itself.
func (e *Engine) Connect(id string, sub Subscriber) *Conn {
	return &Conn{id: id, sub: sub}
}

// ID returns the connection id given to Connect.
func (c *Conn) ID() string { return c.id }

// Request holds the arguments of one realtime API request, as raw JSON values taken
// from the request envelope (spec section 5.1), typically gjson's Result.Raw of each
// key. A nil field means the key was absent; a present JSON null is []byte("null").
// Every present field must be valid JSON (validate the message once, for example
// with gjson.ValidBytes). room reads the fields only during the call and copies what
// it keeps: the caller may reuse the buffers afterwards.
type Request struct {
	// Conn is the requesting connection (required by subscribe, join, unsubscribe).
	Conn *Conn
	// RequestID is the request's `requestId` as a JSON string. The server generates
	// one when the client sent none (Kuzzle does). It is the `requestId` of document
	// notifications; nil writes null.
	RequestID []byte
	// Index and Collection are `index` and `collection`.
	Index, Collection []byte
	// ID is `_id` (publish: the document id, matched by the `ids` keyword and copied
	// to the notification's result._id).
	ID []byte
	// Body is `body`: filters (subscribe), {"roomId":…} (join, unsubscribe, count),
	// the message (publish, validate).
	Body []byte
	// Scope and Users are the `scope` and `users` options of subscribe and join.
	Scope, Users []byte
	// Volatile is `volatile` (a JSON object). Absent means null.
	Volatile []byte
	// Timestamp is `timestamp`: a non-zero integer number of milliseconds overrides
	// the clock for this request's notifications (spec section 5.1).
	Timestamp []byte
}

// Handle runs the realtime controller action (spec section 7) and returns its result:
// the raw JSON of the response's `result`. Results may be shared: do not modify them.
// A non-nil error is always a *Error. Unknown actions fail with
// api.process.action_not_found. A nil result with a nil error (subscribe, join on a
// connection already disconnected) means the connection is gone: send nothing.
func (e *Engine) Handle(action string, r *Request) ([]byte, error) {
	if r == nil {
		r = &Request{}
	}
	switch action {
	case "subscribe":
		return e.Subscribe(r)
	case "join":
		return e.Join(r)
	case "unsubscribe":
		return e.Unsubscribe(r)
	case "count":
		return e.Count(r)
	case "list":
		return e.List(r)
	case "publish":
		return e.Publish(r)
	case "validate":
		return e.Validate(r)
	}
	return nil, NewError("api.process.action_not_found", "realtime", action)
}

// Rooms returns the number of live rooms.
func (e *Engine) Rooms() int { return int(e.numRooms.Load()) }

// --- model ---

// Users and scope options (spec section 7.3).
const (
	optAll uint8 = iota + 1
	optIn
	optOut
	optNone
)

var optNames = map[string]uint8{"all": optAll, "in": optIn, "out": optOut, "none": optNone}

// room is Kuzzle's room: one index, collection and normalized filter.
type room struct {
	id        string
	kindex    string            // index + "/" + collection
	indexJSON []byte            // JSON string of the index
	collJSON  []byte            // JSON string of the collection
	dead      atomic.Bool       // set under mu when the last member left; never reset
	mu        sync.RWMutex      // guards channels, members, and each channel's slices
	channels  []*channel        // created on first use, kept until the room dies
	members   map[*Conn]*member // distinct connections
}

// channel is one notification configuration (users x scope) of a room.
type channel struct {
	name   string
	quoted []byte // JSON string of name
	users  uint8
	scope  uint8
	subs   []Subscriber // members' subscribers, for delivery
	mems   []*member    // mems[i] owns subs[i]
}

// member is one connection's presence in one room.
type member struct {
	conn     *Conn
	room     *room
	connPos  int    // index in conn.rooms, guarded by conn.mu
	volatile []byte // copy of the volatile of its first subscription; nil = null
	slots    []slot // channels joined; starts on slot0, no allocation for the first
	slot0    [1]slot
}

// removeLocked deletes m from c.rooms in O(1). c.mu must be held.
func (c *Conn) removeLocked(m *member) {
	last := len(c.rooms) - 1
	if i := m.connPos; i != last {
		mv := c.rooms[last]
		c.rooms[i], mv.connPos = mv, i
	}
	c.rooms[last] = nil
	c.rooms = c.rooms[:last]
}

type slot struct {
	ch  *channel
	pos int
}

func channelName(roomID string, users, scope uint8) string {
	b := make([]byte, 0, len(roomID)+4)
	b = append(b, roomID...)
	b = append(b, '-')
	switch users {
	case optAll:
		b = append(b, '1')
	case optIn:
		b = append(b, '2')
	case optOut:
		b = append(b, '4') // Kuzzle uses 3, like none: see PROTOCOL-NOTES.md
	default:
		b = append(b, '3')
	}
	b = append(b, '1') // cluster propagation, always true over WebSocket
	switch scope {
	case optAll:
		b = append(b, '1')
	case optIn:
		b = append(b, '2')
	case optOut:
		b = append(b, '3')
	}
	return string(b)
}

// channelLocked returns the room's channel for users x scope, creating it.
// r.mu must be held for writing.
func (r *room) channelLocked(users, scope uint8) *channel {
	for _, ch := range r.channels {
		if ch.users == users && ch.scope == scope {
			return ch
		}
	}
	name := channelName(r.id, users, scope)
	ch := &channel{name: name, quoted: appendString(nil, name), users: users, scope: scope}
	r.channels = append(r.channels, ch)
	return ch
}

// add appends m to ch. The room's write lock must be held.
func (ch *channel) add(m *member) {
	m.slots = append(m.slots, slot{ch: ch, pos: len(ch.mems)})
	ch.mems = append(ch.mems, m)
	ch.subs = append(ch.subs, m.conn.sub)
}

// remove deletes the member at pos in O(1) (the last member takes its place).
// The room's write lock must be held.
func (ch *channel) remove(pos int) {
	last := len(ch.mems) - 1
	if pos != last {
		mv := ch.mems[last]
		ch.mems[pos], ch.subs[pos] = mv, ch.subs[last]
		for i := range mv.slots {
			if mv.slots[i].ch == ch {
				mv.slots[i].pos = pos
				break
			}
		}
	}
	ch.mems[last], ch.subs[last] = nil, nil
	ch.mems, ch.subs = ch.mems[:last], ch.subs[:last]
	if c := cap(ch.mems); c > 64 && last < c/4 {
		ch.mems = slices.Clone(ch.mems)
		ch.subs = slices.Clone(ch.subs)
	}
}

func (m *member) in(ch *channel) bool {
	for _, s := range m.slots {
		if s.ch == ch {
			return true
		}
	}
	return false
}

// --- argument helpers (Kuzzle's KuzzleRequest getters) ---

var (
	errBodyRequired = "api.assert.body_required"
)

func present(raw []byte) bool { return raw != nil && string(raw) != "null" }

// stringArg returns the string argument name (aliasing raw: clone it to keep it).
// A falsy value is missing (Kuzzle's `if (!args.index)`), another non-string is
// invalid_type.
func stringArg(raw []byte, name string) (string, error) {
	if !truthy(raw) {
		return "", NewError("api.assert.missing_argument", name)
	}
	v := view(raw)
	if v.Type != gjson.String {
		return "", NewError("api.assert.invalid_type", name, "string")
	}
	return v.Str, nil
}

// indexAndCollection reads the index and collection arguments. Names containing "/"
// are refused as Kuzzle refuses them at creation (services.storage.invalid_index_name,
// invalid_collection_name): the filter engine's index is index + "/" + collection, so
// index "a/b" with collection "c" would share rooms with index "a", collection "b/c".
func indexAndCollection(r *Request) (index, collection string, err error) {
	if index, err = stringArg(r.Index, "index"); err != nil {
		return "", "", err
	}
	if collection, err = stringArg(r.Collection, "collection"); err != nil {
		return "", "", err
	}
	if strings.Contains(index, "/") {
		return "", "", NewError("services.storage.invalid_index_name", index)
	}
	if strings.Contains(collection, "/") {
		return "", "", NewError("services.storage.invalid_collection_name", collection)
	}
	return index, collection, nil
}

// bodyString is Kuzzle's getBodyString(name). The string aliases body: clone it to
// keep it.
func bodyString(body []byte, name string) (string, error) {
	if !present(body) {
		return "", NewError(errBodyRequired)
	}
	v := view(body).Get(name)
	if !v.Exists() || firstByte(body) != '{' {
		return "", NewError("api.assert.missing_argument", "body."+name)
	}
	if v.Type != gjson.String {
		return "", NewError("api.assert.invalid_type", "body."+name, "string")
	}
	return v.Str, nil
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

// option parses scope or users: absent means def; anything else than one of the
// four strings (null included) is invalid (spec section 7.3).
func option(raw []byte, def uint8) (uint8, bool) {
	if raw == nil {
		return def, true
	}
	v := view(raw)
	if v.Type != gjson.String {
		return 0, false
	}
	o, ok := optNames[v.Str]
	return o, ok
}

// stamp returns the request's timestamp (spec section 5.1) or now.
func stamp(raw []byte, now int64) int64 {
	if raw == nil {
		return now
	}
	v := view(raw)
	if v.Type != gjson.Number || v.Num == 0 || v.Num != math.Trunc(v.Num) || math.Abs(v.Num) > 1<<53 {
		return now
	}
	return int64(v.Num)
}

// --- subscribe, join ---

// Subscribe is realtime:subscribe (spec section 7.4). Errors, in Kuzzle's order:
// api.assert.missing_argument "index" / "collection", api.assert.body_required,
// api.assert.koncorde_dsl_error, core.realtime.too_many_rooms (new room only),
// core.realtime.invalid_scope, core.realtime.invalid_users.
//
// A connection's first subscription to a room stores its volatile and sends a "user
// in" notification (count after joining) to the room's channels whose users option is
// all or in, before Subscribe returns; the joiner itself is not notified.
// Result: {"channel":C,"roomId":R}.
func (e *Engine) Subscribe(r *Request) ([]byte, error) {
	index, collection, err := indexAndCollection(r)
	if err != nil {
		return nil, err
	}
	if !present(r.Body) {
		return nil, NewError(errBodyRequired)
	}
	kindex := index + "/" + collection
	n, err := e.filters.Normalize(kindex, r.Body)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			return nil, NewError("api.assert.koncorde_dsl_error", fe.Message)
		}
		return nil, NewError("core.fatal.unexpected_error", err.Error())
	}
	return e.enter(r, n.ID, n, index, collection, "subscribe")
}

// Join is realtime:join (spec section 7.5): subscribe to an existing room by id.
// Errors: api.assert.body_required, api.assert.missing_argument "body.roomId",
// api.assert.invalid_type "body.roomId", core.realtime.room_not_found,
// core.realtime.invalid_scope, core.realtime.invalid_users.
// Result: {"channel":C,"roomId":R}.
func (e *Engine) Join(r *Request) ([]byte, error) {
	id, err := bodyString(r.Body, "roomId")
	if err != nil {
		return nil, err
	}
	return e.enter(r, id, nil, "", "", "join")
}

// enter is the shared part of subscribe (n != nil: the room may be created) and join.
func (e *Engine) enter(r *Request, id string, n *filter.Normalized, index, collection, action string) ([]byte, error) {
	var optErr error
	scope, ok := option(r.Scope, optAll)
	if !ok {
		optErr = NewError("core.realtime.invalid_scope")
	}
	users, ok := option(r.Users, optNone)
	if !ok && optErr == nil {
		optErr = NewError("core.realtime.invalid_users")
	}
	c := r.Conn
	if c == nil {
		return nil, NewError("core.fatal.unexpected_error", "realtime request without a connection")
	}
	for {
		rm, err := e.roomFor(id, n, index, collection, optErr)
		if err != nil {
			return nil, err
		}
		rm.mu.Lock()
		if rm.dead.Load() {
			rm.mu.Unlock()
			continue // emptied meanwhile: make a new one
		}
		m := rm.members[c]
		isNew := m == nil
		if isNew {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				empty := len(rm.members) == 0
				if empty {
					e.killLocked(rm)
				}
				rm.mu.Unlock()
				if empty {
					e.dropRoom(rm)
				}
				return nil, nil
			}
			m = &member{conn: c, room: rm, connPos: len(c.rooms)}
			m.slots = m.slot0[:0]
			if r.Volatile != nil {
				m.volatile = slices.Clone(r.Volatile)
			}
			c.rooms = append(c.rooms, m)
			c.mu.Unlock()
			rm.members[c] = m
		}
		ch := rm.channelLocked(users, scope)
		if isNew {
			ts := stamp(r.Timestamp, e.cfg.Clock())
			e.notifyUserLocked(rm, optIn, len(rm.members), ts, m.volatile, action)
		}
		if !m.in(ch) {
			ch.add(m)
		}
		rm.mu.Unlock()
		res := make([]byte, 0, 32+len(ch.quoted)+len(rm.id))
		res = append(res, `{"channel":`...)
		res = append(res, ch.quoted...)
		res = append(res, `,"roomId":`...)
		res = appendString(res, rm.id)
		return append(res, '}'), nil
	}
}

// roomFor returns the live room id, creating it when n is not nil (subscribe).
// optErr, the scope/users error, is returned at Kuzzle's place: after the room
// existence and limit checks, but before a room is created.
func (e *Engine) roomFor(id string, n *filter.Normalized, index, collection string, optErr error) (*room, error) {
	e.mu.RLock()
	rm := e.rooms[id]
	e.mu.RUnlock()
	if rm != nil && !rm.dead.Load() {
		if optErr != nil {
			return nil, optErr
		}
		return rm, nil
	}
	if n == nil {
		return nil, NewError("core.realtime.room_not_found", strings.Clone(id))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rm = e.rooms[id]
	if rm != nil && !rm.dead.Load() {
		if optErr != nil {
			return nil, optErr
		}
		return rm, nil
	}
	if e.cfg.MaxRooms > 0 && e.numRooms.Load() >= int64(e.cfg.MaxRooms) {
		return nil, NewError("core.realtime.too_many_rooms")
	}
	if optErr != nil {
		return nil, optErr
	}
	if err := e.filters.Store(n); err != nil {
		return nil, NewError("core.fatal.unexpected_error", err.Error())
	}
	rm = &room{
		id:        id,
		kindex:    n.Index,
		indexJSON: appendString(nil, index),
		collJSON:  appendString(nil, collection),
		members:   map[*Conn]*member{},
	}
	e.numRooms.Add(1) // a dead room still in the map was uncounted when it died
	e.rooms[id] = rm
	return rm, nil
}

// killLocked marks rm dead (it has no member left). rm.mu must be held for writing;
// call dropRoom after releasing it.
func (e *Engine) killLocked(rm *room) {
	rm.dead.Store(true)
	e.numRooms.Add(-1)
}

// dropRoom removes a dead room from the index and its filter from the filter engine,
// unless a new room already replaced it. e.mu must not be held.
func (e *Engine) dropRoom(rm *room) {
	e.mu.Lock()
	if e.rooms[rm.id] == rm {
		delete(e.rooms, rm.id)
		e.filters.Remove(rm.kindex, rm.id)
	}
	e.mu.Unlock()
}

// --- unsubscribe, disconnect ---

// Unsubscribe is realtime:unsubscribe (spec section 7.6). Errors:
// api.assert.body_required, api.assert.missing_argument "body.roomId",
// api.assert.invalid_type "body.roomId", core.realtime.not_subscribed (412, props
// [connection id, roomId]). The connection leaves every channel of the room; if
// others remain they get a "user out" notification before Unsubscribe returns, else
// the room and its filter are deleted. Result: {"roomId":R}.
func (e *Engine) Unsubscribe(r *Request) ([]byte, error) {
	id, err := bodyString(r.Body, "roomId")
	if err != nil {
		return nil, err
	}
	c := r.Conn
	if c == nil {
		return nil, NewError("core.fatal.unexpected_error", "realtime request without a connection")
	}
	e.mu.RLock()
	rm := e.rooms[id]
	e.mu.RUnlock()
	if rm == nil || !e.leave(rm, c) {
		return nil, NewError("core.realtime.not_subscribed", c.id, strings.Clone(id))
	}
	res := make([]byte, 0, 16+len(id))
	res = append(res, `{"roomId":`...)
	res = appendString(res, id)
	return append(res, '}'), nil
}

// Disconnect removes every subscription of c, as Kuzzle does when a connection closes
// (spec section 7.11): "user out" notifications to the remaining members, empty rooms
// deleted. Later subscriptions on c are refused (nil result). Once Disconnect has
// returned, c's Subscriber gets no more deliveries: a publish delivering to it holds
// a lock that Disconnect waits for. Calling it again is a no-op.
func (e *Engine) Disconnect(c *Conn) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	rooms := c.rooms
	c.rooms = nil
	c.mu.Unlock()
	for _, m := range rooms {
		e.leave(m.room, c)
	}
}

// leave removes c from rm and reports whether it was a member.
func (e *Engine) leave(rm *room, c *Conn) bool {
	rm.mu.Lock()
	m := rm.members[c]
	if m == nil {
		rm.mu.Unlock()
		return false
	}
	c.mu.Lock()
	if !c.closed { // else Disconnect took c.rooms and is leaving each room
		c.removeLocked(m)
	}
	c.mu.Unlock()
	for _, s := range m.slots {
		s.ch.remove(s.pos)
	}
	delete(rm.members, c)
	empty := len(rm.members) == 0
	if empty {
		e.killLocked(rm)
	} else {
		e.notifyUserLocked(rm, optOut, len(rm.members), e.cfg.Clock(), m.volatile, "unsubscribe")
	}
	rm.mu.Unlock()
	if empty {
		e.dropRoom(rm)
	}
	return true
}

// --- count, list, validate ---

// Count is realtime:count (spec section 7.8): {"count":n}, n distinct connections,
// 0 for an unknown room. Errors: api.assert.body_required, missing_argument and
// invalid_type for "body.roomId".
func (e *Engine) Count(r *Request) ([]byte, error) {
	id, err := bodyString(r.Body, "roomId")
	if err != nil {
		return nil, err
	}
	n := 0
	e.mu.RLock()
	rm := e.rooms[id]
	e.mu.RUnlock()
	if rm != nil {
		rm.mu.RLock()
		n = len(rm.members)
		rm.mu.RUnlock()
	}
	res := append(make([]byte, 0, 24), `{"count":`...)
	res = strconv.AppendInt(res, int64(n), 10)
	return append(res, '}'), nil
}

// List is realtime:list (spec section 7.9):
// {"<index>":{"<collection>":{"<roomId>":<connections>}}} over every live room, keys
// sorted. It takes no argument and never fails.
func (e *Engine) List(r *Request) ([]byte, error) {
	e.mu.RLock()
	rooms := make([]*room, 0, len(e.rooms))
	for _, rm := range e.rooms {
		rooms = append(rooms, rm)
	}
	e.mu.RUnlock()
	out := map[string]map[string]map[string]int{}
	for _, rm := range rooms {
		rm.mu.RLock()
		n := len(rm.members)
		rm.mu.RUnlock()
		if n == 0 {
			continue
		}
		// Not a split of kindex: an index may contain "/".
		index := view(rm.indexJSON).Str
		collection := view(rm.collJSON).Str
		if out[index] == nil {
			out[index] = map[string]map[string]int{}
		}
		if out[index][collection] == nil {
			out[index][collection] = map[string]int{}
		}
		out[index][collection][rm.id] = n
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, NewError("core.fatal.unexpected_error", err.Error())
	}
	return b, nil
}

var validResult = []byte(`{"errorMessages":{},"valid":true}`)

// Validate is realtime:validate (spec section 7.10, deprecated): without validation
// specifications every document is valid. Errors: api.assert.body_required, then
// missing_argument "index" / "collection". Result: {"errorMessages":{},"valid":true}.
func (e *Engine) Validate(r *Request) ([]byte, error) {
	if !present(r.Body) {
		return nil, NewError(errBodyRequired)
	}
	if _, _, err := indexAndCollection(r); err != nil {
		return nil, err
	}
	return validResult, nil
}

// --- publish ---

var publishedResult = []byte(`{"published":true}`)

// Publish is realtime:publish (spec section 7.7). Errors, in Kuzzle's order:
// api.assert.body_required, missing_argument (or invalid_type) "index" / "collection".
//
// The body gets `_kuzzle_info` {"author":"-1","createdAt":<now ms>} (replacing an
// existing one in place, else as its last key), is matched with the filter engine
// against the rooms of index/collection, and a document notification (spec section
// 8.1) goes to every channel of each matching room whose scope is all or in. Every
// notification is queued on its subscribers (Deliver returned) before Publish returns,
// so the server queues the response after them. Result: {"published":true} (shared).
func (e *Engine) Publish(r *Request) ([]byte, error) {
	if !present(r.Body) {
		return nil, NewError(errBodyRequired)
	}
	index, collection, err := indexAndCollection(r)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Clock()
	var info [64]byte
	src := r.Body
	if firstByte(src) == '{' {
		ib := append(info[:0], `{"author":"-1","createdAt":`...)
		ib = strconv.AppendInt(ib, now, 10)
		src = setKey(src, "_kuzzle_info", append(ib, '}'))
	}
	docID := ""
	if r.ID != nil {
		if v := view(r.ID); v.Type == gjson.String {
			docID = v.Str
		}
	}
	f := e.getFanout()
	f.ids = e.filters.Test(index+"/"+collection, src, docID, f.ids)
	if len(f.ids) == 0 {
		f.release()
		return publishedResult, nil
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

	// One payload serves every channel of every room: a document notification
	// carries the publishing request's index and collection (spec section 8.1).
	var payload []byte
	for _, rm := range f.rooms {
		for _, ch := range rm.channels {
			if len(ch.subs) == 0 || (ch.scope != optAll && ch.scope != optIn) {
				continue
			}
			if payload == nil {
				payload = e.appendDocument(make([]byte, 0, 384+len(src)+len(r.Volatile)), r, src, index, collection, stamp(r.Timestamp, now))
			}
			e.addChannel(f, payload, ch)
		}
	}
	e.run(f)
	for _, rm := range f.rooms {
		rm.mu.RUnlock()
	}
	f.release()
	return publishedResult, nil
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[firstNonSpace(b)]
}

// appendDocument appends a document notification (spec section 8.1) without `room`.
func (e *Engine) appendDocument(dst []byte, r *Request, src []byte, index, collection string, ts int64) []byte {
	dst = append(dst, `{"type":"document","status":200,"action":"publish","scope":"in","result":{`...)
	if r.ID != nil {
		dst = append(dst, `"_id":`...)
		dst = append(dst, r.ID...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"_source":`...)
	dst = append(dst, src...)
	dst = append(dst, `},"node":`...)
	dst = append(dst, e.node...)
	dst = append(dst, `,"event":"publish","requestId":`...)
	dst = rawOrNull(dst, r.RequestID)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"volatile":`...)
	dst = rawOrNull(dst, r.Volatile)
	dst = append(dst, `,"index":`...)
	dst = appendString(dst, index)
	dst = append(dst, `,"collection":`...)
	dst = appendString(dst, collection)
	return append(dst, `,"controller":"realtime","protocol":"websocket"}`...)
}

// notifyUserLocked sends a user notification (spec section 8.2) to the channels of rm
// whose users option is all or user. rm.mu must be held for writing.
func (e *Engine) notifyUserLocked(rm *room, user uint8, count int, ts int64, volatile []byte, action string) {
	f := e.getFanout()
	var payload []byte
	for _, ch := range rm.channels {
		if len(ch.subs) == 0 || (ch.users != optAll && ch.users != user) {
			continue
		}
		if payload == nil {
			payload = make([]byte, 0, 320+len(volatile))
			payload = append(payload, `{"type":"user","status":200,"user":`...)
			if user == optIn {
				payload = append(payload, `"in"`...)
			} else {
				payload = append(payload, `"out"`...)
			}
			payload = append(payload, `,"result":{"count":`...)
			payload = strconv.AppendInt(payload, int64(count), 10)
			payload = append(payload, `},"node":`...)
			payload = append(payload, e.node...)
			payload = append(payload, `,"timestamp":`...)
			payload = strconv.AppendInt(payload, ts, 10)
			payload = append(payload, `,"volatile":`...)
			payload = rawOrNull(payload, volatile)
			payload = append(payload, `,"index":`...)
			payload = append(payload, rm.indexJSON...)
			payload = append(payload, `,"collection":`...)
			payload = append(payload, rm.collJSON...)
			payload = append(payload, `,"controller":"realtime","action":`...)
			payload = appendString(payload, action)
			if user == optIn {
				payload = append(payload, `,"protocol":"websocket"}`...)
			} else {
				payload = append(payload, `,"protocol":null}`...)
			}
		}
		e.addChannel(f, payload, ch)
	}
	e.run(f)
	f.release()
}
