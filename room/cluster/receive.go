package cluster

import (
	"hash/maphash"
	"time"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/nats-io/nats.go"
)

// dispatch hands each data message (publication, user notification, room look-up) to the
// shard of its origin node: one goroutine per shard handles its messages in order, so a
// node's publications are delivered here in the order it sent them (NATS keeps the order
// of one publisher), while different origins are handled in parallel.
func (n *Node) dispatch() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case m := <-n.data:
			shard := 0
			if len(n.shards) > 1 {
				_, d := open(m.Data)
				shard = int(maphash.Bytes(n.seed, d.raw()) % uint64(len(n.shards)))
			}
			select {
			case n.shards[shard] <- m:
			case <-n.stop:
				return
			}
		}
	}
}

// work handles the data messages of one shard.
func (n *Node) work(in chan *nats.Msg) {
	defer n.wg.Done()
	var doc room.DocumentEvent
	var user room.UserEvent
	for {
		select {
		case <-n.stop:
			return
		case m := <-in:
			eng := n.eng.Load()
			kind, d := open(m.Data)
			switch kind {
			case kindDocument:
				if !decodeDocument(&d, &doc) {
					n.malformed.Add(1)
					continue
				}
				n.received.Add(1)
				if doc.Node != n.cfg.Node { // NoEcho already keeps our own away
					eng.DeliverRemote(&doc)
				}
				doc = room.DocumentEvent{}
			case kindUser:
				if !decodeUser(&d, &user) {
					n.malformed.Add(1)
					continue
				}
				n.received.Add(1)
				if user.Node != n.cfg.Node {
					eng.DeliverRemoteUser(&user)
				}
				user = room.UserEvent{}
			case kindLookup:
				origin, id := d.str(), d.str()
				if !d.end() || m.Reply == "" {
					n.malformed.Add(1)
					continue
				}
				if origin == n.cfg.Node {
					continue
				}
				n.answerLookup(eng, id, m.Reply)
			default:
				n.malformed.Add(1)
			}
		}
	}
}

// answerLookup answers another node's join of a room this node holds.
func (n *Node) answerLookup(eng *room.Engine, id, reply string) {
	r, ok := eng.Room(id)
	if !ok {
		return // dropped meanwhile: another holder, or none, answers
	}
	e := getEncoder(kindRoomDef)
	e.str(n.cfg.Node)
	e.str(r.ID)
	e.str(r.Index)
	e.str(r.Collection)
	e.raw(r.Filter)
	n.nc.Publish(reply, e.b)
	putEncoder(e)
}

// onCount answers a count request with this node's count of the room.
func (n *Node) onCount(m *nats.Msg) {
	kind, d := open(m.Data)
	origin, id := d.str(), d.str()
	if kind != kindCount || !d.end() || m.Reply == "" {
		n.malformed.Add(1)
		return
	}
	if origin == n.cfg.Node {
		return
	}
	e := getEncoder(kindCounted)
	e.str(n.cfg.Node)
	e.uint(uint64(n.eng.Load().LocalCount(id)))
	n.nc.Publish(m.Reply, e.b)
	putEncoder(e)
}

// onList answers a list request with this node's rooms, in chunks under max_payload.
func (n *Node) onList(m *nats.Msg) {
	kind, d := open(m.Data)
	origin := d.str()
	if kind != kindList || !d.end() || m.Reply == "" {
		n.malformed.Add(1)
		return
	}
	if origin == n.cfg.Node {
		return
	}
	rooms := n.eng.Load().LocalList()
	limit := int(min(256<<10, n.nc.MaxPayload()-1024))
	var chunk encoder
	for len(rooms) > 0 || chunk.b == nil {
		var body encoder
		k := 0
		for k < len(rooms) && (k == 0 || len(body.b) < limit) {
			encodeRoomCount(&body, &rooms[k])
			k++
		}
		rooms = rooms[k:]
		chunk.start(kindListed)
		chunk.str(n.cfg.Node)
		last := uint64(0)
		if len(rooms) == 0 {
			last = 1
		}
		chunk.uint(last)
		chunk.uint(uint64(k))
		chunk.b = append(chunk.b, body.b...)
		if err := n.nc.Publish(m.Reply, chunk.b); err != nil {
			return
		}
	}
}

// heartbeat announces this node (bye: its departure) on the heartbeat subject.
func (n *Node) heartbeat(bye bool) {
	e := getEncoder(kindHeartbeat)
	e.str(n.cfg.Node)
	e.str(n.instance)
	e.int(n.started)
	e.uint(uint64(n.cfg.HeartbeatInterval / time.Millisecond))
	if bye {
		e.uint(1)
	} else {
		e.uint(0)
	}
	n.nc.Publish(n.subj.heartbeat(), e.b) // fails while disconnected: the next beat goes
	putEncoder(e)
}

// beat sends heartbeats and ages out silent nodes until Close.
func (n *Node) beat() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.heartbeat(false)
			n.prune(time.Now())
		}
	}
}

// onHeartbeat records another node's heartbeat or goodbye.
func (n *Node) onHeartbeat(m *nats.Msg) {
	kind, d := open(m.Data)
	node, inst, started, every, bye := d.str(), d.str(), d.int(), d.uint(), d.uint()
	if kind != kindHeartbeat || !d.end() || node == "" {
		n.malformed.Add(1)
		return
	}
	if node == n.cfg.Node {
		if inst != n.instance && !n.duplicateSeen.Swap(true) {
			n.log.Error("another process serves this node id: give each node its own id", "node", node)
		}
		return
	}
	interval := min(max(time.Duration(every)*time.Millisecond, 10*time.Millisecond), time.Minute)
	n.peersMu.Lock()
	p := n.peers[node]
	if bye == 1 {
		if p != nil && p.instance == inst {
			delete(n.peers, node)
			n.log.Info("node left the cluster", "node", node)
		}
		n.peersMu.Unlock()
		return
	}
	joined := p == nil
	if joined {
		p = &peer{}
		n.peers[node] = p
	}
	p.instance, p.started, p.every, p.last = inst, started, interval, time.Now()
	n.peersMu.Unlock()
	if joined {
		n.log.Info("node joined the cluster", "node", node)
		// Answer at once, so that the newcomer knows this node before the next beat
		// (its count and list wait for the nodes it knows).
		n.heartbeat(false)
	}
}

// prune forgets the nodes silent for MissedHeartbeats of their intervals.
func (n *Node) prune(now time.Time) {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	for id, p := range n.peers {
		if now.Sub(p.last) > time.Duration(n.cfg.MissedHeartbeats)*p.every {
			delete(n.peers, id)
			n.log.Warn("node silent: no longer counted", "node", id, "silent_for", now.Sub(p.last).Round(time.Millisecond).String())
		}
	}
}

// livePeers returns the ids of the other live nodes.
func (n *Node) livePeers() []string {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	out := make([]string, 0, len(n.peers))
	for id := range n.peers {
		out = append(out, id)
	}
	return out
}

func (n *Node) livePeerSet() map[string]bool {
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	out := make(map[string]bool, len(n.peers))
	for id := range n.peers {
		out[id] = true
	}
	return out
}
