package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/tidwall/gjson"
)

// httpClient is a net/http client for one test server, with keep-alive.
func httpClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// do sends one request and returns the status, the headers and the body parsed as JSON
// (the body must be JSON: every answer of the HTTP API is).
func do(t *testing.T, c *http.Client, method, url, ctype string, body io.Reader, hdr ...string) (int, http.Header, map[string]any, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if method != "HEAD" {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, url, raw)
		}
	}
	return resp.StatusCode, resp.Header, m, raw
}

func baseURL(s *Server) string { return "http://" + s.Addr().String() }

// subscribe subscribes a raw WebSocket client to index/collection with filter and
// returns the client.
func subscribeWS(t *testing.T, s *Server, index, collection, filter string) *wsClient {
	t.Helper()
	c := dialWS(t, s)
	m := c.request(`{"controller":"realtime","action":"subscribe","index":"` + index + `","collection":"` + collection + `","body":` + filter + `,"requestId":"sub"}`)
	if m["status"] != float64(200) {
		t.Fatalf("subscribe: %v", m)
	}
	return c
}

// A backend publishes with plain HTTP requests, as with curl; a WebSocket subscriber gets
// the notifications with the publisher's volatile, and the response is Kuzzle's envelope
// without `room`.
func TestHTTPPublishReachesWebSocketSubscriber(t *testing.T) {
	s := startServer(t, Config{})
	sub := subscribeWS(t, s, "shop", "orders", `{"range":{"total":{"gte":100}}}`)
	hc := httpClient(t)

	// curl -X POST :7513/shop/orders/_publish -H 'Content-Type: application/json' -d '{...}'
	status, hdr, m, raw := do(t, hc, "POST", baseURL(s)+"/shop/orders/_publish", "application/json",
		strings.NewReader(`{"total":250,"item":"bike"}`),
		"X-Kuzzle-Volatile", `{"from":"backend"}`, "X-Kuzzle-Request-Id", "pub-1")
	if status != 200 || m["status"] != float64(200) || field(m, "result", "published") != true {
		t.Fatalf("publish: %d %s", status, raw)
	}
	if m["requestId"] != "pub-1" || m["index"] != "shop" || m["collection"] != "orders" ||
		m["controller"] != "realtime" || m["action"] != "publish" || field(m, "volatile", "from") != "backend" {
		t.Fatalf("envelope %s", raw)
	}
	if _, ok := m["room"]; ok {
		t.Fatalf("HTTP envelope has a room: %s", raw)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	// A filtered-out document, then one by the query string's _id.
	do(t, hc, "POST", baseURL(s)+"/shop/orders/_publish", "application/json", strings.NewReader(`{"total":20}`))
	do(t, hc, "POST", baseURL(s)+"/shop/orders/_publish?_id=order-3", "application/json", strings.NewReader(`{"total":300}`))

	n := sub.readJSON()
	if field(n, "result", "_source", "item") != "bike" || field(n, "volatile", "from") != "backend" ||
		n["requestId"] != "pub-1" || n["action"] != "publish" || field(n, "result", "_source", "_kuzzle_info", "author") != "-1" {
		t.Fatalf("notification %v", n)
	}
	if n = sub.readJSON(); field(n, "result", "_id") != "order-3" || field(n, "result", "_source", "total") != float64(300) {
		t.Fatalf("second notification %v", n)
	}
}

// Every refusal is Kuzzle's error in Kuzzle's envelope, with the HTTP status equal to
// the envelope's.
func TestHTTPErrors(t *testing.T) {
	s := startServer(t, Config{MaxMessageSize: 1024})
	hc := httpClient(t)
	big := strings.Repeat("x", 2000)
	cases := []struct {
		name, method, path, ctype string
		body                      io.Reader
		hdr                       []string
		status                    int
		id                        string
	}{
		{"unknown route", "GET", "/nope/nope/nope/nope", "", nil, nil, 404, "network.http.url_not_found"},
		{"wrong method on a known path", "PUT", "/_now", "", nil, nil, 404, "network.http.url_not_found"},
		{"GET on the publish route", "GET", "/shop/orders/_publish", "", nil, nil, 404, "network.http.url_not_found"},
		{"verb Kuzzle does not route", "TRACE", "/_now", "", nil, nil, 400, "network.http.unsupported_verb"},
		{"bad JSON", "POST", "/shop/orders/_publish", "application/json", strings.NewReader(`{"total":`), nil, 400, "network.http.body_parse_failed"},
		{"bad JSON on an unknown route: the body is read first", "POST", "/nope", "application/json", strings.NewReader(`{`), nil, 400, "network.http.body_parse_failed"},
		{"body over -max-message-size, Content-Length", "POST", "/shop/orders/_publish", "application/json", strings.NewReader(`{"a":"` + big + `"}`), nil, 413, "network.http.request_too_large"},
		{"body over -max-message-size, chunked", "POST", "/shop/orders/_publish", "application/json", io.MultiReader(strings.NewReader(`{"a":"`), strings.NewReader(big+`"}`)), nil, 413, "network.http.request_too_large"},
		{"unsupported content type", "POST", "/shop/orders/_publish", "text/plain", strings.NewReader(`{}`), nil, 400, "network.http.unsupported_content"},
		{"unsupported charset", "POST", "/shop/orders/_publish", "application/json; charset=latin1", strings.NewReader(`{}`), nil, 400, "network.http.unsupported_charset"},
		{"bad X-Kuzzle-Volatile", "POST", "/shop/orders/_publish", "application/json", strings.NewReader(`{}`), []string{"X-Kuzzle-Volatile", "{nope"}, 400, "network.http.volatile_parse_failed"},
		{"compressed body", "POST", "/shop/orders/_publish", "application/json", strings.NewReader(`{}`), []string{"Content-Encoding", "gzip"}, 400, "network.http.unexpected_error"},
		{"publish without body", "POST", "/shop/orders/_publish", "application/json", nil, nil, 400, "api.assert.body_required"},
		{"index with a slash", "POST", "/a%2Fb/orders/_publish", "application/json", strings.NewReader(`{}`), nil, 400, "services.storage.invalid_index_name"},
		{"body nested too deep", "POST", "/shop/orders/_publish", "application/json", strings.NewReader(strings.Repeat("[", 200) + strings.Repeat("]", 200)), nil, 400, "network.http.body_parse_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A chunked body: no Content-Length (the MultiReader hides the size).
			status, _, m, raw := do(t, hc, tc.method, baseURL(s)+tc.path, tc.ctype, tc.body, tc.hdr...)
			if status != tc.status || m["status"] != float64(tc.status) || field(m, "error", "status") != float64(tc.status) {
				t.Fatalf("status %d, envelope %s; want %d", status, raw, tc.status)
			}
			if id := field(m, "error", "id"); id != tc.id {
				t.Fatalf("error id %v, want %s: %s", id, tc.id, raw)
			}
			if m["result"] != nil || m["requestId"] == "" {
				t.Fatalf("envelope %s", raw)
			}
		})
	}
	// The connection stays usable after every error but the oversize ones, which net/http
	// closes: the client reconnects on its own.
	if status, _, _, raw := do(t, hc, "GET", baseURL(s)+"/_now", "", nil); status != 200 {
		t.Fatalf("after the errors: %d %s", status, raw)
	}
}

