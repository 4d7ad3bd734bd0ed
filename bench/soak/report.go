package soak

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Files written into the output directory.
const (
	JSONFile  = "soak.json"
	MDFile    = "soak.md"
	ChartFile = "soak.png"
)

// WriteReports writes soak.json, soak.png and soak.md into dir.
func WriteReports(res *Result, dir string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), b, 0o644); err != nil {
		return err
	}
	if err := writeChart(res, filepath.Join(dir, ChartFile)); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, MDFile), []byte(Markdown(res)), 0o644)
}

// Rerender reads dir/soak.json and writes the chart and soak.md again.
func Rerender(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		return err
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s/%s: %w", dir, JSONFile, err)
	}
	return WriteReports(&res, dir)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func msOf(ns int64) string { return fmt.Sprintf("%.1f ms", float64(ns)/1e6) }

// phaseStart returns the time of the first sample of phase, or -1.
func phaseStart(res *Result, phase string) float64 {
	for _, s := range res.Samples {
		if s.Phase == phase {
			return s.T
		}
	}
	return -1
}

// Markdown renders the result.
func Markdown(res *Result) string {
	var b strings.Builder
	c := res.Config
	m := res.Machine
	verdict := "PASSED"
	if !res.Passed() {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "# kuzzlews soak: %d connections for %v: %s\n\n", c.Conns, c.Duration, verdict)
	fmt.Fprintf(&b, "`%s`\n\n", m.CommandLine)
	fmt.Fprintf(&b, "%s, %d CPUs, %s, %s, commit %s, started %s. Load average before: %s; after: %s.\n\n",
		m.CPUModel, m.CPUs, m.Kernel, m.GoVersion, m.Commit, m.Started, m.LoadBefore, m.LoadAfter)
	var lmin, lmax, lsum float64
	n := 0
	for _, s := range res.Samples {
		if s.Phase != "soak" {
			continue
		}
		if n == 0 || s.Load1 < lmin {
			lmin = s.Load1
		}
		lmax = max(lmax, s.Load1)
		lsum += s.Load1
		n++
	}
	if n > 0 {
		fmt.Fprintf(&b, "1-minute load average during the soak: %.1f to %.1f, mean %.1f (2 cores, shared with other work).\n\n", lmin, lmax, lsum/float64(n))
	}
	r := res.Roles
	fmt.Fprintf(&b, "## Mix\n\n")
	fmt.Fprintf(&b, "| role | connections | what they do |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| stayers | %d | connected before the soak, closed after it; each subscribes one of %d groups (one in %d a second one), with an equals, range or in filter; every delivery is checked by sequence number; `{\"p\":1}` every %v |\n",
		r.Stayers, c.Groups, c.TwoGroupsEvery, c.PingEvery)
	fmt.Fprintf(&b, "| publishers | %d | %.1f publications/s in all, about 200 B notifications, each matching one group |\n", r.Pubs, c.PubRate)
	fmt.Fprintf(&b, "| big publisher | %d | %.0f documents/s of %d B to a collection only slow readers and non-readers join |\n", r.BigPubs, c.BigRate, c.BigSize)
	fmt.Fprintf(&b, "| churn slots | %d | connect, subscribe, hold %v-%v, then unsubscribe + close, close, or drop the TCP connection; again |\n", r.Churn, c.ChurnHoldMin, c.ChurnHoldMax)
	fmt.Fprintf(&b, "| slow readers | %d | SO_RCVBUF %d, one message read every %v; reconnect when cut |\n", r.Slow, c.RcvBuf, c.SlowRead)
	fmt.Fprintf(&b, "| non-readers | %d | SO_RCVBUF %d, never read for %v (pinging), then drain and reconnect |\n", r.NonRead, c.RcvBuf, c.NonReadHold)
	fmt.Fprintf(&b, "| malformed slots | %d | one of %d malformed inputs about every %v, each checked for its error frame, close code or HTTP status |\n\n", r.Malformed, len(malCases), c.MalformedPause)
	fmt.Fprintf(&b, "%d worker processes; setup %.1f s; soak %.1f s; server `kuzzlews -host 127.0.0.1 -port N -metrics A -pprof B %s`.\n\n",
		res.Workers, float64(res.SetupMs)/1e3, float64(res.SoakMs)/1e3, strings.Join(c.KuzzlewsArgs, " "))

	fmt.Fprintf(&b, "## Deliveries\n\n")
	v, st := res.Verify, res.Stats
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| stayers that stayed connected | %d of %d |\n", v.Stayed, v.Stayers)
	fmt.Fprintf(&b, "| publications (main) | %d sent, %d without a 200 reply |\n", res.PubSent, res.PubFailed)
	fmt.Fprintf(&b, "| deliveries expected by the stayers | %d |\n", v.Expected)
	fmt.Fprintf(&b, "| **deliveries lost** | **%d** (%d stayers) |\n", v.Missing, v.MissingStayers)
	fmt.Fprintf(&b, "| unexpected / duplicated / wrong room | %d / %d / %d |\n", v.Unexpected, v.Dup, v.WrongRoom)
	fmt.Fprintf(&b, "| delivery latency p50 / p99 / max | %s / %s / %s |\n", msOf(v.Latency.Quantile(0.5)), msOf(v.Latency.Quantile(0.99)), msOf(v.Latency.Max))
	fmt.Fprintf(&b, "| churn | %d connections; ended %d by unsubscribe + close, %d by close, %d by TCP drop; %d notifications (%d wrong); %d failures |\n",
		st.ChurnOpened, st.ChurnUnsub, st.ChurnClose, st.ChurnDrop, st.ChurnDelivered, st.ChurnWrong, st.ChurnErrors)
	fmt.Fprintf(&b, "| slow readers | %d connections, %d messages read, %d cut with 1011 |\n", st.SlowOpened, st.SlowRead, st.SlowCut1011)
	fmt.Fprintf(&b, "| non-readers | %d connections; %d cut with 1011, %d still open at the drain |\n", st.NonReadOpened, st.NonReadCut1011, st.NonReadStill)
	fmt.Fprintf(&b, "| slow and non-readers ended without a close frame to read | %d (first: %s): the server closed them after its -close-timeout while the 1011 sat behind their unread data |\n", st.CutNoCode, st.CutNoCodeErr)
	if len(st.OtherCodes) > 0 {
		fmt.Fprintf(&b, "| slow and non-readers, other close codes | %v |\n", st.OtherCodes)
	}
	fmt.Fprintf(&b, "| server's slow-client closes (1011, metric) | %d |\n", res.End.SlowClosed)
	fmt.Fprintf(&b, "| malformed inputs | %d answered as expected, %d wrong |\n", st.MalformedOK, st.MalformedWrong)
	fmt.Fprintf(&b, "| stayers' close handshakes at the end | %d complete, %d not |\n\n", res.ClosedClean, res.ClosedOther)
	if len(st.MalformedByCase) > 0 {
		names := make([]string, 0, len(st.MalformedByCase))
		for k := range st.MalformedByCase {
			names = append(names, k)
		}
		slices.Sort(names)
		fmt.Fprintf(&b, "Malformed cases run: ")
		for i, k := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d", k, st.MalformedByCase[k])
		}
		b.WriteString(".\n\n")
	}

	fmt.Fprintf(&b, "## Server: baseline, peak, end\n\n")
	fmt.Fprintf(&b, "End: after every client closed, %.1f s of settling (a forced GC every 5 s).\n\n", float64(res.SettleMs)/1e3)
	fmt.Fprintf(&b, "| figure | baseline | peak | end | limit | back |\n|---|---|---|---|---|---|\n")
	for _, ck := range res.Checks {
		bs, pk, en, lm := fmt.Sprint(ck.Baseline), fmt.Sprint(ck.Peak), fmt.Sprint(ck.End), fmt.Sprint(ck.Limit)
		if ck.Name == "rss_bytes" {
			bs, pk, en, lm = mib(ck.Baseline), mib(ck.Peak), mib(ck.End), mib(ck.Limit)
		}
		ok := "yes"
		if !ck.OK {
			ok = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimSuffix(ck.Name, "_bytes"), bs, pk, en, lm, ok)
	}
	var peakThreads int
	for _, s := range res.Samples {
		peakThreads = max(peakThreads, s.Threads)
	}
	fmt.Fprintf(&b, "| OS threads (not checked: the Go runtime keeps them) | %d | %d | %d | - | - |\n", res.Baseline.Threads, peakThreads, res.End.Threads)
	fmt.Fprintf(&b, "| server CPU | - | - | %.1f s | - | - |\n\n", float64(res.End.CPUNs)/1e9)
	fmt.Fprintf(&b, "![RSS, goroutines, fds over time](%s)\n\n", ChartFile)

	fmt.Fprintf(&b, "## Timeline (one sample a minute)\n\n")
	fmt.Fprintf(&b, "| t | phase | RSS | fds | goroutines | connections | rooms | stayers | deliveries | p99 | load |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	last := -1e9
	for i, s := range res.Samples {
		if s.T-last < 60 && i != len(res.Samples)-1 && (i == 0 || res.Samples[i-1].Phase == s.Phase) {
			continue
		}
		last = s.T
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d | %d | %d | %s | %.1f |\n", (time.Duration(s.T) * time.Second).String(), s.Phase,
			mib(s.RSS), s.FDs, s.Goroutines, s.Conns, s.Rooms, s.StayersUp, s.Delivered, msOf(s.P99), s.Load1)
	}
	b.WriteString("\n")
	if res.Passed() {
		b.WriteString("Every requirement met.\n")
	} else {
		b.WriteString("## Failures\n\n")
		for _, f := range res.Failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return b.String()
}

