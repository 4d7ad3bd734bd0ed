package auth

import (
	"container/heap"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// Expirer links keys (connection ids) to tokens and calls back when a linked token
// expires, as Kuzzle's TokenManager does for connections of protocols with realtime
// notifications (lib/core/auth/tokenManager.ts): a key has at most one token, a token
// many keys; linking a new token to a key replaces the old link. One goroutine and one
// timer serve all links, over a min-heap ordered by expiry; links of tokens without
// expiry are kept (for Get, RemoveToken and Replace) but never fire.
//
// It is safe for concurrent use. onExpire runs on the Expirer's goroutine, one call at a
// time in expiry order, after the link was removed, with no lock held: it may call the
// Expirer (except Stop, which waits for it), and it should hand long work off (the timer
// waits for it).
type Expirer struct {
	onExpire func(key string, tok Token)
	now      func() time.Time

	mu      sync.Mutex
	byKey   map[string]*link            // guarded by mu
	byToken map[string]map[string]*link // guarded by mu: token JWT -> key -> link
	queue   linkHeap                    // guarded by mu
	stopped bool                        // guarded by mu

	wake chan struct{} // capacity 1: the earliest expiry may have changed
	stop chan struct{}
	done chan struct{}
}

// link is one key linked to one token.
type link struct {
	key string
	tok Token
	at  int64 // expiry in Unix ms, -1 for never
	pos int   // index in the heap, -1 when not in it
}

// linkHeap orders links by expiry, earliest first.
type linkHeap []*link

func (h linkHeap) Len() int           { return len(h) }
func (h linkHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h linkHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *linkHeap) Push(x any) {
	l := x.(*link)
	l.pos = len(*h)
	*h = append(*h, l)
}
func (h *linkHeap) Pop() any {
	old := *h
	n := len(old)
	l := old[n-1]
	old[n-1] = nil
	l.pos = -1
	*h = old[:n-1]
	return l
}

// NewExpirer starts an Expirer calling onExpire(key, token) when the token linked to key
// expires (Kuzzle then sends the TokenExpired notification and removes the connection's
// subscriptions). Stop it with Stop.
func NewExpirer(onExpire func(key string, tok Token)) *Expirer {
	e := &Expirer{
		onExpire: onExpire,
		now:      time.Now,
		byKey:    map[string]*link{},
		byToken:  map[string]map[string]*link{},
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go e.run()
	return e
}

// Set links key to tok, replacing the token key had (Kuzzle's TokenManager.link). A zero
// Token removes the link. Set after Stop does nothing.
func (e *Expirer) Set(key string, tok Token) {
	if tok.jwt == "" {
		e.Remove(key)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if old, ok := e.byKey[key]; ok {
		if old.tok.jwt == tok.jwt {
			return
		}
		e.unlinkLocked(old)
	}
	e.linkLocked(&link{key: key, tok: tok, at: tok.ExpiresAt, pos: -1})
}

// Get returns the token linked to key (Kuzzle's TokenManager.getConnectedUserToken).
func (e *Expirer) Get(key string) (Token, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.byKey[key]
	if !ok {
		return Token{}, false
	}
	return l.tok, true
}

// Remove unlinks key (auth:logout, connection closed) and returns the token it had.
func (e *Expirer) Remove(key string) (Token, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.byKey[key]
	if !ok {
		return Token{}, false
	}
	e.unlinkLocked(l)
	return l.tok, true
}

// RemoveToken unlinks every key linked to tok and returns them, sorted (Kuzzle's
// TokenManager.expire: after a logout or a user deletion the caller removes those
// connections' subscriptions, without notification).
func (e *Expirer) RemoveToken(tok Token) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	links := e.byToken[tok.jwt]
	keys := make([]string, 0, len(links))
	for k, l := range links {
		keys = append(keys, k)
		e.unlinkLocked(l)
	}
	slices.Sort(keys)
	return keys
}

// Replace links every key linked to old to fresh instead (Kuzzle's TokenManager.refresh,
// after auth:refreshToken or a new auth:login on the connection).
func (e *Expirer) Replace(old, fresh Token) {
	if old.jwt == fresh.jwt || fresh.jwt == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.byToken[old.jwt] {
		e.unlinkLocked(l)
		e.linkLocked(&link{key: l.key, tok: fresh, at: fresh.ExpiresAt, pos: -1})
	}
}

// Len returns the number of linked keys.
func (e *Expirer) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.byKey)
}

// Stop stops the goroutine and waits for it (and for a running onExpire) to return. Links
// are kept but never fire; Stop may be called more than once.
func (e *Expirer) Stop() {
	e.mu.Lock()
	first := !e.stopped
	e.stopped = true
	e.mu.Unlock()
	if first {
		close(e.stop)
	}
	<-e.done
}

// linkLocked adds l. e.mu must be held.
func (e *Expirer) linkLocked(l *link) {
	e.byKey[l.key] = l
	m := e.byToken[l.tok.jwt]
	if m == nil {
		m = map[string]*link{}
		e.byToken[l.tok.jwt] = m
	}
	m[l.key] = l
	if l.at >= 0 {
		heap.Push(&e.queue, l)
		if l.pos == 0 {
			e.poke()
		}
	}
}

// unlinkLocked removes l. e.mu must be held.
func (e *Expirer) unlinkLocked(l *link) {
	delete(e.byKey, l.key)
	if m := e.byToken[l.tok.jwt]; m != nil {
		delete(m, l.key)
		if len(m) == 0 {
			delete(e.byToken, l.tok.jwt)
		}
	}
	if l.pos >= 0 {
		heap.Remove(&e.queue, l.pos)
	}
}

// poke wakes the goroutine to look at the earliest expiry again.
func (e *Expirer) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run is the Expirer's goroutine: it fires the links due, then sleeps until the earliest
// expiry, a change of it, or Stop.
func (e *Expirer) run() {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []*link
	for {
		e.mu.Lock()
		nowMs := e.now().UnixMilli()
		due = due[:0]
		for len(e.queue) > 0 && e.queue[0].at <= nowMs {
			l := e.queue[0]
			e.unlinkLocked(l)
			due = append(due, l)
		}
		wait := time.Duration(-1)
		if len(e.queue) > 0 {
			wait = time.Duration(e.queue[0].at-nowMs) * time.Millisecond
		}
		e.mu.Unlock()

		for i, l := range due {
			select {
			case <-e.stop:
				return
			default:
			}
			e.onExpire(l.key, l.tok)
			due[i] = nil
		}
		if len(due) > 0 {
			continue // time passed in the callbacks: look again before sleeping
		}
		if wait >= 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-e.stop:
			return
		case <-e.wake:
		case <-timer.C:
		}
	}
}

// RemoveRevoked is RemoveToken for a token known only by its Revocation (a logout made
// on another node): it unlinks every key linked to that token and returns those keys,
// sorted. It scans the linked tokens.
func (e *Expirer) RemoveRevoked(r Revocation) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []string
	for jwt, links := range e.byToken {
		if sha256.Sum256([]byte(jwt)) != r.Key {
			continue
		}
		for k, l := range links {
			keys = append(keys, k)
			e.unlinkLocked(l)
		}
	}
	slices.Sort(keys)
	return keys
}
