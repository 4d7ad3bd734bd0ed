// Command gorilla is the gorilla/websocket peer of the benchmark, written the way a Go user
// writes it by default: one goroutine per connection reads requests; writes go straight to the
// connection under a per-connection mutex with a write deadline (10 s, as in gorilla's chat
// example), so a publication is written to every subscriber by the publisher's goroutine.
// It speaks the protocol subset of package subset.
package main

import (
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuzzlews/kuzzlews/bench/peers/subset"
)

// writeWait bounds one write to a connection; a connection that cannot take a message within
// it is closed.
const writeWait = 10 * time.Second

type conn struct {
	ws *websocket.Conn
	mu sync.Mutex // serializes writes (gorilla allows one concurrent writer)
}

// Send writes msg now; a failed or timed-out write closes the connection.
func (c *conn) Send(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.ws.Close()
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
		c := &conn{ws: ws}
		defer func() {
			hub.Remove(c)
			ws.Close()
		}()
		ws.SetReadLimit(1 << 20)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.Send(hub.Handle(c, msg))
		}
	})
	log.Fatal(http.ListenAndServe(f.Addr(), nil))
}
