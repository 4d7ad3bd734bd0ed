package load

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// TestWriteCloseAndCloseCode: the client's close frame carries its code, and the code of the
// server's close frame is kept after ReadMessage returns io.EOF (1005 for an empty one).
func TestWriteCloseAndCloseCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{name: "with code", body: ws.NewCloseFrameBody(ws.StatusInternalServerError, "slow"), want: 1011},
		{name: "empty", body: nil, want: 1005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan ws.StatusCode, 1)
			addr := serveOnce(t, func(c net.Conn) {
				f, err := ws.ReadFrame(c)
				if err != nil {
					return
				}
				f = ws.UnmaskFrameInPlace(f)
				if f.Header.OpCode == ws.OpClose {
					code, _ := ws.ParseCloseFrameData(f.Payload)
					got <- code
				}
				_ = wsutil.WriteServerMessage(c, ws.OpClose, tc.body)
			})
			c := dial(t, addr, Kuzzle)
			if c.CloseCode() != 0 {
				t.Fatalf("CloseCode before any close frame = %d, want 0", c.CloseCode())
			}
			if err := c.WriteClose(1000); err != nil {
				t.Fatal(err)
			}
			if code := <-got; code != ws.StatusNormalClosure {
				t.Errorf("server read close code %d, want 1000", code)
			}
			if _, err := c.ReadMessage(); !errors.Is(err, io.EOF) {
				t.Fatalf("ReadMessage after the server's close = %v, want io.EOF", err)
			}
			if c.CloseCode() != tc.want {
				t.Errorf("CloseCode = %d, want %d", c.CloseCode(), tc.want)
			}
		})
	}
}
