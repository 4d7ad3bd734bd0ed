// Package room is the realtime engine of kuzzlews: Kuzzle's rooms, channels and
// subscriptions (Kuzzle 2.56 lib/core/realtime: hotelClerk.ts, notifier.ts, channel.ts)
// and the fan-out of notifications to subscribers. It knows nothing of sockets, frames or
// request envelopes: the server's realtime controller checks a request's arguments and
// calls the typed actions (Subscribe, Join, Unsubscribe, Count, List, Publish) with plain
// values; errors are Kuzzle's (*kuzzle.Error, from package kuzzle's catalog), and
// notifications reach the server through the Subscriber interface it implements. room
// checks no rights.
//
// Files: engine.go (Engine, Config, Conn, Disconnect), rooms.go (rooms, channels,
// members, entering and leaving), actions.go (the actions), notify.go (notification
// payloads and channels), fanout.go (delivery, spread over the server's workers),
// backplane.go (the Backplane interface a cluster implements, and the entry points it
// calls for other nodes' events).
//
// # Several nodes
//
// With Config.Backplane (package room/cluster: NATS), the engine is one node of a
// cluster: a room's creation and deletion turn the node's interest in its index and
// collection on and off (Subscribe and Join return once it is active), every local
// publication is forwarded once and then delivered here, user notifications are
// forwarded, Join finds rooms held only elsewhere, and Count and List gather every live
// node's answer. Publications from other nodes come back through DeliverRemote and are
// matched here against this node's filters only, serialized once, framed once: the
// single-node path. Without a backplane none of this costs anything.
//
// # Concurrency
//
// An Engine and its Conns are safe for concurrent use by any number of goroutines.
// Every action may run concurrently with every other, including several requests of
// one connection. Notifications caused by a request are queued on their subscribers
// (Subscriber.Deliver has returned for all of them) before the action returns, so the
// server that queues the response afterwards keeps Kuzzle's order:
// notifications of a publish, and the "user in"/"user out" notifications of a
// subscribe/unsubscribe, precede the response. User notifications are delivered under
// the room's write lock, so they are ordered with everything else on the room;
// publishes deliver under its read lock, so two publishes running at the same time
// (as Kuzzle runs requests concurrently) may reach two subscribers in different
// orders. A server that wants one connection's requests in order runs them in order.
//
// # Model
//
// A room is (index, collection, normalized filter), identified by the filter's id
// (roomId, 64 hex characters, deterministic: a hash of index, collection and normalized filter, see room/filter). It holds the set of
// its connections (count) and up to 16 channels, one per (users, scope) option pair,
// named roomId + "-" + 3 digits (channel.ts). A subscriber is a member of a
// channel's slice; removal swaps the last member in, O(1). A room and its filter are
// deleted when its last connection leaves. A published document is matched with the
// indexed filter engine (room/filter), never by a loop over rooms.
//
// # Fan-out
//
// A notification is serialized once and framed once. Each channel's notification is the
// payload with its `room` attribute as last key (the payload is room's own JSON, so the
// key is appended, which is what sjson would do, without re-scanning it): only the
// closing brace differs from the payload. So the payload without that brace, sealed by
// Config.Seal, is one head shared by every channel, and each channel ends it with its
// tail `,"room":"<channel>"}`, made when the channel is created: a subscriber gets the
// (head, tail) pair, and a publication matched by 400 rooms copies its payload no time
// at all (TestPublishAllocsDoNotGrowWithChannels). A channel with many subscribers (and
// the only channel of a notification) gets the frame in one piece, completed in place
// for one of them, so a large fan-out writes one buffer per socket. Channels larger than
// Config.FanoutChunk are split into chunks that helper tasks (Config.Spread) deliver
// alongside the caller. No per-subscriber JSON work or allocation happens: a publish
// costs the same few allocations for one subscriber or ten thousand
// (TestPublishAllocsDoNotGrowWithSubscribers).
//
// # Locks
//
// Lock order: room.mu, then Conn.mu. Engine.mu is never held together with either.
//
//   - Engine.mu (RWMutex) guards the roomId -> room index (and, with a backplane,
//     each room's data for other nodes). It is taken alone and
//     released before any room lock; only the filter engine's own lock nests inside
//     it (Store and Remove). Matching (filter.Engine.Test) runs with no lock of ours.
//   - room.mu (RWMutex) guards a room's channels, members and channel slices.
//     Writers (subscribe, join, unsubscribe, disconnect) hold one room at a time, and
//     deliver user notifications while holding it. A publish read-locks all the rooms
//     its document matched, in ascending roomId order (so readers never form a cycle
//     with writers), and keeps them read-locked until every notification is
//     delivered: subscriptions to those rooms wait for the delivery (microseconds per
//     thousand subscribers), other rooms do not.
//   - Conn.mu guards a connection's closed flag and room set; it is taken inside
//     room.mu, or alone (Disconnect takes the set, releases Conn.mu, then locks each
//     room).
//
// Subscriber.Deliver runs under room locks: it must not block and must not call the
// Engine. Backplane.ForwardUser runs under a room's write lock; the other Backplane
// methods run with no lock of ours.
//
// # Example
//
// The server side, with bare JSON notifications and an inline executor:
//
//	eng := room.NewEngine(room.Config{Node: "knode-example-42"})
//	conn := eng.Connect("9b29879b-7f0f-4281-80be-d3c0bda24f27", sub) // sub implements Subscriber
//	res, err := eng.Subscribe(conn, "idx", "col", []byte(`{"equals":{"foo":"bar"}}`), room.Options{})
//	// res.RoomID = "9cdadcd1…0f523f70", res.Channel = "9cdadcd1…0f523f70-311"
//	...
//	eng.Disconnect(conn) // when the socket closes
//
// See ExampleEngine for a complete run.
package room
