package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"strconv"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/kuzzlews/kuzzlews/room/cluster"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// This file wires the server to package room/cluster: several kuzzlews nodes acting as
// one realtime service over NATS.

// defaultNode is the node id when -node is not given: the process id alone on a single
// node; in a cluster, where process ids repeat across machines and containers, random.
func defaultNode(c Config) string {
	if c.Cluster.URLs == "" {
		return "knode-kuzzlews-" + strconv.Itoa(os.Getpid())
	}
	var b [4]byte
	rand.Read(b[:])
	return "knode-kuzzlews-" + hex.EncodeToString(b[:])
}

// joinCluster connects the node to its cluster when cfg.Cluster.URLs is set, and returns
// nil otherwise. cfg has its defaults.
func joinCluster(cfg Config) (*cluster.Node, error) {
	if cfg.Cluster.URLs == "" {
		return nil, nil
	}
	cc := cfg.Cluster
	cc.Node = cfg.Node
	cc.MaxMessageSize = cfg.MaxMessageSize
	if cc.Logger == nil {
		cc.Logger = cfg.Logger
	}
	return cluster.Connect(cc)
}

// serveCluster makes the room engine with node as its backplane and starts the node.
func (s *Server) serveCluster(node *cluster.Node, spread func(func()) bool) error {
	rc := roomConfig(s.cfg, spread)
	rc.Backplane = node
	s.rooms = room.NewEngine(rc)
	if err := node.Serve(s.rooms); err != nil {
		node.Close()
		return err
	}
	s.cluster = node
	if s.auth != nil && s.auth.tokens != nil {
		if err := node.Handle(revokeEvent, func(_ string, payload []byte) { s.auth.applyRemoteLogout(s, payload) }); err != nil {
			node.Close()
			return err
		}
	}
	return nil
}

// ClusterStatus returns what the node knows of its cluster, and false for a single node.
// For health checks and metrics.
func (s *Server) ClusterStatus() (cluster.Status, bool) {
	if s.cluster == nil {
		return cluster.Status{}, false
	}
	return s.cluster.Status(), true
}

// healthCheckResult is server:healthCheck's result (Kuzzle 2.56
// lib/api/controllers/serverController.ts healthCheck: a service per key, "green" or
// "red", and status "red" when one is). A node of a cluster reports its NATS link as the
// service "cluster": red while NATS is unreachable (the node then serves its own clients
// only).
func (s *Server) healthCheckResult() []byte {
	st, ok := s.ClusterStatus()
	switch {
	case !ok:
		return []byte(`{"services":{},"status":"green"}`)
	case st.Connected:
		return []byte(`{"services":{"cluster":"green"},"status":"green"}`)
	default:
		return []byte(`{"services":{"cluster":"red"},"status":"red"}`)
	}
}

// clusterMetrics are the cluster's Prometheus metrics, read from the node's status at
// scrape time; none for a single node.
func (s *Server) clusterMetrics() []prometheus.Collector {
	if s.cluster == nil {
		return nil
	}
	stat := func(f func(cluster.Status) float64) func() float64 {
		return func() float64 { return f(s.cluster.Status()) }
	}
	counter := func(name, help string, f func(cluster.Status) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			stat(func(st cluster.Status) float64 { return float64(f(st)) }))
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_cluster_connected", Help: "1 while the NATS connection is up, 0 while the node serves its own clients only."},
			stat(func(st cluster.Status) float64 {
				if st.Connected {
					return 1
				}
				return 0
			})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kuzzlews_cluster_nodes", Help: "Live nodes known from heartbeats, this one included (0 while disconnected)."},
			stat(func(st cluster.Status) float64 { return float64(len(st.Nodes)) })),
		counter("kuzzlews_cluster_reconnects_total", "Reconnections to NATS.", func(st cluster.Status) uint64 { return st.Reconnects }),
		counter("kuzzlews_cluster_messages_sent_total", "Publications and user notifications sent to other nodes.", func(st cluster.Status) uint64 { return st.Sent }),
		counter("kuzzlews_cluster_messages_received_total", "Publications and user notifications received from other nodes.", func(st cluster.Status) uint64 { return st.Received }),
		counter("kuzzlews_cluster_messages_not_sent_total", "Publications and user notifications delivered on this node only (NATS unreachable, or over its max_payload).", func(st cluster.Status) uint64 { return st.NotSent }),
		counter("kuzzlews_cluster_messages_malformed_total", "Invalid messages from other nodes, dropped.", func(st cluster.Status) uint64 { return st.Malformed }),
		counter("kuzzlews_cluster_slow_consumer_total", "Times NATS dropped messages for this node because it read too slowly.", func(st cluster.Status) uint64 { return st.SlowConsumer }),
		counter("kuzzlews_cluster_flush_errors_total", "New rooms whose interest NATS did not confirm in time.", func(st cluster.Status) uint64 { return st.FlushErrors }),
	}
}

// natsFlags are the command's NATS settings that become nats.go options.
type natsFlags struct {
	creds, nkey, tlsCA, tlsCert, tlsKey string
}

// clusterFlags declares the cluster's flags on fs.
func clusterFlags(fs *flag.FlagSet, cfg *Config, nf *natsFlags) {
	fs.StringVar(&cfg.Cluster.URLs, "nats", "", "NATS server URL(s), comma-separated: the node joins the cluster of the nodes on this NATS (empty: a single node). Credentials may be in the URL; they are never logged")
	fs.StringVar(&cfg.Cluster.Prefix, "nats-prefix", cluster.DefaultPrefix, "first token of the cluster's NATS subjects: nodes with another prefix form another cluster (empty: the default)")
	fs.StringVar(&nf.creds, "nats-creds", "", "NATS credentials file (user JWT and NKey seed) (empty: none)")
	fs.StringVar(&nf.nkey, "nats-nkey", "", "NATS NKey seed file (empty: none)")
	fs.StringVar(&nf.tlsCA, "nats-tls-ca", "", "CA certificate file to verify the NATS server (empty: the system's roots when the URL is tls://)")
	fs.StringVar(&nf.tlsCert, "nats-tls-cert", "", "client certificate file for NATS, with -nats-tls-key (empty: none)")
	fs.StringVar(&nf.tlsKey, "nats-tls-key", "", "client private key file for NATS, with -nats-tls-cert (empty: none)")
}

// apply turns the flags into nats.go options on cfg.Cluster.
func (nf *natsFlags) apply(cfg *Config) error {
	if cfg.Cluster.URLs == "" {
		if nf.creds != "" || nf.nkey != "" || nf.tlsCA != "" || nf.tlsCert != "" || nf.tlsKey != "" {
			return errors.New("-nats-creds, -nats-nkey and -nats-tls-* need -nats")
		}
		return nil
	}
	if nf.creds != "" {
		cfg.Cluster.Options = append(cfg.Cluster.Options, nats.UserCredentials(nf.creds))
	}
	if nf.nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(nf.nkey)
		if err != nil {
			return errors.New("-nats-nkey: " + err.Error())
		}
		cfg.Cluster.Options = append(cfg.Cluster.Options, opt)
	}
	if nf.tlsCA != "" {
		cfg.Cluster.Options = append(cfg.Cluster.Options, nats.RootCAs(nf.tlsCA))
	}
	if (nf.tlsCert == "") != (nf.tlsKey == "") {
		return errors.New("-nats-tls-cert and -nats-tls-key go together")
	}
	if nf.tlsCert != "" {
		cfg.Cluster.Options = append(cfg.Cluster.Options, nats.ClientCert(nf.tlsCert, nf.tlsKey))
	}
	return nil
}
