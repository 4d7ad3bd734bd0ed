package harness

import (
	"fmt"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// ClusterRateStep is one publication rate pushed from the first node to subscribers on
// the second.
type ClusterRateStep struct {
	Rate      float64 `json:"rate"`
	Sent      int64   `json:"sent"`
	Expected  int64   `json:"expected"`
	Delivered int64   `json:"delivered"`
	// P50, P99 and Max are of publisher's send to arrival over every delivery (ns).
	P50 int64 `json:"p50"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
	// PubPerSec and DelivPerSec are Sent and Delivered over the step's duration.
	PubPerSec   float64 `json:"pubPerSec"`
	DelivPerSec float64 `json:"delivPerSec"`
	// NodeCPUNs is each node's CPU over the step (publisher's node first), NATSCPUNs
	// nats-server's; CPUPerPubNs is their sum per publication sent.
	NodeCPUNs   []int64 `json:"nodeCpuNs"`
	NATSCPUNs   int64   `json:"natsCpuNs"`
	CPUPerPubNs float64 `json:"cpuPerPubNs"`
	// ClientCPUShare is the workers' CPU over the step's wall time, in cores.
	ClientCPUShare float64    `json:"clientCpuShare"`
	NATS           *NATSCount `json:"nats,omitempty"`
	Pass           bool       `json:"pass"`
	// Retry: the same rate run again because the previous attempt failed.
	Retry bool `json:"retry,omitempty"`
}

// ClusterRateResult is the rate scenario: Channels x SubsPerChannel subscribers on the
// second node, Publishers connections on the first.
type ClusterRateResult struct {
	Channels       int               `json:"channels"`
	SubsPerChannel int               `json:"subsPerChannel"`
	Publishers     int               `json:"publishers"`
	Steps          []ClusterRateStep `json:"steps"`
	// BestRate is the highest rate held (p99 within MaxP99, nothing missing), 0 if none;
	// BestPubPerSec the publications per second measured then.
	BestRate      float64 `json:"bestRate"`
	BestPubPerSec float64 `json:"bestPubPerSec"`
	BestP99       int64   `json:"bestP99"`
}

// rate raises the publication rate of node 1's publishers, every publication crossing
// NATS to node 2's subscribers, and stops at the first rate that fails twice in a row.
func (c *clusterRun) rate() {
	cl, err := c.startCluster(2, true, "rate")
	if err != nil {
		c.fail("rate", err)
		return
	}
	defer cl.stop()
	r, err := c.runRate(cl)
	c.res.Rate = r
	if err == nil {
		err = cl.alive()
	}
	if err != nil {
		c.fail("rate", err)
	}
}

func (c *clusterRun) runRate(cl *clusterProcs) (*ClusterRateResult, error) {
	ch, per := max(c.cfg.RateChannels, 1), max(c.cfg.RateSubs, 1)
	r := &ClusterRateResult{Channels: ch, SubsPerChannel: per, Publishers: max(c.cfg.RatePublishers, 1)}
	sc, err := c.spawn(cl.nodes[1], cl.ts[1], load.RoleSub, ch*per, spawnOpts{channels: ch})
	if err != nil {
		return r, err
	}
	defer sc.quit()
	if sc.Failed > 0 {
		return r, fmt.Errorf("rate: %d subscribers failed: %s", sc.Failed, sc.FirstErr)
	}
	pc, err := c.spawn(cl.nodes[0], cl.ts[0], load.RolePub, r.Publishers, spawnOpts{})
	if err != nil {
		return r, err
	}
	defer pc.quit()
	if pc.Failed > 0 {
		return r, fmt.Errorf("rate: %d publishers failed: %s", pc.Failed, pc.FirstErr)
	}
	names := []string{cl.ts[0].name, cl.ts[1].name}
	step := 0
	for i := 0; i < len(c.cfg.Rates); i++ {
		rate := c.cfg.Rates[i]
		if err := c.ctx.Err(); err != nil {
			return r, err
		}
		step++
		s0, err := cl.natsSnapshot()
		if err != nil {
			return r, err
		}
		cpu0, nats0 := cl.cpu()
		cl0, w0 := cpuSum(sc, pc), time.Now()
		if err := pc.send(load.Command{Cmd: "start", Rate: rate, DurationMs: int(c.cfg.RateStep / time.Millisecond),
			Channels: ch, Step: step, Pad: c.cfg.Pad}); err != nil {
			return r, err
		}
		preps, err := pc.wait("start", c.cfg.RateStep+60*time.Second)
		if err != nil {
			return r, err
		}
		time.Sleep(c.cfg.Grace)
		s1, err := cl.natsSnapshot()
		if err != nil {
			return r, err
		}
		cpu1, nats1 := cl.cpu()
		if err := sc.send(load.Command{Cmd: "collect", Reset: true}); err != nil {
			return r, err
		}
		reps, err := sc.wait("collect", 120*time.Second)
		if err != nil {
			return r, err
		}
		st := ClusterRateStep{Rate: rate, Sent: preps[0].Sent, NATSCPUNs: nats1 - nats0}
		st.ClientCPUShare = float64(cpuSum(sc, pc)-cl0) / float64(time.Since(w0).Nanoseconds())
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
		st.PubPerSec = float64(st.Sent) / c.cfg.RateStep.Seconds()
		st.DelivPerSec = float64(st.Delivered) / c.cfg.RateStep.Seconds()
		all := st.NATSCPUNs
		for j := range cpu1 {
			st.NodeCPUNs = append(st.NodeCPUNs, cpu1[j]-cpu0[j])
			all += cpu1[j] - cpu0[j]
		}
		if st.Sent > 0 {
			st.CPUPerPubNs = float64(all) / float64(st.Sent)
		}
		st.NATS = natsCount(s0, s1, names, []int64{st.Sent, 0}, []bool{false, true})
		st.Pass = st.Sent > 0 && st.Delivered == st.Expected && time.Duration(st.P99) <= c.cfg.MaxP99
		st.Retry = len(r.Steps) > 0 && r.Steps[len(r.Steps)-1].Rate == rate
		r.Steps = append(r.Steps, st)
		c.cfg.logf("  rate %.0f pub/s: sent %d (%.0f/s), p50 %s p99 %s, missing %d, NATS messages to %s per publication %.3f (slow consumers %d), %.2f us server CPU/pub, pass %v",
			rate, st.Sent, st.PubPerSec, ms(st.P50), ms(st.P99), st.Expected-st.Delivered, names[1], st.NATS.DocMsgsPerPub, st.NATS.SlowConsumers, st.CPUPerPubNs/1e3, st.Pass)
		if !st.Pass {
			if !st.Retry {
				i-- // a shared machine hiccups: a rate fails only when it fails twice in a row
				continue
			}
			break
		}
		r.BestRate, r.BestPubPerSec, r.BestP99 = rate, st.PubPerSec, st.P99
	}
	return r, nil
}

// NodeVerify is one node's share of the verified workload.
type NodeVerify struct {
	Node       string `json:"node"`
	Subs       int    `json:"subs"`
	Connected  int    `json:"connected"`
	Publishers int    `json:"publishers"`
	// Sent publications by this node's publishers.
	Sent int64 `json:"sent"`
	// The load.Verify counts of this node's subscribers, over the publications of every node.
	Delivered  int64 `json:"delivered"`
	Expected   int64 `json:"expected"`
	Matched    int64 `json:"matched"`
	Unexpected int64 `json:"unexpected"`
	Duplicates int64 `json:"duplicates"`
	WrongRoom  int64 `json:"wrongRoom"`
	Other      int64 `json:"other"`
	DelivP50   int64 `json:"delivP50"`
	DelivP99   int64 `json:"delivP99"`
	CPUNs      int64 `json:"cpuNs"`
}

// ClusterVerifyResult is the mixed workload over two nodes: every subscriber with its own
// filter (so about as many rooms as subscribers on each node), publishers on both nodes.
type ClusterVerifyResult struct {
	Subs       int          `json:"subs"`
	Publishers int          `json:"publishers"`
	Nodes      []NodeVerify `json:"nodes"`
	// Sent publications; Unanswered, PubErrors, Stray as in FilterResult.
	Sent       int64 `json:"sent"`
	Unanswered int64 `json:"unanswered"`
	PubErrors  int64 `json:"pubErrors"`
	Stray      int64 `json:"stray"`
	// The sums of the nodes' counts; Missing is Expected - Matched.
	Delivered  int64 `json:"delivered"`
	Expected   int64 `json:"expected"`
	Matched    int64 `json:"matched"`
	Missing    int64 `json:"missing"`
	Unexpected int64 `json:"unexpected"`
	Duplicates int64 `json:"duplicates"`
	WrongRoom  int64 `json:"wrongRoom"`
	Other      int64 `json:"other"`
	// Verified: every expected delivery arrived once, on its channel, nothing else did,
	// every publication was answered.
	Verified    bool    `json:"verified"`
	WindowNs    int64   `json:"windowNs"`
	PubPerSec   float64 `json:"pubPerSec"`
	DelivPerSec float64 `json:"delivPerSec"`
	// ServerCPUNs is both nodes' and nats-server's (NATSCPUNs) CPU from the first
	// publication to the last delivery.
	ServerCPUNs   int64      `json:"serverCpuNs"`
	NATSCPUNs     int64      `json:"natsCpuNs"`
	CPUPerDelivNs float64    `json:"cpuPerDelivNs"`
	DelivP50      int64      `json:"delivP50"`
	DelivP99      int64      `json:"delivP99"`
	NATS          *NATSCount `json:"nats,omitempty"`
}

// verify runs the mixed workload over two nodes and checks every delivery.
func (c *clusterRun) verify() {
	cl, err := c.startCluster(2, true, "verify")
	if err != nil {
		c.fail("verify", err)
		return
	}
	defer cl.stop()
	r, err := c.runVerify(cl)
	c.res.Verify = r
	if err == nil {
		err = cl.alive()
	}
	if err != nil {
		c.fail("verify", err)
	}
}

func (c *clusterRun) runVerify(cl *clusterProcs) (*ClusterVerifyResult, error) {
	subs, pubs := max(c.cfg.VerifySubs, 2), max(c.cfg.VerifyPubs, 2)
	kind := load.WorkMixed
	r := &ClusterVerifyResult{Subs: subs, Publishers: pubs}
	subAt := []int{0, subs / 2, subs}
	pubAt := []int{0, pubs / 2, pubs}
	var scs, pcs []*crowd
	defer func() {
		for _, x := range append(scs, pcs...) {
			x.quit()
		}
	}()
	for i := range 2 {
		r.Nodes = append(r.Nodes, NodeVerify{Node: cl.ts[i].name, Subs: subAt[i+1] - subAt[i], Publishers: pubAt[i+1] - pubAt[i]})
		sc, err := c.spawn(cl.nodes[i], cl.ts[i], load.RoleFSub, subAt[i+1]-subAt[i], spawnOpts{workload: kind, subs: subs, first: subAt[i]})
		if err != nil {
			return r, err
		}
		scs = append(scs, sc)
		if sc.Failed > 0 {
			return r, fmt.Errorf("verify: %d subscribers of %s failed: %s", sc.Failed, cl.ts[i].name, sc.FirstErr)
		}
		r.Nodes[i].Connected = sc.Connected
	}
	for i := range 2 {
		pc, err := c.spawn(cl.nodes[i], cl.ts[i], load.RoleCPub, pubAt[i+1]-pubAt[i], spawnOpts{workload: kind, subs: subs, pubs: pubs, first: pubAt[i]})
		if err != nil {
			return r, err
		}
		pcs = append(pcs, pc)
		if pc.Failed > 0 {
			return r, fmt.Errorf("verify: %d publishers of %s failed: %s", pc.Failed, cl.ts[i].name, pc.FirstErr)
		}
	}
	s0, err := cl.natsSnapshot()
	if err != nil {
		return r, err
	}
	cpu0, nats0 := cl.cpu()
	wait := c.cfg.StallAfter
	for _, pc := range pcs {
		if err := pc.send(load.Command{Cmd: "start", DurationMs: int(c.cfg.VerifyDuration / time.Millisecond),
			ReplyWaitMs: int(wait / time.Millisecond), Step: 1}); err != nil {
			return r, err
		}
	}
	pubSent := make([]int64, pubs)
	for i, pc := range pcs {
		preps, err := pc.wait("start", c.cfg.VerifyDuration+wait+60*time.Second)
		if err != nil {
			return r, err
		}
		for _, p := range preps {
			for j, n := range p.PubSent {
				if k := p.PubFirst + j; k < pubs {
					pubSent[k] = n
				}
			}
			r.Nodes[i].Sent += p.Sent
			r.Sent += p.Sent
			r.Unanswered += p.Unanswered
			r.PubErrors += p.Errors
			r.Stray += p.Stray
			r.WindowNs = max(r.WindowNs, p.WindowNs)
		}
	}
	deadline := time.Now().Add(wait)
	var vs [2]load.Verify
	for {
		time.Sleep(c.cfg.Grace)
		var delivered, expected int64
		for i, sc := range scs {
			if err := sc.send(load.Command{Cmd: "verify", PubSent: pubSent}); err != nil {
				return r, err
			}
			reps, err := sc.wait("verify", 120*time.Second)
			if err != nil {
				return r, err
			}
			vs[i] = load.Verify{}
			for _, rep := range reps {
				if rep.Verify != nil {
					vs[i].Add(rep.Verify)
				}
			}
			delivered += vs[i].Delivered
			expected += vs[i].Expected
		}
		if delivered >= expected || time.Now().After(deadline) {
			break
		}
	}
	s1, err := cl.natsSnapshot()
	if err != nil {
		return r, err
	}
	cpu1, nats1 := cl.cpu()
	var lat load.Hist
	for i := range 2 {
		v, n := &vs[i], &r.Nodes[i]
		n.Delivered, n.Expected, n.Matched = v.Delivered, v.Expected, v.Matched
		n.Unexpected, n.Duplicates, n.WrongRoom, n.Other = v.Unexpected, v.Duplicates, v.WrongRoom, v.Other
		n.DelivP50, n.DelivP99 = v.Latency.Quantile(0.5), v.Latency.Quantile(0.99)
		n.CPUNs = cpu1[i] - cpu0[i]
		r.ServerCPUNs += n.CPUNs
		r.Delivered += v.Delivered
		r.Expected += v.Expected
		r.Matched += v.Matched
		r.Unexpected += v.Unexpected
		r.Duplicates += v.Duplicates
		r.WrongRoom += v.WrongRoom
		r.Other += v.Other
		lat.Merge(&v.Latency)
	}
	r.NATSCPUNs = nats1 - nats0
	r.ServerCPUNs += r.NATSCPUNs
	r.Missing = r.Expected - r.Matched
	r.DelivP50, r.DelivP99 = lat.Quantile(0.5), lat.Quantile(0.99)
	if r.WindowNs > 0 {
		r.PubPerSec = float64(r.Sent) / (float64(r.WindowNs) / 1e9)
		r.DelivPerSec = float64(r.Delivered) / (float64(r.WindowNs) / 1e9)
	}
	if r.Delivered > 0 {
		r.CPUPerDelivNs = float64(r.ServerCPUNs) / float64(r.Delivered)
	}
	r.NATS = natsCount(s0, s1, []string{cl.ts[0].name, cl.ts[1].name}, []int64{r.Nodes[0].Sent, r.Nodes[1].Sent}, []bool{true, true})
	r.Verified = r.Sent > 0 && r.Expected > 0 && r.Missing == 0 && r.Unexpected == 0 && r.Duplicates == 0 &&
		r.WrongRoom == 0 && r.Other == 0 && r.Stray == 0 && r.Unanswered == 0 && r.PubErrors == 0
	c.cfg.logf("  verify %d subs x %d publishers over 2 nodes: %.0f pub/s, %.0f deliveries/s, p50 %s p99 %s; delivered %d of %d expected, missing %d, unexpected %d, duplicates %d, wrong room %d; rooms %d + %d; NATS one message per node %v; verified %v",
		r.Subs, r.Publishers, r.PubPerSec, r.DelivPerSec, ms(r.DelivP50), ms(r.DelivP99), r.Delivered, r.Expected, r.Missing, r.Unexpected,
		r.Duplicates, r.WrongRoom, r.NATS.Nodes[0].Rooms, r.NATS.Nodes[1].Rooms, r.NATS.OneMessagePerNode, r.Verified)
	if !r.Verified {
		return r, fmt.Errorf("verify: deliveries do not match the filters: sent %d (unanswered %d, errors %d, stray %d), delivered %d, expected %d, matched %d, unexpected %d, duplicates %d, wrong room %d, other %d",
			r.Sent, r.Unanswered, r.PubErrors, r.Stray, r.Delivered, r.Expected, r.Matched, r.Unexpected, r.Duplicates, r.WrongRoom, r.Other)
	}
	return r, nil
}
