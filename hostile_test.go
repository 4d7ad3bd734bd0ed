package main

import (
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
