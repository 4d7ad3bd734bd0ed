package auth

import (
	"sync"
	"time"
)

// LoginLimiter limits login attempts per key (a connection id, a source address) as
// Kuzzle's limits.loginsPerSecond does (lib/api/rateLimiter.ts): attempts are counted per
// key in one-second windows, every attempt counts, allowed ones and refused ones. Memory
// is bounded: counters are dropped when the window ends, and at most maxKeys keys are
// counted in one window (a new key past that is refused until the window ends). It is
// safe for concurrent use.
type LoginLimiter struct {
	perSecond int
	maxKeys   int
	now       func() time.Time

	mu     sync.Mutex
	window int64          // guarded by mu: the Unix second being counted
	counts map[string]int // guarded by mu
}

// NewLoginLimiter returns a limiter allowing perSecond attempts per key per second.
// perSecond <= 0 means unlimited (Kuzzle's 0); Kuzzle's default is 1. maxKeys <= 0 means
// 100,000.
func NewLoginLimiter(perSecond, maxKeys int) *LoginLimiter {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return &LoginLimiter{perSecond: perSecond, maxKeys: maxKeys, now: time.Now, counts: map[string]int{}}
}

// Allow counts an attempt for key and reports whether it is within the limit.
func (l *LoginLimiter) Allow(key string) bool {
	if l.perSecond <= 0 {
		return true
	}
	sec := l.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	if sec != l.window {
		l.window = sec
		if len(l.counts) > 1024 {
			// clear keeps a map's buckets: give the memory of a busy window back.
			l.counts = map[string]int{}
		} else {
			clear(l.counts)
		}
	}
	n, ok := l.counts[key]
	if !ok && len(l.counts) >= l.maxKeys {
		return false
	}
	n++
	l.counts[key] = n
	return n <= l.perSecond
}

// Check is Allow as an error: nil, or ErrTooManyLogins.
func (l *LoginLimiter) Check(key string) error {
	if l.Allow(key) {
		return nil
	}
	return errTooManyLogins
}
