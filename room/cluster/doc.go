// Package cluster makes several kuzzlews nodes act as one realtime service over NATS
// (github.com/nats-io/nats.go): a client on one node receives what a client on another
// publishes, realtime:count and realtime:list are cluster-wide, user notifications and
// joins cross nodes. A Node implements room.Backplane for its node's room.Engine.
//
// The design follows Centrifugo's NATS broker (interest-based subjects, at-most-once)
// rather than Kuzzle 2's cluster (lib/cluster/: every node replicates every room's filter
// and gets every notification, over a ZeroMQ full mesh with ordered state sync): filters
// are matched on the subscriber's node, against that node's rooms only, and a node
// receives only the publications of the index/collection pairs it holds rooms on.
//
// # Subjects
//
// With the default prefix "kzws" (Config.Prefix); names are escaped into one token each
// (every byte outside [A-Za-z0-9_-] as %XX, "" as %, long names hashed):
//
//	kzws.d.<index>.<collection>  publications; a node subscribes while it holds a room there
//	kzws.r.<roomId>              user notifications of a room, and requests for its definition
//	                             (join of a room held elsewhere); subscribed while the node holds it
//	kzws.c.count, kzws.c.list    scatter-gather requests of realtime:count and realtime:list
//	kzws.hb                      heartbeats (every HeartbeatInterval) and goodbyes
//	kzws.n.<node>                a node's own subject: a starting node with the same id is refused
//	kzws.e.<name>                cluster-wide events (Broadcast, Handle)
//
// # Messages
//
// Binary (wire.go): a version byte, a kind byte, then length-prefixed fields. A
// publication carries what the other nodes need to build the same notification: origin
// node, index, collection, timestamp, _id, requestId, volatile and the document with its
// _kuzzle_info already set, all as the raw JSON the publisher sent; each receiving node
// matches it, serializes the notification once and frames it once per channel, exactly
// as for a local publication. Nothing is re-encoded per subscriber.
//
// # Guarantees
//
//   - At most once between nodes (core NATS). A publication is delivered on its own node
//     without a round trip, and never twice: the NATS connection has NoEcho, and the
//     origin node id is checked.
//   - Order: the publications and user notifications of one node reach every other node
//     in the order that node sent them (NATS keeps one publisher's order; a receiving
//     node handles each origin's messages on one goroutine). One client's requests run in
//     order on its node, so its publications are seen in order everywhere. There is no
//     order between publishers on different nodes.
//   - A subscription that creates a room returns once NATS has the node's new interest
//     (FlushTimeout): a publication made on another node after the answer reaches it,
//     when both nodes use the same NATS server. Across a NATS cluster the interest
//     reaches the other NATS servers within their route latency.
//   - realtime:count and realtime:list sum the answers of the nodes alive at the request
//     (heartbeats) within GatherTimeout; a node that does not answer counts 0. During a
//     partition they cover the nodes this one can reach. A node that died leaves the
//     counts at once (its subscriptions die with its NATS connection) and the list of
//     live nodes after MissedHeartbeats intervals.
//   - The count of a user notification is the room's count on the node where the
//     connection entered or left, as Kuzzle 2's cluster sends it (hotelClerk.ts
//     room.size, passed on by lib/cluster/subscriber.ts).
//   - NATS unreachable: every node keeps serving its own clients (local delivery only,
//     counted in Status.NotSent; nothing is queued for later, nats.ReconnectBufSize(-1)),
//     reconnects forever, and on reconnection nats.go restores the node's subscriptions:
//     cross-node delivery resumes without a restart.
//
// # Use
//
//	node, err := cluster.Connect(cluster.Config{URLs: "nats://127.0.0.1:4222", Node: "knode-1"})
//	if err != nil { ... } // NATS unreachable, or ErrDuplicateNode
//	eng := room.NewEngine(room.Config{Node: "knode-1", Backplane: node})
//	if err := node.Serve(eng); err != nil { ... }
//	defer node.Close()
package cluster
