package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The targets of the cluster benchmark (bench/README.md, "Several nodes over NATS").
const (
	// ClusterTTLGoal bounds the cross-node time to last delivery over the same-node one
	// (split placement, largest FanoutSubs).
	ClusterTTLGoal = 1.3
	// ClusterCPUGoal bounds the server CPU per cross-node delivery (remote placement) over
	// a local one (local placement), at every FanoutSubs.
	ClusterCPUGoal = 1.2
)

// WriteClusterReports writes results.json, results.md and the charts (PNG) into dir.
func WriteClusterReports(res *ClusterResults, dir string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return err
	}
	charts, err := writeClusterCharts(res, dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(ClusterMarkdown(res, charts)), 0o644)
}

// RerenderCluster reads dir/results.json of a cluster run and writes results.md and the
// charts again.
func RerenderCluster(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var res ClusterResults
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s/results.json: %w", dir, err)
	}
	return WriteClusterReports(&res, dir)
}

// ScaleRun returns the scale placement called name ("single" or "scale"), nil if none.
func (res *ClusterResults) ScaleRun(name string) *ClusterFanoutResult {
	for i := range res.Scale {
		if res.Scale[i].Name == name {
			return &res.Scale[i]
		}
	}
	return nil
}

// FanoutRun returns the fan-out placement name ("local", "remote", "split") at subs
// subscribers, nil if it did not run.
func (res *ClusterResults) FanoutRun(name string, subs int) *ClusterFanoutResult {
	for i := range res.Fanout {
		if f := &res.Fanout[i]; f.Name == name && f.Subs == subs {
			return f
		}
	}
	return nil
}

// natsWindows lists every measured window with its NATS count: the fan-outs, the
// scale run, the verified workload and the rate steps that passed.
func (res *ClusterResults) natsWindows() (names []string, counts []*NATSCount) {
	for _, f := range append(append([]ClusterFanoutResult(nil), res.Fanout...), res.Scale...) {
		if f.NATS != nil {
			names = append(names, fmt.Sprintf("%s %d", f.Name, f.Subs))
			counts = append(counts, f.NATS)
		}
	}
	if v := res.Verify; v != nil && v.NATS != nil {
		names = append(names, fmt.Sprintf("verify %d", v.Subs))
		counts = append(counts, v.NATS)
	}
	if r := res.Rate; r != nil {
		for _, s := range r.Steps {
			if s.Pass && s.NATS != nil {
				names = append(names, fmt.Sprintf("rate %.0f", s.Rate))
				counts = append(counts, s.NATS)
			}
		}
	}
	return names, counts
}

func ratio(a, b float64) float64 {
	if b <= 0 || a < 0 {
		return -1
	}
	return a / b
}

func ratioText(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", v)
}

// clusterGoals checks res against the targets; a figure that did not run is left out.
func clusterGoals(res *ClusterResults) []goalRow {
	var rows []goalRow
	if names, counts := res.natsWindows(); len(counts) > 0 {
		exact := 0
		var bad []string
		for i, c := range counts {
			if c.OneMessagePerNode {
				exact++
			} else {
				bad = append(bad, names[i])
			}
		}
		v := fmt.Sprintf("exact in %d of %d windows", exact, len(counts))
		if len(bad) > 0 {
			v += " (not in: " + strings.Join(bad, ", ") + ")"
		}
		rows = append(rows, goalRow{figure: "NATS messages per publication (nats-server /connz)", value: v,
			goal: "one per interested node, one published by the origin", met: len(bad) == 0})
	}
	if n := len(res.Config.FanoutSubs); n > 0 {
		s := res.Config.FanoutSubs[n-1]
		if sp := res.FanoutRun("split", s); sp != nil && sp.Node(true) != nil && sp.Node(false) != nil {
			same, cross := sp.Node(true).TTLMedian, sp.Node(false).TTLMedian
			r := ratio(float64(cross), float64(same))
			rows = append(rows, goalRow{figure: fmt.Sprintf("cross-node / same-node time to last, %d subscribers split", s),
				value: fmt.Sprintf("%s ms / %s ms = %s", msf(cross), msf(same), ratioText(r)),
				goal:  fmt.Sprintf("<= %.1fx", ClusterTTLGoal), met: r >= 0 && r <= ClusterTTLGoal})
		}
	}
	for _, s := range res.Config.FanoutSubs {
		l, rm := res.FanoutRun("local", s), res.FanoutRun("remote", s)
		if l == nil || rm == nil {
			continue
		}
		r := ratio(rm.CPUPerDelivNs, l.CPUPerDelivNs)
		rows = append(rows, goalRow{figure: fmt.Sprintf("server CPU per cross-node / local delivery, %d subscribers", s),
			value: fmt.Sprintf("%.2f us / %.2f us = %s", rm.CPUPerDelivNs/1e3, l.CPUPerDelivNs/1e3, ratioText(r)),
			goal:  fmt.Sprintf("<= %.1fx", ClusterCPUGoal), met: r >= 0 && r <= ClusterCPUGoal})
	}
	if sc := res.ScaleRun("scale"); sc != nil {
		want := res.Config.ScaleNodes * res.Config.ScaleSubs
		rows = append(rows, goalRow{figure: fmt.Sprintf("%d nodes x %d subscribers, every publication to all", res.Config.ScaleNodes, res.Config.ScaleSubs),
			value: fmt.Sprintf("%d connected, %d publications, %d missing, %d extra", sc.Subs, sc.Sent, sc.Missing, sc.Extra),
			goal:  "nothing missing", met: sc.Subs == want && sc.Sent > 0 && sc.Missing == 0 && sc.Extra == 0 && !sc.Stalled})
	}
	return rows
}

