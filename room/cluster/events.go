package cluster

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// Broadcast sends a cluster-wide event named name to the handlers other nodes registered
// with Handle (not to this node's): at most once each, in the order this node sent its
// events of that name. It is how a change made on one node is honoured on all, e.g. a
// token revoked by a logout (Kuzzle 2.56's cluster broadcasts its own such events,
// lib/cluster/node.ts ClusterWideEvent). payload is copied. It fails when NATS is
// unreachable or payload is over max_payload: the event then reached no other node.
func (n *Node) Broadcast(name string, payload []byte) error {
	if name == "" {
		return errors.New("cluster: empty event name")
	}
	e := getEncoder(kindEvent)
	e.str(n.cfg.Node)
	e.str(name)
	e.raw(payload)
	err := n.nc.Publish(n.subj.event(name), e.b)
	putEncoder(e)
	if err != nil {
		return fmt.Errorf("cluster: event %q not sent: %w", name, err)
	}
	return nil
}

// Handle registers fn for the events named name that other nodes Broadcast; fn gets the
// sending node's id and the payload (valid during the call only). Calls for one name run
// one at a time, in order of arrival, on a goroutine of their own. A second Handle for
// the same name replaces the first. It returns once NATS has the interest (or at once
// while disconnected: it is sent on reconnection).
func (n *Node) Handle(name string, fn func(origin string, payload []byte)) error {
	if name == "" {
		return errors.New("cluster: empty event name")
	}
	sub, err := n.nc.Subscribe(n.subj.event(name), func(m *nats.Msg) {
		kind, d := open(m.Data)
		origin, got, payload := d.str(), d.str(), d.raw()
		if kind != kindEvent || !d.end() || got != name {
			n.malformed.Add(1)
			return
		}
		if origin == n.cfg.Node {
			return
		}
		fn(origin, payload)
	})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	n.handlersMu.Lock()
	old := n.handlers[name]
	n.handlers[name] = sub
	n.handlersMu.Unlock()
	if old != nil {
		old.Unsubscribe()
	}
	if n.nc.IsConnected() {
		if err := n.nc.FlushTimeout(n.cfg.FlushTimeout); err != nil {
			return fmt.Errorf("cluster: NATS did not confirm the event subscription: %w", err)
		}
	}
	return nil
}
