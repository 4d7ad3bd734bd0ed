package load

import (
	"math/bits"
	"sort"
)

// subBits is the log-linear precision of Hist: 2^subBits buckets per power of two, so a
// bucket spans at most 1/128 (0.8%) of its values.
const subBits = 7

// Hist is a log-linear histogram of non-negative int64 values (nanoseconds here). The zero
// value is empty and ready to use. It encodes to JSON as sparse bucket counts.
type Hist struct {
	// Buckets maps a bucket index (see bucketOf) to its count.
	Buckets map[int]uint64 `json:"b"`
	// N is the number of values, Max and Min the exact extremes (0 when N == 0), Sum their sum.
	N   uint64 `json:"n"`
	Max int64  `json:"max"`
	Min int64  `json:"min"`
	Sum int64  `json:"sum"`
}

func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	m := uint64(v) >> shift // in [2^subBits, 2^(subBits+1))
	return (shift+1)<<subBits + int(m-1<<subBits)
}

// bucketMid returns a value inside bucket b: its low bound plus half its width.
func bucketMid(b int) int64 {
	if b < 1<<subBits {
		return int64(b)
	}
	shift := b>>subBits - 1
	m := int64(b&(1<<subBits-1)) + 1<<subBits
	return m<<shift + (int64(1)<<shift)/2
}

// Add records v; a negative v (clock skew) is recorded as 0.
func (h *Hist) Add(v int64) {
	if v < 0 {
		v = 0
	}
	if h.Buckets == nil {
		h.Buckets = make(map[int]uint64)
	}
	h.Buckets[bucketOf(v)]++
	if h.N == 0 || v > h.Max {
		h.Max = v
	}
	if h.N == 0 || v < h.Min {
		h.Min = v
	}
	h.N++
	h.Sum += v
}

// Merge adds every value of o to h.
func (h *Hist) Merge(o *Hist) {
	if o == nil || o.N == 0 {
		return
	}
	if h.Buckets == nil {
		h.Buckets = make(map[int]uint64)
	}
	for b, c := range o.Buckets {
		h.Buckets[b] += c
	}
	if h.N == 0 || o.Max > h.Max {
		h.Max = o.Max
	}
	if h.N == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	h.N += o.N
	h.Sum += o.Sum
}

// Quantile returns the value at quantile q in [0, 1], within 0.8%; q == 1 returns the exact
// maximum and an empty histogram returns 0.
func (h *Hist) Quantile(q float64) int64 {
	if h.N == 0 {
		return 0
	}
	if q >= 1 {
		return h.Max
	}
	keys := make([]int, 0, len(h.Buckets))
	for b := range h.Buckets {
		keys = append(keys, b)
	}
	sort.Ints(keys)
	rank := uint64(q*float64(h.N-1)) + 1
	var seen uint64
	for _, b := range keys {
		seen += h.Buckets[b]
		if seen >= rank {
			return min(max(bucketMid(b), h.Min), h.Max)
		}
	}
	return h.Max
}
