package harness

import (
	"cmp"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Rerender reads dir/results.json and writes results.md and the charts again (after a change
// of the report format); results.json itself is rewritten unchanged in content.
func Rerender(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s/results.json: %w", dir, err)
	}
	return WriteReports(&res, dir)
}

// WriteReports writes results.json, results.md and the charts (PNG) into dir.
func WriteReports(res *Results, dir string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return err
	}
	charts, err := writeCharts(res, dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(Markdown(res, charts)), 0o644)
}

func f1(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}

func msf(ns int64) string { return fmt.Sprintf("%.2f", float64(ns)/1e6) }

// perDeliv returns cpuNs per delivery in microseconds (0 without deliveries).
func perDeliv(cpuNs, delivered int64) float64 {
	if delivered == 0 {
		return 0
	}
	return float64(cpuNs) / float64(delivered) / 1e3
}

func missing(f FanoutResult) string {
	if f.Stalled {
		return fmt.Sprintf("%d (stalled)", f.Missing)
	}
	return fmt.Sprint(f.Missing)
}

func ttlOrStall(f FanoutResult) string {
	if f.Stalled {
		return "stalled"
	}
	return msf(f.TTLMedian)
}

func shiftText(f FanoutResult, shift float64) string {
	if f.Stalled {
		return "stalled"
	}
	return fmt.Sprintf("%+.0f%%", 100*shift)
}

// medianShiftText is the median shift of a beside slowloris (or non-readers), marked when
// any run stalled.
func medianShiftText(a *AdvResult, nonRead bool) string {
	v := a.SlowlorisShift
	if nonRead {
		v = a.NonReadShift
	}
	t := fmt.Sprintf("%+.0f%%", 100*v)
	if a.Stalled(nonRead) {
		t += " (stalled in a run)"
	}
	return t
}

// Markdown renders res as tables, one section per scenario; charts are file names to embed.
func Markdown(res *Results, charts []string) string {
	var b strings.Builder
	m := res.Machine
	fmt.Fprintf(&b, "# Benchmark: %s run\n\n", res.Config.Name)
	fmt.Fprintf(&b, "- Command: `%s` at commit %s\n- Started: %s\n- CPU: %s x %d; kernel %s\n- %s; node %s\n- Load average before: %s; after: %s\n\n",
		m.CommandLine, m.Commit, m.Started, m.CPUModel, m.CPUs, m.Kernel, m.GoVersion, m.Node, m.LoadBefore, m.LoadAfter)
	b.WriteString("Pinned: server on CPU 0 with GOMAXPROCS=1, clients on CPU 1. Shared: no pinning, GOMAXPROCS=2. " +
		"Times in ms. The machine is shared and noisy: compare ratios within one run.\n\n")
	for _, c := range charts {
		fmt.Fprintf(&b, "![%s](%s)\n\n", c, c)
	}
	b.WriteString(goalsMarkdown(res))
	b.WriteString("## Idle memory per connection\n\n| mode | target | max conns | RSS B/conn | after GC B/conn | fds/conn | goroutines/conn | threads | kernel slab B/conn | lost |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		if r.Idle == nil || len(r.Idle.Points) == 0 {
			continue
		}
		last := r.Idle.Points[len(r.Idle.Points)-1]
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %s | %.3f | %s | %d | %.0f | %d |\n", r.Mode, r.Target, last.Connected,
			r.Idle.RSSPerConn, f1(r.Idle.RSSPerConnAfterGC), r.Idle.FDsPerConn, f1(r.Idle.GoroutinesPerConn), r.Idle.ThreadsAtMax, r.Idle.SlabPerConn, last.Lost)
	}
	b.WriteString("\n## Fan-out (one channel, one publisher)\n\n| mode | target | subs | pubs x interval ms | time-to-last median | ttl p99 | delivery p50 | delivery p99 | missing | server us CPU/delivery | client us CPU/delivery | publish RTT median |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		for _, f := range r.Fanout {
			fmt.Fprintf(&b, "| %s | %s | %d | %d x %.0f | %s | %s | %s | %s | %s | %.2f | %.2f | %s |\n", r.Mode, r.Target, f.Connected, f.Sent,
				float64(cmp.Or(f.IntervalNs, res.Config.PubInterval.Nanoseconds()))/1e6, msf(f.TTLMedian), msf(f.TTLP99), msf(f.DelivP50), msf(f.DelivP99), missing(f), f.CPUPerDelivNs/1e3, perDeliv(f.ClientCPUNs, f.Delivered), msf(f.PubRTTMedian))
		}
	}
	b.WriteString("\n## Request/response (closed loop)\n\n| mode | target | conns | in flight | req/s | p50 | p90 | p99 | p99.9 | req per server CPU-s | client CPU (cores) | mismatched | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		for _, x := range r.RR {
			share := 0.0
			if x.WindowNs > 0 {
				share = float64(x.ClientCPUNs) / float64(x.WindowNs)
			}
			bound := ""
			if (r.Mode == "pinned" && share > 0.9) || share > 1.8 {
				bound = " (client-bound)"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s | %.0f | %.2f%s | %d | %d |\n", r.Mode, r.Target, x.Connected, x.InFlight,
				x.ReqPerSec, msf(x.P50), msf(x.P90), msf(x.P99), msf(x.P999), x.ReqPerCPUSec, share, bound, x.Mismatched, x.Errors)
		}
	}
	b.WriteString("\n## Sustained broadcast (highest rate with p99 under the bound and nothing missing)\n\n| mode | target | channels x subs | best deliveries/s | us CPU/delivery at best | client CPU (cores) at best | first failing step |\n|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		if s := r.Sustained; s != nil {
			fail := "none (raise the rates)"
			if n := len(s.Steps); n > 0 && !s.Steps[n-1].Pass {
				l := s.Steps[n-1]
				fail = fmt.Sprintf("%.0f pub/s: p99 %s ms, missing %d", l.Rate, msf(l.P99), l.Expected-l.Delivered)
			}
			client := 0.0
			for _, st := range s.Steps {
				if st.Pass {
					client = st.ClientCPUShare
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %d x %d | %.0f | %.2f | %.2f | %s |\n", r.Mode, r.Target, s.Channels, s.SubsPerChannel, s.BestDelivPerSec, s.BestCPUPerDelivNs/1e3, client, fail)
		}
	}
	b.WriteString("\n## Adversaries (fan-out time-to-last median beside them, every run, then the median shift)\n\n| mode | target | run | subs | alone | beside slowloris | shift | slowloris cut by server | beside non-readers | shift | RSS before -> after (MiB) |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		a := r.Adversary
		if a == nil {
			continue
		}
		runs := a.AllRuns()
		for i, x := range runs {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s (%d conns) | %s | %d | %s (%d conns) | %s | %.1f -> %.1f |\n", r.Mode, r.Target, i+1, x.Baseline.Connected,
				ttlOrStall(x.Baseline), ttlOrStall(x.Slowloris), x.SlowlorisConnected, shiftText(x.Slowloris, x.SlowlorisShift), x.SlowlorisCut,
				ttlOrStall(x.NonRead), x.NonReadConnected, shiftText(x.NonRead, x.NonReadShift), float64(x.NonRead.RSSBefore)/(1<<20), float64(x.NonRead.RSSAfter)/(1<<20))
		}
		if len(runs) > 1 {
			fmt.Fprintf(&b, "| %s | %s | median of %d | | | | %s | | | %s | |\n", r.Mode, r.Target, len(runs),
				medianShiftText(a, false), medianShiftText(a, true))
		}
	}
	b.WriteString(filteredMarkdown(res))
	b.WriteString(subsmemMarkdown(res))
	var errs []string
	for _, r := range res.Runs {
		for _, e := range r.Errors {
			errs = append(errs, fmt.Sprintf("- %s %s: %s", r.Mode, r.Target, e))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\n## Errors\n\n" + strings.Join(errs, "\n") + "\n")
	}
	return b.String()
}

