package filter

import (
	"math"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
)

// WGS84 ellipsoid, as Boost.Geometry's default srs::spheroid.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
	// boostEarthRadius is the integer radius boost-geospatial-index uses for the
	// bounding boxes of circles (shape.cc envelopeFromCircle).
	boostEarthRadius = 6378137.0
	deg              = math.Pi / 180
)

// geoKind is the shape of a geospatial condition.
type geoKind uint8

const (
	geoBBox geoKind = iota + 1
	geoCircle
	geoAnnulus
	geoPoly
)

// geoShape is a standardized geo condition (lib/transform/standardize.js, the geo
// keywords; lib/util/convertGeopoint.js for the points).
type geoShape struct {
	kind geoKind
	// bbox: top/left/bottom/right in degrees, inclusive.
	top, left, bottom, right float64
	// circle/annulus: centre and radii in metres.
	lat, lon, from, to float64
	// polygon vertices [lat, lon] in degrees, open ring, and their edges.
	points [][2]float64
	edges  []polyEdge

	// envelope (degrees); lon range may exceed [-180, 180] and is tested modulo 360.
	minLat, maxLat, minLon, maxLon float64
	allLon                         bool
}

// andoyer is Boost.Geometry's andoyer_inverse distance (first-order Forsyth-Andoyer-
// Lambert on the WGS84 ellipsoid), the distance Koncorde's geoDistance* use. Inputs in
// degrees, result in metres.
func andoyer(lat1, lon1, lat2, lon2 float64) float64 {
	if lat1 == lat2 && lon1 == lon2 {
		return 0
	}
	p1, p2 := lat1*deg, lat2*deg
	dl := (lon2 - lon1) * deg
	s1, c1 := math.Sincos(p1)
	s2, c2 := math.Sincos(p2)
	cd := s1*s2 + c1*c2*math.Cos(dl)
	if cd > 1 {
		cd = 1
	} else if cd < -1 {
		cd = -1
	}
	d := math.Acos(cd)
	sd := math.Sin(d)
	K := (s1 - s2) * (s1 - s2)
	L := (s1 + s2) * (s1 + s2)
	var H, G float64
	if omc := 1 - cd; omc != 0 {
		H = (d + 3*sd) / omc
	}
	if opc := 1 + cd; opc != 0 {
		G = (d - 3*sd) / opc
	}
	return wgs84A * (d - wgs84F/4*(H*K+G*L))
}

// lonIn reports whether lon lies in [minLon, maxLon] modulo 360.
func lonIn(lon, minLon, maxLon float64, all bool) bool {
	if all {
		return true
	}
	d := lon - minLon
	if d < 0 || d >= 360 {
		d = math.Mod(d, 360)
		if d < 0 {
			d += 360
		}
	}
	return d <= maxLon-minLon
}

func (g *geoShape) initEnvelope() {
	switch g.kind {
	case geoBBox:
		g.minLat, g.maxLat, g.minLon, g.maxLon = g.bottom, g.top, g.left, g.right
	case geoCircle, geoAnnulus:
		// boost-geospatial-index shape.cc envelopeFromCircle: a rough box that also
		// clips the circle (doc.go, Q7, replicated).
		dlat := g.to / boostEarthRadius / deg
		dlon := g.to / (boostEarthRadius * math.Cos(math.Pi*g.lat/180)) / deg
		g.minLat, g.maxLat = g.lat-dlat, g.lat+dlat
		g.minLon, g.maxLon = g.lon-dlon, g.lon+dlon
	case geoPoly:
		g.initEdges()
		g.envelopePolygon()
	}
	if !(g.maxLon-g.minLon < 360) {
		g.allLon = true
	}
}

