package main

// Kuzzle's HTTP API on the WebSocket port (Kuzzle 2.56 serves both on one port:
// lib/core/network/protocols/httpwsProtocol.js).
//
// Hand-off. Every connection starts on the epoll path (conn.go): the handshake parser
// reads the request head there, without a goroutine, within -handshake-timeout and
// -max-handshake-bytes. A complete head that asks for no WebSocket upgrade (no "websocket"
// token in an Upgrade header) is a plain HTTP request: the client takes the connection out
// of the poller (netpoll.Conn.Detach: same descriptor, the bytes already read replayed
// first) and pushes it to handoffListener, the net.Listener an ordinary http.Server serves.
// From then on net/http owns the connection: keep-alive, chunked bodies, timeouts, header
// limits, one goroutine per HTTP connection. Upgrade requests never leave the epoll path.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"maps"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/kuzzlews/kuzzlews/netpoll"
	"github.com/tidwall/gjson"
)

// Kuzzle's default CORS and content headers (Kuzzle 2.56 lib/config/default.config.ts
// http.accessControlAllowHeaders and accessControlAllowMethods; cookieAuthentication true
// adds Access-Control-Allow-Credentials, lib/core/network/httpRouter/index.ts). Requests
// with a Content-Encoding are not decoded, hence "Accept-Encoding: identity" (Kuzzle's value
// when compression is off).
const (
	corsAllowHeaders = "Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Encoding, Content-Length, X-Kuzzle-Volatile"
	corsAllowMethods = "GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD"
)

// --- hand-off ---

// handoffListener is the net.Listener of the HTTP server: Accept returns the connections
// the epoll path detached. It never touches a socket itself.
type handoffListener struct {
	conns chan net.Conn // unbuffered: a push completes only when Accept takes it
	done  chan struct{}
	once  sync.Once
	addr  func() net.Addr
}

func newHandoffListener(addr func() net.Addr) *handoffListener {
	return &handoffListener{conns: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

// push gives c to the HTTP server; after Close, it closes c instead. It blocks only until
// the server's accept loop takes c (it spawns the connection's goroutine and comes back).
func (l *handoffListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// Accept implements net.Listener.
func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; later pushes close their connection.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener: the WebSocket port's address.
func (l *handoffListener) Addr() net.Addr {
	if a := l.addr(); a != nil {
		return a
	}
	return &net.TCPAddr{}
}

// headKind is what a complete request head that frame.Upgrade refused asks for.
type headKind int

const (
	headMalformed headKind = iota // not HTTP/1.x as net/http reads it: keep frame's 400
	headUpgrade                   // a WebSocket upgrade attempt: keep frame's refusal
	headHTTP                      // a plain HTTP request: hand it to net/http
)

// classifyHead reads a complete request head (request line, headers, blank line) with
// net/http's own parser and tells whether it asks for a WebSocket upgrade: an Upgrade
// header with a "websocket" token (RFC 6455 section 4.2.1, RFC 9110 section 7.8).
func classifyHead(head []byte) headKind {
	req, err := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(head), len(head)+16))
	if err != nil {
		return headMalformed
	}
	for _, v := range req.Header.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			p, _, _ := strings.Cut(strings.TrimSpace(tok), "/")
			if strings.EqualFold(p, "websocket") {
				return headUpgrade
			}
		}
	}
	return headHTTP
}

// handOff detaches c from the poller with data (the head and whatever followed it) to be
// read again, and gives it to the HTTP server. A connection that is already closing stays
// with the poller, which closes it.
func (s *Server) handOff(c *netpoll.Conn, data []byte) {
	nc, err := c.Detach(data)
	if err != nil {
		c.Close(nil)
		return
	}
	s.httpLn.push(nc)
}

// newAPIServer returns the http.Server of the HTTP API. The first request's head was read
// on the epoll path within -handshake-timeout and -max-handshake-bytes; the same limits
// apply to every later request of a keep-alive connection, and to reading a body and
// writing a response. -idle-timeout bounds an idle keep-alive connection (never, when
// negative: then -handshake-timeout does).
func (s *Server) newAPIServer() *http.Server {
	idle := s.cfg.IdleTimeout
	if idle < 0 {
		idle = 0
	}
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HandshakeTimeout,
		ReadTimeout:       s.cfg.HandshakeTimeout,
		WriteTimeout:      s.cfg.HandshakeTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    s.cfg.MaxHandshakeBytes,
		ErrorLog:          log.New(httpErrorLog{s}, "", 0),
	}
}

