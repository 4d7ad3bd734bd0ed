package load

import (
	"encoding/json"
	"math"
	"testing"
)

func TestWorkloadDeterministic(t *testing.T) {
	for _, kind := range []string{WorkTargeted, WorkMixed} {
		a, err := NewWorkload(kind, 500, 7)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewWorkload(kind, 500, 7)
		c, _ := NewWorkload(kind, 500, 8)
		same, differ := true, false
		for i := range 500 {
			fa, fb, fc := a.Filter(i), b.Filter(i), c.Filter(i)
			ja, jb, jc := string(fa.AppendJSON(nil)), string(fb.AppendJSON(nil)), string(fc.AppendJSON(nil))
			same = same && ja == jb
			differ = differ || ja != jc
			var v map[string]any
			if err := json.Unmarshal([]byte(ja), &v); err != nil {
				t.Fatalf("%s filter %d is not JSON: %s: %v", kind, i, ja, err)
			}
		}
		for m := range a.PoolSize() {
			if a.Doc(m) != b.Doc(m) {
				same = false
			}
		}
		if !same {
			t.Errorf("%s: two workloads with one seed differ", kind)
		}
		if kind == WorkMixed && !differ {
			t.Errorf("%s: seeds 7 and 8 give the same filters", kind)
		}
	}
}

