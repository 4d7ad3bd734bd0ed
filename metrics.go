package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statusLabels are the statuses a response can have (Kuzzle's error classes, lib/kerror/
// errors/*.ts, and 200), in the order of statusSlot; anything else counts as "other".
var statusLabels = [...]string{"200", "206", "400", "401", "403", "404", "412", "413", "429", "500", "503", "504", "other"}

func statusSlot(status int) int {
	switch status {
	case 200:
		return 0
	case 206:
		return 1
	case 400:
		return 2
	case 401:
		return 3
	case 403:
		return 4
	case 404:
		return 5
	case 412:
		return 6
	case 413:
		return 7
	case 429:
		return 8
	case 500:
		return 9
	case 503:
		return 10
	case 504:
		return 11
	}
	return 12
}

// metrics are the server's own Prometheus series (the connection counters of the poller
// are read at scrape time in metricsRegistry). Label values are bounded: controller and
// action names of the controller table or "unknown", statuses, close codes, route
// patterns; never an index, a collection, a user or a client-chosen string.
type metrics struct {
	requests *prometheus.HistogramVec
	// observers caches requests' children: endpoint id * len(statusLabels) + status slot.
	// WithLabelValues hashes the labels; the cache makes a request's observation two
	// loads and the histogram's atomic adds.
	observers []atomic.Pointer[prometheus.Observer]

	publishes   prometheus.Counter
	rateLimited prometheus.Counter
	closes      *prometheus.CounterVec // WebSocket closes by code
	refusals    *prometheus.CounterVec // handshake refusals by HTTP status
	httpReqs    *prometheus.CounterVec // HTTP API requests by route and status

	// Deliveries and written bytes are counted on every notification of a fan-out, from
	// many workers at once: shards keep the workers off each other's cache lines.
	out [16]outShard
}

// outShard counts what was queued to WebSocket clients; padded to a cache line.
type outShard struct {
	delivered, bytes atomic.Int64
	_                [48]byte
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kuzzlews_request_duration_seconds",
			Help: "API requests (WebSocket and HTTP) by controller, action and response status, and the time from the message to its response: parsing, execution and encoding.",
			// 10 us to 2.6 s, x4 per bucket: a realtime request takes microseconds.
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10),
		}, []string{"controller", "action", "status"}),
		observers: make([]atomic.Pointer[prometheus.Observer], len(endpoints.names)*len(statusLabels)),
		publishes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuzzlews_publishes_total", Help: "Documents published with realtime:publish (WebSocket and HTTP).",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kuzzlews_rate_limited_messages_total", Help: "Messages refused past -rate-limit (network.websocket.ratelimit_exceeded).",
		}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuzzlews_websocket_closes_total",
			Help: "WebSocket connections ended, by close code: the server's (1001 idle or shutdown, 1002, 1007, 1009, 1011 slow), the client's, 1005 for a close frame without code, 1006 for a connection lost without close frame; codes outside RFC 6455's registry count as \"other\".",
		}, []string{"code"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuzzlews_handshake_refusals_total",
			Help: "WebSocket upgrade requests refused, by HTTP status (400, 403 origin, 405, 408 timeout, 426, 431, 503 shutting down, 505). Refusals past -max-conns are kuzzlews_connections_refused_total.",
		}, []string{"status"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kuzzlews_http_requests_total",
			Help: "HTTP API requests by route (\"VERB /path\" of Kuzzle's route table, OPTIONS, or unknown) and HTTP status.",
		}, []string{"route", "status"}),
	}
}

// clockBase is the origin of monotonic.
var clockBase = time.Now()

// monotonic returns the time elapsed since clockBase: one read of the monotonic clock,
// where time.Now reads the wall clock too. Request latencies are differences of it.
func monotonic() time.Duration { return time.Since(clockBase) }

// request observes one API request of endpoint ep that ended with status after d.
func (m *metrics) request(ep, status int, d time.Duration) {
	slot := &m.observers[ep*len(statusLabels)+statusSlot(status)]
	o := slot.Load()
	if o == nil {
		n := endpoints.names[ep]
		obs := m.requests.WithLabelValues(n.controller, n.action, statusLabels[statusSlot(status)])
		o = &obs
		slot.Store(o)
	}
	(*o).Observe(d.Seconds())
}