// httpErrorLog receives net/http's own log lines (malformed requests it answers itself,
// handler panics) as rate-limited client errors.
type httpErrorLog struct{ s *Server }

func (w httpErrorLog) Write(p []byte) (int, error) {
	if w.s.debugLogs {
		w.s.clientError("http server", nil, "reason", strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// --- routes ---

// routeNode is one segment of Kuzzle's route tree (lib/core/network/httpRouter/
// routePart.ts): static segments first, then one parameter; a node with a handler ends a
// route.
type routeNode struct {
	static map[string]*routeNode
	param  *routeNode
	h      *httpHandler // nil: no route ends here
}

// httpHandler is what a route runs: an endpoint, or Kuzzle's automatic HEAD / (ep nil).
type httpHandler struct {
	controller, action string
	ep                 *numbered
	params             []string // names of the ":name" segments, in order
	label              string   // "VERB /path" for metrics
}

// router holds one route tree per verb Kuzzle routes (httpRouter/index.ts).
type router map[string]*routeNode

// newRouter builds the route trees of table's HTTP routes. Kuzzle adds HEAD / itself,
// answering {} (httpRouter/index.ts). Duplicate routes panic: the table is a literal.
func newRouter(table map[string]map[string]numbered) router {
	rt := router{}
	for _, v := range []string{"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"} {
		rt[v] = &routeNode{}
	}
	rt.attach("HEAD", "/", &httpHandler{label: "HEAD /"})
	for _, c := range sortedKeys(table) {
		for _, a := range sortedKeys(table[c]) {
			ep := table[c][a]
			for _, r := range ep.http {
				rt.attach(r.verb, r.path, &httpHandler{controller: c, action: a, ep: &ep, label: r.verb + " " + r.path})
			}
		}
	}
	return rt
}

// attach adds path to verb's tree as Kuzzle's attach does: a trailing "/" is dropped,
// leading empty segments skipped, ":name" segments are parameters.
func (rt router) attach(verb, path string, h *httpHandler) {
	n := rt[verb]
	if n == nil {
		panic("http route " + path + ": verb " + verb + " is not routed")
	}
	parts := splitPath(path)
	for len(parts) > 0 {
		var part string
		part, parts = nextPart(parts)
		if strings.HasPrefix(part, ":") {
			h.params = append(h.params, part[1:])
			if n.param == nil {
				n.param = &routeNode{}
			}
			n = n.param
			continue
		}
		if n.static == nil {
			n.static = map[string]*routeNode{}
		}
		if n.static[part] == nil {
			n.static[part] = &routeNode{}
		}
		n = n.static[part]
	}
	if n.h != nil {
		panic("duplicate http route " + verb + " " + path)
	}
	n.h = h
}

// match finds the handler of path (escaped, as received) in verb's tree, and the values
// of its parameters, unescaped. Static segments win over a parameter and there is no
// backtracking, as in Kuzzle's getHandlerPart. It returns nil when no route matches.
func (rt router) match(verb, path string) (*httpHandler, []string) {
	n := rt[verb]
	var values []string
	parts := splitPath(path)
	for n != nil && len(parts) > 0 {
		var part string
		part, parts = nextPart(parts)
		if p, err := url.PathUnescape(part); err == nil {
			part = p
		}
		if next := n.static[part]; next != nil {
			n = next
			continue
		}
		if n.param != nil {
			values = append(values, part)
		}
		n = n.param
	}
	if n == nil || n.h == nil {
		return nil, nil
	}
	return n.h, values
}

// splitPath drops one trailing "/" and splits on "/" (Kuzzle's route paths and URLs).
func splitPath(path string) []string {
	return strings.Split(strings.TrimSuffix(path, "/"), "/")
}

// nextPart takes the next segment, skipping empty ones while others follow (Kuzzle's
// do/while on parts.shift()).
func nextPart(parts []string) (string, []string) {
	part := parts[0]
	parts = parts[1:]
	for len(parts) > 0 && part == "" {
		part = parts[0]
		parts = parts[1:]
	}
	return part, parts
}

// --- requests ---

// httpTransport is the transport of an HTTP request's session: HTTP has no channel for
// notifications, and the response goes in the HTTP body.
type httpTransport struct{}

func (httpTransport) Send([]byte)         {}
func (httpTransport) Deliver(_, _ []byte) {}

// charsetRE finds a charset parameter the way Kuzzle does (httpwsProtocol.js CHARSET_REGEX).
var charsetRE = regexp.MustCompile(`(?i)charset=([\w-]+)`)

// ServeHTTP answers one request of Kuzzle's HTTP API, following Kuzzle 2.56
// (httpwsProtocol.js httpOnMessageHandler, then lib/core/network/httpRouter): the body is
// checked (size, content type, charset) and read before the route is looked up, the
// request is built from the route's parameters, the query string, the body and the
// X-Kuzzle-Volatile, X-Kuzzle-Request-Id and Authorization headers, then executed by the
// same pipeline as WebSocket requests. The answer is Kuzzle's response envelope (the
// WebSocket one without `room`) with the envelope's status as HTTP status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := monotonic()
	origin := r.Header.Get("Origin")
	allowed := s.originAllowed(origin)
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Access-Control-Allow-Headers"] = []string{corsAllowHeaders}
	h["Access-Control-Allow-Methods"] = []string{corsAllowMethods}
	h["Access-Control-Allow-Credentials"] = []string{"true"}
	h["Accept-Encoding"] = []string{"identity"}
	if origin != "" && allowed {
		h["Access-Control-Allow-Origin"] = []string{origin}
		h["Vary"] = []string{"Origin"}
	}
	label, ep, body, e := s.answerHTTP(w, r, allowed)
	status := 200
	if e != nil {
		status = e.Status
	}
	if _, ok := r.URL.Query()["pretty"]; ok {
		var out bytes.Buffer
		if json.Indent(&out, body, "", "  ") == nil {
			body = out.Bytes()
		}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	s.metrics.httpRequest(label, status)
	if ep >= 0 {
		s.metrics.request(ep, status, monotonic()-start)
	}
	if e != nil {
		if s.debugLogs {
			s.clientError("http request refused", addrString(r.RemoteAddr),
				"status", status, "error", errorID(e), "route", label)
		}
	}
}

// answerHTTP returns the metric label of the request's route ("unknown" when none
// matched), the endpoint id of the request metrics (-1 for HEAD / and OPTIONS), the
// response body and the error it carries, nil on success.
func (s *Server) answerHTTP(w http.ResponseWriter, r *http.Request, originAllowed bool) (label string, ep int, body []byte, e *kuzzle.Error) {
	label, ep = "unknown", endpoints.unknownEndpoint
	rid := r.Header.Get("X-Kuzzle-Request-Id")
	if rid == "" {
		rid = uuid.NewString() // Kuzzle: the HTTP connection's id, a UUIDv4
	}
	bare := kuzzle.Request{RequestID: string(kuzzle.AppendString(nil, rid))}
	fail := func(e *kuzzle.Error) (string, int, []byte, *kuzzle.Error) {
		return label, ep, s.httpEnvelope(&bare, nil, e), e
	}

	// The route is looked up first for the metrics' labels, but its errors come after the
	// body's, in Kuzzle's order: the body is read before routing (httpOnMessageHandler).
	var h *httpHandler
	var params []string
	verbOK := true
	switch r.Method {
	case "OPTIONS":
		label, ep = "OPTIONS", -1
	case "DELETE", "GET", "HEAD", "PATCH", "POST", "PUT":
		if h, params = s.routes.match(r.Method, r.URL.EscapedPath()); h != nil {
			label, ep = h.label, -1
			if h.ep != nil {
				ep = h.ep.id
			}
		}
	default:
		verbOK = false
	}

	max := int64(s.cfg.MaxMessageSize)
	if r.ContentLength > max {
		return fail(kuzzle.ErrHTTPRequestTooLarge.New())
	}
	ctype := r.Header.Get("Content-Type")
	if ctype != "" && !strings.Contains(ctype, "application/json") &&
		!strings.Contains(ctype, "application/x-www-form-urlencoded") && !strings.Contains(ctype, "multipart/form-data") {
		return fail(kuzzle.ErrHTTPUnsupportedContent.New(ctype))
	}
	if m := charsetRE.FindStringSubmatch(ctype); m != nil && !strings.EqualFold(m[1], "utf-8") {
		return fail(kuzzle.ErrHTTPUnsupportedCharset.New(strings.ToLower(m[1])))
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return fail(kuzzle.ErrHTTPUnexpected.New("unsupported Content-Encoding " + strconv.Quote(ce) + " (kuzzlews reads identity bodies only)"))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fail(kuzzle.ErrHTTPRequestTooLarge.New())
		}
		return fail(kuzzle.ErrHTTPUnexpected.New("cannot read the body: " + err.Error()))
	}
	content, e := parseContent(ctype, raw)
	if e != nil {
		return fail(e)
	}

	// Then the route (httpRouter/index.ts route).
	switch {
	case !verbOK:
		return fail(kuzzle.ErrHTTPUnsupportedVerb.New(r.Method))
	case r.Method == "OPTIONS" && !originAllowed:
		return fail(kuzzle.ErrUnauthorizedOrigin.New(r.Header.Get("Origin")))
	case r.Method == "OPTIONS":
		return label, ep, s.httpEnvelope(&bare, []byte("{}"), nil), nil
	}
	var volatile []byte
	if v := r.Header.Get("X-Kuzzle-Volatile"); v != "" {
		var probe any
		if err := json.Unmarshal([]byte(v), &probe); err != nil {
			return fail(kuzzle.ErrHTTPVolatileParseFailed.New(err.Error()))
		}
		volatile = []byte(v)
	}
	env := buildEnvelope(rid, content, r.URL.RawQuery, bearer(r.Header.Get("Authorization")), volatile, h, params)
	var req kuzzle.Request
	if e := kuzzle.ParseRequest(env, s.cfg.MaxJSONDepth, &req); e != nil {
		if e.ID == kuzzle.ErrWebSocketUnexpected.ID { // too deep, or not UTF-8: the body
			e = kuzzle.ErrHTTPBodyParseFailed.New(e.Props...)
		}
		return fail(e)
	}
	switch {
	case h == nil:
		e = kuzzle.ErrHTTPURLNotFound.New(strings.TrimSuffix(r.URL.EscapedPath(), "/"))
		return label, ep, s.httpEnvelope(&req, nil, e), e
	case h.ep == nil: // HEAD /
		return label, ep, s.httpEnvelope(&req, []byte("{}"), nil), nil
	case !originAllowed: // Kuzzle's funnel checks the origin of every request
		e = kuzzle.ErrUnauthorizedOrigin.New(r.Header.Get("Origin"))
		return label, ep, s.httpEnvelope(&req, nil, e), e
	}
	ses := session{s: s, out: httpTransport{}, remote: addrString(r.RemoteAddr)}
	_, result, err := s.execute(&ses, &req)
	ses.close()
	e = kuzzle.AsError(err)
	return label, ep, s.httpEnvelope(&req, result, e), e
}

// httpEnvelope is Kuzzle's response envelope of r for HTTP: the WebSocket one without
// `room` (httpwsProtocol.js httpRequestToResponse sends response.content).
func (s *Server) httpEnvelope(r *kuzzle.Request, result []byte, e *kuzzle.Error) []byte {
	buf := make([]byte, 0, kuzzle.ResponseSize(r, s.nodeJSON, result, e))
	return kuzzle.AppendResponse(buf, r, s.nodeJSON, result, e)
}

// parseContent turns a request body into the request's `body` as raw JSON (nil for an
// empty body), per its content type as Kuzzle's httpParseContent does: a form
// (application/x-www-form-urlencoded) becomes an object of strings, arrays for repeated
// names (Node's querystring.parse); multipart/form-data an object of fields, files as
// {encoding, file (base64), filename}; anything else must be JSON
// (network.http.body_parse_failed, with the first 50 characters).
func parseContent(ctype string, raw []byte) ([]byte, *kuzzle.Error) {
	if len(raw) == 0 {
		return nil, nil
	}
	switch {
	case strings.Contains(ctype, "multipart/form-data"):
		_, params, err := mime.ParseMediaType(ctype)
		if err != nil || params["boundary"] == "" {
			return nil, kuzzle.ErrHTTPBodyParseFailed.New("multipart/form-data without a boundary")
		}
		obj := map[string]any{}
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, kuzzle.ErrHTTPBodyParseFailed.New(err.Error())
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return nil, kuzzle.ErrHTTPBodyParseFailed.New(err.Error())
			}
			if p.FileName() != "" {
				obj[p.FormName()] = map[string]string{
					"encoding": p.Header.Get("Content-Type"),
					"file":     base64.StdEncoding.EncodeToString(data),
					"filename": p.FileName(),
				}
			} else {
				obj[p.FormName()] = string(data)
			}
		}
		return marshalObject(obj)
	case strings.Contains(ctype, "application/x-www-form-urlencoded"):
		vals, _ := url.ParseQuery(string(raw)) // lenient, like Node's querystring
		obj := make(map[string]any, len(vals))
		for k, v := range vals {
			obj[k] = queryValue(v)
		}
		return marshalObject(obj)
	}
	if !gjson.ValidBytes(raw) {
		return nil, kuzzle.ErrHTTPBodyParseFailed.New(firstRunes(raw, 50))
	}
	return raw, nil
}

