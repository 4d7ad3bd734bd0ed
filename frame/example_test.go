package frame_test

import (
	"bytes"
	"fmt"

	"github.com/gobwas/ws"

	"github.com/kuzzlews/kuzzlews/frame"
)

// The bytes a client sends arrive in pieces: Upgrade and Next consume nothing
// until a whole request or frame is there.
func Example() {
	var in []byte // the connection's unconsumed bytes, kept by the server
	request := "GET / HTTP/1.1\r\nHost: localhost:7513\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: null\r\n\r\n"

	in = append(in, request[:20]...) // first segment
	_, _, _, err := frame.Upgrade(in, frame.HandshakeConfig{})
	fmt.Println(err == frame.ErrIncomplete)

	in = append(in, request[20:]...) // the rest
	n, resp, hs, err := frame.Upgrade(in, frame.HandshakeConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	in = in[n:]
	fmt.Printf("%q %q\n", bytes.SplitN(resp, []byte("\r\n"), 2)[0], hs.Protocol)

	// A masked text frame from the client, then a ping.
	var wire bytes.Buffer
	_ = ws.WriteFrame(&wire, ws.MaskFrame(ws.NewTextFrame([]byte(`{"p":1}`))))
	_ = ws.WriteFrame(&wire, ws.MaskFrame(ws.NewPingFrame([]byte("hi"))))
	in = append(in, wire.Bytes()...)

	var r frame.Reader
	for {
		n, ev, ok, err := r.Next(in)
		if err != nil {
			fmt.Println(err) // write err.(*frame.CloseError).Frame(), then close
			return
		}
		if n == 0 {
			break // wait for more bytes
		}
		in = in[n:]
		if !ok {
			continue // a fragment was buffered
		}
		switch ev.Kind {
		case frame.KindMessage:
			fmt.Printf("message %s\n", ev.Payload)
			// Encode the answer once, behind Headroom bytes, and frame it in place.
			buf := append(make([]byte, frame.Headroom), `{"p":2}`...)
			fmt.Printf("answer % x\n", frame.Seal(buf, ws.OpText)[:2])
		case frame.KindPing:
			fmt.Printf("ping %s, answer % x\n", ev.Payload, frame.Pong(ev.Payload))
		}
	}
	// Output:
	// true
	// "HTTP/1.1 101 Switching Protocols" "null"
	// message {"p":1}
	// answer 81 07
	// ping hi, answer 8a 02 68 69
}
