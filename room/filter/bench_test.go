package filter

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// The workloads mirror Koncorde's benchmark.js (kuzzleio/koncorde, at the repository
// root; its figures are in Koncorde's README.md): for each
// keyword, N random filters and one fixed document that matches few of them. The
// same generator (mulberry32 seeded with 42) is in internal/konbench/bench.js, which
// measures Koncorde on the same filters and documents.

// mulberry32 is a tiny PRNG that JavaScript reproduces exactly.
type mulberry32 uint32

func (m *mulberry32) next() float64 {
	*m += 0x6D2B79F5
	t := uint32(*m)
	t = (t ^ t>>15) * (1 | t)
	t = (t + (t^t>>7)*(61|t)) ^ t
	return float64(t^t>>14) / 4294967296
}

const benchAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (m *mulberry32) str(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteByte(benchAlphabet[int(m.next()*62)])
	}
	return sb.String()
}

func (m *mulberry32) intn(lo, hi int) int { return lo + int(m.next()*float64(hi-lo+1)) }

// num formats like JavaScript's JSON.stringify.
func num(f float64) string { return jsNumberString(f) }

type workload struct {
	name   string
	filter func(r *mulberry32) string
	doc    func(r *mulberry32) string
}

var workloads = []workload{
	{"equals", func(r *mulberry32) string { return `{"equals":{"str":"` + r.str(20) + `"}}` },
		func(r *mulberry32) string { return `{"str":"` + r.str(20) + `"}` }},
	{"exists", func(r *mulberry32) string { return `{"exists":{"field":"` + r.str(20) + `"}}` },
		func(r *mulberry32) string { return `{"` + r.str(20) + `":true}` }},
	{"geoBoundingBox", func(r *mulberry32) string {
		lon, lat := r.next()*360-180, r.next()*180-90
		return fmt.Sprintf(`{"geoBoundingBox":{"point":{"top":%s,"left":%s,"right":%s,"bottom":%s}}}`, num(lat), num(lon), num(lon+0.5), num(lat-0.5))
	}, func(*mulberry32) string { return `{"point":[0,0]}` }},
	{"geoDistance", func(r *mulberry32) string {
		lon, lat := r.next()*360-180, r.next()*180-90
		return fmt.Sprintf(`{"geoDistance":{"point":[%s,%s],"distance":"500m"}}`, num(lat), num(lon))
	}, func(*mulberry32) string { return `{"point":[0,0]}` }},
	{"geoDistanceRange", func(r *mulberry32) string {
		lon, lat := r.next()*360-180, r.next()*180-90
		return fmt.Sprintf(`{"geoDistanceRange":{"point":[%s,%s],"from":"500m","to":"1km"}}`, num(lat), num(lon))
	}, func(*mulberry32) string { return `{"point":[0,0]}` }},
	{"geoPolygon", func(r *mulberry32) string {
		// 5 vertices at increasing angles, radius up to 10 degrees, as geojson-random
		lon, lat := r.next()*340-170, r.next()*160-80
		var pts []string
		for i := 0; i < 5; i++ {
			a := 2 * math.Pi * (float64(i) + r.next()) / 5
			rad := 0.5 + r.next()*9.5
			pts = append(pts, fmt.Sprintf(`[%s,%s]`, num(lat+rad*math.Sin(a)/2), num(lon+rad*math.Cos(a))))
		}
		return `{"geoPolygon":{"point":{"points":[` + strings.Join(pts, ",") + `]}}}`
	}, func(*mulberry32) string { return `{"point":[0,0]}` }},
	{"in", func(r *mulberry32) string {
		var vs []string
		for i := 0; i < 5; i++ {
			vs = append(vs, `"`+r.str(20)+`"`)
		}
		return `{"in":{"str":[` + strings.Join(vs, ",") + `]}}`
	}, func(r *mulberry32) string { return `{"str":"` + r.str(20) + `"}` }},
	{"range", func(r *mulberry32) string {
		b := r.intn(-10000, 10000)
		return fmt.Sprintf(`{"range":{"integer":{"gte":%d,"lte":%d}}}`, b, b+100)
	}, func(r *mulberry32) string { return fmt.Sprintf(`{"integer":%d}`, r.intn(-10000, 10000)) }},
	{"regexp", func(r *mulberry32) string { return `{"regexp":{"str":"^` + r.str(3) + `"}}` },
		func(r *mulberry32) string { return `{"str":"` + r.str(20) + `"}` }},
	{"notEquals", func(r *mulberry32) string { return `{"not":{"equals":{"str":"` + r.str(20) + `"}}}` },
		func(r *mulberry32) string { return `{"str":"` + r.str(20) + `"}` }},
}

// benchFilters returns the n filters and the document of a workload.
func benchFilters(w workload, n int) ([]string, string) {
	r := mulberry32(42)
	fs := make([]string, n)
	for i := range fs {
		fs[i] = w.filter(&r)
	}
	return fs, w.doc(&r)
}

// BenchmarkTest measures Test of one document (JSON bytes, parsed by Test) against
// 1, 1,000 and 10,000 registered filters per keyword.
func BenchmarkTest(b *testing.B) {
	for _, w := range workloads {
		for _, n := range []int{1, 1000, 10000} {
			b.Run(fmt.Sprintf("%s/%d", w.name, n), func(b *testing.B) {
				fs, doc := benchFilters(w, n)
				e := NewEngine(Config{})
				for _, f := range fs {
					nf, err := e.Normalize("i", []byte(f))
					if err != nil {
						b.Fatalf("%s: %v", f, err)
					}
					e.Store(nf)
				}
				d := []byte(doc)
				dst := make([]string, 0, 64)
				b.ReportAllocs()
				var matched int
				for b.Loop() {
					dst = e.Test("i", d, "", dst[:0])
					matched = len(dst)
				}
				b.ReportMetric(float64(matched), "matches")
			})
		}
	}
}

// BenchmarkCompile measures Normalize + Store of one filter into an index that
// already holds the other filters of the workload (10,000 in total per round).
func BenchmarkCompile(b *testing.B) {
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			fs, _ := benchFilters(w, 10000)
			b.ReportAllocs()
			e := NewEngine(Config{})
			i := 0
			for b.Loop() {
				if i == len(fs) {
					e = NewEngine(Config{})
					i = 0
				}
				nf, err := e.Normalize("i", []byte(fs[i]))
				if err != nil {
					b.Fatal(err)
				}
				e.Store(nf)
				i++
			}
		})
	}
}

// BenchmarkTestParallel runs Test from GOMAXPROCS goroutines at once on one engine
// (10,000 filters): Test only takes the read lock, so throughput scales with cores.
func BenchmarkTestParallel(b *testing.B) {
	for _, w := range workloads {
		if w.name != "equals" && w.name != "range" && w.name != "geoDistance" {
			continue
		}
		b.Run(w.name, func(b *testing.B) {
			fs, doc := benchFilters(w, 10000)
			e := NewEngine(Config{})
			for _, f := range fs {
				nf, err := e.Normalize("i", []byte(f))
				if err != nil {
					b.Fatal(err)
				}
				e.Store(nf)
			}
			d := []byte(doc)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				dst := make([]string, 0, 64)
				for pb.Next() {
					dst = e.Test("i", d, "", dst[:0])
				}
			})
		})
	}
}