func marshalObject(obj map[string]any) ([]byte, *kuzzle.Error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, kuzzle.ErrHTTPBodyParseFailed.New(err.Error())
	}
	return b, nil
}

// queryValue is a query-string or form value as Node's querystring gives it: a string, or
// an array of strings for a repeated name.
func queryValue(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// firstRunes returns at most n characters of b (invalid UTF-8 replaced), as Kuzzle puts
// the start of an unreadable body in its error.
func firstRunes(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// bearer returns the token of an "Authorization: Bearer <token>" header, "" otherwise
// (Kuzzle's routeHandler.ts: the prefix is case-insensitive).
func bearer(auth string) string {
	const prefix = "bearer "
	if len(auth) >= len(prefix) && strings.EqualFold(auth[:len(prefix)], prefix) {
		return auth[len(prefix):]
	}
	return ""
}

// buildEnvelope writes the JSON request Kuzzle builds from an HTTP request (Kuzzle 2.56
// httpRouter/routeHandler.ts, then the route's handler), each key once, a later source
// replacing an earlier one: body and requestId, then the query string arguments (strings;
// arrays for repeated names), then jwt and volatile from the headers, then the route's
// parameters, then controller and action. Without a route (h nil) there is no controller
// nor action.
func buildEnvelope(rid string, body []byte, rawQuery, jwt string, volatile []byte, h *httpHandler, params []string) []byte {
	type kv struct {
		k string
		v []byte
	}
	var kvs []kv
	set := func(k string, v []byte) {
		for i := range kvs {
			if kvs[i].k == k {
				kvs[i].v = v
				return
			}
		}
		kvs = append(kvs, kv{k, v})
	}
	str := func(s string) []byte { return kuzzle.AppendString(nil, s) }
	if body != nil {
		set("body", body)
	}
	set("requestId", str(rid))
	if rawQuery != "" {
		q, _ := url.ParseQuery(rawQuery) // lenient, like Node's querystring
		for _, k := range slices.Sorted(maps.Keys(q)) {
			b, _ := json.Marshal(queryValue(q[k]))
			set(k, b)
		}
	}
	if jwt != "" {
		set("jwt", str(jwt))
	}
	if volatile != nil {
		set("volatile", volatile)
	}
	if h != nil {
		for i, name := range h.params {
			set(name, str(params[i]))
		}
		if h.ep != nil {
			set("controller", str(h.controller))
			set("action", str(h.action))
		}
	}
	size := 2
	for _, p := range kvs {
		size += len(p.k) + len(p.v) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, p := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = kuzzle.AppendString(b, p.k)
		b = append(b, ':')
		b = append(b, p.v...)
	}
	return append(b, '}')
}

// errorID is the error's Kuzzle id, or "bare" for an assertion error without one.
func errorID(e *kuzzle.Error) string {
	if e.ID == "" {
		return "bare"
	}
	return e.ID
}

// addrString is an address net/http gives as a string, as an addresser and a net.Addr.
type addrString string

func (a addrString) Network() string      { return "tcp" }
func (a addrString) String() string       { return string(a) }
func (a addrString) RemoteAddr() net.Addr { return a }