// The routes of every action kuzzlews implements over HTTP, as in Kuzzle's
// lib/api/httpRoutes.js, and server:publicApi listing them in the shape the SDK reads.
func TestHTTPRoutes(t *testing.T) {
	s := startServer(t, Config{})
	sub := subscribeWS(t, s, "i", "c", `{}`)
	_ = sub
	hc := httpClient(t)
	for _, tc := range []struct {
		method, path, body    string
		controller, action    string
		resultPath, resultVal string
	}{
		{"GET", "/_now", "", "server", "now", "", ""},
		{"GET", "/", "", "server", "info", "serverInfo.kuzzle.api.routes.server.now.http.0.url", "/_now"},
		{"GET", "/_serverInfo", "", "server", "info", "serverInfo.kuzzle.version", "kuzzlews " + version},
		{"GET", "/_healthCheck", "", "server", "healthCheck", "status", "green"},
		{"GET", "/_publicApi", "", "server", "publicApi", "realtime.publish.http.0.path", "/:index/:collection/_publish"},
		{"GET", "/_listSubscriptions", "", "realtime", "list", "i.c", ""},
		{"GET", "/_me", "", "auth", "getCurrentUser", "_id", "-1"},
		{"GET", "/users/_me/", "", "auth", "getCurrentUser", "_id", "-1"},
		{"POST", "/_checkToken", `{}`, "auth", "checkToken", "kuid", "-1"},
		{"POST", "//_checkToken", `{"token":"x"}`, "auth", "checkToken", "valid", "false"},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		status, _, m, raw := do(t, hc, tc.method, baseURL(s)+tc.path, "application/json", body)
		if status != 200 || m["controller"] != tc.controller || m["action"] != tc.action || m["error"] != nil {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, status, raw)
		}
		if tc.resultPath != "" {
			got := gjson.GetBytes(raw, "result."+tc.resultPath)
			if !got.Exists() || (tc.resultVal != "" && got.String() != tc.resultVal) {
				t.Fatalf("%s %s: result.%s = %s, want %q: %s", tc.method, tc.path, tc.resultPath, got.Raw, tc.resultVal, raw)
			}
		}
	}
	// publicApi: routes in Kuzzle's {path, url, verb} shape; no `http` key without routes.
	_, _, _, raw := do(t, hc, "GET", baseURL(s)+"/_publicApi", "", nil)
	if got := gjson.GetBytes(raw, "result.server.info.http").Raw; got != `[{"path":"/","url":"/","verb":"GET"},{"path":"/_serverInfo","url":"/_serverInfo","verb":"GET"}]` {
		t.Fatalf("server:info routes %s", got)
	}
	if gjson.GetBytes(raw, "result.realtime.count.http").Exists() {
		t.Fatalf("realtime:count has routes: %s", raw)
	}
	// HEAD / is Kuzzle's automatic route; OPTIONS answers any path with CORS headers.
	status, hdr, _, body := do(t, hc, "HEAD", baseURL(s)+"/", "", nil)
	if status != 200 || len(body) != 0 || hdr.Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("HEAD /: %d %q %v", status, body, hdr)
	}
	status, hdr, m, raw := do(t, hc, "OPTIONS", baseURL(s)+"/anything", "", nil, "Origin", "https://app.example.com")
	if status != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://app.example.com" || m["result"] == nil {
		t.Fatalf("OPTIONS: %d %v %s", status, hdr, raw)
	}
	// ?pretty indents, as Kuzzle does.
	if _, _, _, raw := do(t, hc, "GET", baseURL(s)+"/_now?pretty", "", nil); !bytes.Contains(raw, []byte("\n  \"action\": \"now\"")) {
		t.Fatalf("pretty: %s", raw)
	}
}

