// Package harness runs the benchmark comparison: it builds the peers, the raw-write floor and
// the load generator, starts each target server (pinned to CPU 0 with GOMAXPROCS=1, or shared),
// drives loadgen worker processes over their stdin/stdout protocol (bench/load/wire.go), reads
// the server's memory, file descriptors and CPU from /proc, and writes JSON, Markdown and
// charts. It imports nothing from the project: targets are reached over TCP only.
//
// RunCluster (bench/cmd/cluster) is the cluster benchmark: kuzzlews nodes joined over a real
// nats-server process, the same workers, and nats-server's own statistics (/varz, /connz).
//
// Concurrency: Run is synchronous and runs one scenario at a time; the only concurrency is one
// goroutine per worker process reading its reports. Every server and worker it starts is its
// own child, killed by PID when the scenario ends; every loop is bounded in count and time.
//
// Example:
//
//	cfg := harness.Quick()
//	cfg.OutDir = "results/quick"
//	res, err := harness.Run(context.Background(), cfg)
package harness
