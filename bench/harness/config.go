package harness

import (
	"fmt"
	"time"
)

// Config is one comparison run. The zero value is not useful: start from Quick, Medium or
// Full and adjust.
type Config struct {
	// Name labels the run ("quick", "medium", "full").
	Name string
	// Targets are the servers compared, by name: "kuzzlews", "gorilla", "nbio", "nodews",
	// "centrifugo", "floor1", "floor2" (the raw-write floor with 1 or 2 writer threads),
	// "kuzzle-standin" (Node.js ws + Koncorde 4.7 in the manner of Kuzzle 2.56; filtered
	// scenarios only).
	Targets []string
	// Modes are "pinned" (server on CPU 0 with GOMAXPROCS=1, clients on CPU 1) and "shared".
	Modes []string
	// Scenarios to run: "idle", "fanout", "rr", "adversary", "sustained", and the filtered
	// ones "targeted", "mixed", "churn", "subsmem" (only targets that speak Koncorde filters
	// run those: kuzzlews and kuzzle-standin).
	Scenarios []string

	// Idle: connection counts of the ramp and the idle time before each sample.
	IdleConns []int
	IdleWait  time.Duration

	// Fanout: subscriber counts; Pubs publications spaced PubInterval; Pad filler bytes in the
	// document (about 100-200 B in all); Grace after the last reply before collecting.
	FanoutSubs  []int
	Pubs        int
	PubInterval time.Duration
	// PubIntervalPerSub stretches the spacing to at least this much per subscriber, so that
	// one publication's deliveries end before the next starts: on this machine the clients
	// spend about as much CPU per delivery as the server (loopback TCP charges each side),
	// and 19k subscribers 300 ms apart saturate both cores. Zero means no stretching.
	PubIntervalPerSub time.Duration
	Pad               int
	Grace             time.Duration

	// RR: connection counts, in-flight requests per connection (each value is one run),
	// warm-up and measured window.
	RRConns    []int
	RRInFlight []int
	RRWarmup   time.Duration
	RRDuration time.Duration

	// Adversary: subscribers of the fan-out, slowloris connections, non-reading subscribers,
	// and AdvPrefill publications of AdvFillPad filler bytes, 1 ms apart, sent before measuring
	// to a collection only the non-readers join, to fill their socket buffers (loopback send
	// buffers autotune to about 4 MB: AdvPrefill x AdvFillPad must exceed that).
	AdvSubs      int
	AdvSlowloris int
	AdvNonRead   int
	AdvPrefill   int
	AdvFillPad   int
	// StallAfter is how long a publisher may wait for its replies beyond its schedule before
	// the fan-out is recorded as stalled.
	StallAfter time.Duration
	// AdvRepeat is how many times the three adversary fan-outs run, on the same server (0
	// means 1): one run on a shared machine moves by more than the 10% the goal allows, so
	// the goal takes the median shift. Repetition stops after a run that stalled, since the
	// next ones would only stall again, each costing StallAfter.
	AdvRepeat int

	// Sustained: channels x subscribers per channel, publication rates tried in order (stop
	// at the first failing one), each for SustainStep; MaxP99 is the pass bound.
	SustainChannels int
	SustainSubs     int
	SustainRates    []float64
	SustainStep     time.Duration
	MaxP99          time.Duration

	// Filtered workloads (targeted, mixed): FilterSubs subscribers, each with its own filter
	// (load.WorkTargeted, load.WorkMixed), and FilterPubs publishers in a closed loop (one
	// publication in flight each) for FilterDuration. Every delivery is checked against the
	// filters; Grace and StallAfter bound the wait for the last ones.
	FilterSubs     int
	FilterPubs     int
	FilterDuration time.Duration
	// Churn: ChurnConns connections subscribing a fresh filter and unsubscribing it in a
	// loop for ChurnDuration, beside ChurnSubs subscribers of the mixed workload.
	ChurnConns    int
	ChurnSubs     int
	ChurnDuration time.Duration
	// Subscription memory (subsmem): SubsMemConns connections each subscribing SubsMemRooms
	// distinct filters (one room each), then SubsMemMembers connections all subscribing one
	// filter (one room, that many members), on a fresh server each.
	SubsMemConns   int
	SubsMemRooms   int
	SubsMemMembers int
	// Seed seeds the filters and documents of the filtered scenarios (0 means 1).
	Seed uint64

	// PerWorker is the most connections one loadgen process holds; DialInFlight the most
	// handshakes in flight over all workers (somaxconn is 4096).
	PerWorker    int
	DialInFlight int

	// KuzzlewsBin is a built kuzzlews binary; empty means build the module's root package
	// when it is a main package (go build -o <tmp> github.com/kuzzlews/kuzzlews).
	KuzzlewsBin string
	// KuzzlewsArgs are extra arguments for kuzzlews after -host and -port. The presets turn
	// its idle timeout off: the load generator's idle connections send nothing, and the peers
	// have no such timeout.
	KuzzlewsArgs []string
	// KuzzlewsPprofFlag, when set (e.g. "-pprof"), is the flag kuzzlews takes to serve
	// net/http/pprof on an address; it enables goroutine counts and forced GCs for it.
	KuzzlewsPprofFlag string
	// CentrifugoBin is the Centrifugo binary; empty means $XDG_CACHE_HOME (or ~/.cache)
	// /kuzzlews-bench/bin/centrifugo, installed with go install when missing.
	CentrifugoBin string

	// OutDir receives results.json, results.md and the charts; empty means write nothing.
	OutDir string
	// CommandLine is recorded in the results.
	CommandLine string
	// Logf receives progress lines; nil means silent.
	Logf func(format string, args ...any) `json:"-"`
}