// CORS headers are Kuzzle's http.accessControlAllow* defaults; the origin is echoed.
func TestHTTPCORSHeaders(t *testing.T) {
	s := startServer(t, Config{})
	hc := httpClient(t)
	_, hdr, _, _ := do(t, hc, "GET", baseURL(s)+"/_now", "", nil, "Origin", "http://localhost:8080")
	want := map[string]string{
		"Access-Control-Allow-Origin":      "http://localhost:8080",
		"Vary":                             "Origin",
		"Access-Control-Allow-Methods":     "GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD",
		"Access-Control-Allow-Headers":     "Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Encoding, Content-Length, X-Kuzzle-Volatile",
		"Access-Control-Allow-Credentials": "true",
		"Content-Type":                     "application/json",
	}
	for k, v := range want {
		if got := hdr.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	_, hdr, _, _ = do(t, hc, "GET", baseURL(s)+"/_now", "", nil)
	if hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("Access-Control-Allow-Origin without an Origin: %q", hdr.Get("Access-Control-Allow-Origin"))
	}
}

// Forms are read as Kuzzle reads them: urlencoded fields as strings, multipart fields
// and files.
func TestHTTPFormBodies(t *testing.T) {
	s := startServer(t, Config{})
	sub := subscribeWS(t, s, "i", "c", `{}`)
	hc := httpClient(t)
	status, _, _, raw := do(t, hc, "POST", baseURL(s)+"/i/c/_publish", "application/x-www-form-urlencoded", strings.NewReader("total=250&tag=a&tag=b"))
	if status != 200 {
		t.Fatalf("%d %s", status, raw)
	}
	n := sub.readJSON()
	if field(n, "result", "_source", "total") != "250" || len(field(n, "result", "_source", "tag").([]any)) != 2 {
		t.Fatalf("urlencoded: %v", n)
	}
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("item", "bike")
	fw, _ := w.CreateFormFile("photo", "bike.txt")
	fw.Write([]byte("hello"))
	w.Close()
	if status, _, _, raw := do(t, hc, "POST", baseURL(s)+"/i/c/_publish", w.FormDataContentType(), &mp); status != 200 {
		t.Fatalf("%d %s", status, raw)
	}
	n = sub.readJSON()
	if field(n, "result", "_source", "item") != "bike" || field(n, "result", "_source", "photo", "file") != "aGVsbG8=" ||
		field(n, "result", "_source", "photo", "filename") != "bike.txt" {
		t.Fatalf("multipart: %v", n)
	}
}

