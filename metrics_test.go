package main

import (
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	dto "github.com/prometheus/client_model/go"
)

// metricValue returns the value of the series of family name whose labels include want
// (a counter, gauge or histogram count), and whether it exists.
func metricValue(t *testing.T, s *Server, name string, want map[string]string) (float64, bool) {
	t.Helper()
	fams, err := s.metricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// Each metric family counts what it says, with bounded labels.
func TestMetricFamilies(t *testing.T) {
	s := startServer(t, Config{RateLimit: 3, MaxMessageSize: 1024})
	sub := subscribeWS(t, s, "i", "c", `{}`)

	pub := dialWS(t, s)
	pub.request(`{"controller":"realtime","action":"publish","index":"i","collection":"c","body":{"n":1},"requestId":"p"}`)
	sub.readJSON()
	resp, err := http.Post(baseURL(s)+"/i/c/_publish", "application/json", strings.NewReader(`{"n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sub.readJSON()
	pub.request(`{"controller":"nope","action":"x","requestId":"u1"}`)
	pub.request(`{"controller":"server","action":"nope","requestId":"u2"}`)
	resp, err = http.Get(baseURL(s) + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Seven messages at once on a fresh connection, 3 allowed per second: at least one is
	// refused whatever second boundary falls between them. (Every other connection here
	// sends at most 3.)
	flood := dialWS(t, s)
	for range 7 {
		flood.sendText(nowReq)
	}
	for range 7 {
		flood.readJSON()
	}

	// Closes: the client's 1000, the server's 1009 and 1002, a dropped connection (1006).
	c1000 := dialWS(t, s)
	c1000.writeRaw(maskedFrame(true, ws.OpClose, closeBody(1000, ""), true))
	c1000.readFrame()
	c1000.conn.Close()
	c1009 := dialWS(t, s)
	c1009.sendText(`{"a":"` + strings.Repeat("x", 2000) + `"}`)
	if code := c1009.expectClose(); code != ws.StatusMessageTooBig {
		t.Fatalf("close %d, want 1009", code)
	}
	c1009.conn.Close()
	c1002 := dialWS(t, s)
	c1002.writeRaw(maskedFrame(true, ws.OpText, []byte(nowReq), false)) // unmasked
	if code := c1002.expectClose(); code != ws.StatusProtocolError {
		t.Fatalf("close %d, want 1002", code)
	}
	c1002.conn.Close()
	c1006 := dialWS(t, s)
	c1006.request(nowReq)
	c1006.conn.Close()

	// Handshake refusals.
	handshake(t, s, strings.Replace(upgradeReq, "Version: 13", "Version: 8", 1)+"\r\n")
	handshake(t, s, strings.Replace(upgradeReq, "GET", "POST", 1)+"\r\n")

	for _, code := range []string{"1000", "1009", "1002", "1006"} {
		eventually(t, "close "+code+" to be counted", func() bool {
			v, _ := metricValue(t, s, "kuzzlews_websocket_closes_total", map[string]string{"code": code})
			return v >= 1
		})
	}
	checks := []struct {
		name   string
		labels map[string]string
		min    float64 // at least
		exact  bool    // and at most
	}{
		{"kuzzlews_request_duration_seconds", map[string]string{"controller": "realtime", "action": "publish", "status": "200"}, 2, true},
		{"kuzzlews_request_duration_seconds", map[string]string{"controller": "realtime", "action": "subscribe", "status": "200"}, 1, true},
		{"kuzzlews_request_duration_seconds", map[string]string{"controller": "unknown", "action": "unknown", "status": "404"}, 2, true}, // WS + HTTP
		{"kuzzlews_request_duration_seconds", map[string]string{"controller": "server", "action": "unknown", "status": "404"}, 1, true},
		{"kuzzlews_publishes_total", nil, 2, true},
		{"kuzzlews_notifications_delivered_total", nil, 2, true},
		{"kuzzlews_written_bytes_total", nil, 500, false},
		{"kuzzlews_rate_limited_messages_total", nil, 1, false},
		{"kuzzlews_handshake_refusals_total", map[string]string{"status": "426"}, 1, true},
		{"kuzzlews_handshake_refusals_total", map[string]string{"status": "405"}, 1, true},
		{"kuzzlews_rooms", nil, 1, true},
		{"kuzzlews_subscriptions", nil, 1, true},
		{"kuzzlews_http_requests_total", map[string]string{"route": "POST /:index/:collection/_publish", "status": "200"}, 1, true},
		{"kuzzlews_http_requests_total", map[string]string{"route": "unknown", "status": "404"}, 1, true},
		{"kuzzlews_http_connections_total", nil, 2, true},
		{"kuzzlews_http_connections", nil, 0, false}, // http.Post's connections may still be idle
		{"kuzzlews_build_info", map[string]string{"version": version}, 1, true},
	}
	for _, c := range checks {
		v, ok := metricValue(t, s, c.name, c.labels)
		if !ok || v < c.min || (c.exact && v != c.min) {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.min)
		}
	}

	// Label values never come from clients: only table names, statuses, codes, routes.
	fams, _ := s.metricsRegistry().Gather()
	var labels []string
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "nope") || strings.Contains(l.GetValue(), "/i/c") {
					t.Errorf("%s has a client-chosen label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
				labels = append(labels, l.GetName())
			}
		}
	}
	sort.Strings(labels)
	for _, l := range labels {
		switch l {
		case "controller", "action", "status", "code", "route", "version", "goversion":
		default:
			t.Errorf("unexpected label %q", l)
		}
	}
}

// The logger's output, for the log tests.
func debugServer(t *testing.T, level slog.Level) (*Server, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	s := startServer(t, Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))})
	return s, &buf
}

// Client errors appear at debug level with the remote address, the status or close code
// and a reason; never a token, a password or a body.
func TestClientErrorsLoggedAtDebug(t *testing.T) {
	s, buf := debugServer(t, slog.LevelDebug)
	handshake(t, s, strings.Replace(upgradeReq, "GET", "POST", 1)+"\r\n")
	c := dialWS(t, s)
	c.sendText(`not json, password=hunter2`)
	c.readJSON()
	c.request(`{"controller":"nope","action":"x","jwt":"SECRET-TOKEN-1","body":{"password":"hunter2"}}`)
	c.writeRaw(maskedFrame(true, ws.OpText, []byte(nowReq), false))
	c.expectClose()
	req, _ := http.NewRequest("POST", baseURL(s)+"/nope?token=SECRET-TOKEN-3", strings.NewReader(`{"password":"hunter2"`))
	req.Header.Set("Authorization", "Bearer SECRET-TOKEN-2")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	eventually(t, "the log lines", func() bool { return strings.Count(buf.String(), "level=DEBUG") >= 5 })
	out := buf.String()
	for _, want := range []string{
		`msg="handshake refused" remote=127.0.0.1:`, "status=405",
		`msg="message refused" remote=127.0.0.1:`, "error=network.websocket.unexpected_error",
		`msg="request failed"`, "error=api.process.controller_not_found",
		`msg="websocket closed"`, "code=1002",
		`msg="http request refused"`, "status=400 error=network.http.body_parse_failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"SECRET", "hunter2", "password"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
}

// At info level, client errors are not logged; at debug level a flood is rate limited.
func TestClientErrorLogsAreBounded(t *testing.T) {
	s, buf := debugServer(t, slog.LevelInfo)
	c := dialWS(t, s)
	c.sendText(`{`)
	c.readJSON()
	if out := buf.String(); out != "" {
		t.Fatalf("client error logged at info level:\n%s", out)
	}

	s, buf = debugServer(t, slog.LevelDebug)
	c = dialWS(t, s)
	const n = 200
	for range n {
		c.sendText(`{`)
	}
	for range n {
		c.readJSON()
	}
	// The flood takes one or two wall-clock seconds at most here.
	if got := strings.Count(buf.String(), `msg="message refused"`); got < 1 || got > 3*clientLogsPerSecond {
		t.Fatalf("%d lines for %d errors, want at most %d", got, n, 3*clientLogsPerSecond)
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	for i := range clientLogsPerSecond {
		if ok, _ := l.allow(100); !ok {
			t.Fatalf("line %d refused", i)
		}
	}
	for range 5 {
		if ok, _ := l.allow(100); ok {
			t.Fatal("line past the limit allowed")
		}
	}
	if ok, dropped := l.allow(101); !ok || dropped != 5 {
		t.Fatalf("next second: ok=%v dropped=%d, want true 5", ok, dropped)
	}
	if _, dropped := l.allow(101); dropped != 0 {
		t.Fatalf("dropped reported twice: %d", dropped)
	}
}
