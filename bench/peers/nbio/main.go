// Command nbio is the lesismal/nbio peer of the benchmark: nbhttp in non-blocking mode (epoll
// pollers, no goroutine per connection) with nbio's WebSocket upgrader, speaking the protocol
// subset of package subset.
package main

import (
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/kuzzlews/kuzzlews/bench/peers/subset"
)

type conn struct{ ws *websocket.Conn }

// Send writes msg; nbio buffers what the socket does not take at once.
func (c *conn) Send(msg []byte) { _ = c.ws.WriteMessage(websocket.TextMessage, msg) }

func main() {
	f := subset.ParseFlags()
	f.StartPprof()
	hub := subset.New()
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.KeepaliveTime = time.Hour
	up.OnMessage(func(ws *websocket.Conn, _ websocket.MessageType, data []byte) {
		c, _ := ws.Session().(*conn)
		if c == nil {
			return
		}
		_ = ws.WriteMessage(websocket.TextMessage, hub.Handle(c, data))
	})
	up.OnClose(func(ws *websocket.Conn, _ error) {
		if c, _ := ws.Session().(*conn); c != nil {
			hub.Remove(c)
		}
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ws.SetSession(&conn{ws: ws})
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{f.Addr()},
		MaxLoad: 1 << 20,
		IOMod:   nbhttp.IOModNonBlocking,
		Handler: mux,
	})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	engine.Stop()
}
