package room

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room/filter"
)

// Subscriber is the connection side of a subscription: the server implements it.
//
// Deliver queues one notification for sending on the connection and returns at once: it
// must not block, must not call back into the Engine (room locks are held while it runs)
// and may be called from several goroutines at once. The notification is head followed by
// tail: together one complete frame as Config.Seal made it (with the default Seal, the
// notification's JSON), to be sent as one unit, never cut between the two. head is
// shared by the subscribers of many channels of a publication and tail by those of one
// channel (`,"room":"<channel>"}`, kept by the channel for its life); tail may be empty,
// the whole frame being in head. Neither may ever be modified; both stay valid for as
// long as the subscriber keeps them (room never reuses them).
// A connection that cannot take more (slow client) should drop itself later, outside
// Deliver, and then call Engine.Disconnect.
type Subscriber interface {
	Deliver(head, tail []byte)
}

// Defaults of Config, also used by the server's flags.
const (
	// DefaultMaxRooms is Kuzzle's limits.subscriptionRooms default (lib/config/default.config.ts).
	DefaultMaxRooms = 1_000_000
	// DefaultFanoutChunk is the number of subscribers one fan-out chunk delivers to.
	DefaultFanoutChunk = 512
	// DefaultMaxSpread is the largest number of helper tasks of one notification batch.
	DefaultMaxSpread = 8
)

// Config configures an Engine. The zero value works (notifications are delivered as
// bare JSON, inline on the publishing goroutine).
type Config struct {
	// Node is the `node` attribute of notifications (Kuzzle's node id). Empty means
	// "knode-kuzzlews".
	Node string

	// Headroom is the number of bytes reserved in front of each notification payload for
	// Seal, typically the largest WebSocket frame header (frame.Headroom). Zero means none.
	Headroom int

	// Seal turns buf, Headroom free bytes followed by the first part of a notification's
	// JSON payload, into the head handed to Deliver, for a payload whose last rest bytes
	// (rest >= 0) are the tail sent after it: typically by writing into the headroom a
	// WebSocket frame header declaring len(buf)-Headroom+rest bytes (frame.SealHead).
	// The head must be a sub-slice of buf that ends where buf ends (room may complete
	// the frame in place by writing the tail right after it; a head that does not is
	// copied instead). It is called once per notification, plus once per other length
	// of tail (channel names have one length in practice), never per channel or per
	// subscriber; room never modifies the head afterwards. It may be called
	// concurrently. Nil means subscribers get the payload (buf past the headroom, then
	// the tail).
	Seal func(buf []byte, rest int) []byte

	// Spread tries to run task on another worker of the server's pool and reports
	// whether it was accepted; it must not block (return false when the pool is busy).
	// Fan-out to more than FanoutChunk subscribers hands up to MaxSpread helper tasks
	// to it. The caller delivers chunks itself too, and waits only for chunks a helper
	// actually started, so a publish never deadlocks on a saturated pool. A helper task
	// that runs late finds no work and returns. Nil means every delivery runs inline.
	Spread func(task func()) bool

	// FanoutChunk is the number of subscribers one fan-out chunk delivers to. Zero
	// means DefaultFanoutChunk.
	FanoutChunk int

	// MaxSpread is the largest number of helper tasks one notification batch hands to
	// Spread. Zero means DefaultMaxSpread.
	MaxSpread int

	// MaxConditions is Kuzzle's limits.subscriptionConditionsCount, passed to the
	// filter engine (filter.Config.MaxConditions). Zero means filter.DefaultMaxConditions;
	// negative, no limit.
	MaxConditions int

	// MaxRooms is Kuzzle's limits.subscriptionRooms: the largest number of rooms
	// (distinct index+collection+filter). Subscribing to a new room beyond it fails
	// with core.realtime.too_many_rooms (413). Zero means DefaultMaxRooms; negative, no
	// limit.
	MaxRooms int

	// Clock returns the current time in milliseconds since the Unix epoch. Nil means
	// time.Now().UnixMilli().
	Clock func() int64

	// Backplane links the engine to the other nodes of a cluster (see Backplane). Nil
	// means a single node: nothing leaves the process, and Count and List are local.
	Backplane Backplane
}

