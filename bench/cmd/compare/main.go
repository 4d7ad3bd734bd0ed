// Command compare runs the benchmark comparison of kuzzlews with its peers and the raw-write
// floor, and writes results.json, results.md and charts under bench/results/<mode>-<time>/.
//
//	cd bench
//	go run ./cmd/compare -mode quick                 # under a minute, small N
//	go run ./cmd/compare -mode medium                # up to 5k connections
//	go run ./cmd/compare -mode full                  # up to 19k connections
//	go run ./cmd/compare -mode full -targets kuzzlews,nbio -modes shared
//	go run ./cmd/compare -render results/medium-peers   # redraw from results.json
//
// From the repository root: go -C bench run ./cmd/compare ... bench is its own Go module
// (github.com/kuzzlews/kuzzlews/bench); the harness finds the repository root above it and
// builds kuzzlews there. Every server and client it starts is its own child and stops by
// itself; only 127.0.0.0/8 addresses are used.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/harness"
)

func main() {
	var (
		mode      = flag.String("mode", "quick", "preset: quick, medium or full")
		targets   = flag.String("targets", "", "comma-separated targets (default: the preset's; kuzzlews is dropped when it cannot be built)")
		modes     = flag.String("modes", "", "comma-separated: pinned, shared (default: the preset's)")
		scenarios = flag.String("scenarios", "", "comma-separated: idle, fanout, rr, adversary, sustained, targeted, mixed, churn, subsmem (default: all)")
		out       = flag.String("out", "", "output directory (default bench/results/<mode>-<UTC time>)")
		kbin      = flag.String("kuzzlews-bin", os.Getenv("KUZZLEWS_BIN"), "kuzzlews binary (default: build the root package if it is a main package)")
		kargs     = flag.String("kuzzlews-args", "-idle-timeout=-1s -log-level warn", "extra space-separated arguments for kuzzlews")
		kpprof    = flag.String("kuzzlews-pprof-flag", "-pprof", "flag kuzzlews takes to serve pprof on an address (empty: none)")
		cbin      = flag.String("centrifugo-bin", "", "Centrifugo binary (default: "+harness.CentrifugoPath()+", installed when missing)")
		advRepeat = flag.Int("adv-repeat", 0, "runs of the adversary scenario (default: the preset's, quick 1, medium and full 3)")
		render    = flag.String("render", "", "only rewrite results.md and the charts of this results directory from its results.json")
	)
	flag.Parse()
	if *render != "" {
		if err := harness.Rerender(*render); err != nil {
			log.Fatal(err)
		}
		return
	}
	cfg, err := harness.ByName(*mode)
	if err != nil {
		log.Fatal(err)
	}
	if *targets != "" {
		cfg.Targets = strings.Split(*targets, ",")
	}
	if *modes != "" {
		cfg.Modes = strings.Split(*modes, ",")
	}
	if *scenarios != "" {
		cfg.Scenarios = strings.Split(*scenarios, ",")
	}
	if *advRepeat > 0 {
		cfg.AdvRepeat = *advRepeat
	}
	cfg.KuzzlewsBin, cfg.KuzzlewsPprofFlag, cfg.CentrifugoBin = *kbin, *kpprof, *cbin
	cfg.KuzzlewsArgs = strings.Fields(*kargs)
	roots, err := harness.FindRoots()
	if err != nil {
		log.Fatal(err)
	}
	if *targets == "" && cfg.KuzzlewsBin == "" && !harness.RootHasMain(roots.Repo) {
		log.Printf("kuzzlews: the root package is not a main package yet; running the peers only")
		cfg.DropTarget("kuzzlews")
	}
	cfg.OutDir = *out
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(roots.Bench, "results", cfg.Name+"-"+time.Now().UTC().Format("20060102-150405"))
	}
	cfg.CommandLine = strings.Join(os.Args, " ")
	if strings.Contains(os.Args[0], "go-build") {
		cfg.CommandLine = strings.Join(append([]string{"go run ./cmd/compare"}, os.Args[1:]...), " ")
	}
	cfg.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := harness.Run(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	failed := 0
	for _, r := range res.Runs {
		failed += len(r.Errors)
	}
	fmt.Printf("results in %s (%d scenario errors)\n", cfg.OutDir, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