// writeCharts draws, per mode, RSS per connection against connections and fan-out time to
// last delivery against subscribers (floor targets as dashed lines). It returns the file names.
func writeCharts(res *Results, dir string) ([]string, error) {
	var names []string
	modes := map[string]bool{}
	for _, r := range res.Runs {
		modes[r.Mode] = true
	}
	for _, mode := range []string{"pinned", "shared"} {
		if !modes[mode] {
			continue
		}
		rss := plot.New()
		rss.Title.Text = "Idle RSS per connection (" + mode + ")"
		rss.X.Label.Text = "connections"
		rss.Y.Label.Text = "KiB per connection ((RSS(N) - RSS(0)) / N)"
		fan := plot.New()
		fan.Title.Text = "Fan-out time to last delivery, median (" + mode + ")"
		fan.X.Label.Text = "subscribers"
		fan.Y.Label.Text = "ms"
		var nrss, nfan int
		for i, r := range res.Runs {
			if r.Mode != mode {
				continue
			}
			if r.Idle != nil && len(r.Idle.Points) > 1 {
				base := r.Idle.Points[0].Server.RSS
				var pts plotter.XYs
				for _, p := range r.Idle.Points[1:] {
					if p.Connected > 0 {
						pts = append(pts, plotter.XY{X: float64(p.Connected), Y: float64(p.Server.RSS-base) / float64(p.Connected) / 1024})
					}
				}
				if err := addLine(rss, r.Target, pts, i, false); err != nil {
					return nil, err
				}
				nrss++
			}
			if len(r.Fanout) > 0 {
				var pts plotter.XYs
				for _, f := range r.Fanout {
					pts = append(pts, plotter.XY{X: float64(f.Connected), Y: float64(f.TTLMedian) / 1e6})
				}
				if err := addLine(fan, r.Target, pts, i, strings.HasPrefix(r.Target, "floor")); err != nil {
					return nil, err
				}
				nfan++
			}
		}
		for _, c := range []struct {
			p    *plot.Plot
			n    int
			file string
		}{{rss, nrss, "rss-per-conn-" + mode + ".png"}, {fan, nfan, "fanout-ttl-" + mode + ".png"}} {
			if c.n == 0 {
				continue
			}
			c.p.Legend.Top = true
			c.p.Legend.Left = strings.HasPrefix(c.file, "fanout")
			c.p.Y.Min = 0
			c.p.Y.Max *= 1.45 // room for the legend above the lines
			c.p.Add(plotter.NewGrid())
			if err := c.p.Save(7*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, c.file)); err != nil {
				return nil, err
			}
			names = append(names, c.file)
		}
	}
	return names, nil
}

