package main

import (
	"strings"
	"testing"
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
