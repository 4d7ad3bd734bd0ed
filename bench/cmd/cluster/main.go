// Command cluster measures several kuzzlews nodes joined over a real nats-server process,
// on loopback: cross-node against same-node time to last delivery, the publication rate
// one node pushes through NATS, server CPU per cross-node and per local delivery, the
// NATS messages per publication counted by nats-server itself, the mixed filtered
// workload checked delivery by delivery across nodes, and three nodes with 19,000
// connections each beside one node alone. It writes results.json, results.md and charts.
//
//	cd bench
//	go run ./cmd/cluster -mode quick                      # 2-3 nodes, a few hundred subscribers
//	go run ./cmd/cluster -mode full -out results/cluster  # 1k/5k over 2 nodes, rate, 3 x 19k (about 15 min)
//	go run ./cmd/cluster -mode full -scenarios fanout,rate
//	go run ./cmd/cluster -render results/cluster          # redraw from results.json
//
// kuzzlews is built from the repository root (or -kuzzlews-bin); nats-server v2.15.2 is
// installed with go install into the benchmark's cache directory when missing. Every
// process it starts is its own child and stops with it; only 127.0.0.0/8 is used. The
// exit status is 1 when a scenario failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/harness"
)

func main() {
	var (
		mode      = flag.String("mode", "quick", "preset: quick or full")
		scenarios = flag.String("scenarios", "", "comma-separated: fanout, rate, verify, scale (default: all)")
		out       = flag.String("out", "", "output directory (default bench/results/cluster-<mode>-<UTC time>)")
		kbin      = flag.String("kuzzlews-bin", os.Getenv("KUZZLEWS_BIN"), "kuzzlews binary (default: build the repository root)")
		kargs     = flag.String("kuzzlews-args", "-idle-timeout=-1s -log-level warn", "extra space-separated arguments for every node")
		nbin      = flag.String("nats-server-bin", "", "nats-server binary (default: "+harness.NATSServerPath()+", installed when missing)")
		render    = flag.String("render", "", "only rewrite results.md and the charts of this results directory from its results.json")
		fsubs     = flag.String("fanout-subs", "", "comma-separated subscriber counts of the fan-out (default: the preset's)")
		pubs      = flag.Int("pubs", 0, "publications per fan-out placement (0: the preset's)")
		ssubs     = flag.Int("scale-subs", 0, "subscribers per node of the scale scenario (0: the preset's)")
		snodes    = flag.Int("scale-nodes", 0, "nodes of the scale scenario (0: the preset's)")
	)
	flag.Parse()
	if *render != "" {
		if err := harness.RerenderCluster(*render); err != nil {
			log.Fatal(err)
		}
		return
	}
	cfg, err := harness.ClusterByName(*mode)
	if err != nil {
		log.Fatal(err)
	}
	if *scenarios != "" {
		cfg.Scenarios = strings.Split(*scenarios, ",")
	}
	if *fsubs != "" {
		cfg.FanoutSubs = nil
		for _, f := range strings.Split(*fsubs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 2 {
				log.Fatalf("-fanout-subs: %q is not a count of 2 or more", f)
			}
			cfg.FanoutSubs = append(cfg.FanoutSubs, n)
		}
	}
	for _, o := range []struct {
		name string
		v    int
		dst  *int
	}{{"pubs", *pubs, &cfg.Pubs}, {"scale-subs", *ssubs, &cfg.ScaleSubs}, {"scale-nodes", *snodes, &cfg.ScaleNodes}} {
		switch {
		case o.v < 0:
			log.Fatalf("-%s: %d is negative", o.name, o.v)
		case o.v > 0:
			*o.dst = o.v
		}
	}
	cfg.KuzzlewsBin, cfg.NATSServerBin = *kbin, *nbin
	cfg.KuzzlewsArgs = strings.Fields(*kargs)
	roots, err := harness.FindRoots()
	if err != nil {
		log.Fatal(err)
	}
	cfg.OutDir = *out
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(roots.Bench, "results", "cluster-"+cfg.Name+"-"+time.Now().UTC().Format("20060102-150405"))
	}
	cfg.CommandLine = strings.Join(os.Args, " ")
	if strings.Contains(os.Args[0], "go-build") {
		cfg.CommandLine = strings.Join(append([]string{"go run ./cmd/cluster"}, os.Args[1:]...), " ")
	}
	cfg.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := harness.RunCluster(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("results in %s (%d scenario errors)\n", cfg.OutDir, len(res.Errors))
	if len(res.Errors) > 0 {
		os.Exit(1)
	}
}