// Quick is the smoke configuration: small N, shared mode, about a minute for five targets.
// cd bench && go test ./... runs it (kuzzlews only when it can be built: see DropTarget).
func Quick() Config {
	return Config{
		Name:      "quick",
		Targets:   []string{"kuzzlews", "gorilla", "nbio", "floor1", "floor2", "kuzzle-standin"},
		Modes:     []string{"shared"},
		Scenarios: []string{"idle", "fanout", "rr", "adversary", "sustained", "targeted", "mixed", "churn", "subsmem"},
		IdleConns: []int{200, 500}, IdleWait: 300 * time.Millisecond,
		FanoutSubs: []int{200, 500}, Pubs: 5, PubInterval: 50 * time.Millisecond, Pad: 60, Grace: 200 * time.Millisecond,
		RRConns: []int{50}, RRInFlight: []int{1, 4}, RRWarmup: 200 * time.Millisecond, RRDuration: 500 * time.Millisecond,
		AdvSubs: 200, AdvSlowloris: 50, AdvNonRead: 10, AdvPrefill: 150, AdvFillPad: 32000, StallAfter: 5 * time.Second, AdvRepeat: 1,
		SustainChannels: 2, SustainSubs: 50, SustainRates: []float64{100, 400}, SustainStep: 500 * time.Millisecond,
		MaxP99:     100 * time.Millisecond,
		FilterSubs: 300, FilterPubs: 4, FilterDuration: time.Second,
		ChurnConns: 10, ChurnSubs: 300, ChurnDuration: time.Second,
		SubsMemConns: 50, SubsMemRooms: 20, SubsMemMembers: 300,
		PerWorker: 300, DialInFlight: 1000,
		KuzzlewsArgs: []string{"-idle-timeout=-1s", "-log-level", "warn"}, KuzzlewsPprofFlag: "-pprof",
	}
}

// Medium proves the harness at up to 5k connections in a few minutes per target.
func Medium() Config {
	c := Full()
	c.Name = "medium"
	c.IdleConns = []int{1000, 2500, 5000}
	c.IdleWait = 3 * time.Second
	c.FanoutSubs = []int{1000, 5000}
	c.Pubs = 15
	c.RRConns = []int{100, 1000}
	c.RRWarmup, c.RRDuration = 2*time.Second, 5*time.Second
	c.AdvSubs = 2000
	c.SustainSubs = 200
	c.SustainStep = 3 * time.Second
	c.FilterDuration, c.ChurnDuration = 5*time.Second, 5*time.Second
	c.SubsMemMembers = 5000
	return c
}

// Full is the complete comparison of bench/README.md: up to 19,000 connections.
func Full() Config {
	return Config{
		Name:      "full",
		Targets:   []string{"kuzzlews", "gorilla", "nbio", "nodews", "centrifugo", "floor1", "floor2", "kuzzle-standin"},
		Modes:     []string{"pinned", "shared"},
		Scenarios: []string{"idle", "fanout", "rr", "adversary", "sustained", "targeted", "mixed", "churn", "subsmem"},
		IdleConns: []int{1000, 5000, 10000, 19000}, IdleWait: 10 * time.Second,
		FanoutSubs: []int{1000, 5000, 19000}, Pubs: 30, PubInterval: 300 * time.Millisecond, PubIntervalPerSub: 60 * time.Microsecond,
		Pad: 60, Grace: time.Second,
		RRConns: []int{100, 1000, 10000}, RRInFlight: []int{1, 8}, RRWarmup: 3 * time.Second, RRDuration: 10 * time.Second,
		AdvSubs: 5000, AdvSlowloris: 1000, AdvNonRead: 100, AdvPrefill: 150, AdvFillPad: 32000, StallAfter: 30 * time.Second, AdvRepeat: 3,
		SustainChannels: 10, SustainSubs: 1000, SustainRates: []float64{10, 20, 40, 80, 160, 320, 640},
		SustainStep: 5 * time.Second, MaxP99: 100 * time.Millisecond,
		FilterSubs: 4000, FilterPubs: 16, FilterDuration: 10 * time.Second,
		ChurnConns: 100, ChurnSubs: 4000, ChurnDuration: 10 * time.Second,
		SubsMemConns: 1000, SubsMemRooms: 100, SubsMemMembers: 19000,
		PerWorker: 5000, DialInFlight: 2000,
		KuzzlewsArgs: []string{"-idle-timeout=-1s", "-log-level", "warn"}, KuzzlewsPprofFlag: "-pprof",
	}
}

// ByName returns the preset called name.
func ByName(name string) (Config, error) {
	switch name {
	case "quick":
		return Quick(), nil
	case "medium":
		return Medium(), nil
	case "full":
		return Full(), nil
	}
	return Config{}, fmt.Errorf("harness: unknown mode %q (quick, medium, full)", name)
}

func (c *Config) seed() uint64 {
	if c.Seed == 0 {
		return 1
	}
	return c.Seed
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// DropTarget removes target name from c.Targets.
func (c *Config) DropTarget(name string) {
	var out []string
	for _, t := range c.Targets {
		if t != name {
			out = append(out, t)
		}
	}
	c.Targets = out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
