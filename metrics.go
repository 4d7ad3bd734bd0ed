package main

import (
	"errors"
	"net"
	"net/http"
	"time"

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
	return reg
}

// serveMetrics serves /metrics on addr in the background (a separate, ordinary net/http
// listener: scrapes are rare, so they do not go through the epoll loop) until Shutdown.
// It returns the bound address.
func (s *Server) serveMetrics(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metricsRegistry(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.metricsSrv.Store(srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", "err", err)
		}
	}()
	return ln.Addr(), nil
}