// contains reports whether the point is in the shape, edges included.
func (g *geoShape) contains(lat, lon float64) bool {
	if !(lat >= g.minLat && lat <= g.maxLat) || !lonIn(lon, g.minLon, g.maxLon, g.allLon) {
		return false
	}
	switch g.kind {
	case geoBBox:
		return true
	case geoCircle:
		return andoyer(g.lat, g.lon, lat, lon) <= g.to
	case geoAnnulus:
		d := andoyer(g.lat, g.lon, lat, lon)
		return d <= g.to && d >= g.from
	case geoPoly:
		return g.polyCovers(lat, lon)
	}
	return false
}

// normLon maps a longitude difference to (-180, 180].
func normLon(d float64) float64 {
	if d > 540 || d < -540 {
		d = math.Mod(d, 360)
	}
	if d > 180 {
		d -= 360
	} else if d <= -180 {
		d += 360
	}
	if d > 180 {
		d -= 360
	}
	return d
}

// gcLatAt is the latitude (degrees) at relative longitude x of the great circle
// through (la1, x1) and (la2, x2), longitudes relative to the query meridian.
func gcLatAt(la1, x1, la2, x2, x float64) float64 {
	s := math.Sin((x2 - x1) * deg)
	if s == 0 {
		return la1
	}
	t := (math.Tan(la1*deg)*math.Sin((x2-x)*deg) + math.Tan(la2*deg)*math.Sin((x-x1)*deg)) / s
	return math.Atan(t) / deg
}

// polyEdge caches what the point-in-polygon test needs of an edge A->B.
type polyEdge struct {
	aLat, aLon, bLat float64
	dLon             float64 // B's longitude relative to A's, in (-180, 180]
	tanA, tanB, sinD float64
}

func (g *geoShape) initEdges() {
	n := len(g.points)
	g.edges = make([]polyEdge, n)
	for i := range g.points {
		a, b := g.points[i], g.points[(i+1)%n]
		d := normLon(b[1] - a[1])
		g.edges[i] = polyEdge{aLat: a[0], aLon: a[1], bLat: b[0], dLon: d,
			tanA: math.Tan(a[0] * deg), tanB: math.Tan(b[0] * deg), sinD: math.Sin(d * deg)}
	}
}

// polyCovers tests the point against the polygon with great-circle edges on the
// geodetic sphere: crossings of the meridian north of the point are counted, and
// points on an edge or vertex are inside (Boost covered_by). See doc.go for how this
// differs from Boost's ellipsoidal side strategy.
func (g *geoShape) polyCovers(lat, lon float64) bool {
	const eps = 1e-9
	inside := false
	for i := range g.edges {
		e := &g.edges[i]
		xa := normLon(e.aLon - lon)
		xb := xa + e.dLon
		if xa > -eps && xa < eps && math.Abs(e.aLat-lat) < eps {
			return true // vertex
		}
		if e.dLon == 0 {
			// meridian edge: on it?
			if xa > -eps && xa < eps && lat >= math.Min(e.aLat, e.bLat)-eps && lat <= math.Max(e.aLat, e.bLat)+eps {
				return true
			}
			continue
		}
		crosses := (xa <= 0 && 0 < xb) || (xb <= 0 && 0 < xa)
		touches := (xa > -eps && xa < eps) || (xb > -eps && xb < eps)
		if !crosses && !touches {
			continue
		}
		var el float64
		if e.sinD == 0 {
			el = e.aLat
		} else {
			sa, _ := math.Sincos(xa * deg)
			sb, _ := math.Sincos(xb * deg)
			el = math.Atan((e.tanA*sb-e.tanB*sa)/e.sinD) / deg
		}
		if !crosses {
			// touches the meridian at an endpoint on the open side: only on-edge counts
			if math.Abs(el-lat) < eps {
				return true
			}
			continue
		}
		if math.Abs(el-lat) < eps {
			return true
		}
		if el > lat {
			inside = !inside
		}
	}
	return inside
}

