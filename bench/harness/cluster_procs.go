package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The default subject prefix of kuzzlews nodes (room/cluster DefaultPrefix) and the
// subjects the benchmark counts on: publications are kzws.d.<index>.<collection>, room
// subjects kzws.r.<roomId>, heartbeats kzws.hb (room/cluster/doc.go, "Subjects").
const (
	subjDocs      = "kzws.d."
	subjRooms     = "kzws.r."
	subjHeartbeat = "kzws.hb"
)

// nodeClientName is the NATS connection name of a kuzzlews node (nats.Name in
// room/cluster Connect): "kuzzlews " + node id.
const nodeClientName = "kuzzlews "

// clusterProcs is one running placement: a nats-server (nil for a single node without
// NATS) and the kuzzlews nodes, every one a child of the harness.
type clusterProcs struct {
	nats  *server
	mon   string // host:port of nats-server's monitoring endpoint
	nodes []*server
	ts    []*target
}

// nodeName is the id of node i of a placement: knode-1, knode-2, ...
func nodeName(i int) string { return "knode-" + strconv.Itoa(i+1) }

// startCluster starts a nats-server and n kuzzlews nodes joined to it, or with
// withNATS false one kuzzlews node alone (no -nats). label names the log files.
func (c *clusterRun) startCluster(n int, withNATS bool, label string) (*clusterProcs, error) {
	cl := &clusterProcs{}
	base := c.target("kuzzlews")
	url := ""
	if withNATS {
		if err := c.startNATS(cl, label); err != nil {
			return nil, err
		}
		url = "nats://" + cl.nats.addr
	}
	for i := range n {
		t := *base
		t.name = nodeName(i)
		if withNATS {
			name := t.name
			t.argv = func(port int, pp string) ([]string, string, error) {
				a, dir, err := base.argv(port, pp)
				return append(a, "-nats", url, "-node", name), dir, err
			}
		}
		srv, err := c.startServer(&t, c.logDir, label)
		if err != nil {
			cl.stop()
			return nil, err
		}
		cl.nodes = append(cl.nodes, srv)
		cl.ts = append(cl.ts, &t)
	}
	if withNATS {
		// Every node must be on NATS before a client subscribes: a room created earlier
		// would not have its interest flushed.
		deadline := time.Now().Add(30 * time.Second)
		for {
			snap, err := cl.natsSnapshot()
			if err == nil && len(snap.Conns) == n {
				break
			}
			if time.Now().After(deadline) {
				cl.stop()
				return nil, fmt.Errorf("%d of %d nodes connected to nats-server after 30 s (%v)", len(snap.Conns), n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return cl, nil
}

// startNATS starts nats-server on fresh loopback ports with monitoring, and a max_payload
// above kuzzlews' largest client message (the README's two-node setup).
func (c *clusterRun) startNATS(cl *clusterProcs, label string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	mport, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(c.tmp, fmt.Sprintf("nats-%d.conf", port))
	body := fmt.Sprintf("server_name: kuzzlews-bench\nlisten: \"127.0.0.1:%d\"\nhttp: \"127.0.0.1:%d\"\nmax_payload: 2MB\n", port, mport)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return err
	}
	lf, err := os.Create(filepath.Join(c.logDir, "nats-"+label+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bins["nats-server"], "-c", conf)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start nats-server: %w", err)
	}
	s := &server{name: "nats-server", addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: lf, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); close(s.done) }()
	cl.nats, cl.mon = s, "127.0.0.1:"+strconv.Itoa(mport)
	if err := waitListening(s); err != nil {
		s.stop()
		cl.nats = nil
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := cl.varz(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stop()
			cl.nats = nil
			return fmt.Errorf("nats-server monitoring on %s: %w", cl.mon, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the nodes, then nats-server (each by its own PID).
func (cl *clusterProcs) stop() {
	for _, s := range cl.nodes {
		s.stop()
	}
	if cl.nats != nil {
		cl.nats.stop()
	}
}

// alive returns an error naming the first process of cl that exited.
func (cl *clusterProcs) alive() error {
	for _, s := range append(append([]*server(nil), cl.nodes...), cl.nats) {
		if s != nil && !s.alive() {
			return fmt.Errorf("%s exited during the scenario (log %s)", s.name, s.log.Name())
		}
	}
	return nil
}

// cpu returns the utime+stime of every node, and of nats-server (0 without), in ns.
func (cl *clusterProcs) cpu() (nodes []int64, nats int64) {
	for _, s := range cl.nodes {
		v, _ := procCPU(s.pid())
		nodes = append(nodes, v)
	}
	if cl.nats != nil {
		nats, _ = procCPU(cl.nats.pid())
	}
	return nodes, nats
}

// varzInfo is the part of nats-server's /varz the benchmark reads.
type varzInfo struct {
	Version       string `json:"version"`
	InMsgs        int64  `json:"in_msgs"`
	OutMsgs       int64  `json:"out_msgs"`
	InBytes       int64  `json:"in_bytes"`
	OutBytes      int64  `json:"out_bytes"`
	SlowConsumers int64  `json:"slow_consumers"`
}

// connzInfo is the part of /connz?subs=detail the benchmark reads.
type connzInfo struct {
	Connections []struct {
		Cid     uint64 `json:"cid"`
		Name    string `json:"name"`
		InMsgs  int64  `json:"in_msgs"`
		OutMsgs int64  `json:"out_msgs"`
		Subs    []struct {
			Subject string `json:"subject"`
			Sid     string `json:"sid"`
			Msgs    int64  `json:"msgs"`
		} `json:"subscriptions_list_detail"`
	} `json:"connections"`
}

func (cl *clusterProcs) getJSON(path string, v any) error {
	hc := http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + cl.mon + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("nats-server %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (cl *clusterProcs) varz() (varzInfo, error) {
	var v varzInfo
	err := cl.getJSON("/varz", &v)
	return v, err
}

// natsConn is one node's NATS connection at one instant, from /connz.
type natsConn struct {
	// InMsgs are the messages the node published, OutMsgs those NATS sent it.
	InMsgs, OutMsgs int64
	// DocMsgs, HBMsgs: messages delivered on its publication subscriptions (kzws.d.*)
	// and its heartbeat subscription, summed over the subscriptions.
	DocMsgs, HBMsgs int64
	// DocSubjects and Rooms count its kzws.d.* and kzws.r.* subscriptions.
	DocSubjects, Rooms int
}

// natsSnap is nats-server's statistics at one instant.
type natsSnap struct {
	Varz  varzInfo
	Conns map[string]natsConn // by node id
}

// natsSnapshot reads /varz and /connz?subs=detail twice in a row until both readings
// agree, for at most 10 s: nats-server counts a message in its publisher's in_msgs before
// it counts it in the subscriptions it reaches, so one reading taken while a heartbeat
// crosses the server may hold half of it. Two equal readings mean that nothing moved
// meanwhile. It fails when the readings never agree (messages flowing all the time).
func (cl *clusterProcs) natsSnapshot() (natsSnap, error) {
	if cl.nats == nil {
		return natsSnap{Conns: map[string]natsConn{}}, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	a, err := cl.natsReading()
	for time.Now().Before(deadline) {
		if err != nil {
			return a, err
		}
		b, err2 := cl.natsReading()
		if err2 == nil && a.equal(b) {
			return a, nil
		}
		time.Sleep(20 * time.Millisecond)
		a, err = cl.natsReading()
	}
	return a, errors.New("nats-server statistics changed between every two readings for 10 s: messages kept flowing")
}

func (s natsSnap) equal(o natsSnap) bool {
	if s.Varz.InMsgs != o.Varz.InMsgs || s.Varz.OutMsgs != o.Varz.OutMsgs || len(s.Conns) != len(o.Conns) {
		return false
	}
	for k, v := range s.Conns {
		if w, ok := o.Conns[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// natsReading reads /varz and /connz?subs=detail once.
func (cl *clusterProcs) natsReading() (natsSnap, error) {
	s := natsSnap{Conns: map[string]natsConn{}}
	var err error
	if s.Varz, err = cl.varz(); err != nil {
		return s, err
	}
	var cz connzInfo
	if err := cl.getJSON("/connz?subs=detail&limit=4096", &cz); err != nil {
		return s, err
	}
	for _, c := range cz.Connections {
		node, ok := strings.CutPrefix(c.Name, nodeClientName)
		if !ok {
			continue
		}
		nc := natsConn{InMsgs: c.InMsgs, OutMsgs: c.OutMsgs}
		for _, sd := range c.Subs {
			switch {
			case strings.HasPrefix(sd.Subject, subjDocs):
				nc.DocMsgs += sd.Msgs
				nc.DocSubjects++
			case strings.HasPrefix(sd.Subject, subjRooms):
				nc.Rooms++
			case sd.Subject == subjHeartbeat:
				nc.HBMsgs += sd.Msgs
			}
		}
		s.Conns[node] = nc
	}
	return s, nil
}

// NATSNode is what nats-server counted for one node over a measured window.
type NATSNode struct {
	Node string `json:"node"`
	// InMsgs are the messages the node published in the window, Heartbeats the part of
	// them that were heartbeats (each other node's heartbeat subscription receives every
	// one: with N nodes, heartbeats of X = (sum of received)/(N-1) - received by X), and
	// Published the rest: publications forwarded to the cluster.
	InMsgs     int64 `json:"inMsgs"`
	Heartbeats int64 `json:"heartbeats"`
	Published  int64 `json:"published"`
	// ExpectedPublished is the publications made by clients of this node in the window.
	ExpectedPublished int64 `json:"expectedPublished"`
	// DocMsgs are the messages NATS delivered on the node's publication subjects
	// (kzws.d.<index>.<collection>); ExpectedDocMsgs is one per publication made on
	// another node on a collection where this node holds rooms.
	DocMsgs         int64 `json:"docMsgs"`
	ExpectedDocMsgs int64 `json:"expectedDocMsgs"`
	// OutMsgs are all messages NATS sent the node; DocSubjects and Rooms the node's
	// subscriptions on publication and room subjects at the end of the window.
	OutMsgs     int64 `json:"outMsgs"`
	DocSubjects int   `json:"docSubjects"`
	Rooms       int   `json:"rooms"`
}

// NATSCount is nats-server's own statistics over a measured window.
type NATSCount struct {
	Nodes []NATSNode `json:"nodes"`
	// InMsgs, OutMsgs and SlowConsumers are /varz deltas over the window.
	InMsgs        int64 `json:"inMsgs"`
	OutMsgs       int64 `json:"outMsgs"`
	SlowConsumers int64 `json:"slowConsumers"`
	// Pubs are the publications of the window; DocMsgsPerPub the messages NATS delivered
	// to nodes on publication subjects per publication (the number of interested nodes
	// other than the origin, whatever the number of rooms and subscribers there).
	Pubs          int64   `json:"pubs"`
	DocMsgsPerPub float64 `json:"docMsgsPerPub"`
	// OneMessagePerNode: every node received exactly ExpectedDocMsgs and published
	// exactly ExpectedPublished.
	OneMessagePerNode bool `json:"oneMessagePerNode"`
}

// natsCount compares two snapshots. pubs[i] is the publications made on node i in the
// window, interested[i] whether node i holds rooms on every collection published to.
func natsCount(s0, s1 natsSnap, names []string, pubs []int64, interested []bool) *NATSCount {
	n := &NATSCount{InMsgs: s1.Varz.InMsgs - s0.Varz.InMsgs, OutMsgs: s1.Varz.OutMsgs - s0.Varz.OutMsgs,
		SlowConsumers: s1.Varz.SlowConsumers - s0.Varz.SlowConsumers, OneMessagePerNode: true}
	var allPubs, hbRecv, docs int64
	for i := range names {
		allPubs += pubs[i]
		hbRecv += s1.Conns[names[i]].HBMsgs - s0.Conns[names[i]].HBMsgs
	}
	hbTotal := 0.0
	if len(names) > 1 {
		hbTotal = float64(hbRecv) / float64(len(names)-1)
	}
	for i, name := range names {
		a, b := s0.Conns[name], s1.Conns[name]
		x := NATSNode{Node: name, InMsgs: b.InMsgs - a.InMsgs, DocMsgs: b.DocMsgs - a.DocMsgs, OutMsgs: b.OutMsgs - a.OutMsgs,
			DocSubjects: b.DocSubjects, Rooms: b.Rooms, ExpectedPublished: pubs[i]}
		x.Heartbeats = int64(math.Round(hbTotal)) - (b.HBMsgs - a.HBMsgs)
		x.Published = x.InMsgs - x.Heartbeats
		if interested[i] {
			x.ExpectedDocMsgs = allPubs - pubs[i]
		}
		if x.DocMsgs != x.ExpectedDocMsgs || x.Published != x.ExpectedPublished {
			n.OneMessagePerNode = false
		}
		docs += x.DocMsgs
		n.Nodes = append(n.Nodes, x)
	}
	n.Pubs = allPubs
	if allPubs > 0 {
		n.DocMsgsPerPub = float64(docs) / float64(allPubs)
	}
	return n
}
