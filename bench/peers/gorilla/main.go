// Command gorilla is the gorilla/websocket peer of the benchmark: the shape of gorilla's chat
// example (a read goroutine and a write goroutine per connection, a buffered send queue per
// connection, a slow connection is dropped when its queue is full) speaking the protocol
// subset of package subset.
package main

import (
	"log"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/kuzzlews/kuzzlews/bench/peers/subset"
)

// queueLen is the per-connection send queue, in messages, as in gorilla's chat example.
const queueLen = 256

type conn struct {
	ws   *websocket.Conn
	send chan []byte
	// mu guards closed and the closing of send.
	mu     sync.Mutex
	closed bool
}

// Send queues msg; a full queue closes the connection (chat example behaviour).
func (c *conn) Send(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.send <- msg:
	default:
		c.closeLocked()
	}
}

func (c *conn) close() {
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

// closeLocked closes the queue once; c.mu must be held.
func (c *conn) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.send)
	}
}

func main() {
	f := subset.ParseFlags()
	f.StartPprof()
	hub := subset.New()
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &conn{ws: ws, send: make(chan []byte, queueLen)}
		go c.writePump()
		c.readPump(hub)
	})
	log.Fatal(http.ListenAndServe(f.Addr(), nil))
}

func (c *conn) readPump(hub *subset.Hub) {
	defer func() {
		hub.Remove(c)
		c.close()
		c.ws.Close()
	}()
	c.ws.SetReadLimit(1 << 20)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.Send(hub.Handle(c, msg))
	}
}

func (c *conn) writePump() {
	defer c.ws.Close()
	for msg := range c.send {
		if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
	c.ws.WriteMessage(websocket.CloseMessage, []byte{})
}
