package load

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// The filtered workloads: every subscriber of a run has its own Koncorde filter, generated
// from the run's seed and the subscriber's index, and every publication carries one document
// of a pool generated from the same seed. The load generator knows which subscribers each
// document matches by evaluating the filters itself (Filter.Match), so every delivery can be
// checked without trusting the server under test.
const (
	// WorkTargeted gives subscriber i the filter {"equals":{"target":"t<i>"}}; the pool has
	// one document per subscriber ({"target":"t<m>"}), so every publication matches exactly
	// one subscriber.
	WorkTargeted = "targeted"
	// WorkMixed gives each subscriber one of equals, range, in, geoDistance, or a small
	// and/or/not of those, over random documents (MixedPool of them).
	WorkMixed = "mixed"
)

// MixedPool is the number of distinct documents of the mixed workload.
const MixedPool = 4096

// Geo box of the mixed workload: centres and points within this many degrees of
// (geoLat0, geoLon0), circles of geoMinKm to geoMaxKm.
const (
	geoLat0, geoLon0 = 43.6, 3.9
	geoSpan          = 1.0
	geoMinKm         = 5
	geoMaxKm         = 40
	// geoMargin: a pool document whose point lies within this fraction of any circle's
	// radius from its edge is drawn again. Koncorde measures geoDistance on the WGS84
	// ellipsoid (Boost.Geometry's andoyer formula) and Filter.Match on a sphere
	// (haversine); the two differ by well under 1% at these distances, so no document is
	// near enough to an edge for them to disagree.
	geoMargin = 0.02
	// earthRadius is the mean Earth radius in metres (IUGG), for haversine.
	earthRadius = 6371008.8
)

// Mixed workload value ranges: city c0..c49, tag t0..t99, age and score 0..99.
const (
	mixedCities = 50
	mixedTags   = 100
	mixedInts   = 100
)

// FilterOp is the Koncorde keyword at a Filter node.
type FilterOp uint8

// The keywords of the workloads (Koncorde 4 terms).
const (
	OpEquals FilterOp = iota + 1
	OpRange
	OpIn
	OpGeoDistance
	OpAnd
	OpOr
	OpNot
)

// Filter is one node of a subscription filter: a field condition or a boolean of
// sub-filters. Only the fields of its Op are used.
type Filter struct {
	Op    FilterOp
	Field string
	// Str is the equals value; Strs the in values.
	Str  string
	Strs []string
	// Gte and Lt bound a range: Gte <= v < Lt.
	Gte, Lt int
	// Lat, Lon (degrees) and Meters (integer radius) describe a geoDistance circle.
	Lat, Lon float64
	Meters   int
	// Sub are the operands of and/or, or the one operand of not.
	Sub []Filter
}

// Doc is one document of a workload: Target for targeted, the other fields for mixed.
type Doc struct {
	Target     string
	City, Tag  string
	Age, Score int
	Lat, Lon   float64
}

// Workload is a filtered workload: Kind (WorkTargeted or WorkMixed), Subs subscribers, Seed.
// It is deterministic: two processes with the same three values build the same filters and
// documents. Build it with NewWorkload.
type Workload struct {
	Kind string
	Subs int
	Seed uint64

	filters []Filter
	pool    []Doc
}

// NewWorkload builds the filters of subs subscribers and the document pool. It fails on an
// unknown kind or subs < 1.
func NewWorkload(kind string, subs int, seed uint64) (*Workload, error) {
	if subs < 1 {
		return nil, fmt.Errorf("load: workload needs at least one subscriber, got %d", subs)
	}
	w := &Workload{Kind: kind, Subs: subs, Seed: seed, filters: make([]Filter, subs)}
	switch kind {
	case WorkTargeted:
		w.pool = make([]Doc, subs)
		for i := range subs {
			t := "t" + strconv.Itoa(i)
			w.filters[i] = Filter{Op: OpEquals, Field: "target", Str: t}
			w.pool[i] = Doc{Target: t}
		}
	case WorkMixed:
		var circles []Filter
		for i := range subs {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			w.filters[i] = mixedFilter(r, 0)
			circles = w.filters[i].appendCircles(circles)
		}
		w.pool = make([]Doc, MixedPool)
		for m := range w.pool {
			r := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(m)))
			w.pool[m] = mixedDoc(r, circles)
		}
	default:
		return nil, fmt.Errorf("load: unknown workload %q (%s, %s)", kind, WorkTargeted, WorkMixed)
	}
	return w, nil
}

// Filter returns subscriber i's filter, 0 <= i < Subs.
func (w *Workload) Filter(i int) Filter { return w.filters[i] }

// PoolSize is the number of distinct documents.
func (w *Workload) PoolSize() int { return len(w.pool) }

// Doc returns pool document m, 0 <= m < PoolSize.
func (w *Workload) Doc(m int) Doc { return w.pool[m] }

// Class returns the pool document that publication seq carries (seq >= 0).
func (w *Workload) Class(seq int64) int { return int(seq % int64(len(w.pool))) }

