package harness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickComparison runs the quick preset end to end against real servers over loopback: the
// gorilla and nbio peers, the raw-write floor with one and two threads, the Kuzzle stand-in
// (Node.js ws + Koncorde 4.7, installed by npm ci), plus kuzzlews when KUZZLEWS_BIN names a
// binary or the repository root is a main package. Every target run must produce complete,
// consistent results: on the filtered workloads (kuzzlews and the stand-in), every delivery
// the filters call for arrives exactly once and nothing else does. Nothing is skipped.
func TestQuickComparison(t *testing.T) {
	cfg := Quick()
	roots, err := FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	cfg.KuzzlewsBin = os.Getenv("KUZZLEWS_BIN")
	if cfg.KuzzlewsBin == "" && !RootHasMain(roots.Repo) {
		t.Log("kuzzlews: no KUZZLEWS_BIN and the root package is not a main package: peers and floor only")
		cfg.DropTarget("kuzzlews")
	}
	cfg.OutDir = t.TempDir()
	cfg.CommandLine = "cd bench && go test ./harness -run TestQuickComparison"
	cfg.Logf = t.Logf
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]TargetRun{}
	for _, r := range res.Runs {
		runs[r.Target] = r
	}
	for _, name := range cfg.Targets {
		t.Run(name, func(t *testing.T) {
			r, ok := runs[name]
			if !ok {
				t.Fatalf("no run for %s", name)
			}
			if len(r.Errors) > 0 {
				t.Fatalf("scenario errors: %v", r.Errors)
			}
			if name == "kuzzle-standin" {
				checkFiltered(t, cfg, r)
				return
			}
			checkFanout(t, cfg, r.Fanout)
			if strings.HasPrefix(name, "floor") {
				checkSustained(t, r.Sustained)
				return
			}
			checkIdle(t, cfg, r.Idle)
			checkRR(t, cfg, r.RR)
			checkAdversary(t, cfg, r.Adversary)
			checkSustained(t, r.Sustained)
			switch name {
			case "gorilla": // one goroutine per connection
				if r.Idle.GoroutinesPerConn < 0.9 || r.Idle.GoroutinesPerConn > 1.1 {
					t.Errorf("gorilla goroutines per connection = %.2f, want about 1", r.Idle.GoroutinesPerConn)
				}
			case "kuzzlews":
				checkFiltered(t, cfg, r)
			case "nbio": // no goroutine per connection, and writes never block
				if r.Idle.GoroutinesPerConn > 0.1 {
					t.Errorf("nbio goroutines per connection = %.2f, want about 0", r.Idle.GoroutinesPerConn)
				}
				if r.Adversary.Stalled(true) {
					t.Error("nbio stalled beside non-readers, but its writes are non-blocking")
				}
			}
		})
	}
	checkReports(t, cfg)
}

func checkIdle(t *testing.T, cfg Config, r *IdleResult) {
	t.Helper()
	if r == nil || len(r.Points) != len(cfg.IdleConns)+1 {
		t.Fatalf("idle points = %+v, want baseline + %d", r, len(cfg.IdleConns))
	}
	last := r.Points[len(r.Points)-1]
	if want := cfg.IdleConns[len(cfg.IdleConns)-1]; last.Connected != want || last.Lost != 0 {
		t.Errorf("idle: %d connected, %d lost, want %d and 0", last.Connected, last.Lost, want)
	}
	if d := last.Server.FDs - r.Points[0].Server.FDs; d < last.Connected {
		t.Errorf("idle: server fds grew by %d for %d connections", d, last.Connected)
	}
	if r.RSSPerConn <= 0 || r.FDsPerConn <= 0 {
		t.Errorf("idle slopes: RSS %.0f B/conn, fds %.3f/conn, want positive", r.RSSPerConn, r.FDsPerConn)
	}
}

