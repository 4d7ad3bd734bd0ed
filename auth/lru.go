package auth

import "container/list"

// cacheEntry is a verified token and the instant it stops being valid.
type cacheEntry struct {
	key string
	tok Token
	// until is the Unix millisecond from which the token is refused, -1 for never.
	until int64
	// endErr is what Verify answers from until on: ErrTokenExpired when until is the
	// token's "exp", ErrTokenInvalid when it is the end of a refresh grace period.
	endErr error
}

// lru is a bounded least-recently-used map of verified tokens keyed by the token string.
// It is not safe for concurrent use: Tokens.mu guards it.
type lru struct {
	max   int
	ll    *list.List // front = most recently used; values are *cacheEntry
	items map[string]*list.Element
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: make(map[string]*list.Element, min(max, 1024))}
}

// get returns the entry for key and marks it most recently used.
func (c *lru) get(key string) (*cacheEntry, bool) {
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry), true
}

// add inserts or replaces the entry for e.key, evicting the least recently used entry
// when the cache is full.
func (c *lru) add(e *cacheEntry) {
	if el, ok := c.items[e.key]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	if c.ll.Len() >= c.max {
		oldest := c.ll.Back()
		c.ll.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheEntry).key)
	}
	c.items[e.key] = c.ll.PushFront(e)
}

// remove drops the entry for key, if any.
func (c *lru) remove(key string) {
	if el, ok := c.items[key]; ok {
		c.ll.Remove(el)
		delete(c.items, key)
	}
}

func (c *lru) len() int { return c.ll.Len() }

// removeIf drops every entry for which drop returns true.
func (c *lru) removeIf(drop func(*cacheEntry) bool) {
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*cacheEntry); drop(e) {
			c.ll.Remove(el)
			delete(c.items, e.key)
		}
		el = next
	}
}
