package harness

import (
	"strings"
	"testing"
)

func TestGoals(t *testing.T) {
	idle := func(rss float64) *IdleResult {
		return &IdleResult{Points: []IdlePoint{{}, {Conns: 1000, Connected: 1000}}, RSSPerConn: rss, FDsPerConn: 1}
	}
	fan := func(ttl int64, cpu float64) []FanoutResult {
		return []FanoutResult{{Subs: 1000, Connected: 1000, TTLMedian: ttl, CPUPerDelivNs: cpu}}
	}
	rr := func(perCPU float64, p99 int64) []RRResult {
		// kuzzlews at 100,000 requests per server CPU-second: 10 us of CPU per request.
		return []RRResult{{Conns: 1000, InFlight: 1, ReqPerSec: 9000, P99: p99, ReqPerCPUSec: perCPU},
			{Conns: 1000, InFlight: 8, ReqPerSec: 20000, P99: p99, ReqPerCPUSec: perCPU}}
	}
	mem := func(room, member float64) *SubsMemResult {
		return &SubsMemResult{Verified: true,
			Rooms:   SubsMemPart{Answered: 1000, RSSPer: room, HeapPer: room / 2, Verified: true},
			Members: SubsMemPart{Answered: 300, RSSPer: member, HeapPer: -1, Verified: true}}
	}
	filtered := func(cpuPerPub, cpuPerDeliv float64) *FilterResult {
		return &FilterResult{CPUPerPubNs: cpuPerPub, CPUPerDelivNs: cpuPerDeliv}
	}
	tests := []struct {
		name   string
		kuz    TargetRun
		missed []string
	}{
		{
			name: "every target met",
			kuz: TargetRun{Idle: idle(900), Fanout: fan(50e6, 10e3), RR: rr(1e5, 5e6),
				Targeted: filtered(12e3, 12e3), Mixed: filtered(0, 11e3), Churn: &ChurnResult{CPUPerCycleNs: 20e3}, SubsMem: mem(400, 80),
				Adversary: &AdvResult{AdvRun: AdvRun{SlowlorisShift: 0.05, NonReadShift: -0.02}}},
		},
		{
			name: "every target missed",
			// Targeted: 20 us per publication, 3x lower than the stand-in's 60 and 2x the 10 us
			// per request; churn 2.5x lower; mixed 30 us per delivery, 1.5x the fan-out's 20.
			kuz: TargetRun{Idle: idle(5000), Fanout: fan(200e6, 20e3), RR: rr(1e5, 9e6),
				// Memory: 600 B per room; a member delta of 0 resolves nothing.
				Targeted: filtered(20e3, 20e3), Mixed: filtered(0, 30e3), Churn: &ChurnResult{CPUPerCycleNs: 40e3}, SubsMem: mem(600, 0),
				Adversary: &AdvResult{AdvRun: AdvRun{SlowlorisShift: 0.5, NonReadShift: -1, NonRead: FanoutResult{Stalled: true}}}},
			missed: []string{"idle RSS per connection", "idle RSS vs gorilla", "idle RSS vs nbio", "time to last vs 2-thread floor",
				"time to last vs peers", "CPU per delivery", "request/response at 1000 conns x 1", "request/response at 1000 conns x 8",
				"targeted: server CPU per publication vs the Kuzzle stand-in", "targeted: server CPU per publication vs kuzzlews's own request/response at 1000 conns",
				"churn", "subsmem: RSS per distinct room, 1000 rooms", "subsmem: RSS per extra member of one room, 300 members",
				"mixed", "slowloris", "non-readers"},
		},
		{
			// A figure from a run that failed its checks meets nothing.
			name: "subsmem unverified",
			kuz: TargetRun{Idle: idle(900), Fanout: fan(50e6, 10e3), RR: rr(1e5, 5e6),
				Targeted: filtered(12e3, 12e3), Mixed: filtered(0, 11e3), Churn: &ChurnResult{CPUPerCycleNs: 20e3},
				SubsMem:   &SubsMemResult{Rooms: SubsMemPart{Answered: 999, RSSPer: 400}, Members: SubsMemPart{Answered: 300, RSSPer: 80, Verified: true}},
				Adversary: &AdvResult{AdvRun: AdvRun{SlowlorisShift: 0.05, NonReadShift: -0.02}}},
			missed: []string{"subsmem: RSS per distinct room, 999 rooms"},
		},
		{
			// One noisy run of three does not move the median; a stall in any run misses.
			name: "adversaries: the median of the runs decides, a stall in any run misses",
			kuz: TargetRun{Idle: idle(900), Fanout: fan(50e6, 10e3), RR: rr(1e5, 5e6),
				Targeted: filtered(12e3, 12e3), Mixed: filtered(0, 11e3), Churn: &ChurnResult{CPUPerCycleNs: 20e3}, SubsMem: mem(400, 80),
				Adversary: &AdvResult{AdvRun: AdvRun{SlowlorisShift: 0.04, NonReadShift: 0.03}, Runs: []AdvRun{
					{SlowlorisShift: 0.02, NonReadShift: 0.01},
					{SlowlorisShift: 0.9, NonReadShift: 0.03, NonRead: FanoutResult{Stalled: true}},
					{SlowlorisShift: 0.04, NonReadShift: 0.05},
				}}},
			missed: []string{"non-readers, median of 3 runs"},
		},
	}
	// Every goal has a row when every figure is there: fds, idle RSS x3, fan-out x3, rr x2
	// (1 and 8 in flight), targeted x2, churn, subscription memory x2, mixed, adversaries x2.
	const wantRows = 17
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.kuz
			k.Mode, k.Target = "shared", "kuzzlews"
			res := &Results{Runs: []TargetRun{
				k,
				{Mode: "shared", Target: "gorilla", Idle: idle(17000), Fanout: fan(100e6, 12e3), RR: rr(0.8e5, 6e6)},
				{Mode: "shared", Target: "nbio", Idle: idle(1300), Fanout: fan(85e6, 11e3)},
				{Mode: "shared", Target: "floor1", Fanout: fan(80e6, 9.5e3)},
				{Mode: "shared", Target: "floor2", Fanout: fan(45e6, 9.8e3)},
				{Mode: "shared", Target: "kuzzle-standin", Targeted: filtered(60e3, 60e3), Churn: &ChurnResult{CPUPerCycleNs: 100e3}, SubsMem: mem(9000, 12000)},
			}}
			var missed []string
			rows := goals(res)
			if len(rows) != wantRows {
				t.Errorf("%d goal rows, want %d: %+v", len(rows), wantRows, rows)
			}
			for _, g := range rows {
				if strings.HasPrefix(g.figure, "subsmem") && !strings.Contains(g.value, "stand-in 9000 B") && !strings.Contains(g.value, "stand-in 12000 B") {
					t.Errorf("%s: %q does not show the stand-in's figure", g.figure, g.value)
				}
				if !g.met {
					missed = append(missed, g.figure)
				}
			}
			if len(missed) != len(tt.missed) {
				t.Fatalf("missed %q, want %d: %q", missed, len(tt.missed), tt.missed)
			}
			for i, want := range tt.missed {
				if !strings.Contains(missed[i], want) {
					t.Errorf("missed[%d] = %q, want it to name %q", i, missed[i], want)
				}
			}
			if md := goalsMarkdown(res); strings.Count(md, "MISSED") != len(tt.missed) {
				t.Errorf("markdown shows %d MISSED, want %d:\n%s", strings.Count(md, "MISSED"), len(tt.missed), md)
			}
		})
	}
}
