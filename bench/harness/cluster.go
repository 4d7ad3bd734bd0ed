package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// NATSServerVersion is the nats-server release the cluster benchmark runs: the one the
// root module's tests embed (github.com/nats-io/nats-server/v2 in the root go.mod).
const NATSServerVersion = "v2.15.2"

// The cluster scenarios of ClusterConfig.Scenarios.
const (
	// ClusterFanout: one publication to S subscribers on two nodes, the publisher on the
	// first, in three placements: "local" (S on the publisher's node), "remote" (S on the
	// other node: every delivery crosses NATS) and "split" (S/2 on each).
	ClusterFanout = "fanout"
	// ClusterRate: subscribers on the second node only, the publication rate of the first
	// raised step by step until p99 passes MaxP99 or a delivery is missed.
	ClusterRate = "rate"
	// ClusterVerify: the mixed filtered workload (one Koncorde filter per subscriber, so as
	// many rooms as subscribers) over two nodes, publishers on both, every delivery checked.
	ClusterVerify = "verify"
	// ClusterScale: ScaleNodes nodes with ScaleSubs subscribers each, every publication to
	// all of them, beside one node alone (no NATS) with ScaleSubs subscribers.
	ClusterScale = "scale"
)

// ClusterConfig is one run of the cluster benchmark (bench/cmd/cluster): kuzzlews nodes
// (the binary built from the repository root, started with -nats and -node) joined over
// a real nats-server process, clients in loadgen processes, everything on loopback. Every
// placement starts a fresh nats-server and fresh nodes. The zero value is not useful:
// start from ClusterQuick or ClusterFull.
type ClusterConfig struct {
	// Name labels the run ("quick", "full").
	Name string
	// Scenarios to run, in order: ClusterFanout, ClusterRate, ClusterVerify, ClusterScale.
	Scenarios []string

	// Fan-out: subscriber counts (each runs local, remote and split); Pubs publications
	// PubInterval apart, stretched to PubIntervalPerSub per subscriber of the run so that
	// one publication's deliveries end before the next starts (the clients spend about as
	// much CPU per delivery as the server); Pad filler bytes in each document (about 130 B
	// in all); Grace between collections of the deliveries; StallAfter bounds the wait for
	// the publisher's replies and the last deliveries.
	FanoutSubs        []int
	Pubs              int
	PubInterval       time.Duration
	PubIntervalPerSub time.Duration
	Pad               int
	Grace             time.Duration
	StallAfter        time.Duration

	// Rate: RateChannels collections x RateSubs subscribers each on the second node,
	// RatePublishers connections on the first publishing round-robin over the collections,
	// each rate of Rates (publications per second, in order) for RateStep. A rate passes
	// when every delivery arrived and the p99 of publisher's send to arrival is at most
	// MaxP99; a failing rate is run once more, and the second failure ends the scenario.
	RateChannels   int
	RateSubs       int
	RatePublishers int
	Rates          []float64
	RateStep       time.Duration
	MaxP99         time.Duration

	// Verify: VerifySubs subscribers of the mixed workload (the first half on the first
	// node, the rest on the second) and VerifyPubs closed-loop publishers split likewise,
	// for VerifyDuration; Seed seeds the filters and documents (0 means 1).
	VerifySubs     int
	VerifyPubs     int
	VerifyDuration time.Duration
	Seed           uint64

	// Scale: ScaleNodes nodes with ScaleSubs subscribers each (the publisher is one more
	// connection on the first), ScalePubs publications; then one node without NATS with
	// ScaleSubs subscribers. Memory is read ScaleSettle after the last subscriber is ready.
	ScaleNodes  int
	ScaleSubs   int
	ScalePubs   int
	ScaleSettle time.Duration

	// PerWorker is the most connections one loadgen process holds; DialInFlight the most
	// handshakes in flight over the workers of one node (somaxconn is 4096).
	PerWorker    int
	DialInFlight int

	// KuzzlewsBin is a built kuzzlews binary; empty means go build the repository root.
	KuzzlewsBin string
	// KuzzlewsArgs follow -host and -port on every node (-nats and -node come after).
	KuzzlewsArgs []string
	// KuzzlewsPprofFlag (e.g. "-pprof") serves net/http/pprof: forced GCs before reading
	// memory. Empty means none.
	KuzzlewsPprofFlag string
	// NATSServerBin is the nats-server binary; empty means NATSServerPath(), installed with
	// go install when missing or of another version.
	NATSServerBin string

	// OutDir receives results.json, results.md, the charts and the logs; empty means
	// write nothing.
	OutDir string
	// CommandLine is recorded in the results.
	CommandLine string
	// Logf receives progress lines; nil means silent.
	Logf func(format string, args ...any) `json:"-"`
}

