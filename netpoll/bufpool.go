package netpoll

import "sync"

// bufClasses are the capacities of pooled input buffers. Partial input of a connection is
// copied into the smallest class that fits, so an idle connection that left 20 bytes of a
// handshake behind holds 256 bytes, not a worker-sized buffer.
var bufClasses = [...]int{256, 2 << 10, 16 << 10, 128 << 10, 1 << 20}

var bufPools [len(bufClasses)]sync.Pool

// getBuf returns an empty buffer with capacity at least n. Buffers larger than the biggest
// class are allocated and never pooled.
func getBuf(n int) *[]byte {
	for i, size := range bufClasses {
		if n <= size {
			if b, ok := bufPools[i].Get().(*[]byte); ok {
				return b
			}
			b := make([]byte, 0, size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuf returns b to its pool. b must not be used afterwards.
func putBuf(b *[]byte) {
	c := cap(*b)
	for i, size := range bufClasses {
		if c == size {
			*b = (*b)[:0]
			bufPools[i].Put(b)
			return
		}
	}
}
