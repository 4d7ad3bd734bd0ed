// Package natstest runs a real nats-server (github.com/nats-io/nats-server/v2, embedded)
// inside a test process, on a loopback port, for the cluster tests of kuzzlews. Only tests
// import it: the kuzzlews binary never links nats-server.
package natstest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is a nats-server that can be stopped and started again on the same port, as a
// restarted NATS would be. Its methods must be called from the test's goroutine.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// Start starts a nats-server on a random loopback port, with logging and signal handling
// off and a 2 MB max_payload; mod, when not nil, may change those options first. The
// server stops when the test ends. It fails the test when the server does not start
// within 10 s.
func Start(t testing.TB, mod func(*server.Options)) *Server {
	t.Helper()
	n := &Server{t: t, opts: server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxPayload: 2 << 20}}
	if mod != nil {
		mod(&n.opts)
	}
	n.Start()
	n.opts.Port = n.srv.Addr().(*net.TCPAddr).Port // a restart takes the same port
	t.Cleanup(n.Stop)
	return n
}

// Start starts the server again after Stop.
func (n *Server) Start() {
	n.t.Helper()
	opts := n.opts
	s, err := server.NewServer(&opts)
	if err != nil {
		n.t.Fatalf("nats-server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("nats-server not ready in 10 s")
	}
	n.srv = s
}

// Stop shuts the server down; its clients see the connection drop. Stopping a stopped
// server does nothing.
func (n *Server) Stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// Port returns the server's TCP port (the same across Stop and Start).
func (n *Server) Port() int { return n.opts.Port }

// URL returns the server's URL, nats://127.0.0.1:<port>.
func (n *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.opts.Port) }
