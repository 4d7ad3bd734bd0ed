package harness

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// ClusterResults is the whole output of RunCluster, written as results.json.
type ClusterResults struct {
	Machine Machine       `json:"machine"`
	Config  ClusterConfig `json:"config"`
	// NATSServer is the version line of the nats-server that ran.
	NATSServer string `json:"natsServer"`
	// Fanout holds, per subscriber count, the local, remote and split placements.
	Fanout []ClusterFanoutResult `json:"fanout,omitempty"`
	Rate   *ClusterRateResult    `json:"rate,omitempty"`
	Verify *ClusterVerifyResult  `json:"verify,omitempty"`
	// Scale holds the single node ("single") and the ScaleNodes nodes ("scale").
	Scale []ClusterFanoutResult `json:"scale,omitempty"`
	// Errors lists the placements that failed, with why.
	Errors []string `json:"errors,omitempty"`
}

// NodeFanout is one node of a cluster fan-out. Times are ns from the publisher's
// wall-clock send to each subscriber's wall-clock arrival.
type NodeFanout struct {
	Node string `json:"node"`
	// Publisher: the publisher is connected to this node (its deliveries are same-node).
	Publisher bool `json:"publisher"`
	Subs      int  `json:"subs"`
	Connected int  `json:"connected"`
	// Delivered deliveries; Missing and Extra, per publication, the subscribers short of
	// Connected and past it (a duplicate), summed.
	Delivered int64     `json:"delivered"`
	Missing   int64     `json:"missing"`
	Extra     int64     `json:"extra"`
	PerPub    []PubStat `json:"perPub"`
	// TTLMedian and TTLP99 are across publications, of the time to the last delivery on
	// this node; DelivP50 and DelivP99 over every delivery on this node.
	TTLMedian int64 `json:"ttlMedian"`
	TTLP99    int64 `json:"ttlP99"`
	DelivP50  int64 `json:"delivP50"`
	DelivP99  int64 `json:"delivP99"`
	// CPUNs is the node's CPU over the publications.
	CPUNs int64 `json:"cpuNs"`
	// RSSStart is VmRSS before any client, RSSReady once every subscriber is ready (and
	// ScaleSettle passed), RSSReadyGC after a forced GC then (-1 without pprof), RSSAfter
	// after the publications; FDs the open files when ready.
	RSSStart   int64 `json:"rssStart"`
	RSSReady   int64 `json:"rssReady"`
	RSSReadyGC int64 `json:"rssReadyGC"`
	RSSAfter   int64 `json:"rssAfter"`
	FDs        int   `json:"fds"`
	// RSSPerConn and RSSPerConnGC are (RSSReady - RSSStart) and (RSSReadyGC - RSSStart)
	// over the node's connections (subscribers, plus the publisher on its node), in bytes;
	// -1 when unknown.
	RSSPerConn   float64 `json:"rssPerConn"`
	RSSPerConnGC float64 `json:"rssPerConnGC"`
}

// ClusterFanoutResult is one placement of a fan-out: Subs subscribers over the nodes,
// one publisher on the first node, Sent publications.
type ClusterFanoutResult struct {
	// Name is the placement: "local", "remote", "split", "single" or "scale".
	Name  string       `json:"name"`
	Subs  int          `json:"subs"`
	Nodes []NodeFanout `json:"nodes"`
	Sent  int64        `json:"sent"`
	// IntervalNs is the spacing of the publications.
	IntervalNs int64 `json:"intervalNs"`
	// Expected is Sent x the connected subscribers; Missing and Extra sum the nodes'.
	Expected   int64 `json:"expected"`
	Delivered  int64 `json:"delivered"`
	Missing    int64 `json:"missing"`
	Extra      int64 `json:"extra"`
	SubsClosed int64 `json:"subsClosed"`
	// Stalled: the publisher's replies did not all come back within StallAfter.
	Stalled bool `json:"stalled"`
	// PerPub, TTLMedian and TTLP99 are over every node: the time to the very last delivery.
	PerPub       []PubStat `json:"perPub"`
	TTLMedian    int64     `json:"ttlMedian"`
	TTLP99       int64     `json:"ttlP99"`
	PubRTTMedian int64     `json:"pubRttMedian"`
	// ServerCPUNs is the CPU of every node and of nats-server (NATSCPUNs) over the
	// publications; CPUPerDelivNs divides it by Delivered. ClientCPUNs is the workers'.
	ServerCPUNs   int64   `json:"serverCpuNs"`
	NATSCPUNs     int64   `json:"natsCpuNs"`
	CPUPerDelivNs float64 `json:"cpuPerDelivNs"`
	ClientCPUNs   int64   `json:"clientCpuNs"`
	WallNs        int64   `json:"wallNs"`
	// NATS is nats-server's count over the publications (nil for a node without NATS).
	NATS *NATSCount `json:"nats,omitempty"`
}