func checkFanout(t *testing.T, cfg Config, fs []FanoutResult) {
	t.Helper()
	if len(fs) != len(cfg.FanoutSubs) {
		t.Fatalf("fanout runs = %d, want %d", len(fs), len(cfg.FanoutSubs))
	}
	for i, f := range fs {
		if f.Connected != cfg.FanoutSubs[i] || f.Sent != int64(cfg.Pubs) {
			t.Errorf("fanout %d: %d subscribers, %d sent, want %d and %d", i, f.Connected, f.Sent, cfg.FanoutSubs[i], cfg.Pubs)
		}
		if f.Missing != 0 || f.Delivered != f.Sent*int64(f.Connected) || len(f.PerPub) != cfg.Pubs {
			t.Errorf("fanout %d: delivered %d, missing %d, %d publications seen", f.Subs, f.Delivered, f.Missing, len(f.PerPub))
		}
		var last int64
		for _, p := range f.PerPub {
			last = max(last, p.Max)
		}
		if f.TTLMedian <= 0 || f.TTLMedian > f.TTLP99 || f.DelivP50 > f.DelivP99 || f.DelivP99 > last {
			t.Errorf("fanout %d: inconsistent latencies %+v", f.Subs, f)
		}
	}
}

// checkFiltered asserts the targeted, mixed and churn results of a target that speaks filters.
func checkFiltered(t *testing.T, cfg Config, r TargetRun) {
	t.Helper()
	for _, f := range []*FilterResult{r.Targeted, r.Mixed} {
		if f == nil {
			t.Errorf("missing a filtered workload result: targeted %v, mixed %v", r.Targeted != nil, r.Mixed != nil)
			continue
		}
		if f.Connected != cfg.FilterSubs || f.Publishers != cfg.FilterPubs || f.Sent == 0 {
			t.Errorf("%s: %d subscribers, %d publishers, %d sent; want %d, %d, > 0", f.Workload, f.Connected, f.Publishers, f.Sent, cfg.FilterSubs, cfg.FilterPubs)
		}
		if !f.Verified || f.Delivered != f.Expected || f.Matched != f.Expected || f.Missing != 0 || f.Unexpected != 0 ||
			f.Duplicates != 0 || f.WrongRoom != 0 || f.Other != 0 || f.Stray != 0 || f.Unanswered != 0 || f.PubErrors != 0 {
			t.Errorf("%s: deliveries do not match the filters: %+v", f.Workload, *f)
		}
		if f.PubPerSec <= 0 || f.DelivPerSec <= 0 || f.DelivP50 <= 0 || f.DelivP50 > f.DelivP99 || f.DelivP99 > f.DelivMax {
			t.Errorf("%s: inconsistent rates or latencies: %+v", f.Workload, *f)
		}
	}
	if f := r.Targeted; f != nil && f.Expected != f.Sent {
		t.Errorf("targeted: %d deliveries expected for %d publications, want one each", f.Expected, f.Sent)
	}
	if f := r.Mixed; f != nil && f.Expected <= f.Sent {
		t.Errorf("mixed: %d deliveries expected for %d publications: the workload should match several subscribers per document", f.Expected, f.Sent)
	}
	checkSubsMem(t, cfg, r.SubsMem)
	c := r.Churn
	if c == nil {
		t.Fatal("no churn result")
	}
	if c.Connected != cfg.ChurnConns || c.Cycles == 0 || !c.Verified || c.Errors != 0 || c.Mismatched != 0 || c.Stray != 0 || c.P50 > c.P99 {
		t.Errorf("churn: %+v", *c)
	}
}

// checkSubsMem asserts the subscription memory scenario: it ran, every subscription was
// answered with its room (distinct rooms apart, members in one), and every figure is
// positive (the Go heap's where the server has pprof).
func checkSubsMem(t *testing.T, cfg Config, m *SubsMemResult) {
	t.Helper()
	if m == nil {
		t.Fatal("no subsmem result")
	}
	for _, p := range []struct {
		name             string
		p                SubsMemPart
		conns, per, room int
	}{
		{"distinct rooms", m.Rooms, cfg.SubsMemConns, cfg.SubsMemRooms, cfg.SubsMemConns * cfg.SubsMemRooms},
		{"members", m.Members, cfg.SubsMemMembers, 1, 1},
	} {
		x := p.p
		if x.Connected != p.conns || x.PerConn != p.per || x.Answered != int64(p.conns*p.per) || x.Rooms != p.room || !x.Verified ||
			x.Mismatched != 0 || x.Errors != 0 || x.Stray != 0 || x.Closed != 0 {
			t.Errorf("subsmem %s: %+v, want %d connections x %d subscriptions answered, %d rooms", p.name, x, p.conns, p.per, p.room)
		}
		if x.RSSPer <= 0 || x.RSSAfter <= x.RSSBefore || (x.HeapBefore >= 0 && x.HeapPer <= 0) {
			t.Errorf("subsmem %s: RSS %d -> %d (%.0f B each), heap %d -> %d (%.0f B each): want growth", p.name,
				x.RSSBefore, x.RSSAfter, x.RSSPer, x.HeapBefore, x.HeapAfter, x.HeapPer)
		}
	}
	if !m.Verified {
		t.Error("subsmem not verified")
	}
}

