package main

import (
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/gobwas/ws"
	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

// action runs one API action for a client and returns its result (raw JSON) or error.
type action func(s *Server, cl *client, env *envelope) response

// controllers maps controller and action names to their implementation. It is filled once,
// in init, and only read afterwards.
var controllers = map[string]map[string]action{}

func init() {
	controllers["server"] = map[string]action{
		"now":         serverNow,
		"info":        serverInfo,
		"healthCheck": serverHealthCheck,
		"publicApi":   serverPublicAPI,
	}
	controllers["auth"] = map[string]action{
		"checkToken":     authCheckToken,
		"getCurrentUser": authGetCurrentUser,
	}
}

// handleMessage runs one client message through Kuzzle's pipeline and queues the frame
// that answers it, if any. msg is only valid during the call.
func (cl *client) handleMessage(msg []byte) {
	if f := cl.process(msg); f != nil {
		cl.send(f)
	}
}

// process runs msg through Kuzzle's pipeline (spec section 1.1) and returns the frame
// that answers it, or nil: empty messages are ignored, the rate limit applies, the
// message is parsed, `{"p":1}` gets `{"p":2}`, a request is executed and its response
// carries `room` = requestId. Notifications the request causes are queued before it
// returns, so they precede the response (spec section 4).
func (cl *client) process(msg []byte) []byte {
	if len(msg) == 0 {
		return nil
	}
	s := cl.s
	if s.cfg.RateLimit > 0 && !cl.rate.allow(s.poll.Now().Unix(), s.cfg.RateLimit) {
		return s.roomless(room.NewError("network.websocket.ratelimit_exceeded"), "")
	}
	var env envelope
	if ce := parseEnvelope(msg, &env); ce != nil {
		return s.roomless(ce.err, ce.requestID.Raw)
	}
	if env.isAppPing() {
		return appPong
	}
	requestID := env.requestID.Raw
	if !present(env.requestID) {
		requestID = newRequestID()
	}
	env.requestIDRaw = requestID
	r := s.execute(cl, &env)
	// Build the response after Headroom bytes of a buffer sized for it, inject room and
	// frame it in place: one allocation per response.
	buf := make([]byte, frame.Headroom, frame.Headroom+responseSizeHint(&env, requestID, r))
	buf = appendResponse(buf, &env, requestID, s.nodeJSON, r)
	buf = appendRoom(buf, requestID)
	return frame.Seal(buf, ws.OpText)
}

// responseSizeHint estimates the encoded size of a response, so that building it
// rarely reallocates.
func responseSizeHint(env *envelope, requestID string, r response) int {
	n := 160 + 2*len(requestID) + len(env.action.Raw) + len(env.controller.Raw) +
		len(env.index.Raw) + len(env.collection.Raw) + len(env.volatile.Raw) + len(r.result)
	if r.err != nil {
		n += 96 + len(r.err.Message) + 4*len(r.err.Props)
		for _, p := range r.err.Props {
			n += len(p)
		}
	}
	return n
}

// execute checks the controller and action and runs the action.
func (s *Server) execute(cl *client, env *envelope) response {
	if s.shuttingDown.Load() {
		return response{err: room.NewError("network.entrypoint.shutting_down")}
	}
	if !present(env.controller) || env.controller.Str == "" {
		return response{err: room.NewError("api.assert.missing_argument", "controller")}
	}
	if !present(env.action) || env.action.Str == "" {
		return response{err: room.NewError("api.assert.missing_argument", "action")}
	}
	actions, ok := controllers[env.controller.Str]
	if !ok {
		return response{err: room.NewError("api.process.controller_not_found", env.controller.Str)}
	}
	run, ok := actions[env.action.Str]
	if !ok {
		return response{err: room.NewError("api.process.action_not_found", env.controller.Str, env.action.Str)}
	}
	return run(s, cl, env)
}

// roomless returns a room-less error frame (spec section 6.3): action and controller
// null, a fresh requestId unless the client's could be read, no `room`.
func (s *Server) roomless(e *room.Error, rawRequestID string) []byte {
	if rawRequestID == "" {
		rawRequestID = newRequestID()
	}
	var env envelope
	payload := appendResponse(nil, &env, rawRequestID, s.nodeJSON, response{err: e})
	return encodeText(payload)
}

// serverNow answers server:now: {"now": <epoch ms>}.
func serverNow(*Server, *client, *envelope) response {
	b := append(make([]byte, 0, 24), `{"now":`...)
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	return response{result: append(b, '}')}
}

// serverHealthCheck answers server:healthCheck. kuzzlews has no storage services to
// report on, so services is empty and the status is green while it serves.
func serverHealthCheck(*Server, *client, *envelope) response {
	return response{result: []byte(`{"services":{},"status":"green"}`)}
}

// serverPublicAPI answers server:publicApi: every controller and action this server
// implements, in Kuzzle's shape (no HTTP routes: WebSocket only).
func serverPublicAPI(*Server, *client, *envelope) response {
	return response{result: appendRoutes(nil)}
}

func appendRoutes(b []byte) []byte {
	names := make([]string, 0, len(controllers))
	for c := range controllers {
		names = append(names, c)
	}
	sort.Strings(names)
	b = append(b, '{')
	for i, c := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c)
		b = append(b, ":{"...)
		actions := make([]string, 0, len(controllers[c]))
		for a := range controllers[c] {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		for j, a := range actions {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
			b = append(b, `:{"action":`...)
			b = appendString(b, a)
			b = append(b, `,"controller":`...)
			b = appendString(b, c)
			b = append(b, `,"http":[]}`...)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// serverInfo answers server:info with what kuzzlews knows of itself, in the shape of
// Kuzzle's serverInfo (spec section 9).
func serverInfo(s *Server, _ *client, _ *envelope) response {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := s.poll.Stats()
	b := []byte(`{"serverInfo":{"kuzzle":{"api":{"routes":`)
	b = appendRoutes(b)
	b = append(b, `},"application":{},"memoryUsed":`...)
	b = strconv.AppendUint(b, ms.Sys, 10)
	b = append(b, `,"nodeVersion":`...)
	b = appendString(b, runtime.Version())
	b = append(b, `,"plugins":{},"system":{"cpus":`...)
	b = strconv.AppendInt(b, int64(runtime.NumCPU()), 10)
	b = append(b, `,"connections":`...)
	b = strconv.AppendInt(b, st.Conns, 10)
	b = append(b, `},"uptime":`...)
	b = appendString(b, strconv.FormatInt(int64(time.Since(s.started)/time.Second), 10)+"s")
	b = append(b, `,"version":`...)
	b = appendString(b, "kuzzlews "+version)
	b = append(b, `},"services":{}}}`...)
	return response{result: b}
}

// authCheckToken answers auth:checkToken (spec section 9). kuzzlews serves anonymous
// users only: no token means the anonymous user, any token is invalid.
func authCheckToken(_ *Server, _ *client, env *envelope) response {
	token := env.body.Get("token")
	if !present(token) || (token.Type == gjson.String && token.Str == "") {
		return response{result: []byte(`{"expiresAt":null,"kuid":"-1","valid":true}`)}
	}
	return response{result: []byte(`{"state":"Invalid token.","valid":false}`)}
}

// authGetCurrentUser answers auth:getCurrentUser for the anonymous user.
func authGetCurrentUser(*Server, *client, *envelope) response {
	return response{result: []byte(`{"_id":"-1","_source":{"profileIds":["anonymous"]},"strategies":[]}`)}
}