// Node returns the result of the node that has (publisher true) or has not the
// publisher and has subscribers, nil if none.
func (r *ClusterFanoutResult) Node(publisher bool) *NodeFanout {
	for i := range r.Nodes {
		if r.Nodes[i].Publisher == publisher && r.Nodes[i].Connected > 0 {
			return &r.Nodes[i]
		}
	}
	return nil
}

// fanouts runs the local, remote and split placements at every FanoutSubs.
func (c *clusterRun) fanouts() {
	for _, s := range c.cfg.FanoutSubs {
		for _, p := range []struct {
			name  string
			place []int
		}{{"local", []int{s, 0}}, {"remote", []int{0, s}}, {"split", []int{s / 2, s - s/2}}} {
			if c.ctx.Err() != nil {
				return
			}
			label := fmt.Sprintf("fanout-%s-%d", p.name, s)
			r, err := c.placement(label, p.name, p.place, true, c.cfg.Pubs, 0)
			if r != nil {
				c.res.Fanout = append(c.res.Fanout, *r)
			}
			if err != nil {
				c.fail(label, err)
			}
		}
	}
}

// scale runs one node alone with ScaleSubs subscribers, then ScaleNodes nodes with
// ScaleSubs each.
func (c *clusterRun) scale() {
	place := make([]int, max(c.cfg.ScaleNodes, 1))
	for i := range place {
		place[i] = c.cfg.ScaleSubs
	}
	for _, p := range []struct {
		name  string
		place []int
		nats  bool
	}{{"single", place[:1], false}, {"scale", place, true}} {
		if c.ctx.Err() != nil {
			return
		}
		label := fmt.Sprintf("scale-%s-%dx%d", p.name, len(p.place), c.cfg.ScaleSubs)
		r, err := c.placement(label, p.name, p.place, p.nats, c.cfg.ScalePubs, c.cfg.ScaleSettle)
		if r != nil {
			c.res.Scale = append(c.res.Scale, *r)
		}
		if err != nil {
			c.fail(label, err)
		}
	}
}

// placement starts len(place) nodes (joined over a fresh nats-server when withNATS),
// runs one fan-out and stops them.
func (c *clusterRun) placement(label, name string, place []int, withNATS bool, pubs int, settle time.Duration) (*ClusterFanoutResult, error) {
	cl, err := c.startCluster(len(place), withNATS, label)
	if err != nil {
		return nil, err
	}
	defer cl.stop()
	r, err := c.clusterFanout(cl, name, place, pubs, settle)
	if err == nil {
		err = cl.alive()
	}
	if r != nil {
		c.cfg.logf("  %s: %d subs, ttl median %s (p99 %s), missing %d, extra %d, %.2f us server CPU/delivery, NATS one message per node: %v",
			label, r.Subs, ms(r.TTLMedian), ms(r.TTLP99), r.Missing, r.Extra, r.CPUPerDelivNs/1e3, r.NATS == nil || r.NATS.OneMessagePerNode)
		for _, n := range r.Nodes {
			if n.Connected > 0 {
				c.cfg.logf("    %s (publisher %v): %d subs, ttl median %s p99 %s, deliv p99 %s, %.0f B RSS/conn (%.0f after GC), CPU %s",
					n.Node, n.Publisher, n.Connected, ms(n.TTLMedian), ms(n.TTLP99), ms(n.DelivP99), n.RSSPerConn, n.RSSPerConnGC, ms(n.CPUNs))
			}
		}
	}
	return r, err
}

