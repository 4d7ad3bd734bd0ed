package room

import (
	"sync"
	"sync/atomic"
)

// fanout is one batch of notifications: chunks of (frame, subscribers) delivered by
// the caller and by up to Config.MaxSpread helper tasks, plus the scratch slices of a
// publish. It is recycled through Engine.free; helper tasks that start late hold a
// reference so that it is not reused under them.
type fanout struct {
	chunks  []chunk
	total   int         // subscribers in chunks
	chans   []chanRef   // the channels of chunks, in order
	maxTail int         // the longest tail of chans
	heads   []sizedHead // seal's scratch: the heads of this notification by tail length
	ids     []string    // publish: matching filter ids
	rooms   []*room     // publish: matching rooms, read-locked during delivery

	next atomic.Int64   // index of the next unclaimed chunk
	wg   sync.WaitGroup // one count per chunk
	refs atomic.Int32   // caller + helper tasks still holding f
	help func()         // f.helper, bound once so that Spread(f.help) does not allocate
	free chan *fanout   // the engine's free list
}

// getFanout returns an idle fanout, recycled when possible.
func (e *Engine) getFanout() *fanout {
	select {
	case f := <-e.free:
		return f
	default:
		f := &fanout{free: e.free}
		f.help = f.helper
		f.refs.Store(1)
		return f
	}
}

// chunk is a part of one channel's subscribers and the frame they all get, head then
// tail (see Subscriber).
type chunk struct {
	head, tail []byte
	subs       []Subscriber
}

// run delivers every chunk of f and returns once all of them were delivered.
func (e *Engine) run(f *fanout) {
	n := len(f.chunks)
	if n == 0 {
		return
	}
	f.next.Store(0)
	f.wg.Add(n)
	if e.cfg.Spread != nil && n > 1 && f.total > e.cfg.FanoutChunk {
		helpers := min(n-1, e.cfg.MaxSpread)
		for range helpers {
			f.refs.Add(1)
			if !e.cfg.Spread(f.help) {
				f.refs.Add(-1)
				break
			}
		}
	}
	f.work()
	f.wg.Wait()
}

// work claims and delivers chunks until none is left.
func (f *fanout) work() {
	n := int64(len(f.chunks))
	for {
		i := f.next.Add(1) - 1
		if i >= n {
			return
		}
		c := f.chunks[i]
		for _, s := range c.subs {
			s.Deliver(c.head, c.tail)
		}
		f.wg.Done()
	}
}

// helper is the task handed to Config.Spread.
func (f *fanout) helper() {
	f.work()
	f.release()
}

// release drops one reference; the last one recycles f.
func (f *fanout) release() {
	if f.refs.Add(-1) != 0 {
		return
	}
	if cap(f.chunks) > maxKeptChunks {
		f.chunks = nil
	}
	if cap(f.chans) > maxKeptChunks {
		f.chans = nil
	}
	clear(f.chunks)
	clear(f.chans)
	clear(f.ids)
	clear(f.rooms)
	f.chunks, f.chans, f.ids, f.rooms = f.chunks[:0], f.chans[:0], f.ids[:0], f.rooms[:0]
	f.total, f.maxTail = 0, 0
	f.refs.Store(1)
	select {
	case f.free <- f:
	default: // enough idle ones
	}
}

// maxKeptChunks bounds the chunk slice a recycled fanout keeps (about 32 KiB).
const maxKeptChunks = 1024
