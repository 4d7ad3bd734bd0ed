package main

import (
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/kuzzlews/kuzzlews/auth"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/room"
	"github.com/tidwall/gjson"
)

// call is one request being executed: the server, the session it came from, the
// request, and who makes it (security.go): user nil in open mode, tok the verified token
// (zero without one).
type call struct {
	s    *Server
	ses  *session
	req  *kuzzle.Request
	user *auth.User
	tok  auth.Token
}

// endpoint is one API action: its implementation, which returns the raw JSON `result` or
// an error (a *kuzzle.Error, else reported as core.fatal.unexpected_error), and its HTTP
// routes.
type endpoint struct {
	run func(call) ([]byte, error)
	// http lists the action's routes in Kuzzle 2.56 lib/api/httpRoutes.js, in that file's
	// order; none means the action is not reachable over HTTP (Kuzzle has no route for
	// realtime subscriptions, count or validate: "due to the synchronous nature of the HTTP
	// protocol", its API documentation says).
	http []route
}

// route is one HTTP route of an action: an upper-case verb and a path whose ":name"
// segments are route parameters (Kuzzle's lib/api/httpRoutes.js shape).
type route struct {
	verb, path string
}

// controllers is Kuzzle's API as kuzzlews implements it: controller -> action ->
// endpoint (Kuzzle 2.56 lib/api/controllers/*). It is never modified; endpoints numbers it
// for the metrics.
var controllers = map[string]map[string]endpoint{
	"auth": { // security.go
		"checkToken":     {run: authCheckToken, http: []route{{"POST", "/_checkToken"}}},
		"getCurrentUser": {run: authGetCurrentUser, http: []route{{"GET", "/_me"}, {"GET", "/users/_me"}}},
		"getMyRights":    {run: authGetMyRights, http: []route{{"GET", "/_me/_rights"}, {"GET", "/users/_me/_rights"}}},
		"getStrategies":  {run: authGetStrategies, http: []route{{"GET", "/strategies"}}},
		"login":          {run: authLogin, http: []route{{"GET", "/_login/:strategy"}, {"POST", "/_login/:strategy"}}},
		"logout":         {run: authLogout, http: []route{{"POST", "/_logout"}}},
		"refreshToken":   {run: authRefreshToken, http: []route{{"POST", "/_refreshToken"}}},
	},
	"realtime": {
		"count":       {run: realtimeCount},
		"join":        {run: realtimeJoin},
		"list":        {run: realtimeList, http: []route{{"GET", "/_listSubscriptions"}}},
		"publish":     {run: realtimePublish, http: []route{{"POST", "/:index/:collection/_publish"}}},
		"subscribe":   {run: realtimeSubscribe},
		"unsubscribe": {run: realtimeUnsubscribe},
		"validate":    {run: realtimeValidate},
	},
	"server": {
		"healthCheck": {run: serverHealthCheck, http: []route{{"GET", "/_healthCheck"}}},
		"info":        {run: serverInfo, http: []route{{"GET", "/"}, {"GET", "/_serverInfo"}}},
		"now":         {run: serverNow, http: []route{{"GET", "/_now"}}},
		"publicApi":   {run: serverPublicAPI, http: []route{{"GET", "/_publicApi"}}},
	},
}

// numbered is an endpoint with its id for the request metrics.
type numbered struct {
	endpoint
	id int
}

// endpointTable is the controller table numbered for the request metrics: every endpoint
// of controllers, then one "unknown" action per controller, then ("unknown", "unknown"),
// so that no label value comes from a client.
type endpointTable struct {
	byName          map[string]map[string]numbered // controller -> action -> endpoint
	names           []struct{ controller, action string }
	unknownAction   map[string]int // controller -> the id of its "unknown" action
	unknownEndpoint int            // the id of an unknown controller, or of no request at all
}

// endpoints is controllers numbered, computed once from the literal table.
var endpoints = numberEndpoints(controllers)

func numberEndpoints(table map[string]map[string]endpoint) endpointTable {
	t := endpointTable{byName: map[string]map[string]numbered{}, unknownAction: map[string]int{}}
	for _, c := range sortedKeys(table) {
		t.byName[c] = map[string]numbered{}
		for _, a := range sortedKeys(table[c]) {
			t.byName[c][a] = numbered{endpoint: table[c][a], id: len(t.names)}
			t.names = append(t.names, struct{ controller, action string }{c, a})
		}
	}
	for _, c := range sortedKeys(table) {
		t.unknownAction[c] = len(t.names)
		t.names = append(t.names, struct{ controller, action string }{c, "unknown"})
	}
	t.unknownEndpoint = len(t.names)
	t.names = append(t.names, struct{ controller, action string }{"unknown", "unknown"})
	return t
}

