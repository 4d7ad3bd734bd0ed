package main

import (
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsRegistry exposes the server's counters to Prometheus. Every metric is read from
// counters the server keeps anyway, at scrape time: nothing is added to the hot path.
func (s *Server) metricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stat := func(f func() int64) func() float64 {
		return func() float64 { return float64(f()) }
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_connections", Help: "Open connections."},
			stat(func() int64 { return s.poll.Stats().Conns })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_accepted_total", Help: "Connections accepted."},
			stat(func() int64 { return s.poll.Stats().Accepted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_refused_total", Help: "Connections refused past -max-conns."},
			stat(func() int64 { return s.poll.Stats().Refused })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_connections_closed_total", Help: "Connections closed."},
			stat(func() int64 { return s.poll.Stats().Closed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_slow_clients_closed_total", Help: "Clients closed with 1011 for exceeding -max-queued-bytes."},
			stat(s.slowClosed.Load)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kuzzlews_handler_panics_total", Help: "Recovered panics (each closed its connection)."},
			stat(func() int64 { return s.poll.Stats().Panics })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_rooms", Help: "Live realtime rooms."},
			func() float64 { return float64(s.rooms.Rooms()) }),
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