func (g *geoShape) envelopePolygon() {
	// unwrap longitudes so that consecutive vertices are less than 180 apart
	g.minLat, g.maxLat = 90, -90
	prev := g.points[0][1]
	lo, hi := prev, prev
	n := len(g.points)
	for i := 0; i <= n; i++ {
		a := g.points[i%n]
		x := prev + normLon(a[1]-prev)
		if i > 0 {
			b := g.points[i-1]
			xb := prev
			// sample the great-circle edge for its latitude bulge
			for k := 0; k <= 16; k++ {
				t := xb + (x-xb)*float64(k)/16
				la := gcLatAt(b[0], xb, a[0], x, t)
				if xb == x {
					la = b[0] + (a[0]-b[0])*float64(k)/16
				}
				g.minLat = math.Min(g.minLat, la)
				g.maxLat = math.Max(g.maxLat, la)
			}
		}
		g.minLat = math.Min(g.minLat, a[0])
		g.maxLat = math.Max(g.maxLat, a[0])
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		prev = x
	}
	// margin for the sampling of edge bulges
	m := 0.05 + 0.01*(g.maxLat-g.minLat)
	g.minLat -= m
	g.maxLat += m
	g.minLon, g.maxLon = lo-1e-9, hi+1e-9
	if g.maxLat >= 89.9 || g.minLat <= -89.9 {
		g.allLon = true
	}
}

// --- geopoints (lib/util/convertGeopoint.js) ---

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

var geohashValue = func() (t [256]int8) {
	for i := range t {
		t[i] = 0 // ngeohash: an unknown character reads as undefined, i.e. 0 bits
	}
	for i := 0; i < len(geohashAlphabet); i++ {
		t[geohashAlphabet[i]] = int8(i)
	}
	return
}()

// isGeohash is /^[0-9a-z]{4,}$/.
func isGeohash(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// geohashDecode is ngeohash.decode: the centre of the hash's cell.
func geohashDecode(s string) (lat, lon float64) {
	isLon := true
	maxLat, minLat, maxLon, minLon := 90.0, -90.0, 180.0, -180.0
	for i := 0; i < len(s); i++ {
		v := geohashValue[s[i]]
		for bits := 4; bits >= 0; bits-- {
			bit := (v >> bits) & 1
			if isLon {
				mid := (maxLon + minLon) / 2
				if bit == 1 {
					minLon = mid
				} else {
					maxLon = mid
				}
			} else {
				mid := (maxLat + minLat) / 2
				if bit == 1 {
					minLat = mid
				} else {
					maxLat = mid
				}
			}
			isLon = !isLon
		}
	}
	return (minLat + maxLat) / 2, (minLon + maxLon) / 2
}

// pointFromString is convertGeopoint's fromString: "lat,lon" or a geohash.
func pointFromString(s string) (lat, lon float64, ok bool) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		if strings.IndexByte(s[i+1:], ',') >= 0 {
			return 0, 0, false
		}
		return toCoordinate(jsParseFloat(s[:i]), jsParseFloat(s[i+1:]))
	}
	if isGeohash(s) {
		la, lo := geohashDecode(s)
		return la, lo, true
	}
	return 0, 0, false
}

func toCoordinate(lat, lon float64) (float64, float64, bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) {
		return 0, 0, false
	}
	return lat, lon, true
}

// jsvFloat is Number.parseFloat(v).
func jsvFloat(v *jsv) float64 {
	if v != nil && v.kind == jsNumber {
		if v.n == 0 {
			return 0
		}
		return v.n
	}
	return jsParseFloat(v.jsToString())
}

// camelGeo is geoLocationToCamelCase: lat_lon, top_left and bottom_right become
// latLon, topLeft and bottomRight (a later key overwrites an earlier one).
func camelGeo(v *jsv) *jsv {
	out := newObject()
	for i, k := range objectKeys(v) {
		var val *jsv
		switch v.kind {
		case jsObject:
			val = v.vals[i]
		case jsArray:
			val = v.arr[i]
		case jsString:
			val = &jsv{kind: jsString, s: string([]rune(v.s)[i])}
		}
		switch k {
		case "lat_lon":
			k = "latLon"
		case "top_left":
			k = "topLeft"
		case "bottom_right":
			k = "bottomRight"
		}
		out.set(k, val)
	}
	return out
}