// appendPublicAPI appends server:publicApi's result for table, in Kuzzle's shape
// (serverController.ts _buildApiDefinition: {controller: {action: {action, controller,
// http: [{path, url, verb}]}}}, `http` only for actions that have routes), keys sorted.
// The SDK's Http protocol reads it to build its URLs (sdk-javascript 7.17.1
// src/protocols/Http.ts _constructRoutes).
func appendPublicAPI(b []byte, table map[string]map[string]endpoint) []byte {
	b = append(b, '{')
	for i, c := range sortedKeys(table) {
		if i > 0 {
			b = append(b, ',')
		}
		b = kuzzle.AppendString(b, c)
		b = append(b, ":{"...)
		for j, a := range sortedKeys(table[c]) {
			if j > 0 {
				b = append(b, ',')
			}
			b = kuzzle.AppendString(b, a)
			b = append(b, `:{"action":`...)
			b = kuzzle.AppendString(b, a)
			b = append(b, `,"controller":`...)
			b = kuzzle.AppendString(b, c)
			if routes := table[c][a].http; len(routes) > 0 {
				b = append(b, `,"http":[`...)
				for k, r := range routes {
					if k > 0 {
						b = append(b, ',')
					}
					b = append(b, `{"path":`...)
					b = kuzzle.AppendString(b, r.path)
					b = append(b, `,"url":`...)
					b = kuzzle.AppendString(b, r.path)
					b = append(b, `,"verb":`...)
					b = kuzzle.AppendString(b, r.verb)
					b = append(b, '}')
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// --- server controller (Kuzzle 2.56 lib/api/controllers/serverController.ts) ---

// serverNow answers server:now: {"now": <epoch ms>}.
func serverNow(call) ([]byte, error) {
	b := append(make([]byte, 0, 24), `{"now":`...)
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	return append(b, '}'), nil
}

// serverHealthCheck answers server:healthCheck. kuzzlews has no storage services to
// report on, so services is empty and the status is green while it serves; a node of a
// cluster reports its NATS link (healthCheckResult). Once the server drains (Server.Drain,
// SIGTERM) it is network.entrypoint.shutting_down (503), so that load balancers stop
// sending new clients.
func serverHealthCheck(c call) ([]byte, error) {
	if c.s.draining.Load() {
		return nil, kuzzle.ErrShuttingDown.New()
	}
	return c.s.healthCheckResult(), nil
}

// serverPublicAPI answers server:publicApi: every controller and action this server
// implements.
func serverPublicAPI(c call) ([]byte, error) { return c.s.publicAPI, nil }

// serverInfo answers server:info with what kuzzlews knows of itself, in the shape of
// Kuzzle's serverInfo.
func serverInfo(c call) ([]byte, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := c.s.poll.Stats()
	b := []byte(`{"serverInfo":{"kuzzle":{"api":{"routes":`)
	b = append(b, c.s.publicAPI...)
	b = append(b, `},"application":{},"memoryUsed":`...)
	b = strconv.AppendUint(b, ms.Sys, 10)
	b = append(b, `,"nodeVersion":`...)
	b = kuzzle.AppendString(b, runtime.Version())
	b = append(b, `,"plugins":{},"system":{"cpus":`...)
	b = strconv.AppendInt(b, int64(runtime.NumCPU()), 10)
	b = append(b, `,"connections":`...)
	b = strconv.AppendInt(b, st.Conns, 10)
	b = append(b, `},"uptime":`...)
	b = kuzzle.AppendString(b, strconv.FormatInt(int64(time.Since(c.s.started)/time.Second), 10)+"s")
	b = append(b, `,"version":`...)
	b = kuzzle.AppendString(b, "kuzzlews "+version)
	return append(b, `},"services":{}}}`...), nil
}

// --- realtime controller (lib/api/controllers/realtimeController.ts) ---

// roomConn returns the session's connection in the room engine (session.roomConn).
func (c *call) roomConn() *room.Conn { return c.ses.roomConn() }

// options reads the scope, users, volatile and timestamp arguments of subscribe and join.
func (c *call) options() room.Options {
	return room.Options{
		Scope:     option(c.req.Scope),
		Users:     option(c.req.Users),
		Volatile:  kuzzle.Bytes(c.req.Volatile.Raw),
		Timestamp: c.req.Stamp(0),
	}
}

// option reads a scope or users argument: absent is the default; anything else than one
// of the four strings (null included) is invalid, and the engine reports it where Kuzzle
// does.
func option(v gjson.Result) room.Option {
	if !v.Exists() {
		return room.OptionDefault
	}
	if v.Type != gjson.String {
		return room.OptionInvalid
	}
	return room.ParseOption(v.Str)
}

// subscribedResult is {"channel":C,"roomId":R}.
func subscribedResult(s room.Subscribed, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	b := append(make([]byte, 0, 32+len(s.Channel)+len(s.RoomID)), `{"channel":`...)
	b = kuzzle.AppendString(b, s.Channel)
	b = append(b, `,"roomId":`...)
	b = kuzzle.AppendString(b, s.RoomID)
	return append(b, '}'), nil
}

// realtimeSubscribe is realtime:subscribe: index and collection (missing_argument,
// invalid_type), a body (body_required), then the engine's checks.
func realtimeSubscribe(c call) ([]byte, error) {
	index, collection, err := c.req.IndexAndCollection()
	if err != nil {
		return nil, err
	}
	if !c.req.HasBody() {
		return nil, kuzzle.ErrBodyRequired.New()
	}
	return subscribedResult(c.s.rooms.Subscribe(c.roomConn(), index, collection, kuzzle.Bytes(c.req.Body.Raw), c.options()))
}

// realtimeJoin is realtime:join: body.roomId, then the engine's checks.
func realtimeJoin(c call) ([]byte, error) {
	id, err := c.req.BodyString("roomId")
	if err != nil {
		return nil, err
	}
	return subscribedResult(c.s.rooms.Join(c.roomConn(), id, c.options()))
}

// realtimeUnsubscribe is realtime:unsubscribe: {"roomId":R}.
func realtimeUnsubscribe(c call) ([]byte, error) {
	id, err := c.req.BodyString("roomId")
	if err != nil {
		return nil, err
	}
	if err := c.s.rooms.Unsubscribe(c.roomConn(), id); err != nil {
		return nil, err
	}
	b := append(make([]byte, 0, 16+len(id)), `{"roomId":`...)
	b = kuzzle.AppendString(b, id)
	return append(b, '}'), nil
}

// realtimeCount is realtime:count: {"count":n}, 0 for an unknown room.
func realtimeCount(c call) ([]byte, error) {
	id, err := c.req.BodyString("roomId")
	if err != nil {
		return nil, err
	}
	b := append(make([]byte, 0, 24), `{"count":`...)
	b = strconv.AppendInt(b, int64(c.s.rooms.Count(id)), 10)
	return append(b, '}'), nil
}

// realtimeList is realtime:list: {"<index>":{"<collection>":{"<roomId>":<count>}}}, keys
// sorted, without the pairs the caller may not realtime:subscribe to (Kuzzle's
// hotelClerk.ts listSubscriptions). It takes no argument.
func realtimeList(c call) ([]byte, error) {
	out := map[string]map[string]map[string]int{}
	for _, rc := range c.s.rooms.List(c.subscribable()) {
		if out[rc.Index] == nil {
			out[rc.Index] = map[string]map[string]int{}
		}
		if out[rc.Index][rc.Collection] == nil {
			out[rc.Index][rc.Collection] = map[string]int{}
		}
		out[rc.Index][rc.Collection][rc.RoomID] = rc.Count
	}
	return json.Marshal(out)
}

var publishedResult = []byte(`{"published":true}`)

// realtimePublish is realtime:publish: a body (body_required), index and collection, then
// the notification to every matching subscriber. Result: {"published":true}.
func realtimePublish(c call) ([]byte, error) {
	if !c.req.HasBody() {
		return nil, kuzzle.ErrBodyRequired.New()
	}
	index, collection, err := c.req.IndexAndCollection()
	if err != nil {
		return nil, err
	}
	c.s.metrics.publishes.Inc()
	c.s.rooms.Publish(&room.Publication{
		Index:      index,
		Collection: collection,
		Body:       kuzzle.Bytes(c.req.Body.Raw),
		ID:         kuzzle.Bytes(c.req.ID.Raw),
		DocumentID: c.req.DocumentID(),
		RequestID:  kuzzle.Bytes(c.req.RequestID),
		Volatile:   kuzzle.Bytes(c.req.Volatile.Raw),
		Timestamp:  c.req.Stamp(0),
		Author:     c.author(),
	})
	return publishedResult, nil
}

var validResult = []byte(`{"errorMessages":{},"valid":true}`)

// realtimeValidate is realtime:validate (deprecated in Kuzzle): without validation
// specifications every document is valid. Errors: body_required, then index and
// collection.
func realtimeValidate(c call) ([]byte, error) {
	if !c.req.HasBody() {
		return nil, kuzzle.ErrBodyRequired.New()
	}
	if _, _, err := c.req.IndexAndCollection(); err != nil {
		return nil, err
	}
	return validResult, nil
}
