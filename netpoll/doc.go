// Package netpoll runs many non-blocking TCP connections on one epoll instance and a bounded
// pool of worker goroutines: no goroutine per connection, exactly one file descriptor per
// connection. It knows nothing of WebSocket: a Handler consumes the bytes that arrived and
// writes bytes back through the connection's single outbound queue.
//
// # Concurrency contract
//
// One goroutine (easygo's wait loop) receives epoll events and never blocks: it marks the
// connection ready and hands it to the pool through a queue that has room for every
// connection. At most one worker serves a connection at a time (its "turn"): Handler methods
// of one connection are never called concurrently. Conn.Write, Conn.Close,
// Conn.DiscardAndClose and Conn.SetDeadline may be called from any goroutine. The socket's
// file descriptor is closed only by the goroutine that holds the turn, after epoll forgot it
// (Del before close), so a reused descriptor number never receives another connection's
// bytes. Each registration's
// callback closes over its own *Conn: a stale event delivered after the close (easygo may
// still run a callback of the current wait batch) or after the number was reused reaches
// the closed Conn, whose turn never starts again, and is ignored. The pointer plays the
// role of a generation counter.
//
// # Model
//
// Sockets are registered with EPOLLONESHOT (guides/netpoll.md): an event disarms the socket,
// a worker reads until EAGAIN or until the per-turn read budget is spent, calls
// Handler.OnData with the bytes received (plus the bytes it left unconsumed last time),
// flushes the outbound queue with writev, then re-arms the socket with EPOLLIN, and EPOLLOUT
// when bytes are still queued. Level-triggered re-arming means nothing is lost when an event
// fires during a turn: the re-arm reports it again.
//
// Unconsumed input is kept per connection only while it is partial, in pooled buffers of a
// few size classes. Outbound frames are queued by reference (never copied), so one encoded
// frame can be queued on thousands of connections. WritePair queues two buffers as one unit
// (a head shared by many connections and a short tail of this one's: a notification whose
// last bytes differ per channel), written with one writev and never cut. A connection whose
// queue would exceed Config.MaxQueuedBytes gets ErrQueueFull from Write; the caller decides
// how to close it.
//
// Closing is graceful: Close queues a last message, stops delivering input, flushes, shuts
// down the write side and waits (at most Config.CloseTimeout) for the peer to close its side,
// so the peer receives everything before the FIN and no RST destroys it. DiscardAndClose does
// the same but puts the last message ahead of the queue: buffers not yet started are dropped,
// the unit partly written is finished (Write's buffers and WritePair's pairs are units,
// never cut), then the last message is written. It is the close for a peer too slow for its
// queue (after ErrQueueFull), whose last message would otherwise wait behind the whole queue
// and be cut by the close deadline.
//
// # Handing a connection over
//
// Conn.Detach, called from OnData, gives the descriptor to the caller as a net.Conn served by
// Go's runtime poller, with the bytes already read replayed first: the poller forgets it
// (epoll deregistration, registry removal) without closing it. The server uses it to give
// plain HTTP requests to net/http while WebSocket connections stay here.
//
// Example:
//
//	p, err := netpoll.New(netpoll.Config{}, func(c *netpoll.Conn) netpoll.Handler { return echo{} })
//	if err != nil { ... }
//	if err := p.Listen("127.0.0.1:7513"); err != nil { ... }
//	defer p.Shutdown(5 * time.Second)
package netpoll