func checkRR(t *testing.T, cfg Config, rs []RRResult) {
	t.Helper()
	if len(rs) != len(cfg.RRConns)*len(cfg.RRInFlight) {
		t.Fatalf("rr runs = %d", len(rs))
	}
	for _, r := range rs {
		if r.Done <= 0 || r.Mismatched != 0 || r.Errors != 0 || r.P50 > r.P99 || r.P99 > r.P999 {
			t.Errorf("rr %d x %d: %+v", r.Conns, r.InFlight, r)
		}
	}
}

func checkAdversary(t *testing.T, cfg Config, a *AdvResult) {
	t.Helper()
	if a == nil {
		t.Fatal("no adversary result")
	}
	// Repetition stops early only after a stall.
	if want := max(cfg.AdvRepeat, 1); len(a.Runs) != want && !a.Stalled(true) && !a.Stalled(false) {
		t.Errorf("adversary runs = %d, want %d", len(a.Runs), want)
	}
	if len(a.Runs) == 0 || a.AdvRun.Baseline.Delivered != a.Runs[0].Baseline.Delivered {
		t.Errorf("adversary: %d runs, the result's own fields are not the first run", len(a.Runs))
	}
	for i, x := range a.Runs {
		if x.SlowlorisConnected != cfg.AdvSlowloris || x.NonReadConnected != cfg.AdvNonRead {
			t.Errorf("run %d: adversaries connected: %d slowloris, %d non-readers", i+1, x.SlowlorisConnected, x.NonReadConnected)
		}
		for name, f := range map[string]FanoutResult{"alone": x.Baseline, "slowloris": x.Slowloris} {
			if f.Stalled || f.Missing != 0 || f.Delivered == 0 {
				t.Errorf("run %d: adversary fan-out %s: delivered %d, missing %d, stalled %v", i+1, name, f.Delivered, f.Missing, f.Stalled)
			}
		}
		// A server that blocks on a full socket may stall: that is a result, reported as such.
		if f := x.NonRead; !f.Stalled && (f.Missing != 0 || f.Delivered == 0) {
			t.Errorf("run %d: adversary fan-out beside non-readers: delivered %d, missing %d, not stalled", i+1, f.Delivered, f.Missing)
		}
	}
}

func checkSustained(t *testing.T, s *SustainedResult) {
	t.Helper()
	if s == nil || len(s.Steps) == 0 {
		t.Fatal("no sustained step")
	}
	for _, st := range s.Steps {
		if st.Sent <= 0 || st.Delivered <= 0 {
			t.Errorf("sustained step %.0f/s: sent %d delivered %d", st.Rate, st.Sent, st.Delivered)
		}
	}
}

func checkReports(t *testing.T, cfg Config) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if back.Machine.CPUModel == "" || back.Machine.GoVersion == "" || back.Machine.LoadBefore == "" {
		t.Errorf("machine description incomplete: %+v", back.Machine)
	}
	md, err := os.ReadFile(filepath.Join(cfg.OutDir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cfg.Targets {
		if !strings.Contains(string(md), "| "+name+" |") {
			t.Errorf("results.md has no row for %s", name)
		}
	}
	for _, f := range []string{"rss-per-conn-shared.png", "fanout-ttl-shared.png"} {
		if st, err := os.Stat(filepath.Join(cfg.OutDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
}