// pointFromJS is convertGeopoint for a filter value.
func pointFromJS(p *jsv) (lat, lon float64, ok bool) {
	if !p.truthy() {
		return 0, 0, false
	}
	switch p.kind {
	case jsString:
		return pointFromString(p.s)
	case jsArray:
		if len(p.arr) == 2 {
			return toCoordinate(jsvFloat(p.arr[0]), jsvFloat(p.arr[1]))
		}
		return 0, 0, false
	case jsObject:
	default:
		return 0, 0, false
	}
	c := camelGeo(p)
	if la, lo := c.get("lat"), c.get("lon"); la != nil && lo != nil {
		return toCoordinate(jsvFloat(la), jsvFloat(lo))
	}
	if ll := c.get("latLon"); ll != nil {
		switch {
		case ll.kind == jsArray:
			if len(ll.arr) == 2 {
				return toCoordinate(jsvFloat(ll.arr[0]), jsvFloat(ll.arr[1]))
			}
			return 0, 0, false
		case ll.kind == jsObject:
			if la, lo := ll.get("lat"), ll.get("lon"); la != nil && lo != nil {
				return toCoordinate(jsvFloat(la), jsvFloat(lo))
			}
		case ll.kind == jsString:
			return pointFromString(ll.s)
		}
	}
	return 0, 0, false
}

// docFloat is Number.parseFloat(v) for a document value.
func docFloat(r gjson.Result) float64 {
	switch r.Type {
	case gjson.Number:
		return r.Num
	case gjson.String:
		return jsParseFloat(r.Str)
	case gjson.Null, gjson.True, gjson.False:
		return math.NaN()
	}
	if r.IsArray() {
		return jsParseFloat(docToString(r))
	}
	return math.NaN()
}

// docTruthy is ToBoolean of a document value; missing values are false.
func docTruthy(r gjson.Result) bool {
	switch r.Type {
	case gjson.Null, gjson.False:
		return false
	case gjson.Number:
		return r.Num != 0
	case gjson.String:
		return r.Str != ""
	case gjson.True:
		return true
	case gjson.JSON:
		return true
	}
	return false
}

// pointFromDoc is convertGeopoint for a document value.
func pointFromDoc(r gjson.Result) (lat, lon float64, ok bool) {
	if !docTruthy(r) {
		return 0, 0, false
	}
	switch {
	case r.Type == gjson.String:
		return pointFromString(r.Str)
	case r.IsArray():
		if lat, lon, ok, done := pointFromNumberPair(r.Raw); done {
			return lat, lon, ok
		}
		return pointFromDocPair(r)
	case r.IsObject():
	default:
		return 0, 0, false
	}
	var la, lo, ll gjson.Result
	var hasLa, hasLo, hasLL bool
	r.ForEach(func(k, e gjson.Result) bool {
		switch k.Str {
		case "lat":
			la, hasLa = e, true
		case "lon":
			lo, hasLo = e, true
		case "latLon", "lat_lon":
			ll, hasLL = e, true
		}
		return true
	})
	if hasLa && hasLo {
		return toCoordinate(docFloat(la), docFloat(lo))
	}
	if hasLL {
		switch {
		case ll.IsArray():
			return pointFromDocPair(ll)
		case ll.IsObject():
			var a, b gjson.Result
			var hasA, hasB bool
			ll.ForEach(func(k, e gjson.Result) bool {
				switch k.Str {
				case "lat":
					a, hasA = e, true
				case "lon":
					b, hasB = e, true
				}
				return true
			})
			if hasA && hasB {
				return toCoordinate(docFloat(a), docFloat(b))
			}
		case ll.Type == gjson.String:
			return pointFromString(ll.Str)
		}
	}
	return 0, 0, false
}