// Matches reports whether subscriber i's filter matches pool document m.
func (w *Workload) Matches(i, m int) bool { return w.filters[i].Match(&w.pool[m]) }

// Seq is the sequence number of the k-th publication (k >= 0) of publisher p of n: k*n + p.
// Publishers thus never share a number, and the pool documents are spread evenly over them.
func Seq(p, n int, k int64) int64 { return k*int64(n) + int64(p) }

func pick(r *rand.Rand, prefix string, n int) string { return prefix + strconv.Itoa(r.IntN(n)) }

func mixedLeaf(r *rand.Rand, kind int) Filter {
	switch kind {
	case 0:
		return Filter{Op: OpEquals, Field: "city", Str: pick(r, "c", mixedCities)}
	case 1:
		field := "age"
		if r.IntN(2) == 1 {
			field = "score"
		}
		lo := r.IntN(mixedInts)
		return Filter{Op: OpRange, Field: field, Gte: lo, Lt: lo + 1 + r.IntN(20)}
	case 2:
		f := Filter{Op: OpIn, Field: "tag"}
		for range 1 + r.IntN(4) {
			f.Strs = append(f.Strs, pick(r, "t", mixedTags))
		}
		return f
	default:
		return Filter{Op: OpGeoDistance, Field: "loc",
			Lat:    round6(geoLat0 + (r.Float64()*2-1)*geoSpan),
			Lon:    round6(geoLon0 + (r.Float64()*2-1)*geoSpan),
			Meters: 1000 * (geoMinKm + r.IntN(geoMaxKm-geoMinKm+1))}
	}
}

// mixedFilter draws one filter: 80% a single condition (equals, range, in, geoDistance in
// equal shares), 20% a not of one, or an and or an or of two (one level deep).
//
// Two operands, not more: Koncorde 4.7 rejects some wider ones whose operands mix an `or`
// (an `in` of two values or more is one), a geoDistance and a third condition, e.g.
// {"and":[{"in":{"tag":["t1","t2"]}},{"geoDistance":{...}},{"range":{...}}]} fails to
// normalize with `"and.and.geospatial": unknown keyword` (kuzzlews answers the same).
func mixedFilter(r *rand.Rand, depth int) Filter {
	if depth > 0 || r.IntN(5) != 0 {
		return mixedLeaf(r, r.IntN(4))
	}
	switch r.IntN(3) {
	case 0:
		return Filter{Op: OpNot, Sub: []Filter{mixedLeaf(r, r.IntN(4))}}
	case 1:
		return Filter{Op: OpAnd, Sub: []Filter{mixedFilter(r, 1), mixedFilter(r, 1)}}
	default:
		return Filter{Op: OpOr, Sub: []Filter{mixedFilter(r, 1), mixedFilter(r, 1)}}
	}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// mixedDoc draws a document whose point is not near the edge of any of circles.
func mixedDoc(r *rand.Rand, circles []Filter) Doc {
	d := Doc{City: pick(r, "c", mixedCities), Tag: pick(r, "t", mixedTags), Age: r.IntN(mixedInts), Score: r.IntN(mixedInts)}
	for {
		d.Lat = round6(geoLat0 + (r.Float64()*2-1)*(geoSpan+0.3))
		d.Lon = round6(geoLon0 + (r.Float64()*2-1)*(geoSpan+0.3))
		ok := true
		for _, c := range circles {
			if math.Abs(haversine(c.Lat, c.Lon, d.Lat, d.Lon)-float64(c.Meters)) < geoMargin*float64(c.Meters) {
				ok = false
				break
			}
		}
		if ok {
			return d
		}
	}
}

func (f *Filter) appendCircles(out []Filter) []Filter {
	if f.Op == OpGeoDistance {
		return append(out, *f)
	}
	for i := range f.Sub {
		out = f.Sub[i].appendCircles(out)
	}
	return out
}

// haversine is the great-circle distance in metres between two points given in degrees.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// Match evaluates f on d with Koncorde's semantics for these keywords (equals: strict
// equality; range: gte/lt on numbers; in: one of the strings; geoDistance: within the
// radius; and/or/not). Every document of a workload has every field of its kind, so the
// missing-field cases of Koncorde never arise.
func (f *Filter) Match(d *Doc) bool {
	switch f.Op {
	case OpEquals:
		return d.str(f.Field) == f.Str
	case OpRange:
		v := d.num(f.Field)
		return v >= f.Gte && v < f.Lt
	case OpIn:
		v := d.str(f.Field)
		for _, s := range f.Strs {
			if s == v {
				return true
			}
		}
		return false
	case OpGeoDistance:
		return haversine(f.Lat, f.Lon, d.Lat, d.Lon) <= float64(f.Meters)
	case OpAnd:
		for i := range f.Sub {
			if !f.Sub[i].Match(d) {
				return false
			}
		}
		return true
	case OpOr:
		for i := range f.Sub {
			if f.Sub[i].Match(d) {
				return true
			}
		}
		return false
	case OpNot:
		return !f.Sub[0].Match(d)
	}
	return false
}

func (d *Doc) str(field string) string {
	switch field {
	case "target":
		return d.Target
	case "city":
		return d.City
	case "tag":
		return d.Tag
	}
	return ""
}

func (d *Doc) num(field string) int {
	if field == "age" {
		return d.Age
	}
	return d.Score
}

// AppendJSON appends f as a Koncorde filter, e.g. {"range":{"age":{"gte":3,"lt":9}}} or
// {"geoDistance":{"loc":{"lat":43.1,"lon":3.2},"distance":"12000m"}}.
func (f *Filter) AppendJSON(b []byte) []byte {
	switch f.Op {
	case OpEquals:
		b = append(b, `{"equals":{`...)
		b = strconv.AppendQuote(b, f.Field)
		b = append(b, ':')
		b = strconv.AppendQuote(b, f.Str)
		return append(b, "}}"...)
	case OpRange:
		b = append(b, `{"range":{`...)
		b = strconv.AppendQuote(b, f.Field)
		b = append(b, `:{"gte":`...)
		b = strconv.AppendInt(b, int64(f.Gte), 10)
		b = append(b, `,"lt":`...)
		b = strconv.AppendInt(b, int64(f.Lt), 10)
		return append(b, "}}}"...)
	case OpIn:
		b = append(b, `{"in":{`...)
		b = strconv.AppendQuote(b, f.Field)
		b = append(b, ":["...)
		for i, s := range f.Strs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, s)
		}
		return append(b, "]}}"...)
	case OpGeoDistance:
		b = append(b, `{"geoDistance":{`...)
		b = strconv.AppendQuote(b, f.Field)
		b = append(b, `:{"lat":`...)
		b = strconv.AppendFloat(b, f.Lat, 'f', -1, 64)
		b = append(b, `,"lon":`...)
		b = strconv.AppendFloat(b, f.Lon, 'f', -1, 64)
		b = append(b, `},"distance":"`...)
		b = strconv.AppendInt(b, int64(f.Meters), 10)
		return append(b, `m"}}`...)
	case OpAnd, OpOr:
		if f.Op == OpAnd {
			b = append(b, `{"and":[`...)
		} else {
			b = append(b, `{"or":[`...)
		}
		for i := range f.Sub {
			if i > 0 {
				b = append(b, ',')
			}
			b = f.Sub[i].AppendJSON(b)
		}
		return append(b, "]}"...)
	case OpNot:
		b = append(b, `{"not":`...)
		b = f.Sub[0].AppendJSON(b)
		return append(b, '}')
	}
	return append(b, "{}"...)
}