func addLine(p *plot.Plot, name string, pts plotter.XYs, i int, dashed bool) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	c := plotutil.Color(i)
	if dashed {
		c = color.Gray{Y: uint8(40 + 60*(i%3))}
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		s.Shape = draw.CrossGlyph{}
	} else {
		s.Shape = plotutil.Shape(i)
	}
	l.Color, s.Color = c, c
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// filteredMarkdown renders the filtered workloads and the churn, when any ran.
func filteredMarkdown(res *Results) string {
	var b strings.Builder
	head := false
	for _, r := range res.Runs {
		for _, f := range []*FilterResult{r.Targeted, r.Mixed} {
			if f == nil {
				continue
			}
			if !head {
				b.WriteString("\n## Filtered workloads (one filter per subscriber, closed-loop publishers, every delivery checked)\n\n" +
					"| mode | target | workload | subs x publishers | pub/s | deliveries/s | server us CPU/pub | server us CPU/delivery | delivery p50 | delivery p99 | publish RTT p50 | client CPU (cores) | delivered / expected | missing, unexpected, duplicates, wrong room | verified |\n" +
					"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
				head = true
			}
			share := 0.0
			if f.WindowNs > 0 {
				share = float64(f.ClientCPUNs) / float64(f.WindowNs)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d x %d | %.0f | %.0f | %.2f | %.2f | %s | %s | %s | %.2f | %d / %d | %d, %d, %d, %d | %s |\n",
				r.Mode, r.Target, f.Workload, f.Connected, f.Publishers, f.PubPerSec, f.DelivPerSec, f.CPUPerPubNs/1e3, f.CPUPerDelivNs/1e3,
				msf(f.DelivP50), msf(f.DelivP99), msf(f.PubRTTP50), share, f.Delivered, f.Expected, f.Missing, f.Unexpected, f.Duplicates, f.WrongRoom, yesNo(f.Verified))
		}
	}
	head = false
	for _, r := range res.Runs {
		c := r.Churn
		if c == nil {
			continue
		}
		if !head {
			b.WriteString("\n## Churn (subscribe a fresh filter, unsubscribe it, in a loop)\n\n" +
				"| mode | target | conns | beside subs | cycles/s | server us CPU/cycle | cycle p50 | cycle p99 | errors, wrong room, stray | verified |\n" +
				"|---|---|---|---|---|---|---|---|---|---|\n")
			head = true
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %.2f | %s | %s | %d, %d, %d | %s |\n", r.Mode, r.Target, c.Connected, c.Subs,
			c.CyclesPerSec, c.CPUPerCycleNs/1e3, msf(c.P50), msf(c.P99), c.Errors, c.Mismatched, c.Stray, yesNo(c.Verified))
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "NO"
}

// subsmemMarkdown renders the subscription memory scenario, when it ran.
func subsmemMarkdown(res *Results) string {
	var b strings.Builder
	head := false
	for _, r := range res.Runs {
		m := r.SubsMem
		if m == nil {
			continue
		}
		if !head {
			b.WriteString("\n## Subscription memory (the same connections before and after they subscribe; after a forced GC where the server has pprof)\n\n" +
				"| mode | target | part | conns x subscriptions | rooms | RSS before -> after (MiB) | RSS B per subscription | Go heap B per subscription | subscribe time | answered, without room, errors, closed | verified |\n" +
				"|---|---|---|---|---|---|---|---|---|---|---|\n")
			head = true
		}
		for _, p := range []struct {
			name string
			p    SubsMemPart
		}{{"distinct rooms", m.Rooms}, {"members of one room", m.Members}} {
			if p.p.Conns == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d x %d | %d | %.1f -> %.1f | %.0f | %s | %s | %d, %d, %d, %d | %s |\n", r.Mode, r.Target, p.name,
				p.p.Connected, p.p.PerConn, p.p.Rooms, float64(p.p.RSSBefore)/(1<<20), float64(p.p.RSSAfter)/(1<<20), p.p.RSSPer, f0(p.p.HeapPer),
				msf(p.p.SubscribeNs), p.p.Answered, p.p.Mismatched, p.p.Errors, p.p.Closed, yesNo(p.p.Verified))
		}
	}
	return b.String()
}
