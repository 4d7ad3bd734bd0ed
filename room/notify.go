package room

import "github.com/kuzzlews/kuzzlews/kuzzle"

// wholeMin is the number of subscribers from which a channel gets its notification as one
// contiguous frame (one copy of the payload for the channel) rather than the shared head
// and its tail: a copy amortized over that many sockets costs less than the second iovec
// each of their writes would carry.
const wholeMin = 32

// chanRef is one channel of a fanout: the tail its frames end with, its subscriber count,
// and its chunks (f.chunks[from:to]).
type chanRef struct {
	tail     []byte
	subs     int
	from, to int
}

// sizedHead is a sealed head for tails of rest bytes.
type sizedHead struct {
	rest int
	head []byte
}

// addChannel adds ch's subscribers, split into chunks, to f. Their frames are set by seal
// once every channel is known. ch's room must be locked (read or write) until f has run.
func (e *Engine) addChannel(f *fanout, ch *channel) {
	size := e.cfg.FanoutChunk
	subs := ch.subs
	from := len(f.chunks)
	f.total += len(subs)
	for len(subs) > size {
		f.chunks = append(f.chunks, chunk{subs: subs[:size:size]})
		subs = subs[size:]
	}
	f.chunks = append(f.chunks, chunk{subs: subs})
	f.chans = append(f.chans, chanRef{tail: ch.tail, subs: len(ch.subs), from: from, to: len(f.chunks)})
	f.maxTail = max(f.maxTail, len(ch.tail))
}

// newPayload returns a buffer for a notification payload of about size bytes behind
// Config.Headroom bytes, with room for the longest tail of f's channels after it (so that
// seal can complete one frame in place).
func (e *Engine) newPayload(f *fanout, size int) []byte {
	h := e.cfg.Headroom
	return make([]byte, h, h+size+f.maxTail)
}

// seal sets the frames of f's chunks from buf, Config.Headroom bytes then the notification
// payload (a JSON object, as kuzzle's encoders make it). Every channel's notification is
// the payload with `room` appended as last key (kuzzle.AppendRoom), which only replaces
// the payload's closing brace: so the payload without that brace is sealed once as the
// head shared by every channel (once more per other tail length, in a copy, as channel
// names all have one length in practice), and each channel adds its own tail. The channel
// with the most subscribers, and any with wholeMin or more, gets the frame in one piece
// instead: in place in buf for the first (no copy), else one copy per such channel.
func (e *Engine) seal(f *fanout, buf []byte) {
	body := buf[:len(buf)-1]
	big := 0
	for i := range f.chans {
		if f.chans[i].subs > f.chans[big].subs {
			big = i
		}
	}
	bc := &f.chans[big]
	head := e.cfg.Seal(body, len(bc.tail))
	f.heads = append(f.heads[:0], sizedHead{rest: len(bc.tail), head: head})
	inPlace := -1
	if len(f.chans) == 1 || bc.subs >= wholeMin {
		// The head ends where body ends (Config.Seal's contract, checked): the tail
		// written right after it completes the frame without copying the payload.
		if n := len(bc.tail); cap(body)-len(body) >= n && &head[len(head)-1] == &body[len(body)-1] {
			copy(body[len(body):len(body)+n], bc.tail)
			setFrame(f, bc, head[:len(head)+n], nil)
			inPlace = big
		}
	}
	for i := range f.chans {
		if i == inPlace {
			continue
		}
		c := &f.chans[i]
		hd := e.headFor(f, body, len(c.tail))
		if c.subs >= wholeMin || len(f.chans) == 1 {
			whole := make([]byte, 0, len(hd)+len(c.tail))
			setFrame(f, c, append(append(whole, hd...), c.tail...), nil)
			continue
		}
		setFrame(f, c, hd, c.tail)
	}
	clear(f.heads) // the heads belong to the chunks now; f keeps no payload alive
	f.heads = f.heads[:0]
}

// headFor returns the head sealed for tails of rest bytes, sealing a copy of body the first
// time a length differs from those seen (the header declares the frame's whole length).
func (e *Engine) headFor(f *fanout, body []byte, rest int) []byte {
	for _, h := range f.heads {
		if h.rest == rest {
			return h.head
		}
	}
	hr := e.cfg.Headroom
	cp := append(make([]byte, hr, len(body)), body[hr:]...)
	head := e.cfg.Seal(cp, rest)
	f.heads = append(f.heads, sizedHead{rest: rest, head: head})
	return head
}

// setFrame gives every chunk of c the frame head+tail.
func setFrame(f *fanout, c *chanRef, head, tail []byte) {
	for i := c.from; i < c.to; i++ {
		f.chunks[i].head, f.chunks[i].tail = head, tail
	}
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
	for _, ch := range rm.channels {
		if len(ch.subs) == 0 || (ch.users != OptionAll && ch.users != want) {
			continue
		}
		e.addChannel(f, ch)
	}
	if len(f.chans) > 0 {
		e.seal(f, kuzzle.AppendUser(e.newPayload(f, kuzzle.UserSize(n)), n))
	}
	delivered := f.total
	e.run(f)
	f.release()
	return delivered
}