// ClusterQuick is the CI configuration: two nodes and a few hundred subscribers (three
// nodes for the scale placement), well under a minute once the binaries are built.
func ClusterQuick() ClusterConfig {
	return ClusterConfig{
		Name:       "quick",
		Scenarios:  []string{ClusterFanout, ClusterRate, ClusterVerify, ClusterScale},
		FanoutSubs: []int{300}, Pubs: 5, PubInterval: 50 * time.Millisecond, Pad: 60,
		Grace: 200 * time.Millisecond, StallAfter: 10 * time.Second,
		RateChannels: 2, RateSubs: 10, RatePublishers: 2, Rates: []float64{100, 400}, RateStep: 500 * time.Millisecond,
		MaxP99:     100 * time.Millisecond,
		VerifySubs: 300, VerifyPubs: 4, VerifyDuration: time.Second,
		ScaleNodes: 3, ScaleSubs: 200, ScalePubs: 5, ScaleSettle: 200 * time.Millisecond,
		PerWorker: 300, DialInFlight: 1000,
		KuzzlewsArgs: []string{"-idle-timeout=-1s", "-log-level", "warn"}, KuzzlewsPprofFlag: "-pprof",
	}
}

// ClusterFull is the measurement of bench/README.md ("Several nodes"): 1k and 5k
// subscribers over two nodes, the rate one node pushes through NATS, the mixed workload
// at 4,000 subscribers, and three nodes with 19,000 connections each.
func ClusterFull() ClusterConfig {
	return ClusterConfig{
		Name:       "full",
		Scenarios:  []string{ClusterFanout, ClusterRate, ClusterVerify, ClusterScale},
		FanoutSubs: []int{1000, 5000}, Pubs: 60, PubInterval: 300 * time.Millisecond, PubIntervalPerSub: 60 * time.Microsecond,
		Pad: 60, Grace: time.Second, StallAfter: 30 * time.Second,
		RateChannels: 10, RateSubs: 10, RatePublishers: 4,
		Rates:    []float64{250, 500, 1000, 2000, 4000, 8000, 16000},
		RateStep: 5 * time.Second, MaxP99: 100 * time.Millisecond,
		VerifySubs: 4000, VerifyPubs: 8, VerifyDuration: 10 * time.Second,
		ScaleNodes: 3, ScaleSubs: 19000, ScalePubs: 15, ScaleSettle: 5 * time.Second,
		PerWorker: 5000, DialInFlight: 2000,
		KuzzlewsArgs: []string{"-idle-timeout=-1s", "-log-level", "warn"}, KuzzlewsPprofFlag: "-pprof",
	}
}

// ClusterByName returns the cluster preset called name: "quick" or "full".
func ClusterByName(name string) (ClusterConfig, error) {
	switch name {
	case "quick":
		return ClusterQuick(), nil
	case "full":
		return ClusterFull(), nil
	}
	return ClusterConfig{}, fmt.Errorf("harness: unknown cluster mode %q (quick, full)", name)
}

// base is the comparison Config the shared pieces (spawn, startServer) read.
func (c *ClusterConfig) base() Config {
	return Config{Name: "cluster-" + c.Name, Targets: []string{"kuzzlews"}, Modes: []string{"shared"},
		Pad: c.Pad, Grace: c.Grace, StallAfter: c.StallAfter, Seed: c.Seed,
		PerWorker: c.PerWorker, DialInFlight: c.DialInFlight,
		KuzzlewsBin: c.KuzzlewsBin, KuzzlewsArgs: c.KuzzlewsArgs, KuzzlewsPprofFlag: c.KuzzlewsPprofFlag,
		CommandLine: c.CommandLine, Logf: c.Logf}
}

