package cluster

import (
	"errors"
	"time"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/nats-io/nats.go"
)

var _ room.Backplane = (*Node)(nil)

// RoomCreated implements room.Backplane: the node subscribes to the room's index and
// collection subject (first room there) and to the room's subject, then flushes, so
// that NATS has the interest before the subscription is answered. While NATS is away it
// returns at once; nats.go sends the subscriptions when it reconnects.
func (n *Node) RoomCreated(r room.RoomInfo) {
	ds, rs := n.subj.doc(r.Index, r.Collection), n.subj.room(r.ID)
	n.mu.Lock()
	n.hold(n.colls, ds)
	n.hold(n.rooms, rs)
	n.mu.Unlock()
	if !n.nc.IsConnected() {
		return
	}
	if err := n.nc.FlushTimeout(n.cfg.FlushTimeout); err != nil {
		n.flushErrors.Add(1)
		n.log.Warn("NATS did not confirm a new interest in time: publications from other nodes right after this subscription may be missed",
			"room", r.ID, "err", err)
	}
}

// RoomDropped implements room.Backplane: the node unsubscribes from the room's subject,
// and from its index and collection after their last room.
func (n *Node) RoomDropped(r room.RoomInfo) {
	ds, rs := n.subj.doc(r.Index, r.Collection), n.subj.room(r.ID)
	n.mu.Lock()
	n.release(n.colls, ds)
	n.release(n.rooms, rs)
	n.mu.Unlock()
}

// hold counts one more room needing subject, subscribing on the first. n.mu must be held.
func (n *Node) hold(m map[string]*interest, subject string) {
	in := m[subject]
	if in == nil {
		in = &interest{}
		m[subject] = in
	}
	in.n++
	switch in.n {
	case 0: // its RoomDropped came first
		delete(m, subject)
	case 1:
		sub, err := n.nc.ChanSubscribe(subject, n.data)
		if err != nil {
			// Closed connection: nothing to route any more. The count stays right.
			n.log.Debug("cannot subscribe", "subject", subject, "err", err)
			return
		}
		in.sub = sub
	}
}

// release counts one room less needing subject, unsubscribing after the last. n.mu must
// be held.
func (n *Node) release(m map[string]*interest, subject string) {
	in := m[subject]
	if in == nil {
		in = &interest{}
		m[subject] = in
	}
	in.n--
	if in.n == 0 {
		if in.sub != nil {
			in.sub.Unsubscribe()
		}
		delete(m, subject)
	}
}

// Forward implements room.Backplane: one message on the index/collection subject,
// which NATS routes only to nodes holding rooms there. A publication NATS cannot take
// (disconnected, over max_payload) is counted in Status.NotSent: it was delivered on this
// node only.
func (n *Node) Forward(d *room.DocumentEvent) {
	e := getEncoder(kindDocument)
	encodeDocument(e, d)
	n.sent1(n.nc.Publish(n.subj.doc(d.Index, d.Collection), e.b))
	putEncoder(e)
}

// ForwardUser implements room.Backplane: one message on the room's subject.
func (n *Node) ForwardUser(u *room.UserEvent) {
	e := getEncoder(kindUser)
	encodeUser(e, u)
	n.sent1(n.nc.Publish(n.subj.room(u.RoomID), e.b))
	putEncoder(e)
}

func (n *Node) sent1(err error) {
	if err == nil {
		n.sent.Add(1)
		return
	}
	n.notSent.Add(1)
	if errors.Is(err, nats.ErrMaxPayload) {
		if now := time.Now().Unix(); n.lastWarn.Swap(now) != now {
			n.log.Warn("a message is over the NATS server's max_payload: delivered on this node only; raise max_payload above -max-message-size",
				"max_payload", n.nc.MaxPayload())
		}
	}
}

// Lookup implements room.Backplane: a NATS request on the room's subject, which only
// nodes holding the room subscribe to; the first answer wins, no subscriber fails at
// once (nats.ErrNoResponders).
func (n *Node) Lookup(roomID string) (room.RoomInfo, bool) {
	if !n.nc.IsConnected() {
		return room.RoomInfo{}, false
	}
	e := getEncoder(kindLookup)
	e.str(n.cfg.Node)
	e.str(roomID)
	msg, err := n.nc.Request(n.subj.room(roomID), e.b, n.cfg.GatherTimeout)
	putEncoder(e)
	if err != nil {
		return room.RoomInfo{}, false
	}
	kind, d := open(msg.Data)
	if kind != kindRoomDef {
		n.malformed.Add(1)
		return room.RoomInfo{}, false
	}
	_ = d.str() // answering node
	r := room.RoomInfo{ID: d.str(), Index: d.str(), Collection: d.str(), Filter: d.json()}
	if !d.end() || r.ID != roomID {
		n.malformed.Add(1)
		return room.RoomInfo{}, false
	}
	return r, true
}

// Count implements room.Backplane: scatter-gather on the count subject.
func (n *Node) Count(roomID string) int {
	e := getEncoder(kindCount)
	e.str(n.cfg.Node)
	e.str(roomID)
	total := 0
	n.gather(n.subj.count(), e.b, 64, func(data []byte) (string, bool) {
		kind, d := open(data)
		node, count := d.str(), d.uint()
		if kind != kindCounted || !d.end() || count > 1<<40 {
			n.malformed.Add(1)
			return "", false
		}
		total += int(count)
		return node, true
	})
	putEncoder(e)
	return total
}

// List implements room.Backplane: scatter-gather on the list subject; each node answers
// with its rooms in chunks that fit NATS's max_payload.
func (n *Node) List() []room.RoomCount {
	e := getEncoder(kindList)
	e.str(n.cfg.Node)
	var out []room.RoomCount
	n.gather(n.subj.list(), e.b, 1024, func(data []byte) (string, bool) {
		kind, d := open(data)
		node, last, k := d.str(), d.uint(), d.uint()
		if kind != kindListed || k > uint64(len(data)) {
			n.malformed.Add(1)
			return "", false
		}
		start := len(out)
		for range k {
			out = append(out, decodeRoomCount(&d))
		}
		if !d.end() {
			out = out[:start]
			n.malformed.Add(1)
			return "", false
		}
		return node, last == 1
	})
	putEncoder(e)
	return out
}

// gather publishes req on subject with a reply subject and hands each answer to reply,
// which returns the answering node and whether it is that node's last answer. It returns
// once every node alive at the start has answered, or after GatherTimeout: a node that
// died without its goodbye counts as empty. buffer is the number of answers queued.
func (n *Node) gather(subject string, req []byte, buffer int, reply func(data []byte) (node string, done bool)) {
	want := n.livePeerSet()
	if len(want) == 0 || !n.nc.IsConnected() {
		return
	}
	inbox := n.nc.NewInbox()
	ch := make(chan *nats.Msg, buffer)
	sub, err := n.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return
	}
	defer sub.Unsubscribe()
	if err := n.nc.PublishRequest(subject, inbox, req); err != nil {
		return
	}
	timer := time.NewTimer(n.cfg.GatherTimeout)
	defer timer.Stop()
	for len(want) > 0 {
		select {
		case m := <-ch:
			if node, done := reply(m.Data); done {
				delete(want, node)
			}
		case <-timer.C:
			return
		}
	}
}