// pointFromNumberPair reads "[<number>,<number>]" directly; done is false for any
// other array, which the general path handles.
func pointFromNumberPair(raw string) (lat, lon float64, ok, done bool) {
	i := skipWS(raw, 1)
	e1 := skipValue(raw, i)
	if i >= len(raw) || !isNumberStart(raw[i]) {
		return 0, 0, false, false
	}
	a := raw[i:e1]
	i = skipWS(raw, e1)
	if i >= len(raw) || raw[i] != ',' {
		return 0, 0, false, false
	}
	i = skipWS(raw, i+1)
	if i >= len(raw) || !isNumberStart(raw[i]) {
		return 0, 0, false, false
	}
	e2 := skipValue(raw, i)
	b := raw[i:e2]
	i = skipWS(raw, e2)
	if i >= len(raw) || raw[i] != ']' {
		return 0, 0, false, false
	}
	lat, lon = parseJSONNumber(a), parseJSONNumber(b)
	ok = !math.IsNaN(lat) && !math.IsNaN(lon)
	return lat, lon, ok, true
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

func pointFromDocPair(r gjson.Result) (float64, float64, bool) {
	var a, b gjson.Result
	n := 0
	r.ForEach(func(_, e gjson.Result) bool {
		if n == 0 {
			a = e
		} else if n == 1 {
			b = e
		}
		n++
		return n <= 2
	})
	if n != 2 {
		return 0, 0, false
	}
	return toCoordinate(docFloat(a), docFloat(b))
}

// --- distances (lib/util/convertDistance.js + node-units 0.1.7) ---

type unitDef struct {
	base  string
	value float64
}

// unit tables of node-units' default.units that can convert to "m" (metre or minute).
var unitTypes = []struct {
	name  string
	units map[string]unitDef
}{
	{"time", map[string]unitDef{
		"second": {"s", 1}, "sec": {"s", 1}, "s": {"s", 1},
		"minute": {"s", 60}, "min": {"s", 60}, "m": {"s", 60},
		"hour": {"s", 3600}, "hr": {"s", 3600}, "h": {"s", 3600},
		"day": {"s", 86400}, "week": {"day", 7},
	}},
	{"distance", map[string]unitDef{
		"meter": {"m", 1}, "m": {"m", 1}, "feet": {"m", 0.3048}, "ft": {"m", 0.3048},
		"inch": {"m", 0.0254}, "in": {"m", 0.0254}, "yard": {"m", 0.9144}, "yd": {"m", 0.9144},
		"mile": {"m", 1609.34}, "mi": {"m", 1609.34},
	}},
	// mass, volume and storage units exist in node-units but none converts to "m".
	{"mass", map[string]unitDef{"ton": {}, "t": {}, "gram": {}, "gm": {}, "pound": {}, "lb": {}, "ounce": {}, "oz": {}, "stone": {}, "st": {}}},
	{"volume", map[string]unitDef{"liter": {}, "gallon": {}, "gal": {}, "pint": {}, "quart": {}, "qt": {}, "tablespoon": {}, "tbsp": {}, "teaspoon": {}, "tsp": {}, "cup": {}, "ounce": {}, "oz": {}, "gill": {}, "gi": {}, "barrel": {}, "bbl": {}}},
	{"storage", map[string]unitDef{"bit": {}, "b": {}, "kilobit": {}, "kb": {}, "megabit": {}, "mb": {}, "gigabit": {}, "gb": {}, "terabit": {}, "tb": {}, "petabit": {}, "pb": {}}},
}

type prefix struct {
	p   string
	mod float64
}

var shortPrefixes = []prefix{{"da", 10}, {"mu", 1e-6}, {"m", 1e-3}, {"h", 100}, {"k", 1000},
	{"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18}, {"Z", 1e21}, {"Y", 1e24},
	{"n", 1e-9}, {"p", 1e-12}, {"c", 1e-2}, {"d", 1e-1}, {"f", 1e-15}, {"a", 1e-18}, {"z", 1e-21}, {"y", 1e-24}}

var longPrefixes = []prefix{{"milli", 1e-3}, {"micro", 1e-6}, {"nano", 1e-9}, {"pico", 1e-12},
	{"centi", 1e-2}, {"deci", 1e-1}, {"femto", 1e-15}, {"atto", 1e-18}, {"zepto", 1e-21},
	{"yocto", 1e-24}, {"deka", 10}, {"hecto", 100}, {"kilo", 1000}, {"mega", 1e6}, {"giga", 1e9},
	{"tera", 1e12}, {"peta", 1e15}, {"exa", 1e18}, {"zeta", 1e21}, {"yotta", 1e24}}

type unitMatch struct {
	typ  int
	unit string
	mod  float64
}

func unitVariations(u string) []string {
	v := []string{u}
	if len(u) == 2 {
		return v
	}
	for _, suf := range []string{"s", "es", "ies"} {
		if strings.HasSuffix(u, suf) {
			v = append(v, strings.TrimSuffix(u, suf))
		}
	}
	return v
}

func unitModifier(u string) (string, float64) {
	ps := shortPrefixes
	if len(u) > 3 {
		ps = longPrefixes
	}
	for _, p := range ps {
		if len(u) > 3 {
			if len(u) >= len(p.p) && strings.EqualFold(u[:len(p.p)], p.p) {
				return u[len(p.p):], p.mod
			}
		} else if strings.HasPrefix(u, p.p) {
			return u[len(p.p):], p.mod
		}
	}
	return u, 1
}

func determineType(vars []string) []unitMatch {
	var out []unitMatch
	for ti, t := range unitTypes {
		for _, v := range vars {
			if _, ok := t.units[v]; ok {
				out = append(out, unitMatch{ti, v, 1})
			} else if mu, mod := unitModifier(v); true {
				if _, ok := t.units[mu]; ok {
					out = append(out, unitMatch{ti, mu, mod})
				}
			}
		}
	}
	return out
}

func unitConvert(typ int, value float64, from, to string, maxCalls int) (float64, bool) {
	if maxCalls <= 0 {
		return 0, false
	}
	sec := unitTypes[typ].units
	fb, ok1 := sec[from]
	tb, ok2 := sec[to]
	if !ok1 || !ok2 {
		return 0, false
	}
	if fb.base == to {
		return value * fb.value, true
	}
	if tb.base == fb.base {
		return value * fb.value / tb.value, true
	}
	r, ok := unitConvert(typ, fb.value, fb.base, to, maxCalls-1)
	if !ok {
		return 0, false
	}
	return value * r, true
}

func isASCIILetters(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// convertDistance converts a Koncorde distance string to metres, as
// lib/util/convertDistance.js with node-units does: a unit is mandatory (doc.go,
// Q12). Number words (node-units' numerizer) are not supported.
func convertDistance(distance string) (float64, error) {
	var sb strings.Builder
	for _, r := range distance {
		if r == '-' || isJSSpace(r) {
			continue
		}
		if r == ',' {
			r = '.'
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	cleaned := sb.String()
	for i := 0; i+1 < len(cleaned); i++ {
		if cleaned[i] >= '0' && cleaned[i] <= '9' && cleaned[i+1] >= 'a' && cleaned[i+1] <= 'z' {
			cleaned = cleaned[:i+1] + " " + cleaned[i+1:]
			break
		}
	}
	fail := &Error{Message: `unable to parse distance value "` + distance + `"`}
	valuePart, unit, ok := strings.Cut(cleaned, " ")
	if !ok || !isASCIILetters(unit) {
		return 0, fail
	}
	value := jsParseFloat(valuePart)
	from := determineType(unitVariations(unit))
	to := determineType([]string{"m"})
	if len(from) == 0 {
		return 0, fail
	}
	var f, t *unitMatch
	for i := range from {
		for k := range to {
			if from[i].typ == to[k].typ {
				f, t = &from[i], &to[k]
				break
			}
		}
	}
	if f == nil {
		return 0, fail
	}
	r, ok := unitConvert(f.typ, value*f.mod, f.unit, t.unit, 5)
	if !ok {
		return 0, fail
	}
	return r / t.mod, nil
}
