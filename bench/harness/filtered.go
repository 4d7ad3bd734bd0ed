package harness

import (
	"errors"
	"fmt"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// filtered runs one filtered workload (load.WorkTargeted or load.WorkMixed): FilterSubs
// subscribers each with its own filter, FilterPubs publishers in a closed loop for
// FilterDuration, then every delivery checked by the subscribers' workers against the
// workload's filters. Any missing, unexpected, duplicated or misrouted delivery, and any
// unanswered or failed publication, fails the run (the result is returned with the error).
func (e *env) filtered(t *target, srv *server, kind string) (*FilterResult, error) {
	subs, pubs := e.cfg.FilterSubs, max(e.cfg.FilterPubs, 1)
	sc, err := e.spawn(srv, t, load.RoleFSub, subs, spawnOpts{workload: kind, subs: subs})
	if err != nil {
		return nil, err
	}
	defer sc.quit()
	if sc.Failed > 0 {
		return nil, fmt.Errorf("%s: %d subscribers failed: %s", kind, sc.Failed, sc.FirstErr)
	}
	pc, err := e.spawn(srv, t, load.RoleCPub, pubs, spawnOpts{workload: kind, subs: subs, pubs: pubs})
	if err != nil {
		return nil, err
	}
	defer pc.quit()
	if pc.Failed > 0 {
		return nil, fmt.Errorf("%s: %d publishers failed: %s", kind, pc.Failed, pc.FirstErr)
	}
	r := &FilterResult{Workload: kind, Subs: subs, Connected: sc.Connected, Publishers: pubs}
	s0, err := srv.sample()
	if err != nil {
		return nil, err
	}
	cl0 := cpuSum(sc, pc)
	wait := e.cfg.StallAfter
	if err := pc.send(load.Command{Cmd: "start", DurationMs: int(e.cfg.FilterDuration / time.Millisecond),
		ReplyWaitMs: int(wait / time.Millisecond), Step: 1}); err != nil {
		return nil, err
	}
	preps, err := pc.wait("start", e.cfg.FilterDuration+wait+60*time.Second)
	if err != nil {
		return nil, err
	}
	pubSent := make([]int64, pubs)
	var rtt load.Hist
	for _, p := range preps {
		for j, n := range p.PubSent {
			if i := p.PubFirst + j; i < pubs {
				pubSent[i] = n
			}
		}
		r.Sent += p.Sent
		r.Unanswered += p.Unanswered
		r.PubErrors += p.Errors
		r.Stray += p.Stray
		r.WindowNs = max(r.WindowNs, p.WindowNs)
		if p.Latency != nil {
			rtt.Merge(p.Latency)
		}
	}
	r.PubRTTP50, r.PubRTTP99 = rtt.Quantile(0.5), rtt.Quantile(0.99)
	// Late deliveries: verify again, Grace apart, until all expected ones arrived or
	// StallAfter passed.
	var v load.Verify
	deadline := time.Now().Add(wait)
	for {
		time.Sleep(e.cfg.Grace)
		if err := sc.send(load.Command{Cmd: "verify", PubSent: pubSent}); err != nil {
			return nil, err
		}
		reps, err := sc.wait("verify", 120*time.Second)
		if err != nil {
			return nil, err
		}
		v = load.Verify{}
		for _, rep := range reps {
			if rep.Verify != nil {
				v.Add(rep.Verify)
			}
		}
		if v.Delivered >= v.Expected || time.Now().After(deadline) {
			break
		}
	}
	s1, err := srv.sample()
	if err != nil {
		return nil, err
	}
	r.ServerCPUNs = s1.CPUNs - s0.CPUNs
	r.ClientCPUNs = cpuSum(sc, pc) - cl0
	r.RSSAfter = s1.RSS
	r.Delivered, r.Expected, r.Matched = v.Delivered, v.Expected, v.Matched
	r.Missing = v.Expected - v.Matched
	r.Unexpected, r.Duplicates, r.WrongRoom, r.Other = v.Unexpected, v.Duplicates, v.WrongRoom, v.Other
	r.DelivP50, r.DelivP99, r.DelivMax = v.Latency.Quantile(0.5), v.Latency.Quantile(0.99), v.Latency.Max
	if r.WindowNs > 0 {
		r.PubPerSec = float64(r.Sent) / (float64(r.WindowNs) / 1e9)
		r.DelivPerSec = float64(r.Delivered) / (float64(r.WindowNs) / 1e9)
	}
	if r.Sent > 0 {
		r.CPUPerPubNs = float64(r.ServerCPUNs) / float64(r.Sent)
	}
	if r.Delivered > 0 {
		r.CPUPerDelivNs = float64(r.ServerCPUNs) / float64(r.Delivered)
	}
	r.Verified = r.Sent > 0 && r.Expected > 0 && r.Missing == 0 && r.Unexpected == 0 && r.Duplicates == 0 &&
		r.WrongRoom == 0 && r.Other == 0 && r.Stray == 0 && r.Unanswered == 0 && r.PubErrors == 0
	if kind == load.WorkTargeted && r.Expected != r.Sent {
		r.Verified = false // by construction every publication matches exactly one subscriber
	}
	e.cfg.logf("  %s %s %d subs x %d publishers: %.0f pub/s, %.0f deliveries/s, %.2f us CPU/pub, %.2f us CPU/delivery, p50 %s p99 %s; delivered %d of %d expected, missing %d, unexpected %d, duplicates %d, wrong room %d, verified %v",
		t.name, kind, r.Connected, pubs, r.PubPerSec, r.DelivPerSec, r.CPUPerPubNs/1e3, r.CPUPerDelivNs/1e3, ms(r.DelivP50), ms(r.DelivP99),
		r.Delivered, r.Expected, r.Missing, r.Unexpected, r.Duplicates, r.WrongRoom, r.Verified)
	if !r.Verified {
		return r, fmt.Errorf("%s: deliveries do not match the filters: sent %d (unanswered %d, errors %d, stray %d), delivered %d, expected %d, matched %d, unexpected %d, duplicates %d, wrong room %d, other %d",
			kind, r.Sent, r.Unanswered, r.PubErrors, r.Stray, r.Delivered, r.Expected, r.Matched, r.Unexpected, r.Duplicates, r.WrongRoom, r.Other)
	}
	return r, nil
}

// churn runs ChurnConns connections that subscribe a fresh filter and unsubscribe it in a
// loop for ChurnDuration, beside ChurnSubs subscribers of the mixed workload (so the engine
// holds a realistic set of filters). A failed request, a reply with the wrong room or a
// notification to a churner fails the run.
func (e *env) churn(t *target, srv *server) (*ChurnResult, error) {
	r := &ChurnResult{Conns: e.cfg.ChurnConns, Subs: e.cfg.ChurnSubs}
	if e.cfg.ChurnSubs > 0 {
		sc, err := e.spawn(srv, t, load.RoleFSub, e.cfg.ChurnSubs, spawnOpts{workload: load.WorkMixed, subs: e.cfg.ChurnSubs})
		if err != nil {
			return nil, err
		}
		defer sc.quit()
		if sc.Failed > 0 {
			return nil, fmt.Errorf("churn: %d subscribers failed: %s", sc.Failed, sc.FirstErr)
		}
	}
	cc, err := e.spawn(srv, t, load.RoleChurn, e.cfg.ChurnConns, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer cc.quit()
	if cc.Failed > 0 {
		return nil, fmt.Errorf("churn: %d connections failed: %s", cc.Failed, cc.FirstErr)
	}
	r.Connected = cc.Connected
	s0, err := srv.sample()
	if err != nil {
		return nil, err
	}
	cl0 := cc.cpuNs()
	if err := cc.send(load.Command{Cmd: "start", DurationMs: int(e.cfg.ChurnDuration / time.Millisecond)}); err != nil {
		return nil, err
	}
	reps, err := cc.wait("start", e.cfg.ChurnDuration+60*time.Second)
	if err != nil {
		return nil, err
	}
	s1, err := srv.sample()
	if err != nil {
		return nil, err
	}
	var h load.Hist
	for _, rep := range reps {
		r.Cycles += rep.Done
		r.Errors += rep.Errors
		r.Mismatched += rep.Mismatched
		r.Stray += rep.Stray
		r.WindowNs = max(r.WindowNs, rep.WindowNs)
		if rep.Latency != nil {
			h.Merge(rep.Latency)
		}
	}
	r.ServerCPUNs = s1.CPUNs - s0.CPUNs
	r.ClientCPUNs = cc.cpuNs() - cl0
	r.RSSAfter = s1.RSS
	r.P50, r.P99 = h.Quantile(0.5), h.Quantile(0.99)
	if r.WindowNs > 0 {
		r.CyclesPerSec = float64(r.Cycles) / (float64(r.WindowNs) / 1e9)
	}
	if r.Cycles > 0 {
		r.CPUPerCycleNs = float64(r.ServerCPUNs) / float64(r.Cycles)
	}
	r.Verified = r.Cycles > 0 && r.Errors == 0 && r.Mismatched == 0 && r.Stray == 0
	e.cfg.logf("  %s churn %d conns beside %d subs: %.0f cycles/s, %.2f us CPU/cycle, p50 %s p99 %s; errors %d, mismatched %d, stray %d",
		t.name, r.Connected, r.Subs, r.CyclesPerSec, r.CPUPerCycleNs/1e3, ms(r.P50), ms(r.P99), r.Errors, r.Mismatched, r.Stray)
	if !r.Verified {
		return r, errors.New("churn: " + churnFailure(r))
	}
	return r, nil
}

func churnFailure(r *ChurnResult) string {
	return fmt.Sprintf("%d cycles, %d errors, %d replies with the wrong room, %d stray frames", r.Cycles, r.Errors, r.Mismatched, r.Stray)
}