func (c Config) withDefaults() Config {
	if c.Node == "" {
		c.Node = "knode-kuzzlews"
	}
	if c.Seal == nil {
		h := c.Headroom
		c.Seal = func(buf []byte, _ int) []byte { return buf[h:] }
	}
	if c.FanoutChunk <= 0 {
		c.FanoutChunk = DefaultFanoutChunk
	}
	if c.MaxSpread <= 0 {
		c.MaxSpread = DefaultMaxSpread
	}
	if c.MaxRooms == 0 {
		c.MaxRooms = DefaultMaxRooms
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
	bp       Backplane // cfg.Backplane; nil for a single node
	node     string    // JSON string of cfg.Node
	filters  *filter.Engine
	free     chan *fanout         // idle fanouts (a free list: unlike sync.Pool, GC and -race never empty it)
	mu       sync.RWMutex         // guards rooms, colls and shared
	rooms    map[string]*room     // roomId -> room; may briefly hold a dead room
	colls    map[string]*collInfo // Koncorde index -> what its rooms share
	shared   map[*room]*shared    // with a backplane: each room's data for other nodes
	numRooms atomic.Int64         // live rooms
}

// NewEngine returns an engine with no rooms.
func NewEngine(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	return &Engine{
		cfg:     cfg,
		bp:      cfg.Backplane,
		node:    string(kuzzle.AppendString(nil, cfg.Node)),
		filters: filter.NewEngine(filter.Config{MaxConditions: cfg.MaxConditions}),
		rooms:   map[string]*room{},
		colls:   map[string]*collInfo{},
		shared:  map[*room]*shared{},
		free:    make(chan *fanout, 64),
	}
}

// Rooms returns the number of live rooms.
func (e *Engine) Rooms() int { return int(e.numRooms.Load()) }

// ErrDisconnected is returned by Subscribe and Join on a Conn already disconnected: the
// connection is gone and nothing should be sent.
var ErrDisconnected = errors.New("room: connection disconnected")

// Conn is one client connection as the engine knows it. Make it with Connect when the
// connection opens, pass it to the actions, and call Disconnect when it closes.
// A Conn is safe for concurrent use.
type Conn struct {
	id  string
	sub Subscriber

	mu     sync.Mutex // guards closed, rooms and the connPos of its members
	closed bool       // set by Disconnect; later subscriptions are refused
	rooms  []*member  // its presence in each room, rooms[i].connPos == i; scanned to find one
}

// Connect returns the handle of a newly opened connection. id is its connection id,
// used in the message of core.realtime.not_subscribed (Kuzzle uses a UUID); sub
// receives its notifications. The engine keeps no reference to the Conn until it
// subscribes, so a connection that never subscribes costs only the Conn itself (80 bytes
// on 64-bit platforms, BenchmarkMemory's B/conn-handle). Each room it is in costs a
// member (48 bytes) and a slot in each of its channels' slices (24 bytes): the room finds
// the connection's member by scanning the connection's rooms, so subscribing is linear in
// the number of rooms the connection is already in.
func (e *Engine) Connect(id string, sub Subscriber) *Conn {
	return &Conn{id: id, sub: sub}
}

// ID returns the connection id given to Connect.
func (c *Conn) ID() string { return c.id }

// Disconnect removes every subscription of c, as Kuzzle does when a connection closes
// (lib/core/realtime/hotelClerk.ts removeUser): "user out" notifications to the
// remaining members, empty rooms deleted. Later subscriptions on c fail with
// ErrDisconnected. Once Disconnect has returned, c's Subscriber gets no more deliveries:
// a publish delivering to it holds a lock that Disconnect waits for. Calling it again is
// a no-op.
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
		e.leave(m.room, c, m)
	}
}

// UnsubscribeAll removes every subscription of c, as Disconnect does, but c stays usable:
// Kuzzle does this when a connection's token expires (lib/core/realtime/notifier.ts
// notifyTokenExpired, then hotelClerk removeUser).
func (e *Engine) UnsubscribeAll(c *Conn) {
	c.mu.Lock()
	rooms := c.rooms
	c.rooms = nil
	c.mu.Unlock()
	for _, m := range rooms {
		e.leave(m.room, c, m)
	}
}