// writeChart draws RSS, goroutines, fds (with the server's connection count) and the
// stayers' delivery p99 against time, one panel each, with the soak's start and end marked.
func writeChart(res *Result, file string) error {
	type series struct {
		name string
		y    func(s Sample) (float64, bool)
	}
	panels := []struct {
		title, unit string
		lines       []series
	}{
		{"Server RSS", "MiB", []series{{"RSS", func(s Sample) (float64, bool) { return float64(s.RSS) / (1 << 20), true }}}},
		{"Server goroutines", "goroutines", []series{{"goroutines", func(s Sample) (float64, bool) { return float64(s.Goroutines), s.Goroutines >= 0 }}}},
		{"Server file descriptors and connections", "count", []series{
			{"fds", func(s Sample) (float64, bool) { return float64(s.FDs), true }},
			{"connections", func(s Sample) (float64, bool) { return float64(s.Conns), s.Conns >= 0 }}}},
		{"Stayers' delivery latency, p99 per interval", "ms", []series{{"p99", func(s Sample) (float64, bool) { return float64(s.P99) / 1e6, s.Phase == "soak" && s.P99 > 0 }}}},
	}
	marks := []struct {
		phase string
		t     float64
	}{{"soak", phaseStart(res, "soak")}, {"drain", phaseStart(res, "drain")}, {"settle", phaseStart(res, "settle")}}
	var plots [][]*plot.Plot
	tmax := 0.0
	if n := len(res.Samples); n > 0 {
		tmax = res.Samples[n-1].T / 60
	}
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "minutes since the server started"
		p.Y.Label.Text = pn.unit
		ymax := 0.0
		for i, sr := range pn.lines {
			var pts plotter.XYs
			for _, s := range res.Samples {
				if y, ok := sr.y(s); ok {
					pts = append(pts, plotter.XY{X: s.T / 60, Y: y})
					ymax = max(ymax, y)
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i)
			l.Width = vg.Points(1.2)
			p.Add(l)
			if len(pn.lines) > 1 {
				p.Legend.Add(sr.name, l)
			}
		}
		for _, mk := range marks {
			if mk.t < 0 {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: mk.t / 60, Y: 0}, {X: mk.t / 60, Y: ymax * 1.1}})
			if err != nil {
				return err
			}
			l.Color = color.Gray{Y: 140}
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
		}
		p.X.Min, p.X.Max = 0, max(tmax, 0.1)
		p.Y.Min = 0
		p.Y.Max = max(ymax*1.15, 1)
		if len(pn.lines) > 1 {
			p.Y.Max = max(ymax*1.4, 1) // room for the legend above the lines
		}
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		plots = append(plots, []*plot.Plot{p})
	}
	img := vgimg.New(8*vg.Inch, 11*vg.Inch)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
