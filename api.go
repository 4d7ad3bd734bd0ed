package main

import (
	"github.com/google/uuid"
	"github.com/kuzzlews/kuzzlews/auth"
	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room"
)

// transport is where a session's frames go: a WebSocket client, or a recorder in tests.
// Send must not block and may be called from any goroutine; f is shared (a notification
// frame goes to many transports) and must not be modified.
type transport interface {
	Send(f []byte)
	room.Subscriber
}

// session is one client of Kuzzle's API: the request pipeline's state for a connection.
// handle runs on the connection's turn (one message at a time); close runs once, when the
// connection closes.
type session struct {
	s    *Server
	out  transport
	rate rateWindow
	rc   *room.Conn // the connection in the room engine; nil until first used

	// notifiable: the transport takes server notifications (WebSocket, Kuzzle's
	// realtimeNotifications protocols), so verified tokens are linked to the connection
	// for TokenExpired.
	notifiable bool
	// remote is the client's address when out is not an addresser (HTTP).
	remote addresser

	// The last verified token (security.go): its string, copied out of the message, and
	// its user under the Security userSec; linked is the token string linked to the
	// connection for expiry, "" for none; registered tells that the session is in the
	// server's map of linked sessions (until it closes).
	tokStr     string
	user       *auth.User
	userSec    *auth.Security
	linked     string
	registered bool
}

// handle runs one client message through Kuzzle's pipeline and queues the frame that
// answers it, if any. msg is only valid during the call.
func (ses *session) handle(msg []byte) {
	if f := ses.process(msg); f != nil {
		ses.out.Send(f)
	}
}

// close releases what the session holds: its subscriptions leave their rooms ("user out"
// notifications go out).
func (ses *session) close() {
	if ses.registered {
		ses.s.auth.unlink(ses)
	}
	if ses.rc != nil {
		ses.s.rooms.Disconnect(ses.rc)
	}
}

// roomConn returns the session's connection in the room engine, registering it on first
// use: a client that never uses the realtime controller (nor links a token) costs the
// engine nothing. The connection id is a UUIDv4, like Kuzzle's. It is set once, on the
// connection's turn.
func (ses *session) roomConn() *room.Conn {
	if ses.rc == nil {
		ses.rc = ses.s.rooms.Connect(uuid.NewString(), ses.out)
	}
	return ses.rc
}

// process runs msg through Kuzzle's pipeline (Kuzzle 2.56 lib/core/network/protocols/
// websocket.ts onMessage, then lib/api/funnel.js) and returns the frame that answers
// it, or nil: empty messages are ignored, the rate limit applies, the message is parsed,
// `{"p":1}` gets `{"p":2}`, a request is executed and its response carries `room` =
// requestId. Notifications the request causes are queued before it returns, so they
// precede the response, as in Kuzzle.
func (ses *session) process(msg []byte) []byte {
	if len(msg) == 0 {
		return nil
	}
	s := ses.s
	var r kuzzle.Request
	if s.cfg.RateLimit > 0 && !ses.rate.allow(s.poll.Now().Unix(), s.cfg.RateLimit) {
		s.metrics.rateLimited.Inc()
		if s.debugLogs {
			s.clientError("message rate limited", ses.out, "limit", s.cfg.RateLimit)
		}
		r.RequestID = `"` + uuid.NewString() + `"`
		return s.roomless(&r, kuzzle.ErrRateLimitExceeded.New())
	}
	start := monotonic()
	if e := kuzzle.ParseRequest(msg, s.cfg.MaxJSONDepth, &r); e != nil {
		s.metrics.request(endpoints.unknownEndpoint, e.Status, monotonic()-start)
		if s.debugLogs {
			s.clientError("message refused", ses.out, "status", e.Status, "error", errorID(e))
		}
		return s.roomless(&r, e)
	}
	if r.IsAppPing() {
		return appPong
	}
	ep, result, err := s.execute(ses, &r)
	e := kuzzle.AsError(err)
	// Build the response after Headroom bytes of a buffer sized for it, set room and
	// frame it in place: one allocation per response.
	buf := make([]byte, frame.Headroom, frame.Headroom+kuzzle.ResponseSize(&r, s.nodeJSON, result, e))
	buf = kuzzle.AppendResponse(buf, &r, s.nodeJSON, result, e)
	buf = kuzzle.AppendRoom(buf, r.RequestID)
	status := 200
	if e != nil {
		status = e.Status
		if s.debugLogs {
			s.clientError("request failed", ses.out, "status", status, "error", errorID(e),
				"controller", endpoints.names[ep].controller, "action", endpoints.names[ep].action)
		}
	}
	s.metrics.request(ep, status, monotonic()-start)
	return frame.Seal(buf, frame.OpText)
}

// execute checks the controller and action, then the caller's rights (unless the server
// is open: security.go), and runs the action. ep is the endpoint's id for the request
// metrics: an "unknown" one when the controller or the action does not exist.
func (s *Server) execute(ses *session, r *kuzzle.Request) (ep int, result []byte, err error) {
	controller, action := r.ControllerName(), r.ActionName()
	actions, known := endpoints.byName[controller]
	a, found := actions[action]
	switch {
	case !known:
		ep = endpoints.unknownEndpoint
	case !found:
		ep = endpoints.unknownAction[controller]
	default:
		ep = a.id
	}
	switch {
	case s.shuttingDown.Load():
		return ep, nil, kuzzle.ErrShuttingDown.New()
	case controller == "":
		return ep, nil, kuzzle.ErrMissingArgument.New("controller")
	case action == "":
		return ep, nil, kuzzle.ErrMissingArgument.New("action")
	case !known:
		return ep, nil, kuzzle.ErrControllerNotFound.New(controller)
	case !found:
		return ep, nil, kuzzle.ErrActionNotFound.New(controller, action)
	}
	c := call{s: s, ses: ses, req: r}
	if s.auth != nil {
		if err := s.auth.authorize(&c, controller, action); err != nil {
			return ep, nil, err
		}
	}
	result, err = a.run(c)
	return ep, result, err
}

// roomless returns a room-less error frame (Kuzzle's wsSendError): action and controller
// null, r's requestId (the client's when it could be read, else a fresh one), no `room`:
// the client cannot route it.
func (s *Server) roomless(r *kuzzle.Request, e *kuzzle.Error) []byte {
	empty := kuzzle.Request{RequestID: r.RequestID}
	buf := make([]byte, frame.Headroom, frame.Headroom+kuzzle.ResponseSize(&empty, s.nodeJSON, nil, e))
	buf = kuzzle.AppendResponse(buf, &empty, s.nodeJSON, nil, e)
	return frame.Seal(buf, frame.OpText)
}

// rateWindow counts a connection's messages in the current second (Kuzzle's
// limits.requestsRate applied per socket by the WebSocket entry point).
type rateWindow struct {
	second int64
	count  int32
}

// allow counts one message at unix second now and reports whether it is within limit.
func (w *rateWindow) allow(now int64, limit int) bool {
	if now != w.second {
		w.second, w.count = now, 0
	}
	w.count++
	return int(w.count) <= limit
}
