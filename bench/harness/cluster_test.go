package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClusterQuick runs the quick cluster preset end to end: kuzzlews nodes (KUZZLEWS_BIN,
// or built from the repository root) joined over a real nats-server process (installed
// with go install when missing), loadgen clients over loopback. Every publication must
// reach every subscriber of every node exactly once; the mixed filtered workload must
// be delivered exactly as the filters say across both nodes; and nats-server's own
// statistics must show one message per interested node per publication, none to a node
// without rooms there, and one published by the origin. No timing is asserted.
func TestClusterQuick(t *testing.T) {
	cfg := ClusterQuick()
	cfg.KuzzlewsBin = os.Getenv("KUZZLEWS_BIN")
	roots, err := FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KuzzlewsBin == "" && !RootHasMain(roots.Repo) {
		t.Fatal("kuzzlews: no KUZZLEWS_BIN and the repository root is not a main package")
	}
	cfg.OutDir = t.TempDir()
	cfg.CommandLine = "cd bench && go test ./harness -run TestClusterQuick"
	cfg.Logf = t.Logf
	res, err := RunCluster(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scenario errors: %v", res.Errors)
	}
	if !strings.HasSuffix(res.NATSServer, NATSServerVersion) {
		t.Errorf("nats-server version %q, want %s", res.NATSServer, NATSServerVersion)
	}

	for _, s := range cfg.FanoutSubs {
		for _, name := range []string{"local", "remote", "split"} {
			f := res.FanoutRun(name, s)
			if f == nil {
				t.Errorf("no %s fan-out at %d", name, s)
				continue
			}
			checkClusterFanout(t, name, f, s, cfg.Pubs)
			// local: the other node holds no room and must get nothing from NATS.
			wantOther := f.Sent
			if name == "local" {
				wantOther = 0
			}
			if got := f.NATS.Nodes[1].DocMsgs; got != wantOther {
				t.Errorf("%s: NATS delivered %d publication messages to knode-2, want %d", name, got, wantOther)
			}
		}
	}

	for _, name := range []string{"single", "scale"} {
		f := res.ScaleRun(name)
		if f == nil {
			t.Errorf("no %s run", name)
			continue
		}
		nodes := 1
		if name == "scale" {
			nodes = cfg.ScaleNodes
		}
		checkClusterFanout(t, name, f, nodes*cfg.ScaleSubs, cfg.ScalePubs)
		for _, n := range f.Nodes {
			if n.RSSPerConn <= 0 {
				t.Errorf("%s %s: RSS per connection %.0f, want > 0", name, n.Node, n.RSSPerConn)
			}
		}
		if name == "scale" && f.NATS.DocMsgsPerPub != float64(nodes-1) {
			t.Errorf("scale: %.3f NATS messages per publication to the other nodes, want %d", f.NATS.DocMsgsPerPub, nodes-1)
		}
	}

	if v := res.Verify; v == nil {
		t.Error("no verify run")
	} else {
		if !v.Verified || v.Missing != 0 || v.Expected == 0 {
			t.Errorf("verify: verified %v, delivered %d of %d expected, missing %d, unexpected %d, duplicates %d",
				v.Verified, v.Delivered, v.Expected, v.Missing, v.Unexpected, v.Duplicates)
		}
		if !v.NATS.OneMessagePerNode {
			t.Errorf("verify: NATS counts %+v, want one message per publication to the other node", v.NATS.Nodes)
		}
		for i, n := range v.NATS.Nodes {
			// One filter per subscriber: many rooms on each node, still one message each.
			if n.Rooms < 10 || n.DocMsgs != v.Nodes[1-i].Sent || v.Nodes[1-i].Sent == 0 {
				t.Errorf("verify %s: %d rooms, received %d NATS messages for %d publications of the other node", n.Node, n.Rooms, n.DocMsgs, v.Nodes[1-i].Sent)
			}
		}
	}

	if r := res.Rate; r == nil || len(r.Steps) == 0 {
		t.Error("no rate step")
	} else {
		for _, s := range r.Steps {
			n := s.NATS
			if s.Sent == 0 || n == nil || n.Nodes[0].Published != s.Sent {
				t.Errorf("rate %.0f: sent %d, NATS %+v: want every publication published once", s.Rate, s.Sent, n)
				continue
			}
			if n.SlowConsumers == 0 && (n.Nodes[1].DocMsgs != s.Sent || n.Nodes[0].DocMsgs != 0) {
				t.Errorf("rate %.0f: NATS delivered %d to knode-2 and %d to knode-1 for %d publications", s.Rate, n.Nodes[1].DocMsgs, n.Nodes[0].DocMsgs, s.Sent)
			}
		}
	}

	md, err := os.ReadFile(filepath.Join(cfg.OutDir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Targets", "## Fan-out over two nodes", "## Publication rate through NATS", "## Filtered workload over two nodes",
		"## Scale", "## nats-server's count per window"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	for _, c := range []string{"cluster-fanout-ttl.png", "cluster-cpu-per-delivery.png", "cluster-rate.png", "cluster-scale-ttl.png"} {
		if st, err := os.Stat(filepath.Join(cfg.OutDir, c)); err != nil || st.Size() == 0 {
			t.Errorf("chart %s: %v", c, err)
		}
	}
	if err := RerenderCluster(cfg.OutDir); err != nil {
		t.Errorf("RerenderCluster: %v", err)
	}
}

// checkClusterFanout checks that every publication reached every subscriber of every
// node exactly once, and nats-server's count.
func checkClusterFanout(t *testing.T, name string, f *ClusterFanoutResult, subs, pubs int) {
	t.Helper()
	if f.Subs != subs || f.Sent != int64(pubs) || f.Stalled {
		t.Errorf("%s: %d subscribers (want %d), %d publications sent (want %d), stalled %v", name, f.Subs, subs, f.Sent, pubs, f.Stalled)
	}
	if f.Missing != 0 || f.Extra != 0 || f.Delivered != f.Expected || f.Expected != int64(subs*pubs) {
		t.Errorf("%s: delivered %d of %d, missing %d, extra %d", name, f.Delivered, f.Expected, f.Missing, f.Extra)
	}
	for _, n := range f.Nodes {
		if n.Connected == 0 {
			continue
		}
		if len(n.PerPub) != pubs {
			t.Errorf("%s %s: %d publications seen, want %d", name, n.Node, len(n.PerPub), pubs)
		}
		for _, p := range n.PerPub {
			if p.N != int64(n.Connected) {
				t.Errorf("%s %s: publication %d reached %d of %d subscribers", name, n.Node, p.Seq, p.N, n.Connected)
			}
		}
	}
	if f.NATS != nil && !f.NATS.OneMessagePerNode {
		t.Errorf("%s: NATS counts %+v, want one message per publication to each interested node", name, f.NATS.Nodes)
	}
}
