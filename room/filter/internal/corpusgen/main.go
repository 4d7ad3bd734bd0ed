// Command corpusgen regenerates room/filter/testdata/corpus.jsonl: random Koncorde
// filters and documents, run through the real Koncorde 4.7 by the oracle of the oracle
// folder beside this file (oracle.js, with koncorde@4.7.0 pinned by package-lock.json),
// with Koncorde's verdicts. The filter package's TestCorpus replays the file without
// Node. From the repository root:
//
//	(cd room/filter/internal/corpusgen/oracle && npm ci)   # once; builds native addons
//	go run ./room/filter/internal/corpusgen                # -seed 1, writes the corpus
//
// npm ci compiles Koncorde's native dependencies (re2, boost-geospatial-index,
// kuzzle-espresso-logic-minimizer) with node-gyp: it needs Node >= 18, g++, make and
// python3, and takes a few minutes. -oracle (or KONCORDE_ORACLE) points at another
// installed copy of the oracle folder.
//
// The generator avoids the Koncorde bugs that the Go engine deliberately does not
// reproduce (room/filter/doc.go, "Koncorde's bugs"): Q1 (one array-value
// exists/missing per array path and filter, never mixed with plain conditions on that
// path), Q2 (filter strings never spell a number, boolean or null), Q3 (no
// Object.prototype names), Q4 (no strict range bound reached within 1e-10, bounds
// below 1e6), Q5 (no g/y regexp flags), Q12 (no time units) and duplicated keys in
// documents. Array-index keys ("7") colliding with literal dotted keys ("7.k") are
// generated: their JavaScript key order is reproduced. Q8 and Q9 cases are kept; the
// replay skips the documents where the oracle crashed (Q8) and classifies the Q9
// early exits.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

type obj = map[string]any

// ordered is a JSON object that keeps its key order (documents need it for Q14).
type ordered struct {
	keys []string
	vals []any
}

