package load

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// serveOnce accepts one WebSocket connection on a loopback listener and runs fn on it.
func serveOnce(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		fn(c)
	}()
	return ln.Addr().String()
}

func dial(t *testing.T, addr string, p Proto) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, Target{Addr: addr, Proto: p}, net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadMessageFragmentsAndPing(t *testing.T) {
	pong := make(chan string, 1)
	addr := serveOnce(t, func(c net.Conn) {
		_ = ws.WriteFrame(c, ws.NewFrame(ws.OpText, false, []byte(`{"a":`)))
		_ = ws.WriteFrame(c, ws.NewPingFrame([]byte("p1")))
		_ = ws.WriteFrame(c, ws.NewFrame(ws.OpContinuation, true, []byte(`1}`)))
		h, err := ws.ReadHeader(c)
		if err != nil {
			return
		}
		b := make([]byte, h.Length)
		if _, err := c.Read(b); err == nil {
			ws.Cipher(b, h.Mask, 0)
			if h.OpCode == ws.OpPong {
				pong <- string(b)
			}
		}
		_ = ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	})
	c := dial(t, addr, Kuzzle)
	msg, err := c.ReadMessage()
	if err != nil || string(msg) != `{"a":1}` {
		t.Fatalf("ReadMessage = %q, %v; want the reassembled message", msg, err)
	}
	select {
	case p := <-pong:
		if p != "p1" {
			t.Errorf("pong payload %q, want p1", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	if _, err := c.ReadMessage(); err == nil {
		t.Fatal("ReadMessage after a close frame returned no error")
	}
}

func TestCentrifugoConnectSubscribeAndBatch(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn) {
		for _, reply := range []string{`{"id":1,"connect":{"client":"x","version":"6"}}`, `{"id":2,"subscribe":{}}`} {
			if _, err := wsutil.ReadClientText(c); err != nil {
				return
			}
			_ = wsutil.WriteServerText(c, []byte(reply))
		}
		batch := `{"push":{"channel":"bench-c0","pub":{"data":` + string(AppendBody(nil, 0, 7, 42, 3)) + `}}}` + "\n{}\n" +
			`{"push":{"channel":"bench-c0","pub":{"data":` + string(AppendBody(nil, 0, 8, 43, 3)) + `}}}`
		_ = wsutil.WriteServerText(c, []byte(batch))
		if m, err := wsutil.ReadClientText(c); err == nil && string(m) == "{}" {
			_ = wsutil.WriteServerText(c, []byte(`{"id":99}`)) // pong seen
		}
	})
	c := dial(t, addr, Centrifugo)
	ch, err := c.Subscribe("bench", "c0", "")
	if err != nil || ch != "bench-c0" {
		t.Fatalf("Subscribe = %q, %v", ch, err)
	}
	msg, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	if err := c.Each(msg, func(m []byte) {
		if _, seq, _, ok := ParseBody(m); ok {
			seqs = append(seqs, seq)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 2 || seqs[0] != 7 || seqs[1] != 8 {
		t.Fatalf("publications in the batch = %v, want [7 8]", seqs)
	}
	msg, err = c.ReadMessage()
	if err != nil || c.ReplyID(msg) != "99" {
		t.Fatalf("after the ping: %q, %v; want the server's ack of our pong", msg, err)
	}
}