func TestTargetedMatchesExactlyOne(t *testing.T) {
	w, err := NewWorkload(WorkTargeted, 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	if w.PoolSize() != 300 {
		t.Fatalf("pool size %d, want 300", w.PoolSize())
	}
	for m := range w.PoolSize() {
		n := 0
		for i := range 300 {
			if w.Matches(i, m) {
				n++
				if i != m {
					t.Fatalf("document %d matches subscriber %d", m, i)
				}
			}
		}
		if n != 1 {
			t.Fatalf("document %d matches %d subscribers, want 1", m, n)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	d := Doc{City: "c1", Tag: "t5", Age: 30, Score: 70, Lat: 43.6, Lon: 3.9}
	// 0.1 degree of latitude is about 11.1 km on the sphere.
	geo := func(m int) Filter { return Filter{Op: OpGeoDistance, Field: "loc", Lat: 43.7, Lon: 3.9, Meters: m} }
	eq := Filter{Op: OpEquals, Field: "city", Str: "c1"}
	cases := []struct {
		f    Filter
		want bool
	}{
		{eq, true},
		{Filter{Op: OpEquals, Field: "city", Str: "c2"}, false},
		{Filter{Op: OpRange, Field: "age", Gte: 30, Lt: 31}, true},  // gte is inclusive
		{Filter{Op: OpRange, Field: "age", Gte: 20, Lt: 30}, false}, // lt is exclusive
		{Filter{Op: OpRange, Field: "score", Gte: 60, Lt: 80}, true},
		{Filter{Op: OpIn, Field: "tag", Strs: []string{"t1", "t5"}}, true},
		{Filter{Op: OpIn, Field: "tag", Strs: []string{"t1", "t6"}}, false},
		{geo(11200), true},
		{geo(11000), false},
		{Filter{Op: OpNot, Sub: []Filter{geo(11000)}}, true},
		{Filter{Op: OpAnd, Sub: []Filter{eq, geo(11000)}}, false},
		{Filter{Op: OpOr, Sub: []Filter{eq, geo(11000)}}, true},
		{Filter{Op: OpOr, Sub: []Filter{geo(11000), {Op: OpEquals, Field: "tag", Str: "t4"}}}, false},
	}
	for _, c := range cases {
		if got := c.f.Match(&d); got != c.want {
			t.Errorf("%s on %+v = %v, want %v", c.f.AppendJSON(nil), d, got, c.want)
		}
	}
	if h := haversine(43.6, 3.9, 43.7, 3.9); math.Abs(h-11119.5) > 1 {
		t.Errorf("haversine over 0.1 degree of latitude = %.1f m, want 11119.5", h)
	}
}

func TestFilterJSON(t *testing.T) {
	f := Filter{Op: OpAnd, Sub: []Filter{
		{Op: OpRange, Field: "age", Gte: 3, Lt: 9},
		{Op: OpNot, Sub: []Filter{{Op: OpGeoDistance, Field: "loc", Lat: 43.25, Lon: -3.5, Meters: 12000}}},
	}}
	want := `{"and":[{"range":{"age":{"gte":3,"lt":9}}},{"not":{"geoDistance":{"loc":{"lat":43.25,"lon":-3.5},"distance":"12000m"}}}]}`
	if got := string(f.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON = %s, want %s", got, want)
	}
	g := Filter{Op: OpOr, Sub: []Filter{{Op: OpEquals, Field: "city", Str: `c"1`}, {Op: OpIn, Field: "tag", Strs: []string{"t1", "t2"}}}}
	want = `{"or":[{"equals":{"city":"c\"1"}},{"in":{"tag":["t1","t2"]}}]}`
	if got := string(g.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON = %s, want %s", got, want)
	}
}

// TestMixedPool checks the pool documents stay clear of every circle's edge (so the sphere
// and the ellipsoid agree), and that the workload matches a few percent of the pairs.
func TestMixedPool(t *testing.T) {
	w, err := NewWorkload(WorkMixed, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	var circles []Filter
	kinds := map[FilterOp]int{}
	for i := range w.Subs {
		f := w.Filter(i)
		circles = f.appendCircles(circles)
		kinds[f.Op]++
	}
	for _, op := range []FilterOp{OpEquals, OpRange, OpIn, OpGeoDistance, OpAnd, OpOr, OpNot} {
		if kinds[op] == 0 {
			t.Errorf("no top-level filter of kind %d among %d", op, w.Subs)
		}
	}
	matches := 0
	for m := range w.PoolSize() {
		d := w.Doc(m)
		for _, c := range circles {
			if r := haversine(c.Lat, c.Lon, d.Lat, d.Lon) / float64(c.Meters); math.Abs(r-1) < geoMargin {
				t.Fatalf("document %d lies at %.4f of a circle's radius", m, r)
			}
		}
		for i := range w.Subs {
			if w.Matches(i, m) {
				matches++
			}
		}
	}
	rate := float64(matches) / float64(w.Subs*w.PoolSize())
	t.Logf("%d filters x %d documents: match rate %.4f", w.Subs, w.PoolSize(), rate)
	if rate < 0.01 || rate > 0.3 {
		t.Errorf("match rate %.3f, want a few percent", rate)
	}
}

func TestSeqAndDocBody(t *testing.T) {
	seen := map[int64]bool{}
	for p := range 5 {
		for k := range int64(20) {
			s := Seq(p, 5, k)
			if seen[s] || s%5 != int64(p) || s/5 != k {
				t.Fatalf("Seq(%d, 5, %d) = %d", p, k, s)
			}
			seen[s] = true
		}
	}
	w, _ := NewWorkload(WorkMixed, 10, 1)
	d := w.Doc(w.Class(123456))
	b := AppendDocBody(nil, 2, 123456, 1700000000123456789, &d)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("document body is not JSON: %s: %v", b, err)
	}
	step, seq, ts, ok := ParseBody(b)
	if !ok || step != 2 || seq != 123456 || ts != 1700000000123456789 {
		t.Errorf("ParseBody(%s) = %d %d %d %v", b, step, seq, ts, ok)
	}
	if v["city"] != d.City || v["age"] != float64(d.Age) {
		t.Errorf("document body %s lacks the fields of %+v", b, d)
	}
}

func TestChurnFilterFresh(t *testing.T) {
	seen := map[string]bool{}
	for conn := range 3 {
		for k := range int64(100) {
			f := ChurnFilter("w1", conn, k, 1)
			j := string(f.AppendJSON(nil))
			if seen[j] {
				t.Fatalf("churn filter repeated: %s", j)
			}
			seen[j] = true
		}
	}
	f := ChurnFilter("w1", 2, 5, 1)
	if want := `{"and":[{"equals":{"churn":"w1-2-5"}},`; string(f.AppendJSON(nil))[:len(want)] != want {
		t.Errorf("churn filter %s does not start with %s", f.AppendJSON(nil), want)
	}
}

func TestNewWorkloadErrors(t *testing.T) {
	if _, err := NewWorkload("nope", 10, 1); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := NewWorkload(WorkMixed, 0, 1); err == nil {
		t.Error("zero subscribers accepted")
	}
}
