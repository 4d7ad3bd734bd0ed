package filter

import (
	"math/rand/v2"
	"sync"
)

// lockShards is the number of reader shards of shardedRWMutex.
const lockShards = 8

// shardedRWMutex is a readers-writer lock whose readers spread over several
// cache-line-padded RWMutexes, so that concurrent Test calls on different cores do
// not all write the same reader counter (golang/go#17973). A writer locks every shard,
// in order. RLock returns the shard to pass to RUnlock.
type shardedRWMutex struct {
	shards [lockShards]struct {
		sync.RWMutex
		_ [64 - 24]byte // pad to a cache line (sync.RWMutex is 24 bytes)
	}
}

func (m *shardedRWMutex) RLock() int {
	i := int(rand.Uint32() % lockShards)
	m.shards[i].RLock()
	return i
}

func (m *shardedRWMutex) RUnlock(i int) { m.shards[i].RUnlock() }

func (m *shardedRWMutex) Lock() {
	for i := range m.shards {
		m.shards[i].Lock()
	}
}

func (m *shardedRWMutex) Unlock() {
	for i := len(m.shards) - 1; i >= 0; i-- {
		m.shards[i].Unlock()
	}
}