// net/http owns a handed-over connection: keep-alive serves many requests on it, each
// connection costs one descriptor, and pipelined bytes read before the hand-off are
// replayed.
func TestHTTPKeepAliveAndOneDescriptor(t *testing.T) {
	s := startServer(t, Config{})
	fds0 := openFDs(t)
	hc := httpClient(t)
	for i := range 20 {
		if status, _, m, _ := do(t, hc, "GET", baseURL(s)+"/_now", "", nil); status != 200 || m["error"] != nil {
			t.Fatalf("request %d: %d", i, status)
		}
	}
	if st := s.poll.Stats(); st.Detached != 1 || st.Conns != 0 {
		t.Fatalf("20 keep-alive requests: %+v, want one connection handed over", st)
	}
	if got := openFDs(t) - fds0; got != 2 {
		t.Fatalf("descriptors grew by %d for one HTTP connection, want 2 (client and server side)", got)
	}
	// Two requests in one write, the second one's head already read by the epoll path.
	conn := dialTCP(t, s)
	conn.Write([]byte("GET /_now HTTP/1.1\r\nHost: x\r\n\r\nGET /_healthCheck HTTP/1.1\r\nHost: x\r\n\r\n"))
	br := bufio.NewReader(conn)
	for _, action := range []string{"now", "healthCheck"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || gjson.GetBytes(raw, "action").Str != action {
			t.Fatalf("pipelined %s: %d %s", action, resp.StatusCode, raw)
		}
	}
}

// The WebSocket port keeps refusing malformed and slow request heads itself, before any
// hand-off: nothing reaches net/http, no goroutine is spent.
func TestHTTPHeadLimitsStayOnTheEpollPath(t *testing.T) {
	s := startServer(t, Config{HandshakeTimeout: 50 * time.Millisecond, MaxHandshakeBytes: 1024})
	resp := handshake(t, s, "GET /_now HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 2000)+"\r\n\r\n")
	if resp.StatusCode != 431 {
		t.Fatalf("head over -max-handshake-bytes: %d, want 431", resp.StatusCode)
	}
	conn := dialTCP(t, s)
	conn.Write([]byte("GET /_now HTTP/1.1\r\n"))
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || r.StatusCode != 408 {
		t.Fatalf("slow head: %v %v, want 408", r, err)
	}
	if st := s.poll.Stats(); st.Detached != 0 {
		t.Fatalf("%d connections handed over", st.Detached)
	}
}

// Drain: /_healthCheck answers 503 while everything else is served; during Shutdown the
// port stays open until the clients are gone, answering 503 to health probes and
// WebSocket upgrades.
func TestHealthCheckDuringDrainAndShutdown(t *testing.T) {
	s := startServer(t, Config{})
	hc := httpClient(t)
	if status, _, m, _ := do(t, hc, "GET", baseURL(s)+"/_healthCheck", "", nil); status != 200 || field(m, "result", "status") != "green" {
		t.Fatalf("health before the drain: %d %v", status, m)
	}
	ws1 := dialWS(t, s)
	addr := s.Addr().String()
	s.Drain()
	status, _, m, raw := do(t, hc, "GET", baseURL(s)+"/_healthCheck", "", nil)
	if status != 503 || field(m, "error", "id") != "network.entrypoint.shutting_down" {
		t.Fatalf("health while draining: %d %s", status, raw)
	}
	if m := ws1.request(nowReq); m["status"] != float64(200) {
		t.Fatalf("server:now while draining: %v", m)
	}
	if status, _, _, _ := do(t, hc, "GET", baseURL(s)+"/_now", "", nil); status != 200 {
		t.Fatalf("GET /_now while draining: %d", status)
	}

	// A subscriber that never answers the close frame keeps the shutdown waiting.
	stuck := dialWS(t, s)
	_ = stuck
	done := make(chan int, 1)
	go func() { done <- s.Shutdown(30 * time.Second) }()
	if code := ws1.expectClose(); code != ws.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	ws1.conn.Close()
	eventually(t, "the shutdown to start", func() bool { return s.shuttingDown.Load() })
	conn := dialTCP(t, s)
	conn.Write([]byte("GET /_healthCheck HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || gjson.GetBytes(raw, "error.id").Str != "network.entrypoint.shutting_down" {
		t.Fatalf("health during shutdown: %d %s", resp.StatusCode, raw)
	}
	if !resp.Close {
		t.Errorf("no Connection: close during shutdown: %v", resp.Header)
	}
	up := dialTCP(t, s)
	up.Write([]byte(upgradeReq + "\r\n"))
	if resp, err := http.ReadResponse(bufio.NewReader(up), nil); err != nil || resp.StatusCode != 503 {
		t.Fatalf("upgrade during shutdown: %v %v, want 503", resp, err)
	}
	up.Close()
	stuck.conn.Close() // the last client leaves: Shutdown returns
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return after the last client left")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the port is still open after Shutdown")
	}
}