// clusterFanout runs one fan-out on cl: place[i] subscribers on node i (collection c0),
// one publisher on node 0, pubs publications; every delivery counted per publication
// and node, nats-server's statistics and every process's CPU over the publications.
func (c *clusterRun) clusterFanout(cl *clusterProcs, name string, place []int, pubs int, settle time.Duration) (*ClusterFanoutResult, error) {
	r := &ClusterFanoutResult{Name: name}
	for i, s := range cl.nodes {
		p, err := s.sample()
		if err != nil {
			return nil, err
		}
		r.Nodes = append(r.Nodes, NodeFanout{Node: cl.ts[i].name, Publisher: i == 0, Subs: place[i], RSSStart: p.RSS, RSSReadyGC: -1, RSSPerConn: -1, RSSPerConnGC: -1})
	}
	crowds := make([]*crowd, len(place))
	defer func() {
		for _, sc := range crowds {
			sc.quit()
		}
	}()
	total := 0
	for i, n := range place {
		if n == 0 {
			continue
		}
		sc, err := c.spawn(cl.nodes[i], cl.ts[i], load.RoleSub, n, spawnOpts{})
		if err != nil {
			return nil, err
		}
		crowds[i] = sc
		if sc.Failed > 0 {
			return nil, fmt.Errorf("%s: %d subscribers of %s failed: %s", name, sc.Failed, cl.ts[i].name, sc.FirstErr)
		}
		r.Nodes[i].Connected = sc.Connected
		total += sc.Connected
	}
	r.Subs = total
	pc, err := c.spawn(cl.nodes[0], cl.ts[0], load.RolePub, 1, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer pc.quit()
	if pc.Connected != 1 {
		return nil, fmt.Errorf("publisher did not connect: %s", pc.FirstErr)
	}
	time.Sleep(settle)
	for i, s := range cl.nodes {
		n := &r.Nodes[i]
		p, err := s.sample()
		if err != nil {
			return nil, err
		}
		n.RSSReady, n.FDs = p.RSS, p.FDs
		if s.forceGC() {
			time.Sleep(200 * time.Millisecond)
			if q, err := readProc(s.pid()); err == nil {
				n.RSSReadyGC = q.RSS
			}
		}
		conns := n.Connected
		if n.Publisher {
			conns++
		}
		if n.Connected > 0 {
			n.RSSPerConn = float64(n.RSSReady-n.RSSStart) / float64(conns)
			if n.RSSReadyGC >= 0 {
				n.RSSPerConnGC = float64(n.RSSReadyGC-n.RSSStart) / float64(conns)
			}
		}
	}
	s0, err := cl.natsSnapshot()
	if err != nil {
		return nil, err
	}
	cpu0, nats0 := cl.cpu()
	all := append(slices.Clone(crowds), pc)
	cl0 := cpuSum(all...)
	t0 := time.Now()
	interval := max(c.cfg.PubInterval, time.Duration(total)*c.cfg.PubIntervalPerSub)
	r.IntervalNs = interval.Nanoseconds()
	if err := pc.send(load.Command{Cmd: "start", Count: pubs, IntervalUs: int(interval / time.Microsecond), Pad: c.cfg.Pad,
		ReplyWaitMs: int(c.cfg.StallAfter / time.Millisecond)}); err != nil {
		return nil, err
	}
	preps, err := pc.wait("start", time.Duration(pubs)*interval+c.cfg.StallAfter+30*time.Second)
	if err != nil {
		return nil, err
	}
	pr := preps[0]
	r.Sent = pr.Sent
	if pr.Latency != nil {
		r.PubRTTMedian = pr.Latency.Quantile(0.5)
	}
	if pr.Replies < pr.Sent {
		r.Stalled = true
	}
	r.Expected = r.Sent * int64(total)
	perSeq := make([]map[int]*load.Hist, len(place))
	for {
		time.Sleep(c.cfg.Grace)
		r.Delivered, r.SubsClosed = 0, 0
		for i, sc := range crowds {
			if sc == nil {
				continue
			}
			if err := sc.send(load.Command{Cmd: "collect", BySeq: true}); err != nil {
				return nil, err
			}
			reps, err := sc.wait("collect", 120*time.Second)
			if err != nil {
				return nil, err
			}
			perSeq[i] = map[int]*load.Hist{}
			for _, rep := range reps {
				r.SubsClosed += rep.Closed
				for _, g := range rep.Groups {
					h := perSeq[i][g.Seq]
					if h == nil {
						h = &load.Hist{}
						perSeq[i][g.Seq] = h
					}
					h.Merge(&g.Hist)
					r.Delivered += int64(g.Hist.N)
				}
			}
		}
		if r.Delivered >= r.Expected || r.Stalled || time.Since(t0) > time.Duration(pubs)*interval+c.cfg.StallAfter {
			break
		}
	}
	r.WallNs = time.Since(t0).Nanoseconds()
	s1, err := cl.natsSnapshot()
	if err != nil {
		return nil, err
	}
	cpu1, nats1 := cl.cpu()
	r.ClientCPUNs = cpuSum(all...) - cl0
	for i, s := range cl.nodes {
		if p, err := s.sample(); err == nil {
			r.Nodes[i].RSSAfter = p.RSS
		}
		r.Nodes[i].CPUNs = cpu1[i] - cpu0[i]
		r.ServerCPUNs += r.Nodes[i].CPUNs
	}
	r.NATSCPUNs = nats1 - nats0
	r.ServerCPUNs += r.NATSCPUNs
	if r.Delivered > 0 {
		r.CPUPerDelivNs = float64(r.ServerCPUNs) / float64(r.Delivered)
	}
	merged := map[int]*load.Hist{}
	for i := range r.Nodes {
		n := &r.Nodes[i]
		if perSeq[i] == nil {
			continue
		}
		n.Delivered, n.Missing, n.Extra, n.PerPub = countSeqs(perSeq[i], r.Sent, int64(n.Connected))
		n.TTLMedian, n.TTLP99, n.DelivP50, n.DelivP99 = ttlStats(perSeq[i])
		r.Missing += n.Missing
		r.Extra += n.Extra
		for s, h := range perSeq[i] {
			if merged[s] == nil {
				merged[s] = &load.Hist{}
			}
			merged[s].Merge(h)
		}
	}
	_, _, _, r.PerPub = countSeqs(merged, r.Sent, int64(total))
	r.TTLMedian, r.TTLP99, _, _ = ttlStats(merged)
	if cl.nats != nil {
		names := make([]string, len(cl.ts))
		pubsAt := make([]int64, len(cl.ts))
		interested := make([]bool, len(cl.ts))
		for i, t := range cl.ts {
			names[i], interested[i] = t.name, place[i] > 0
		}
		pubsAt[0] = r.Sent
		r.NATS = natsCount(s0, s1, names, pubsAt, interested)
	}
	switch {
	case r.Delivered == 0 && !r.Stalled:
		return r, errors.New("no delivery at all")
	case r.Stalled:
		return r, fmt.Errorf("stalled: %d of %d publications answered within %v", pr.Replies, pr.Sent, c.cfg.StallAfter)
	}
	return r, nil
}

// countSeqs checks the deliveries of publications 0..sent-1 against want subscribers
// each: delivered in all, missing (short of want) and extra (past want, or of no
// publication sent), and the per-publication statistics in seq order.
func countSeqs(perSeq map[int]*load.Hist, sent, want int64) (delivered, missing, extra int64, stats []PubStat) {
	for s := range sent {
		h := perSeq[int(s)]
		var n int64
		if h != nil {
			n = int64(h.N)
			stats = append(stats, PubStat{Seq: int(s), N: n, P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.Max})
		}
		delivered += n
		missing += max(0, want-n)
		extra += max(0, n-want)
	}
	for s, h := range perSeq {
		if s < 0 || int64(s) >= sent {
			delivered += int64(h.N)
			extra += int64(h.N)
		}
	}
	return delivered, missing, extra, stats
}

// ttlStats returns, across publications, the median and p99 of the time to last
// delivery, and over every delivery the p50 and p99.
func ttlStats(perSeq map[int]*load.Hist) (ttlMedian, ttlP99, p50, p99 int64) {
	var ttls []int64
	var all load.Hist
	for _, h := range perSeq {
		ttls = append(ttls, h.Max)
		all.Merge(h)
	}
	return quantile(ttls, 0.5), quantile(ttls, 0.99), all.Quantile(0.5), all.Quantile(0.99)
}
