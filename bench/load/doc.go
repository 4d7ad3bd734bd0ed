// Package load is the client side of the benchmark: a small WebSocket client made for holding
// thousands of connections from one process, the two wire protocols the targets speak (Kuzzle's
// JSON envelope as Kuzzle 2.56 serves it over WebSocket: requests with a requestId, responses
// whose root `room` is that requestId, notifications whose root `room` is the channel, see
// lib/core/network/protocols/httpwsProtocol.ts and lib/core/realtime/hotelClerk.ts; and
// Centrifugo's JSON protocol: connect, subscribe, publish, push), and a mergeable latency
// histogram.
//
// Concurrency: a Conn is read by one goroutine at a time; WriteText and the pong answers to
// pings are serialized by the Conn, so one reader and any writers may run together. Hist is not
// safe for concurrent use; merge per-goroutine histograms with Merge.
//
// Example:
//
//	c, err := load.Dial(ctx, load.Target{Addr: "127.0.0.1:7513", Proto: load.Kuzzle}, net.IPv4(127, 0, 0, 2))
//	if err != nil { ... }
//	ch, err := c.Subscribe("bench", "c", "sub-1")
//	msg, err := c.ReadMessage() // a notification whose root room == ch
package load