// -allowed-origins: browsers from other origins get 403 at the handshake and
// api.process.unauthorized_origin over HTTP; clients without Origin are served.
func TestOriginCheck(t *testing.T) {
	s := startServer(t, Config{AllowedOrigins: []string{"https://App.example.com/", "http://localhost:8080"}})
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", 101},
		{"https://app.example.com", 101},
		{"http://localhost:8080", 101},
		{"https://evil.example.com", 403},
		{"null", 403},
	} {
		req := upgradeReq
		if tc.origin != "" {
			req += "Origin: " + tc.origin + "\r\n"
		}
		if resp := handshake(t, s, req+"\r\n"); resp.StatusCode != tc.status {
			t.Errorf("upgrade from %q: %d, want %d", tc.origin, resp.StatusCode, tc.status)
		}
	}
	hc := httpClient(t)
	status, hdr, m, raw := do(t, hc, "GET", baseURL(s)+"/_now", "", nil, "Origin", "https://evil.example.com")
	if status != 401 || field(m, "error", "id") != "api.process.unauthorized_origin" || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("HTTP from another origin: %d %v %s", status, hdr, raw)
	}
	if status, hdr, _, _ := do(t, hc, "GET", baseURL(s)+"/_now", "", nil, "Origin", "http://localhost:8080"); status != 200 || hdr.Get("Access-Control-Allow-Origin") != "http://localhost:8080" {
		t.Fatalf("HTTP from an allowed origin: %d %v", status, hdr)
	}
	// "*" allows any origin.
	s2 := startServer(t, Config{AllowedOrigins: []string{"*"}})
	if resp := handshake(t, s2, upgradeReq+"Origin: https://evil.example.com\r\n\r\n"); resp.StatusCode != 101 {
		t.Fatalf("with *: %d", resp.StatusCode)
	}
}

// IPv6: -host ::1 and -host :: serve WebSocket and HTTP; :: also takes IPv4 clients.
func TestIPv6Hosts(t *testing.T) {
	for _, tc := range []struct {
		host  string
		dials []string
	}{
		{"::1", []string{"::1"}},
		{"::", []string{"::1", "127.0.0.1"}},
	} {
		cfg := Config{Host: tc.host, Logger: discardLogger()}
		s, err := NewServer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(); err != nil {
			t.Fatalf("-host %s: %v", tc.host, err)
		}
		port := strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
		for _, d := range tc.dials {
			addr := net.JoinHostPort(d, port)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/")
			cancel()
			if err != nil {
				t.Fatalf("-host %s: WebSocket to %s: %v", tc.host, addr, err)
			}
			if br == nil {
				br = bufio.NewReader(conn)
			}
			c := &wsClient{t: t, conn: conn, br: br}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if m := c.request(nowReq); m["status"] != float64(200) {
				t.Fatalf("-host %s via %s: %v", tc.host, addr, m)
			}
			conn.Close()
			hc := &http.Client{Timeout: 10 * time.Second}
			if status, _, _, raw := do(t, hc, "GET", "http://"+addr+"/_now", "", nil); status != 200 {
				t.Fatalf("-host %s: HTTP to %s: %d %s", tc.host, addr, status, raw)
			}
			hc.CloseIdleConnections()
		}
		s.Shutdown(2 * time.Second)
	}
}

// HTTP connections count against -max-conns with the WebSocket ones: past it, a new
// connection gets 503 whatever it asks for.
func TestHTTPConnectionsCountAgainstMaxConns(t *testing.T) {
	s := startServer(t, Config{MaxConns: 2})
	hc := httpClient(t) // keeps its connection open (keep-alive)
	if status, _, _, _ := do(t, hc, "GET", baseURL(s)+"/_now", "", nil); status != 200 {
		t.Fatalf("first HTTP connection: %d", status)
	}
	dialWS(t, s)
	if resp := handshake(t, s, upgradeReq+"\r\n"); resp.StatusCode != 503 {
		t.Fatalf("third connection: %d, want 503", resp.StatusCode)
	}
	hc.CloseIdleConnections()
	eventually(t, "the HTTP connection to close", func() bool { return s.poll.Stats().DetachedOpen == 0 })
	if resp := handshake(t, s, upgradeReq+"\r\n"); resp.StatusCode != 101 {
		t.Fatalf("after the HTTP connection closed: %d, want 101", resp.StatusCode)
	}
}
