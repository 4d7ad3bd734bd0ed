package main

import (
	"testing"

	"github.com/gobwas/ws"
)

// BenchmarkDispatchServerNow measures one server:now request from message bytes to the
// response frame: envelope read with gjson, dispatch, response built, room
// appended, frame encoded. Socket I/O is not included.
func BenchmarkDispatchServerNow(b *testing.B) {
	s, err := NewServer(Config{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(0)
	ses := &session{s: s, out: &recorder{}}
	msg := []byte(`{"action":"now","controller":"server","requestId":"09aed01c-b9b5-4820-ac8a-74f372b25e2a","volatile":{"sdkInstanceId":"c8cbce7d-0e46-4104-96dd-67b66d6c4e48","sdkName":"js@7.17.1-beta.1"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if f := ses.process(msg); len(f) == 0 {
			b.Fatal("no response")
		}
	}
}

// BenchmarkRoundTripServerNow measures server:now over a real loopback WebSocket, one
// request in flight: the latency a client sees, syscalls included.
func BenchmarkRoundTripServerNow(b *testing.B) {
	s, err := NewServer(Config{Host: "127.0.0.1", Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(0)
	if err := s.Listen(); err != nil {
		b.Fatal(err)
	}
	c := dialWS(b, s)
	req := maskedFrame(true, ws.OpText, []byte(nowReq), true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := ws.ReadFrame(c.br); err != nil {
			b.Fatal(err)
		}
	}
}