func (o *ordered) add(k string, v any) *ordered {
	for _, e := range o.keys {
		if e == k {
			return o
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

func (o *ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type gen struct {
	r *rand.Rand
	// per-filter state
	arrayPathsUsed map[string]bool
}

func (g *gen) pick(xs ...any) any { return xs[g.r.IntN(len(xs))] }
func (g *gen) pickS(xs ...string) string {
	return xs[g.r.IntN(len(xs))]
}
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

var plainFields = []string{"a", "b", "c", "n.x", "n.y", "s", "deep.k.z", "_id", "lit.k", "7.k"}
var arrayPaths = []string{"tags", "list"}
var geoFields = []string{"g", "h"}

// filter values never spell another type (Q2)
func (g *gen) fStr() string {
	return g.pickS("x", "y", "foo", "bar", "Foo", "héllo", "a b", "")
}
func (g *gen) fNum() float64 {
	return g.pick(0.0, 1.0, 2.0, -1.0, 1.5, 10.0, 100.0, -2.5, 7.0).(float64)
}
func (g *gen) fScalar() any {
	switch g.r.IntN(10) {
	case 0, 1, 2, 3:
		return g.fStr()
	case 4, 5, 6, 7:
		return g.fNum()
	case 8:
		return g.chance(0.5)
	}
	return nil
}

func (g *gen) field() string { return plainFields[g.r.IntN(len(plainFields))] }

// --- geo ---

type region struct{ lat, lon float64 }

var regions = []region{{43.6, 3.9}, {0, 179.95}, {60, 10}, {-33.9, -70.6}}

func (g *gen) near(rg region, spread float64) (float64, float64) {
	lat := rg.lat + (g.r.Float64()*2-1)*spread
	lon := rg.lon + (g.r.Float64()*2-1)*spread
	if lon > 180 {
		lon -= 360
	}
	return round6(lat), round6(lon)
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func (g *gen) pointFormat(lat, lon float64) any {
	switch g.r.IntN(6) {
	case 0:
		return []any{lat, lon}
	case 1:
		return fmt.Sprintf("%v,%v", lat, lon)
	case 2:
		return obj{"lat": lat, "lon": lon}
	case 3:
		return obj{"lat_lon": []any{lat, lon}}
	case 4:
		return obj{"latLon": obj{"lat": lat, "lon": lon}}
	}
	return obj{"lat": strconv.FormatFloat(lat, 'f', -1, 64), "lon": lon}
}

func (g *gen) distance(m float64) string {
	switch g.r.IntN(5) {
	case 0:
		return fmt.Sprintf("%gm", m)
	case 1:
		return fmt.Sprintf("%g km", m/1000)
	case 2:
		return fmt.Sprintf("%gft", math.Round(m/0.3048))
	case 3:
		return strings.Replace(fmt.Sprintf("%gkm", m/1000), ".", ",", 1)
	}
	return fmt.Sprintf("%g meters", m)
}

func (g *gen) geoLeaf() obj {
	f := geoFields[g.r.IntN(len(geoFields))]
	rg := regions[g.r.IntN(len(regions))]
	switch g.r.IntN(4) {
	case 0:
		lat, lon := g.near(rg, 0.05)
		h := 0.02 + g.r.Float64()*0.08
		top, bottom, left, right := round6(lat+h), round6(lat-h), round6(lon-h), round6(lon+h)
		if left < -180 {
			left += 360
			right += 360
		}
		if right > 180 && g.chance(0.5) {
			// keep right > 180 to cross the antimeridian
		}
		var box any
		switch g.r.IntN(4) {
		case 0:
			box = obj{"top": top, "left": left, "bottom": bottom, "right": right}
		case 1:
			box = obj{"top": fmt.Sprint(top), "left": left, "bottom": fmt.Sprint(bottom), "right": right}
		case 2:
			box = obj{"topLeft": g.pointFormat(top, left), "bottomRight": g.pointFormat(bottom, right)}
		default:
			box = obj{"top_left": g.pointFormat(top, left), "bottom_right": g.pointFormat(bottom, right)}
		}
		return obj{"geoBoundingBox": obj{f: box}}
	case 1:
		lat, lon := g.near(rg, 0.05)
		return obj{"geoDistance": obj{f: g.pointFormat(lat, lon), "distance": g.distance(float64(500 + g.r.IntN(9500)))}}
	case 2:
		lat, lon := g.near(rg, 0.05)
		from := float64(100 + g.r.IntN(3000))
		to := from + float64(500+g.r.IntN(6000))
		return obj{"geoDistanceRange": obj{f: g.pointFormat(lat, lon), "from": g.distance(from), "to": g.distance(to)}}
	}
	lat, lon := g.near(rg, 0.05)
	n := 3 + g.r.IntN(4)
	var pts []any
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		rad := 0.02 + g.r.Float64()*0.06
		plon := round6(lon + rad*math.Cos(a))
		if plon > 180 {
			plon -= 360
		}
		pts = append(pts, g.pointFormat(round6(lat+rad*math.Sin(a)), plon))
	}
	return obj{"geoPolygon": obj{f: obj{"points": pts}}}
}

// --- leaves ---

func (g *gen) leaf() obj {
	switch g.r.IntN(14) {
	case 0, 1:
		return obj{"equals": obj{g.field(): g.fScalar()}}
	case 2:
		n := 1 + g.r.IntN(3)
		var vs []any
		for i := 0; i < n; i++ {
			vs = append(vs, g.fStr())
		}
		return obj{"in": obj{g.field(): vs}}
	case 3:
		return obj{"ids": obj{"values": []any{g.pickS("id1", "id2", "x")}}}
	case 4, 5:
		kw := g.pickS("exists", "missing")
		var f string
		if g.chance(0.4) {
			p := arrayPaths[g.r.IntN(len(arrayPaths))]
			if g.arrayPathsUsed[p] {
				f = g.field()
			} else {
				g.arrayPathsUsed[p] = true
				v, _ := json.Marshal(g.pick("x", "y", 1.0, true, nil, "foo"))
				f = p + "[" + string(v) + "]"
			}
		} else {
			f = g.field()
		}
		if g.chance(0.2) {
			return obj{kw: obj{"field": f}}
		}
		return obj{kw: f}
	case 6, 7:
		args := obj{}
		lo := g.fNum()
		hi := lo + float64(1+g.r.IntN(10))
		switch g.r.IntN(3) {
		case 0:
			args[g.pickS("gt", "gte")] = lo
		case 1:
			args[g.pickS("lt", "lte")] = hi
		default:
			args[g.pickS("gt", "gte")] = lo
			args[g.pickS("lt", "lte")] = hi
		}
		return obj{"range": obj{g.field(): args}}
	case 8:
		pat := g.pickS("^f", "o+", "^[a-z]+$", "x|y", "^1", "B", "", "é", "^a b$", "\\d", "^(foo|bar)$", "^t")
		if g.chance(0.5) {
			return obj{"regexp": obj{g.field(): pat}}
		}
		spec := obj{"value": pat}
		if fl := g.pickS("", "i", "m", "s", "is", "u"); fl != "" {
			spec["flags"] = fl
		}
		return obj{"regexp": obj{g.field(): spec}}
	case 9, 10:
		return g.geoLeaf()
	case 11:
		m := obj{}
		n := 1 + g.r.IntN(2)
		for i := 0; i < n; i++ {
			m[g.pickS("a", "b", "o", "arrv")] = g.matchValue(2)
		}
		return obj{"match": m}
	case 12:
		q := g.pick(
			obj{"equals": obj{"value": g.fScalar()}},
			obj{"range": obj{"value": obj{"gte": g.fNum()}}},
			obj{"exists": "value.x"},
			obj{"equals": obj{"value.x": g.fScalar()}},
			obj{"or": []any{obj{"equals": obj{"value": g.fStr()}}, obj{"equals": obj{"value.x": g.fNum()}}}},
		)
		return obj{"select": obj{"field": "sel", "index": g.pick(0.0, 1.0, -1.0, 5.0), "query": q}}
	}
	if g.chance(0.1) {
		return obj{"nothing": true}
	}
	return obj{"equals": obj{g.field(): g.fScalar()}}
}

func (g *gen) matchValue(depth int) any {
	switch g.r.IntN(6) {
	case 0, 1:
		return g.fScalar()
	case 2:
		if depth > 0 {
			return obj{"x": g.matchValue(depth - 1)}
		}
	case 3:
		if depth > 0 {
			n := g.r.IntN(3)
			var a []any
			for i := 0; i < n; i++ {
				a = append(a, g.matchValue(depth-1))
			}
			if a == nil {
				a = []any{}
			}
			return a
		}
	}
	return g.fNum()
}

// filter builds a random filter of nesting depth at most d.
func (g *gen) filter(d int) obj {
	if d <= 0 || g.chance(0.35) {
		return g.leaf()
	}
	switch g.r.IntN(5) {
	case 0, 1:
		n := 1 + g.r.IntN(3)
		var kids []any
		for i := 0; i < n; i++ {
			kids = append(kids, g.filter(d-1))
		}
		return obj{g.pickS("and", "or"): kids}
	case 2:
		return obj{"not": g.filter(d - 1)}
	default:
		b := obj{}
		for _, k := range []string{"must", "must_not", "should", "should_not"} {
			if g.chance(0.45) {
				n := 1 + g.r.IntN(2)
				var kids []any
				for i := 0; i < n; i++ {
					kids = append(kids, g.filter(d-1))
				}
				b[k] = kids
			}
		}
		if len(b) == 0 {
			b["must"] = []any{g.filter(d - 1)}
		}
		return obj{"bool": b}
	}
}

// --- invalid filters, to compare error messages ---

func (g *gen) invalid() any {
	cases := []any{
		obj{"foo": obj{"a": 1}},
		obj{"equals": obj{"a": 1}, "exists": "b"},
		obj{"equals": obj{"a": []any{1}}},
		obj{"equals": obj{"a": 1, "b": 2}},
		obj{"equals": "a"},
		obj{"in": obj{"a": []any{}}},
		obj{"in": obj{"a": []any{"x", 1}}},
		obj{"in": obj{"a": "x"}},
		obj{"ids": obj{"values": []any{1}}},
		obj{"ids": obj{"foo": []any{"a"}}},
		obj{"exists": ""},
		obj{"exists": obj{"field": ""}},
		obj{"exists": 1},
		obj{"exists": "a[x]"},
		obj{"missing": obj{"field": "a[1][2]"}},
		obj{"range": obj{"a": obj{"gt": "1"}}},
		obj{"range": obj{"a": obj{"gt": 5, "lt": 5}}},
		obj{"range": obj{"a": obj{"gte": 5, "lte": 5}}},
		obj{"range": obj{"a": obj{"foo": 1}}},
		obj{"range": obj{"a": obj{}}},
		obj{"range": obj{"a": obj{"gt": 1, "gte": 2}}},
		obj{"range": obj{"a": obj{"lt": 1, "lte": 2}}},
		obj{"regexp": obj{"a": "(unclosed"}},
		obj{"regexp": obj{"a": "(?<=x)y"}},
		obj{"regexp": obj{"a": obj{"value": "x", "flags": 1}}},
		obj{"regexp": obj{"a": obj{"flags": "i"}}},
		obj{"regexp": obj{"a": obj{"value": "x", "foo": 1}}},
		obj{"regexp": obj{"a": 1}},
		obj{"regexp": obj{"a": obj{"value": 5}}},
		obj{"geoDistance": obj{"g": []any{0, 0}, "distance": 1000}},
		obj{"geoDistance": obj{"g": []any{0, 0}, "distance": "1000"}},
		obj{"geoDistance": obj{"g": []any{0, 0}, "distance": "12 furlongs"}},
		obj{"geoDistance": obj{"g": "nowhere!", "distance": "1km"}},
		obj{"geoDistance": obj{"g": []any{0, 0}}},
		obj{"geoDistanceRange": obj{"g": []any{0, 0}, "from": "2km", "to": "1km"}},
		obj{"geoDistanceRange": obj{"g": []any{0, 0}, "from": "1km"}},
		obj{"geoBoundingBox": obj{"g": obj{"top": 1, "left": 0, "bottom": 2, "right": 1}}},
		obj{"geoBoundingBox": obj{"g": obj{"top": 1, "left": 1, "bottom": 0, "right": 0}}},
		obj{"geoBoundingBox": obj{"g": obj{"top": "x", "left": 0, "bottom": 0, "right": 1}}},
		obj{"geoBoundingBox": obj{"g": obj{"topLeft": "bad", "bottomRight": []any{0, 1}}}},
		obj{"geoBoundingBox": obj{"g": nil}},
		obj{"geoPolygon": obj{"g": obj{"points": []any{[]any{0, 0}, []any{1, 1}}}}},
		obj{"geoPolygon": obj{"g": obj{"points": []any{[]any{0, 0}, []any{1, 1}, "zz"}}}},
		obj{"geoPolygon": obj{"g": obj{"pts": []any{}}}},
		obj{"and": []any{}},
		obj{"or": obj{}},
		obj{"and": []any{obj{}}},
		obj{"not": obj{}},
		obj{"not": []any{}},
		obj{"bool": obj{"filter": []any{}}},
		obj{"bool": obj{"must": []any{}}},
		obj{"bool": obj{"must_not": []any{}}},
		obj{"bool": obj{"should": []any{}}},
		obj{"bool": obj{"should_not": []any{}}},
		obj{"bool": obj{}},
		obj{"match": obj{}},
		obj{"match": 1},
		obj{"select": obj{"field": "a", "index": 1.5, "query": obj{"equals": obj{"value": 1}}}},
		obj{"select": obj{"field": "a", "index": "0", "query": obj{"equals": obj{"value": 1}}}},
		obj{"select": obj{"field": "", "index": 0, "query": obj{"equals": obj{"value": 1}}}},
		obj{"select": obj{"field": "a", "index": 0, "query": obj{}}},
		obj{"select": obj{"field": "a", "index": 0, "query": obj{"bad": 1}}},
		obj{"not": obj{"select": obj{"field": "a", "index": 0, "query": obj{"equals": obj{"value": 1}}}}},
		obj{"not": obj{"nothing": 1}},
		obj{"not": obj{"or": []any{obj{"geoDistance": obj{"g": []any{0, 0}, "distance": "1km"}}, obj{"equals": obj{"a": 1}}}}},
		obj{"and": []any{obj{"geoDistance": obj{"g": []any{0, 0}, "distance": "1km"}}, obj{"or": []any{obj{"equals": obj{"a": 1}}, obj{"equals": obj{"b": 1}}}}, obj{"exists": "c"}}},
		obj{"not": obj{"and": []any{obj{"equals": obj{"a": 1}}, obj{"foo": 1}}}},
		obj{"in": obj{"a": manyStrings(101)}},
		obj{"and": []any{obj{"in": obj{"a": manyStrings(60)}}, obj{"in": obj{"b": manyStrings(41)}}}},
	}
	c := cases[g.r.IntN(len(cases))]
	if g.chance(0.3) {
		// nest it to exercise error paths
		switch g.r.IntN(3) {
		case 0:
			return obj{"and": []any{obj{"equals": obj{"z": 1}}, c}}
		case 1:
			return obj{"not": c}
		default:
			return obj{"bool": obj{"should": []any{c}}}
		}
	}
	return c
}

func manyStrings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "v" + strconv.Itoa(i)
	}
	return out
}

// --- documents ---

func (g *gen) docScalar() any {
	switch g.r.IntN(12) {
	case 0, 1, 2:
		return g.fStr()
	case 3, 4, 5:
		return g.fNum()
	case 6:
		return g.pickS("1", "true", "null", "10", "FOO", "bar baz", "t")
	case 7:
		return g.chance(0.5)
	case 8:
		return nil
	case 9:
		return g.pick(3.0, 11.0, -3.0, 0.5, 1e6, 2000000.0, 12.0)
	}
	return g.fNum()
}

func (g *gen) docValue(depth int) any {
	switch g.r.IntN(10) {
	case 0:
		if depth > 0 {
			n := g.r.IntN(4)
			a := []any{}
			for i := 0; i < n; i++ {
				a = append(a, g.docValue(depth-1))
			}
			return a
		}
	case 1:
		if depth > 0 {
			o := &ordered{}
			for i := 0; i < 1+g.r.IntN(3); i++ {
				o.add(g.pickS("x", "y", "k", "z"), g.docValue(depth-1))
			}
			return o
		}
	}
	return g.docScalar()
}

func (g *gen) docPoint() any {
	switch g.r.IntN(12) {
	case 0:
		return g.pick(0.0, "", nil, false)
	case 1:
		return g.pickS("garbage!", "nowhere", "1,2,3")
	case 2:
		return []any{1.0}
	}
	rg := regions[g.r.IntN(len(regions))]
	lat, lon := g.near(rg, 0.12)
	switch g.r.IntN(7) {
	case 0:
		return []any{lat, lon}
	case 1:
		return fmt.Sprintf("%v, %v", lat, lon)
	case 2:
		return obj{"lat": lat, "lon": lon}
	case 3:
		return obj{"lat_lon": fmt.Sprintf("%v,%v", lat, lon)}
	case 4:
		return []any{lat, lon + 360}
	case 5:
		return geohash(lat, lon, 9)
	}
	return obj{"latLon": []any{fmt.Sprint(lat), lon}}
}

func geohash(lat, lon float64, n int) string {
	const alpha = "0123456789bcdefghjkmnpqrstuvwxyz"
	minLat, maxLat, minLon, maxLon := -90.0, 90.0, -180.0, 180.0
	var sb strings.Builder
	bit, ch, even := 0, 0, true
	for sb.Len() < n {
		if even {
			mid := (minLon + maxLon) / 2
			if lon > mid {
				ch |= 1 << (4 - bit)
				minLon = mid
			} else {
				maxLon = mid
			}
		} else {
			mid := (minLat + maxLat) / 2
			if lat > mid {
				ch |= 1 << (4 - bit)
				minLat = mid
			} else {
				maxLat = mid
			}
		}
		even = !even
		if bit < 4 {
			bit++
		} else {
			sb.WriteByte(alpha[ch])
			bit, ch = 0, 0
		}
	}
	return sb.String()
}

func (g *gen) doc() *ordered {
	o := &ordered{}
	for _, f := range []string{"a", "b", "c", "s", "_id", "o", "arrv"} {
		if g.chance(0.6) {
			v := g.docValue(2)
			if f == "_id" {
				v = g.pick("id1", "id2", "x", 1.0)
			}
			o.add(f, v)
		}
	}
	// nested and literal dotted keys, in random order (Q14 collisions are replicated)
	var parts []func()
	if g.chance(0.6) {
		parts = append(parts, func() {
			n := &ordered{}
			n.add("x", g.docValue(1))
			if g.chance(0.5) {
				n.add("y", g.docValue(1))
			}
			o.add("n", n)
		})
	}
	if g.chance(0.3) {
		parts = append(parts, func() { o.add("n.x", g.docValue(1)) })
	}
	if g.chance(0.4) {
		parts = append(parts, func() {
			o.add("deep", (&ordered{}).add("k", (&ordered{}).add("z", g.docScalar())))
		})
	}
	if g.chance(0.3) {
		parts = append(parts, func() { o.add("lit.k", g.docScalar()) })
	}
	if g.chance(0.25) {
		parts = append(parts, func() { o.add("7.k", g.docScalar()) })
	}
	if g.chance(0.25) {
		parts = append(parts, func() { o.add("7", (&ordered{}).add("k", g.docScalar())) })
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	for _, p := range parts {
		p()
	}
	for _, p := range arrayPaths {
		if g.chance(0.7) {
			if g.chance(0.8) {
				n := g.r.IntN(4)
				a := []any{}
				for i := 0; i < n; i++ {
					a = append(a, g.pick("x", "y", 1.0, true, nil, "foo", "1"))
				}
				o.add(p, a)
			} else {
				o.add(p, g.docScalar())
			}
		}
	}
	for _, f := range geoFields {
		if g.chance(0.8) {
			o.add(f, g.docPoint())
		}
	}
	if g.chance(0.6) {
		n := g.r.IntN(4)
		a := []any{}
		for i := 0; i < n; i++ {
			if g.chance(0.5) {
				a = append(a, (&ordered{}).add("x", g.docScalar()))
			} else {
				a = append(a, g.docScalar())
			}
		}
		o.add("sel", a)
	}
	return o
}

// geoDocs returns documents whose geo fields hold points on the edges, corners and
// vertices of the shape of f, or close to them.
func (g *gen) geoDocs(f obj, n int) []any {
	var pts [][2]float64
	for kw, v := range f {
		for field, spec := range v.(obj) {
			if field == "distance" || field == "from" || field == "to" {
				continue
			}
			switch kw {
			case "geoBoundingBox":
				b := spec.(obj)
				if t, ok := b["top"]; ok {
					top, left := toF(t), toF(b["left"])
					bottom, right := toF(b["bottom"]), toF(b["right"])
					pts = append(pts, [2]float64{top, left}, [2]float64{bottom, right}, [2]float64{top, (left + right) / 2},
						[2]float64{(top + bottom) / 2, right}, [2]float64{top + 1e-7, left})
				}
			case "geoPolygon":
				for _, p := range spec.(obj)["points"].([]any) {
					if a, ok := p.([]any); ok {
						pts = append(pts, [2]float64{toF(a[0]), toF(a[1])})
					}
				}
			default:
				if a, ok := spec.([]any); ok {
					lat, lon := toF(a[0]), toF(a[1])
					for _, d := range []float64{0.005, 0.009, 0.02, 0.05} {
						pts = append(pts, [2]float64{lat + d, lon}, [2]float64{lat, lon + d})
					}
				}
			}
		}
	}
	var out []any
	for i := 0; i < n; i++ {
		d := g.doc()
		if len(pts) > 0 && g.chance(0.7) {
			p := pts[g.r.IntN(len(pts))]
			d.keys = append(d.keys, "g", "h")
			d.vals = append(d.vals, []any{p[0], p[1]}, fmt.Sprintf("%v,%v", p[0], p[1]))
			d = dedupe(d)
		}
		out = append(out, d)
	}
	return out
}

func toF(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return math.NaN()
}

// dedupe keeps the last value of each key, at its last position.
func dedupe(o *ordered) *ordered {
	out := &ordered{}
	for i := len(o.keys) - 1; i >= 0; i-- {
		out.add(o.keys[i], o.vals[i])
	}
	for i, j := 0, len(out.keys)-1; i < j; i, j = i+1, j-1 {
		out.keys[i], out.keys[j] = out.keys[j], out.keys[i]
		out.vals[i], out.vals[j] = out.vals[j], out.vals[i]
	}
	return out
}

// --- equivalent rewrites, for id classes ---

// variant rewrites f into an equivalent filter that Koncorde gives the same id.
func (g *gen) variant(f any) any {
	m, ok := f.(obj)
	if !ok || len(m) != 1 {
		return f
	}
	for k, v := range m {
		switch k {
		case "in":
			for field, vals := range v.(obj) {
				var kids []any
				for _, x := range vals.([]any) {
					kids = append(kids, obj{"equals": obj{field: x}})
				}
				if len(kids) == 1 {
					return kids[0]
				}
				return obj{"or": kids}
			}
		case "exists", "missing":
			if s, ok := v.(string); ok {
				return obj{k: obj{"field": s}}
			}
		case "regexp":
			for field, spec := range v.(obj) {
				if s, ok := spec.(string); ok {
					return obj{"regexp": obj{field: obj{"value": s}}}
				}
			}
		case "and", "or":
			var kids []any
			for _, c := range v.([]any) {
				kids = append(kids, g.variant(c))
			}
			return obj{k: kids}
		case "not":
			return obj{"not": g.variant(v)}
		}
	}
	if g.chance(0.5) {
		return obj{"not": obj{"not": f}}
	}
	return f
}

// --- oracle ---

type line struct {
	In  json.RawMessage `json:"in"`
	Out json.RawMessage `json:"out"`
}

func main() {
	defOracle := os.Getenv("KONCORDE_ORACLE")
	if defOracle == "" {
		defOracle = "room/filter/internal/corpusgen/oracle"
	}
	oracleDir := flag.String("oracle", defOracle, "oracle folder after npm ci (holds oracle.js and node_modules/koncorde); default $KONCORDE_ORACLE or the repository's own")
	out := flag.String("out", "room/filter/testdata/corpus.jsonl", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	singles := flag.Int("singles", 1800, "single-filter cases")
	multis := flag.Int("multis", 180, "multi-filter cases")
	invalids := flag.Int("invalids", 400, "invalid filter cases")
	pairs := flag.Int("pairs", 500, "equivalent-filter id cases")
	geos := flag.Int("geos", 400, "single geo condition cases with points near its edges")
	depth := flag.Int("depth", 3, "maximum nesting of operators in single-filter cases")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*oracleDir, "node_modules", "koncorde", "package.json")); err != nil {
		fmt.Fprintf(os.Stderr, "corpusgen: Koncorde is not installed in the oracle folder %s: run npm ci in it first (room/filter/README.md): %v\n", *oracleDir, err)
		os.Exit(2)
	}
	g := &gen{r: rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))}
	var inputs [][]byte
	add := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		inputs = append(inputs, b)
	}
	docs := func(n int) []any {
		var ds []any
		for i := 0; i < n; i++ {
			ds = append(ds, g.doc())
		}
		return ds
	}
	for i := 0; i < *singles; i++ {
		g.arrayPathsUsed = map[string]bool{}
		add(obj{"filters": g.filter(*depth), "docs": docs(6)})
	}
	for i := 0; i < *multis; i++ {
		var fs []any
		n := 2 + g.r.IntN(10)
		for j := 0; j < n; j++ {
			g.arrayPathsUsed = map[string]bool{}
			fs = append(fs, g.filter(2))
		}
		add(obj{"multi": fs, "docs": docs(8)})
	}
	for i := 0; i < *geos; i++ {
		// one geo condition against points on and around its edges
		g.arrayPathsUsed = map[string]bool{}
		f := g.geoLeaf()
		add(obj{"filters": f, "docs": g.geoDocs(f, 8)})
	}
	for i := 0; i < *invalids; i++ {
		g.arrayPathsUsed = map[string]bool{}
		add(obj{"filters": g.invalid()})
	}
	for i := 0; i < *pairs; i++ {
		g.arrayPathsUsed = map[string]bool{}
		f := g.filter(2)
		add(obj{"multi": []any{f, g.variant(f)}, "docs": []any{}})
	}
	cmd := exec.Command("node", filepath.Join(*oracleDir, "oracle.js"), "--max-conditions", "100")
	cmd.Stdin = bytes.NewReader(append(bytes.Join(inputs, []byte("\n")), '\n'))
	cmd.Stderr = os.Stderr
	res, err := cmd.Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen: oracle:", err)
		os.Exit(1)
	}
	outs := bytes.Split(bytes.TrimRight(res, "\n"), []byte("\n"))
	if len(outs) != len(inputs) {
		fmt.Fprintf(os.Stderr, "corpusgen: oracle answered %d lines for %d\n", len(outs), len(inputs))
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	for i := range inputs {
		b, _ := json.Marshal(line{In: inputs[i], Out: outs[i]})
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
	f.Close()
	fmt.Fprintf(os.Stderr, "corpusgen: wrote %d cases to %s\n", len(inputs), *out)
}
