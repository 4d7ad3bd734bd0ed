package harness

import (
	"fmt"
	"strings"
)

// goalRow is one line of the goals table (bench/README.md, "Goals").
type goalRow struct {
	mode, figure, value, goal string
	met                       bool
}

func find(res *Results, mode, target string) *TargetRun {
	for i := range res.Runs {
		if res.Runs[i].Mode == mode && res.Runs[i].Target == target {
			return &res.Runs[i]
		}
	}
	return nil
}

func lastFanout(r *TargetRun) *FanoutResult {
	if r == nil || len(r.Fanout) == 0 {
		return nil
	}
	return &r.Fanout[len(r.Fanout)-1]
}

// rrAt returns the one-in-flight request/response run of r closest to conns connections.
func rrAt(r *TargetRun, conns int) *RRResult { return rrAtK(r, conns, 1) }

// rrAtK returns the request/response run of r with k requests in flight closest to conns
// connections, nil when r has none with k in flight.
func rrAtK(r *TargetRun, conns, k int) *RRResult {
	if r == nil {
		return nil
	}
	var best *RRResult
	for i := range r.RR {
		x := &r.RR[i]
		if x.InFlight != k {
			continue
		}
		if best == nil || abs(x.Conns-conns) < abs(best.Conns-conns) {
			best = x
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// goals checks kuzzlews against the goals of bench/README.md, per mode. A missing figure is not listed.
func goals(res *Results) []goalRow {
	var rows []goalRow
	peers := []string{"gorilla", "nbio", "nodews", "centrifugo"}
	for _, mode := range []string{"pinned", "shared"} {
		k := find(res, mode, "kuzzlews")
		if k == nil {
			continue
		}
		if k.Idle != nil && len(k.Idle.Points) > 0 {
			rows = append(rows, goalRow{mode, "fds per connection", fmt.Sprintf("%.3f", k.Idle.FDsPerConn), "exactly 1",
				k.Idle.FDsPerConn > 0.99 && k.Idle.FDsPerConn < 1.01})
			rows = append(rows, goalRow{mode, "idle RSS per connection", fmt.Sprintf("%.0f B", k.Idle.RSSPerConn), "<= 1024 B",
				k.Idle.RSSPerConn <= 1024})
			if g := find(res, mode, "gorilla"); g != nil && g.Idle != nil && k.Idle.RSSPerConn > 0 {
				ratio := g.Idle.RSSPerConn / k.Idle.RSSPerConn
				rows = append(rows, goalRow{mode, "idle RSS vs gorilla", fmt.Sprintf("%.1fx less", ratio), ">= 15x less", ratio >= 15})
			}
			if n := find(res, mode, "nbio"); n != nil && n.Idle != nil {
				rows = append(rows, goalRow{mode, "idle RSS vs nbio", fmt.Sprintf("%.0f B vs %.0f B", k.Idle.RSSPerConn, n.Idle.RSSPerConn), "below nbio",
					k.Idle.RSSPerConn < n.Idle.RSSPerConn})
			}
		}
		if kf := lastFanout(k); kf != nil {
			if fl := lastFanout(find(res, mode, "floor2")); fl != nil && mode == "shared" {
				ratio := float64(kf.TTLMedian) / float64(fl.TTLMedian)
				rows = append(rows, goalRow{mode, fmt.Sprintf("fan-out to %d, time to last vs 2-thread floor", kf.Connected),
					fmt.Sprintf("%s vs %s ms (%.2fx)", msf(kf.TTLMedian), msf(fl.TTLMedian), ratio), "<= 1.2x", ratio <= 1.2})
			}
			var slower []string
			for _, p := range peers {
				if pf := lastFanout(find(res, mode, p)); pf != nil && pf.TTLMedian <= kf.TTLMedian {
					slower = append(slower, fmt.Sprintf("%s %s ms", p, msf(pf.TTLMedian)))
				}
			}
			rows = append(rows, goalRow{mode, fmt.Sprintf("fan-out to %d, time to last vs peers", kf.Connected),
				msf(kf.TTLMedian) + " ms; not below: " + strings.Join(append(slower, "-")[:max(len(slower), 1)], ", "), "below every peer", len(slower) == 0})
			if fl := lastFanout(find(res, mode, "floor1")); fl != nil {
				rows = append(rows, goalRow{mode, "server CPU per delivery vs 1-thread floor",
					fmt.Sprintf("%.2f vs %.2f us", kf.CPUPerDelivNs/1e3, fl.CPUPerDelivNs/1e3), "<= floor + 1 us", kf.CPUPerDelivNs <= fl.CPUPerDelivNs+1000})
			}
		}
		// The goal is efficiency: requests per server CPU-second (the clients often use their
		// whole core, so req/s alone measures the load generator), with the tail no worse.
		for _, inFlight := range []int{1, 8} {
			kr, gr := rrAtK(k, 1000, inFlight), rrAtK(find(res, mode, "gorilla"), 1000, inFlight)
			if kr == nil || gr == nil || gr.ReqPerCPUSec <= 0 {
				continue
			}
			ratio := kr.ReqPerCPUSec / gr.ReqPerCPUSec
			rows = append(rows, goalRow{mode, fmt.Sprintf("request/response at %d conns x %d in flight vs gorilla", kr.Conns, inFlight),
				fmt.Sprintf("%.2fx req per server CPU-s (%.0f vs %.0f), p99 %s vs %s ms", ratio, kr.ReqPerCPUSec, gr.ReqPerCPUSec, msf(kr.P99), msf(gr.P99)),
				">= 1.2x, p99 no worse", ratio >= 1.2 && kr.P99 <= gr.P99})
		}
		rows = append(rows, standinGoals(res, mode, k)...)
		if a := k.Adversary; a != nil {
			runs := a.AllRuns()
			last := runs[len(runs)-1]
			rows = append(rows, goalRow{mode, "fan-out beside slowloris, " + runsText(len(runs)), medianShiftText(a, false), "< +10%",
				!a.Stalled(false) && a.SlowlorisShift < 0.10})
			rows = append(rows, goalRow{mode, "fan-out beside non-readers, " + runsText(len(runs)), fmt.Sprintf("%s, RSS %.1f -> %.1f MiB (last run)",
				medianShiftText(a, true), float64(last.NonRead.RSSBefore)/(1<<20), float64(last.NonRead.RSSAfter)/(1<<20)), "< +10%, memory bounded",
				!a.Stalled(true) && a.NonReadShift < 0.10})
		}
	}
	return rows
}

// runsText names what an adversary goal row judges: its one run, or the median of n.
func runsText(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("median of %d runs", n)
}

func goalsMarkdown(res *Results) string {
	rows := goals(res)
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("## kuzzlews against the goals (bench/README.md)\n\n| mode | figure | measured | target | met |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		met := "MISSED"
		if r.met {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.mode, r.figure, r.value, r.goal, met)
	}
	return b.String() + "\n"
}

// standinGoals compares kuzzlews with the Kuzzle stand-in (Node.js ws + Koncorde 4.7) in one
// mode: server CPU per publication on the targeted workload and per churn cycle, each at
// least 4x lower; and with itself: CPU per targeted publication at most 1.5x its CPU per
// request at 1,000 connections with 1 in flight (1e9 / requests per server CPU-second), CPU
// per delivery on the mixed workload at most 1.2x its own one-room fan-out; and its memory
// per distinct room (<= 500 B) and per extra member of a room (<= 100 B), the stand-in's
// beside. The goals are set for one core (pinned); shared rows are for information.
func standinGoals(res *Results, mode string, k *TargetRun) []goalRow {
	var rows []goalRow
	s := find(res, mode, "kuzzle-standin")
	if s != nil && k.Targeted != nil && s.Targeted != nil && k.Targeted.CPUPerPubNs > 0 {
		ratio := s.Targeted.CPUPerPubNs / k.Targeted.CPUPerPubNs
		rows = append(rows, goalRow{mode, "targeted: server CPU per publication vs the Kuzzle stand-in",
			fmt.Sprintf("%.2f vs %.2f us (%.1fx lower)", k.Targeted.CPUPerPubNs/1e3, s.Targeted.CPUPerPubNs/1e3, ratio), ">= 4x lower", ratio >= 4})
	}
	// A targeted publication is one request answered plus one delivery found by the filter
	// engine, so it should cost little more than a plain request of kuzzlews's own.
	if kr := rrAt(k, 1000); k.Targeted != nil && kr != nil && kr.ReqPerCPUSec > 0 {
		perReq := 1e9 / kr.ReqPerCPUSec
		ratio := k.Targeted.CPUPerPubNs / perReq
		rows = append(rows, goalRow{mode, fmt.Sprintf("targeted: server CPU per publication vs kuzzlews's own request/response at %d conns", kr.Conns),
			fmt.Sprintf("%.2f vs %.2f us (%.2fx)", k.Targeted.CPUPerPubNs/1e3, perReq/1e3, ratio), "<= 1.5x", ratio <= 1.5})
	}
	if s != nil && k.Churn != nil && s.Churn != nil && k.Churn.CPUPerCycleNs > 0 {
		ratio := s.Churn.CPUPerCycleNs / k.Churn.CPUPerCycleNs
		rows = append(rows, goalRow{mode, "churn: server CPU per cycle vs the Kuzzle stand-in",
			fmt.Sprintf("%.2f vs %.2f us (%.1fx lower)", k.Churn.CPUPerCycleNs/1e3, s.Churn.CPUPerCycleNs/1e3, ratio), ">= 4x lower", ratio >= 4})
	}
	if m := k.SubsMem; m != nil {
		// The goal is on VmRSS; the live Go heap is shown beside because VmRSS after a
		// forced GC still holds the freed spans of the subscription burst that the runtime
		// has not returned yet, which weigh most at small scale.
		text := func(p SubsMemPart, standin func(*SubsMemResult) SubsMemPart) string {
			t := fmt.Sprintf("%.0f B (Go heap %s B", p.RSSPer, f0(p.HeapPer))
			if s != nil && s.SubsMem != nil {
				t += fmt.Sprintf("; stand-in %.0f B", standin(s.SubsMem).RSSPer)
			}
			return t + ")"
		}
		// A delta of zero or less resolves nothing (the reading's noise exceeds what was
		// measured): it is not counted as met.
		rows = append(rows, goalRow{mode, fmt.Sprintf("subsmem: RSS per distinct room, %d rooms", m.Rooms.Answered),
			text(m.Rooms, func(r *SubsMemResult) SubsMemPart { return r.Rooms }), "<= 500 B",
			m.Rooms.Verified && m.Rooms.RSSPer > 0 && m.Rooms.RSSPer <= 500})
		rows = append(rows, goalRow{mode, fmt.Sprintf("subsmem: RSS per extra member of one room, %d members", m.Members.Answered),
			text(m.Members, func(r *SubsMemResult) SubsMemPart { return r.Members }), "<= 100 B",
			m.Members.Verified && m.Members.RSSPer > 0 && m.Members.RSSPer <= 100})
	}
	if kf := lastFanout(k); kf != nil && k.Mixed != nil && kf.CPUPerDelivNs > 0 {
		ratio := k.Mixed.CPUPerDelivNs / kf.CPUPerDelivNs
		rows = append(rows, goalRow{mode, fmt.Sprintf("mixed: server CPU per delivery vs own fan-out to %d", kf.Connected),
			fmt.Sprintf("%.2f vs %.2f us (%.2fx)", k.Mixed.CPUPerDelivNs/1e3, kf.CPUPerDelivNs/1e3, ratio), "<= 1.2x", ratio <= 1.2})
	}
	return rows
}
