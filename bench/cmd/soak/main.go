// Command soak holds many connections to kuzzlews for a long time, with connection churn,
// publications, slow and non-reading clients and malformed input mixed in, samples the
// server's RSS, goroutines and fds, and checks that no delivery to a connection that
// stayed was lost and that the server comes back to its baseline once every client closed.
//
//	cd bench
//	go run ./cmd/soak                               # 19,000 connections for 20 minutes
//	go run ./cmd/soak -duration 30s -conns 2000     # the short soak (about a minute)
//	go run ./cmd/soak -render results/soak          # redraw soak.md and soak.png
//
// Results go to -out (default results/soak-<UTC time>): soak.json, soak.md, soak.png, and
// server-soak.log and workers.log (not committed). The exit status is 1 when a requirement
// was missed (a lost delivery, a stayer dropped, a wrong answer to malformed input, the
// server not back at its baseline, ...), 2 for bad flags or when the soak could not start.
//
// With -worker it is one client process of the soak, driven by the coordinator over
// stdin/stdout (see bench/soak).
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
	"github.com/kuzzlews/kuzzlews/bench/soak"
)

func main() {
	def := soak.Full()
	var (
		worker   = flag.Bool("worker", false, "run as a worker process (started by the coordinator)")
		conns    = flag.Int("conns", def.Conns, "client connections held during the soak, every role included")
		duration = flag.Duration("duration", def.Duration, "length of the soak, once every connection is set up")
		interval = flag.Duration("interval", 0, "sampling period (default 5s, 2s when -duration is under 5m)")
		rate     = flag.Float64("rate", def.PubRate, "publications per second, all publishers together")
		groups   = flag.Int("groups", def.Groups, "filter groups (each publication matches one)")
		out      = flag.String("out", "", "output directory (default results/soak-<UTC time>)")
		kbin     = flag.String("kuzzlews-bin", os.Getenv("KUZZLEWS_BIN"), "kuzzlews binary (default: go build the repository root)")
		kargs    = flag.String("kuzzlews-args", strings.Join(def.KuzzlewsArgs, " "), "extra space-separated arguments for kuzzlews")
		seed     = flag.Uint64("seed", 1, "seed of hold times, endings and malformed cases")
		render   = flag.String("render", "", "only rewrite soak.md and soak.png of this directory from its soak.json")
	)
	flag.Parse()
	if *worker {
		if err := soak.Worker(os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *render != "" {
		if err := soak.Rerender(*render); err != nil {
			log.Fatal(err)
		}
		return
	}
	cfg := def
	if *duration < 5*time.Minute {
		short := soak.Short()
		cfg = short
	}
	cfg.Conns, cfg.Duration, cfg.PubRate, cfg.Groups, cfg.Seed = *conns, *duration, *rate, *groups, *seed
	if *interval > 0 {
		cfg.Interval = *interval
	}
	cfg.KuzzlewsBin, cfg.KuzzlewsArgs = *kbin, strings.Fields(*kargs)
	roots, err := harness.FindRoots()
	if err != nil {
		log.Fatal(err)
	}
	cfg.OutDir = *out
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(roots.Bench, "results", "soak-"+time.Now().UTC().Format("20060102-150405"))
	}
	cfg.CommandLine = strings.Join(os.Args, " ")
	if strings.Contains(os.Args[0], "go-build") {
		cfg.CommandLine = strings.Join(append([]string{"go run ./cmd/soak"}, os.Args[1:]...), " ")
	}
	cfg.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := soak.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
		if res == nil {
			os.Exit(2)
		}
	}
	fmt.Printf("results in %s\n", cfg.OutDir)
	if !res.Passed() {
		for _, f := range res.Failures {
			fmt.Printf("FAILED: %s\n", f)
		}
		os.Exit(1)
	}
	fmt.Printf("passed: %d deliveries to %d stayers, none lost; back at baseline\n", res.Verify.Matched, res.Verify.Stayed)
}
