package harness

import (
	"fmt"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// sustained raises the publication rate step by step over Channels x SustainSubs subscribers
// and stops at the first rate whose p99 delivery latency passes MaxP99 or that misses a
// delivery twice in a row.
func (e *env) sustained(t *target, srv *server) (*SustainedResult, error) {
	ch, per := max(e.cfg.SustainChannels, 1), e.cfg.SustainSubs
	r := &SustainedResult{Channels: ch, SubsPerChannel: per}
	sc, err := e.spawn(srv, t, load.RoleSub, ch*per, spawnOpts{channels: ch})
	if err != nil {
		return nil, err
	}
	defer sc.quit()
	if sc.Failed > 0 {
		return nil, fmt.Errorf("sustained: %d subscribers failed: %s", sc.Failed, sc.FirstErr)
	}
	pc, err := e.spawn(srv, t, load.RolePub, 1, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer pc.quit()
	step := 1 // 0 is fan-out, 1 the prefill
	for i := 0; i < len(e.cfg.SustainRates); i++ {
		rate := e.cfg.SustainRates[i]
		if err := e.ctx.Err(); err != nil {
			return r, err
		}
		step++
		s0, err := srv.sample()
		if err != nil {
			return r, err
		}
		cl0, w0 := cpuSum(sc, pc), time.Now()
		if err := pc.send(load.Command{Cmd: "start", Rate: rate, DurationMs: int(e.cfg.SustainStep / time.Millisecond),
			Channels: ch, Step: step, Pad: e.cfg.Pad}); err != nil {
			return r, err
		}
		preps, err := pc.wait("start", e.cfg.SustainStep+60*time.Second)
		if err != nil {
			return r, err
		}
		time.Sleep(e.cfg.Grace)
		s1, err := srv.sample()
		if err != nil {
			return r, err
		}
		if err := sc.send(load.Command{Cmd: "collect", Reset: true}); err != nil {
			return r, err
		}
		reps, err := sc.wait("collect", 120*time.Second)
		if err != nil {
			return r, err
		}
		st := SustainedStep{Rate: rate, Sent: preps[0].Sent, ClientCPUNs: cpuSum(sc, pc) - cl0}
		st.ClientCPUShare = float64(st.ClientCPUNs) / float64(time.Since(w0).Nanoseconds())
		st.Expected = st.Sent * int64(per)
		var h load.Hist
		for _, rep := range reps {
			for _, g := range rep.Groups {
				if g.Step == step {
					h.Merge(&g.Hist)
				}
			}
		}
		st.Delivered = int64(h.N)
		st.P50, st.P99, st.Max = h.Quantile(0.5), h.Quantile(0.99), h.Max
		st.DelivPerSec = float64(st.Delivered) / e.cfg.SustainStep.Seconds()
		if st.Delivered > 0 {
			st.CPUPerDelivNs = float64(s1.CPUNs-s0.CPUNs) / float64(st.Delivered)
		}
		st.Pass = st.Delivered == st.Expected && time.Duration(st.P99) <= e.cfg.MaxP99
		st.Retry = len(r.Steps) > 0 && r.Steps[len(r.Steps)-1].Rate == rate
		r.Steps = append(r.Steps, st)
		e.cfg.logf("  %s sustained %.0f pub/s x %d subs: %.0f deliveries/s, p99 %s, missing %d, %.2f us CPU/delivery, client %.2f cores, pass %v",
			t.name, rate, per, st.DelivPerSec, ms(st.P99), st.Expected-st.Delivered, st.CPUPerDelivNs/1e3, st.ClientCPUShare, st.Pass)
		if !st.Pass {
			if !st.Retry {
				i-- // a shared machine hiccups: a rate fails only when it fails twice in a row
				continue
			}
			break
		}
		r.BestDelivPerSec, r.BestCPUPerDelivNs = st.DelivPerSec, st.CPUPerDelivNs
	}
	return r, nil
}