// written counts n bytes queued to the WebSocket client c.
func (m *metrics) written(c *client, n int) {
	m.shard(c).bytes.Add(int64(n))
}

// delivered counts one notification queued to c.
func (m *metrics) delivered(c *client) {
	m.shard(c).delivered.Add(1)
}

func (m *metrics) shard(c *client) *outShard {
	return &m.out[(uintptr(unsafe.Pointer(c))>>8)%uintptr(len(m.out))]
}

func (m *metrics) sum(f func(*outShard) int64) float64 {
	var n int64
	for i := range m.out {
		n += f(&m.out[i])
	}
	return float64(n)
}

// wsClose counts a WebSocket connection ended with close code code (0: none, 1006).
func (m *metrics) wsClose(code uint32) {
	label := "other"
	switch {
	case code == 0:
		label = "1006"
	case code >= 1000 && code <= 1015:
		label = strconv.Itoa(int(code))
	}
	m.closes.WithLabelValues(label).Inc()
}

// refusal counts a refused upgrade request.
func (m *metrics) refusal(status int) {
	m.refusals.WithLabelValues(strconv.Itoa(status)).Inc()
}

// httpRequest counts one HTTP API request.
func (m *metrics) httpRequest(route string, status int) {
	m.httpReqs.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// metricsRegistry exposes the server's metrics to Prometheus: its own series, the
// poller's and room engine's counters read at scrape time, and the Go runtime's.
func (s *Server) metricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stat := func(f func() int64) func() float64 {
		return func() float64 { return float64(f()) }
	}
	m := s.metrics
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_connections", Help: "Open connections on the epoll path (WebSocket clients and requests still in their handshake)."},
			stat(func() int64 { return s.poll.Stats().Conns })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_accepted_total", Help: "Connections accepted."},
			stat(func() int64 { return s.poll.Stats().Accepted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_refused_total", Help: "Connections refused past -max-conns (HTTP 503)."},
			stat(func() int64 { return s.poll.Stats().Refused })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_closed_total", Help: "Connections closed on the epoll path."},
			stat(func() int64 { return s.poll.Stats().Closed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_http_connections_total", Help: "Connections handed to the HTTP server (their first request was not a WebSocket upgrade)."},
			stat(func() int64 { return s.poll.Stats().Detached })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_http_connections", Help: "Open connections of the HTTP server (they count against -max-conns)."},
			stat(func() int64 { return s.poll.Stats().DetachedOpen })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_slow_clients_closed_total", Help: "Clients closed with 1011 for exceeding -max-queued-bytes."},
			stat(s.slowClosed.Load)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_handler_panics_total", Help: "Recovered panics (each closed its connection)."},
			stat(func() int64 { return s.poll.Stats().Panics })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_rooms", Help: "Live realtime rooms."},
			func() float64 { return float64(s.rooms.Rooms()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_subscriptions", Help: "Subscriptions: the connections of every room, summed (a connection subscribed twice to one room counts once, as in realtime:count)."},
			func() float64 {
				n := 0
				for _, rc := range s.rooms.List(nil) {
					n += rc.Count
				}
				return float64(n)
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_notifications_delivered_total", Help: "Notifications (document and user) queued to WebSocket subscribers."},
			func() float64 { return m.sum(func(o *outShard) int64 { return o.delivered.Load() }) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_written_bytes_total", Help: "Bytes of WebSocket frames (responses, notifications, pongs, closes) queued to clients."},
			func() float64 { return m.sum(func(o *outShard) int64 { return o.bytes.Load() }) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "kuzzlews_build_info",
			Help:        "Always 1; the labels tell the kuzzlews version and the Go version it was built with.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
		m.requests, m.publishes, m.rateLimited, m.closes, m.refusals, m.httpReqs,
	)
	reg.MustRegister(s.clusterMetrics()...)
	return reg
}

// serveMetrics serves Prometheus metrics at /metrics on addr until Shutdown. It returns
// the bound address.
func (s *Server) serveMetrics(addr string) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metricsRegistry(), promhttp.HandlerOpts{}))
	return s.serveHTTP(addr, mux)
}

// servePprof serves net/http/pprof at /debug/pprof/ on addr until Shutdown (profiling
// and the benchmark harness's goroutine counts). It returns the bound address.
func (s *Server) servePprof(addr string) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return s.serveHTTP(addr, mux)
}
