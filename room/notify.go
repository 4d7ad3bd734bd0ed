package room

import "github.com/kuzzlews/kuzzlews/kuzzle"

// addChannel frames payload for ch (payload with `room` set to the channel name, behind
// Config.Headroom bytes, sealed by Config.Seal: one copy per channel) and adds ch's
// subscribers, split into chunks, to f. payload is not modified. ch's room must be locked
// (read or write) until f has run.
func (e *Engine) addChannel(f *fanout, payload []byte, ch *channel) {
	h := e.cfg.Headroom
	buf := make([]byte, h, h+len(payload)+len(`,"room":`)+len(ch.quoted))
	buf = kuzzle.AppendRoom(append(buf, payload...), ch.quoted)
	frame := e.cfg.Seal(buf)
	size := e.cfg.FanoutChunk
	subs := ch.subs
	f.total += len(subs)
	for len(subs) > size {
		f.chunks = append(f.chunks, chunk{frame: frame, subs: subs[:size:size]})
		subs = subs[size:]
	}
	f.chunks = append(f.chunks, chunk{frame: frame, subs: subs})
}

// notifyUserLocked sends a user notification (Kuzzle 2.56 lib/core/realtime/notifier.ts
// notifyUser) to the channels of rm whose users option is all, or in (in) or out (!in),
// and forwards it to the other nodes when there is a backplane. The count is the room's
// after the change. rm.mu must be held for writing.
func (e *Engine) notifyUserLocked(rm *room, in bool, ts int64, volatile []byte, action string) {
	if e.bp != nil {
		e.bp.ForwardUser(&UserEvent{Node: e.cfg.Node, RoomID: rm.id, In: in, Count: int(rm.count), Timestamp: ts,
			Volatile: volatile, Action: action})
	}
	n := kuzzle.User{In: in, Count: int(rm.count), Node: e.node, Timestamp: ts, Volatile: volatile,
		Index: rm.coll.indexJSON, Collection: rm.coll.collJSON, Action: action}
	e.deliverUserLocked(rm, &n)
}

// deliverUserLocked delivers user notification n to the channels of rm whose users
// option asks for it, serialized once, and returns the number of subscribers reached.
// rm.mu must be held (read or write).
func (e *Engine) deliverUserLocked(rm *room, n *kuzzle.User) int {
	want := OptionOut
	if n.In {
		want = OptionIn
	}
	f := e.getFanout()
	var payload []byte
	for _, ch := range rm.channels {
		if len(ch.subs) == 0 || (ch.users != OptionAll && ch.users != want) {
			continue
		}
		if payload == nil {
			payload = kuzzle.AppendUser(make([]byte, 0, kuzzle.UserSize(n)), n)
		}
		e.addChannel(f, payload, ch)
	}
	delivered := f.total
	e.run(f)
	f.release()
	return delivered
}