// ClusterMarkdown renders res as tables; charts are file names to embed.
func ClusterMarkdown(res *ClusterResults, charts []string) string {
	var b strings.Builder
	m := res.Machine
	cfg := res.Config
	fmt.Fprintf(&b, "# Cluster benchmark: %s run\n\n", cfg.Name)
	fmt.Fprintf(&b, "- Command: `%s` at commit %s\n- Started: %s\n- CPU: %s x %d; kernel %s\n- %s; %s\n- Load average before: %s; after: %s\n\n",
		m.CommandLine, m.Commit, m.Started, m.CPUModel, m.CPUs, m.Kernel, m.GoVersion, res.NATSServer, m.LoadBefore, m.LoadAfter)
	b.WriteString("kuzzlews nodes (GOMAXPROCS=2 each, unpinned) joined over one nats-server process, load generators in separate processes, all on loopback. " +
		"Times in ms, from the publisher's wall-clock send to each subscriber's arrival. Server CPU is every node plus nats-server. " +
		"The machine is shared: compare ratios within one run.\n\n")
	for _, c := range charts {
		fmt.Fprintf(&b, "![%s](%s)\n\n", c, c)
	}
	if rows := clusterGoals(res); len(rows) > 0 {
		b.WriteString("## Targets\n\n| figure | value | target | met |\n|---|---|---|---|\n")
		for _, r := range rows {
			met := "yes"
			if !r.met {
				met = "**MISSED**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.figure, r.value, r.goal, met)
		}
		b.WriteString("\n")
	}
	if len(res.Fanout) > 0 {
		b.WriteString("## Fan-out over two nodes (publisher on knode-1)\n\n" +
			"local: every subscriber on the publisher's node; remote: every subscriber on the other node (every delivery crosses NATS); split: half on each.\n\n" +
			"| placement | subs | pubs x interval ms | node | subs there | time-to-last median | ttl p99 | delivery p50 | delivery p99 | missing | extra | node CPU ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, f := range res.Fanout {
			for _, n := range f.Nodes {
				if n.Connected == 0 {
					continue
				}
				fmt.Fprintf(&b, "| %s | %d | %d x %.0f | %s%s | %d | %s | %s | %s | %s | %d | %d | %s |\n", f.Name, f.Subs, f.Sent, float64(f.IntervalNs)/1e6,
					n.Node, sameCross(n), n.Connected, msf(n.TTLMedian), msf(n.TTLP99), msf(n.DelivP50), msf(n.DelivP99), n.Missing, n.Extra, msf(n.CPUNs))
			}
		}
		b.WriteString("\n### Server CPU per delivery\n\n| placement | subs | delivered | nodes CPU ms | nats-server CPU ms | server us CPU/delivery | client us CPU/delivery | publish RTT median | NATS msgs per publication to other nodes |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, f := range res.Fanout {
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %.2f | %.2f | %s | %s |\n", f.Name, f.Subs, f.Delivered, msf(f.ServerCPUNs-f.NATSCPUNs), msf(f.NATSCPUNs),
				f.CPUPerDelivNs/1e3, perDeliv(f.ClientCPUNs, f.Delivered), msf(f.PubRTTMedian), docPerPub(f.NATS))
		}
		b.WriteString("\n")
	}
	if r := res.Rate; r != nil {
		fmt.Fprintf(&b, "## Publication rate through NATS (%d publishers on knode-1, %d x %d subscribers on knode-2)\n\n"+
			"A rate passes when every delivery arrives and p99 <= %s ms; a failing rate is run once more. "+
			"Missing: deliveries not arrived %s ms after the step's last publication (late or lost; NATS's own count of what it handed each node is beside it).\n\n"+
			"| rate | sent/s | deliveries/s | p50 | p99 | max | missing | NATS msgs to knode-2 per publication | published by knode-1 per publication | slow consumers | knode-1 CPU ms | knode-2 CPU ms | nats-server CPU ms | server us CPU/publication | client cores | pass |\n"+
			"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", r.Publishers, r.Channels, r.SubsPerChannel, msf(cfg.MaxP99.Nanoseconds()), msf(cfg.Grace.Nanoseconds()))
		for _, s := range r.Steps {
			pub, doc := "n/a", "n/a"
			var slow int64
			if s.NATS != nil && len(s.NATS.Nodes) == 2 && s.Sent > 0 {
				doc = fmt.Sprintf("%.3f", float64(s.NATS.Nodes[1].DocMsgs)/float64(s.Sent))
				pub = fmt.Sprintf("%.3f", float64(s.NATS.Nodes[0].Published)/float64(s.Sent))
				slow = s.NATS.SlowConsumers
			}
			cpu := []string{"-", "-"}
			for i, v := range s.NodeCPUNs {
				if i < 2 {
					cpu[i] = msf(v)
				}
			}
			fmt.Fprintf(&b, "| %.0f | %.0f | %.0f | %s | %s | %s | %d | %s | %s | %d | %s | %s | %s | %.1f | %.2f | %s |\n", s.Rate, s.PubPerSec, s.DelivPerSec,
				msf(s.P50), msf(s.P99), msf(s.Max), s.Expected-s.Delivered, doc, pub, slow, cpu[0], cpu[1], msf(s.NATSCPUNs), s.CPUPerPubNs/1e3, s.ClientCPUShare, yesNo(s.Pass))
		}
		if r.BestRate > 0 {
			fmt.Fprintf(&b, "\nHighest rate held: **%.0f publications/s** (p99 %s ms).\n\n", r.BestPubPerSec, msf(r.BestP99))
		} else {
			b.WriteString("\nNo rate held.\n\n")
		}
	}
	if v := res.Verify; v != nil {
		fmt.Fprintf(&b, "## Filtered workload over two nodes (every delivery checked)\n\n"+
			"%d subscribers of the mixed workload (one Koncorde filter each), half on each node; %d closed-loop publishers, half on each node. "+
			"Every subscriber must get every publication its filter matches, from either node, once, and nothing else.\n\n"+
			"| node | subs | rooms (NATS room subjects) | publishers | sent | delivered / expected | unexpected, duplicates, wrong room | delivery p50 | delivery p99 | NATS msgs received / publications of the other node | node CPU ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
			v.Subs, v.Publishers)
		for i, n := range v.Nodes {
			rooms, recv, other := 0, int64(0), int64(0)
			if v.NATS != nil && i < len(v.NATS.Nodes) {
				rooms, recv, other = v.NATS.Nodes[i].Rooms, v.NATS.Nodes[i].DocMsgs, v.NATS.Nodes[i].ExpectedDocMsgs
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d / %d | %d, %d, %d | %s | %s | %d / %d | %s |\n", n.Node, n.Connected, rooms, n.Publishers, n.Sent,
				n.Delivered, n.Expected, n.Unexpected, n.Duplicates, n.WrongRoom, msf(n.DelivP50), msf(n.DelivP99), recv, other, msf(n.CPUNs))
		}
		fmt.Fprintf(&b, "\n%.0f publications/s, %.0f deliveries/s, %.2f us server CPU per delivery (nodes and nats-server); missing %d, unanswered %d; verified: %s.\n\n",
			v.PubPerSec, v.DelivPerSec, v.CPUPerDelivNs/1e3, v.Missing, v.Unanswered, yesNo(v.Verified))
	}
	if len(res.Scale) > 0 {
		b.WriteString("## Scale: one node alone, then several nodes with the same subscribers each\n\n" +
			"Memory per connection is (VmRSS once every subscriber is ready - VmRSS before any client) / connections of the node (its subscribers, plus the publisher on knode-1); after GC: the same after a forced GC through pprof.\n\n" +
			"| run | node | subs | time-to-last median | ttl p99 | delivery p50 | delivery p99 | missing | extra | RSS ready MiB | RSS B/conn | after GC B/conn | fds |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, f := range res.Scale {
			for _, n := range f.Nodes {
				fmt.Fprintf(&b, "| %s | %s%s | %d | %s | %s | %s | %s | %d | %d | %.1f | %s | %s | %d |\n", f.Name, n.Node, sameCross(n), n.Connected,
					msf(n.TTLMedian), msf(n.TTLP99), msf(n.DelivP50), msf(n.DelivP99), n.Missing, n.Extra, float64(n.RSSReady)/(1<<20), f0(n.RSSPerConn), f0(n.RSSPerConnGC), n.FDs)
			}
			if len(f.Nodes) > 1 {
				fmt.Fprintf(&b, "| %s | all | %d | %s | %s | | | %d | %d | | | | |\n", f.Name, f.Subs, msf(f.TTLMedian), msf(f.TTLP99), f.Missing, f.Extra)
			}
		}
		b.WriteString("\n| run | subs | pubs x interval ms | server us CPU/delivery | client us CPU/delivery | NATS msgs per publication to other nodes |\n|---|---|---|---|---|---|\n")
		for _, f := range res.Scale {
			fmt.Fprintf(&b, "| %s | %d | %d x %.0f | %.2f | %.2f | %s |\n", f.Name, f.Subs, f.Sent, float64(f.IntervalNs)/1e6, f.CPUPerDelivNs/1e3, perDeliv(f.ClientCPUNs, f.Delivered), docPerPub(f.NATS))
		}
		b.WriteString("\n")
	}
	if names, counts := res.natsWindows(); len(counts) > 0 {
		b.WriteString("## nats-server's count per window\n\n" +
			"From `/connz?subs=detail`: messages delivered on each node's publication subjects (`kzws.d.<index>.<collection>`), and messages each node published minus its heartbeats " +
			"(heartbeats of a node = what every other node's `kzws.hb` subscription received from all, divided by nodes - 1, minus what this node received). " +
			"Expected: one message received per publication made on another node when the node holds rooms there, none otherwise; one published per publication of its clients.\n\n" +
			"| window | node | rooms | published / expected | received / expected | slow consumers | exact |\n|---|---|---|---|---|---|---|\n")
		for i, c := range counts {
			for _, n := range c.Nodes {
				fmt.Fprintf(&b, "| %s | %s | %d | %d / %d | %d / %d | %d | %s |\n", names[i], n.Node, n.Rooms, n.Published, n.ExpectedPublished, n.DocMsgs, n.ExpectedDocMsgs,
					c.SlowConsumers, yesNo(n.Published == n.ExpectedPublished && n.DocMsgs == n.ExpectedDocMsgs))
			}
		}
		b.WriteString("\n")
	}
	if len(res.Errors) > 0 {
		b.WriteString("## Errors\n\n")
		for _, e := range res.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

func sameCross(n NodeFanout) string {
	if n.Publisher {
		return " (same-node)"
	}
	return " (cross-node)"
}

func f0(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", v)
}

func docPerPub(n *NATSCount) string {
	if n == nil {
		return "n/a (no NATS)"
	}
	return fmt.Sprintf("%.3f", n.DocMsgsPerPub)
}

// writeClusterCharts draws the time to last delivery and the CPU per delivery against
// subscribers, p99 against the publication rate, and the scale run's time to last per
// publication. It returns the file names.
func writeClusterCharts(res *ClusterResults, dir string) ([]string, error) {
	var names []string
	save := func(p *plot.Plot, file string, legendLeft bool) error {
		p.Legend.Top, p.Legend.Left = true, legendLeft
		p.Y.Min = 0
		p.Y.Max *= 1.45 // room for the legend above the lines
		p.Add(plotter.NewGrid())
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, file)); err != nil {
			return err
		}
		names = append(names, file)
		return nil
	}
	if len(res.Fanout) > 0 {
		ttl := plot.New()
		ttl.Title.Text = "Fan-out over two nodes: time to last delivery, median"
		ttl.X.Label.Text = "subscribers"
		ttl.Y.Label.Text = "ms"
		cpu := plot.New()
		cpu.Title.Text = "Server CPU per delivery (nodes + nats-server)"
		cpu.X.Label.Text = "subscribers"
		cpu.Y.Label.Text = "us per delivery"
		lines := []struct {
			name      string
			placement string
			publisher bool
		}{{"split, same-node half", "split", true}, {"split, cross-node half", "split", false},
			{"all on the publisher's node", "local", true}, {"all on the other node", "remote", false}}
		for i, l := range lines {
			var pts plotter.XYs
			for _, s := range res.Config.FanoutSubs {
				if f := res.FanoutRun(l.placement, s); f != nil && f.Node(l.publisher) != nil {
					pts = append(pts, plotter.XY{X: float64(s), Y: float64(f.Node(l.publisher).TTLMedian) / 1e6})
				}
			}
			if len(pts) > 0 {
				if err := addLine(ttl, l.name, pts, i, i >= 2); err != nil {
					return nil, err
				}
			}
		}
		for i, pl := range []string{"local", "remote", "split"} {
			var pts plotter.XYs
			for _, s := range res.Config.FanoutSubs {
				if f := res.FanoutRun(pl, s); f != nil {
					pts = append(pts, plotter.XY{X: float64(s), Y: f.CPUPerDelivNs / 1e3})
				}
			}
			if len(pts) > 0 {
				if err := addLine(cpu, pl, pts, i, false); err != nil {
					return nil, err
				}
			}
		}
		if err := save(ttl, "cluster-fanout-ttl.png", true); err != nil {
			return nil, err
		}
		if err := save(cpu, "cluster-cpu-per-delivery.png", true); err != nil {
			return nil, err
		}
	}
	if r := res.Rate; r != nil && len(r.Steps) > 0 {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Publications pushed through NATS (%d x %d subscribers on the other node)", r.Channels, r.SubsPerChannel)
		p.X.Label.Text = "publications per second sent"
		p.Y.Label.Text = "delivery p99, ms"
		var pts, bound plotter.XYs
		for _, s := range r.Steps {
			pts = append(pts, plotter.XY{X: s.PubPerSec, Y: float64(s.P99) / 1e6})
		}
		bound = plotter.XYs{{X: 0, Y: float64(res.Config.MaxP99.Nanoseconds()) / 1e6}, {X: pts[len(pts)-1].X, Y: float64(res.Config.MaxP99.Nanoseconds()) / 1e6}}
		if err := addLine(p, "p99", pts, 0, false); err != nil {
			return nil, err
		}
		if err := addLine(p, fmt.Sprintf("bound (%s ms)", msf(res.Config.MaxP99.Nanoseconds())), bound, 1, true); err != nil {
			return nil, err
		}
		if err := save(p, "cluster-rate.png", true); err != nil {
			return nil, err
		}
	}
	if len(res.Scale) > 0 {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Time to last delivery per publication, %d subscribers per node", res.Config.ScaleSubs)
		p.X.Label.Text = "publication"
		p.Y.Label.Text = "ms"
		i := 0
		for _, f := range res.Scale {
			for _, n := range f.Nodes {
				var pts plotter.XYs
				for _, s := range n.PerPub {
					pts = append(pts, plotter.XY{X: float64(s.Seq), Y: float64(s.Max) / 1e6})
				}
				if len(pts) == 0 {
					continue
				}
				label := n.Node + " alone"
				if f.Name != "single" {
					label = fmt.Sprintf("%s of %d", n.Node, len(f.Nodes))
				}
				if err := addLine(p, label, pts, i, f.Name == "single"); err != nil {
					return nil, err
				}
				i++
			}
		}
		if i > 0 {
			if err := save(p, "cluster-scale-ttl.png", true); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}
