package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Regression tests for failures found by adversarial testing, over real loopback sockets.

// RFC 6455 section 11.3.1: Sec-WebSocket-Key "MUST NOT appear more than once in an HTTP
// request". A second key used to get 101 with the accept value computed from it.
func TestHostileRepeatedKeyGets400(t *testing.T) {
	s := startServer(t, Config{})
	for _, second := range []string{"AQIDBAUGBwgJCgsMDQ4PEA==", "dGhlIHNhbXBsZSBub25jZQ=="} {
		resp := handshake(t, s, upgradeReq+"Sec-WebSocket-Key: "+second+"\r\n\r\n")
		if resp.StatusCode != 400 {
			t.Errorf("second key %s: status %d (accept %q), want 400",
				second, resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
		}
	}
}

// RFC 7230 section 7 list rules apply to Connection and Upgrade (RFC 6455 section 4.2.1
// asks for a field that "includes" the token): a field sent on two lines, another protocol
// next to websocket, and tabs around the comma are all valid upgrades. They used to get 400
// or 426.
func TestHostileTokenListsUpgrade(t *testing.T) {
	const conn = "Connection: Upgrade\r\n"
	const upg = "Upgrade: websocket\r\n"
	cases := map[string]string{
		"connection on two lines, upgrade first":  strings.Replace(upgradeReq, conn, conn+"Connection: keep-alive\r\n", 1),
		"connection on two lines, upgrade second": strings.Replace(upgradeReq, conn, "Connection: keep-alive\r\n"+conn, 1),
		"upgrade list":                     strings.Replace(upgradeReq, upg, "Upgrade: websocket, h2c\r\n", 1),
		"tab after the comma":              strings.Replace(upgradeReq, conn, "Connection: keep-alive,\tUpgrade\r\n", 1),
		"spaces and tabs around the comma": strings.Replace(upgradeReq, conn, "Connection: keep-alive \t,\t Upgrade\r\n", 1),
	}
	s := startServer(t, Config{})
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			resp := handshake(t, s, req+"\r\n")
			if resp.StatusCode != 101 {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Fatalf("Sec-WebSocket-Accept = %q", got)
			}
		})
	}
}

// Autobahn cases 6.4.3 and 6.4.4: one 21-byte text frame whose bytes 12-15 are U+110000
// (past the last code point), sent in chops. The server fails the connection with 1007 as
// soon as the invalid bytes are there; the third chop is never sent. It used to wait for
// the whole frame.
func TestHostileInvalidUTF8FailsBeforeFrameCompletes(t *testing.T) {
	payload := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64")
	whole := maskedFrame(true, ws.OpText, payload, true)
	const header = 6 // 2 bytes, masking key
	s := startServer(t, Config{})
	for name, cuts := range map[string][2]int{
		"6.4.3 (chops 11, 4, 6)": {header + 11, header + 15},
		"6.4.4 (chops 12, 1, 8)": {header + 12, header + 13},
	} {
		t.Run(name, func(t *testing.T) {
			c := dialWS(t, s)
			c.writeRaw(whole[:cuts[0]])
			c.writeRaw(whole[cuts[0]:cuts[1]])
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // never reached when it works
			if got := c.expectClose(); got != ws.StatusInvalidFramePayloadData {
				t.Fatalf("close code %d, want 1007", got)
			}
		})
	}
}
