package load

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistQuantileWithinPrecision(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) int64
	}{
		{name: "small", gen: func(r *rand.Rand) int64 { return r.Int64N(200) }},
		{name: "micros", gen: func(r *rand.Rand) int64 { return 1000 + r.Int64N(1_000_000) }},
		{name: "heavy tail", gen: func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 5e6) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var a, b Hist
			vals := make([]int64, 0, 20000)
			for i := range 20000 {
				v := tt.gen(r)
				vals = append(vals, v)
				if i%2 == 0 {
					a.Add(v)
				} else {
					b.Add(v)
				}
			}
			a.Merge(&b)
			slices.Sort(vals)
			if a.N != uint64(len(vals)) || a.Max != vals[len(vals)-1] || a.Min != vals[0] {
				t.Fatalf("n/min/max = %d/%d/%d, want %d/%d/%d", a.N, a.Min, a.Max, len(vals), vals[0], vals[len(vals)-1])
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := vals[int(q*float64(len(vals)-1))]
				got := a.Quantile(q)
				if d := got - want; d*128 > want+128 || -d*128 > want+128 {
					t.Errorf("q%.3f = %d, want %d within 1/128", q, got, want)
				}
			}
		})
	}
}

func TestBucketOfMonotonic(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<20; v += 7 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < previous %d", v, b, prev)
		}
		if m := bucketMid(b); bucketOf(m) != b {
			t.Fatalf("bucketMid(%d) = %d falls in bucket %d", b, m, bucketOf(m))
		}
		prev = b
	}
}