func (c *ClusterConfig) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// RunCluster builds kuzzlews and the load generator, installs nats-server when needed,
// runs cfg's scenarios and writes the reports to cfg.OutDir when set. A failing scenario is
// recorded in ClusterResults.Errors and the run goes on; an error is returned only when
// nothing can run (build or install failure, unknown scenario) or ctx is cancelled.
func RunCluster(ctx context.Context, cfg ClusterConfig) (*ClusterResults, error) {
	for _, sc := range cfg.Scenarios {
		if !has([]string{ClusterFanout, ClusterRate, ClusterVerify, ClusterScale}, sc) {
			return nil, fmt.Errorf("harness: unknown cluster scenario %q (%s, %s, %s, %s)", sc, ClusterFanout, ClusterRate, ClusterVerify, ClusterScale)
		}
	}
	roots, err := FindRoots()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kuzzlews-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	e := &env{ctx: ctx, cfg: cfg.base(), roots: roots, tmp: tmp, bins: map[string]string{}, mode: "shared"}
	res := &ClusterResults{Machine: describeMachine(roots.Repo, cfg.CommandLine), Config: cfg}
	cfg.logf("building into %s", tmp)
	if err := e.prepare(); err != nil {
		return nil, err
	}
	if res.NATSServer, err = e.natsServer(cfg.NATSServerBin); err != nil {
		return nil, err
	}
	logDir := tmp
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, err
		}
		logDir = cfg.OutDir
	}
	e.workerLog, err = os.Create(filepath.Join(logDir, "workers.log"))
	if err != nil {
		return nil, err
	}
	defer e.workerLog.Close()
	c := &clusterRun{env: e, cfg: cfg, logDir: logDir, res: res}
	for _, sc := range cfg.Scenarios {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		cfg.logf("[cluster] %s", sc)
		switch sc {
		case ClusterFanout:
			c.fanouts()
		case ClusterRate:
			c.rate()
		case ClusterVerify:
			c.verify()
		case ClusterScale:
			c.scale()
		}
	}
	res.Machine.LoadAfter = loadAvg()
	if cfg.OutDir != "" {
		if err := WriteClusterReports(res, cfg.OutDir); err != nil {
			return res, err
		}
	}
	return res, nil
}

// clusterRun is the state of one RunCluster.
type clusterRun struct {
	*env
	cfg    ClusterConfig
	logDir string
	res    *ClusterResults
}

func (c *clusterRun) fail(what string, err error) {
	c.res.Errors = append(c.res.Errors, what+": "+err.Error())
	c.cfg.logf("  %s: ERROR %v", what, err)
}

// NATSServerPath returns where nats-server is installed: $XDG_CACHE_HOME (or ~/.cache)
// /kuzzlews-bench/bin/nats-server, beside Centrifugo.
func NATSServerPath() string {
	return filepath.Join(filepath.Dir(CentrifugoPath()), "nats-server")
}

// natsServer returns the nats-server binary and its version line, installing
// NATSServerVersion with go install (GOBIN=the cache directory) when bin is empty and the
// cached binary is missing or of another version.
func (e *env) natsServer(bin string) (string, error) {
	version := func(path string) string {
		out, err := exec.Command(path, "--version").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if bin != "" {
		v := version(bin)
		if v == "" {
			return "", fmt.Errorf("harness: %s --version failed: not a nats-server binary?", bin)
		}
		e.bins["nats-server"] = bin
		return v, nil
	}
	bin = NATSServerPath()
	v := version(bin)
	if !strings.HasSuffix(v, NATSServerVersion) {
		e.cfg.logf("installing nats-server %s into %s (a few minutes cold)", NATSServerVersion, filepath.Dir(bin))
		cmd := exec.CommandContext(e.ctx, "go", "install", "github.com/nats-io/nats-server/v2@"+NATSServerVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(bin), "GOFLAGS=-mod=mod")
		cmd.Dir = os.TempDir()
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go install nats-server: %v\n%s", err, b)
		}
		if v = version(bin); v == "" {
			return "", fmt.Errorf("harness: %s --version failed after go install", bin)
		}
	}
	e.bins["nats-server"] = bin
	return v, nil
}