// AppendFields appends d's fields as JSON object members without braces, each preceded by a
// comma, e.g. `,"target":"t3"` or `,"city":"c1","tag":"t4","age":5,"score":6,"loc":{...}`.
func (d *Doc) AppendFields(b []byte) []byte {
	if d.Target != "" {
		b = append(b, `,"target":`...)
		return strconv.AppendQuote(b, d.Target)
	}
	b = append(b, `,"city":`...)
	b = strconv.AppendQuote(b, d.City)
	b = append(b, `,"tag":`...)
	b = strconv.AppendQuote(b, d.Tag)
	b = append(b, `,"age":`...)
	b = strconv.AppendInt(b, int64(d.Age), 10)
	b = append(b, `,"score":`...)
	b = strconv.AppendInt(b, int64(d.Score), 10)
	b = append(b, `,"loc":{"lat":`...)
	b = strconv.AppendFloat(b, d.Lat, 'f', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, d.Lon, 'f', -1, 64)
	return append(b, "}"...)
}

// AppendDocBody appends the published document of publication seq: the fields of
// AppendBody (step, seq, wall-clock send time t) followed by the fields of d.
func AppendDocBody(b []byte, step int, seq, t int64, d *Doc) []byte {
	b = append(b, `{"bstep":`...)
	b = strconv.AppendInt(b, int64(step), 10)
	b = append(b, `,"bseq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"bt":`...)
	b = strconv.AppendInt(b, t, 10)
	b = d.AppendFields(b)
	return append(b, '}')
}

// ChurnFilter is the fresh filter of churn cycle k of connection conn of worker name: an and
// of an equals on a value used by no other cycle ("churn": "<name>-<conn>-<k>") and one mixed
// condition, so that every subscribe creates a room and every unsubscribe deletes it.
func ChurnFilter(name string, conn int, k int64, seed uint64) Filter {
	r := rand.New(rand.NewPCG(seed, uint64(conn)<<32^uint64(k)))
	id := name + "-" + strconv.Itoa(conn) + "-" + strconv.FormatInt(k, 10)
	return Filter{Op: OpAnd, Sub: []Filter{{Op: OpEquals, Field: "churn", Str: id}, mixedLeaf(r, r.IntN(4))}}
}
