package main

import (
	"io"
	"net"
	"net/http"
	"syscall"
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

// BenchmarkHTTPServerNow measures GET /_now over loopback through the WebSocket port:
// "keepalive" reuses one connection (the hand-off is paid once), "newconn" opens a
// connection per request (accept on the epoll path, head parsed there, Detach, hand-off,
// net/http, close). "direct" and "direct-newconn" serve the same handler with net/http on
// its own listener: the difference is what the shared port costs. cpu-ns/op is the
// process's CPU time (client and server, user and system) per request, steadier than the
// wall time on a shared machine.
func BenchmarkHTTPServerNow(b *testing.B) {
	s, err := NewServer(Config{Host: "127.0.0.1", Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(0)
	if err := s.Listen(); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	direct := &http.Server{Handler: s}
	go direct.Serve(ln)
	defer direct.Close()
	for _, bc := range []struct {
		name, addr string
		keepAlive  bool
	}{
		{"keepalive", s.Addr().String(), true},
		{"newconn", s.Addr().String(), false},
		{"direct", ln.Addr().String(), true},
		{"direct-newconn", ln.Addr().String(), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{DisableKeepAlives: !bc.keepAlive}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			url := "http://" + bc.addr + "/_now"
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				resp, err := c.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time this process used so far, user and system, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
