package filter

import "math"

func numv(f float64) *jsv { return &jsv{kind: jsNumber, n: f} }

// geoObject builds {geospatial: {<kw>: {<field>: shape}}}.
func geoObject(kw, field string, shape *jsv) *jsv {
	return obj1("geospatial", obj1(kw, obj1(field, shape)))
}

func (s *standardizer) geoBoundingBox(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "geoBoundingBox", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	g := f.get("geoBoundingBox")
	field := g.keys[0]
	raw := g.vals[0]
	if raw.kind == jsNull {
		return nil, &Error{Message: "Cannot convert undefined or null to object"} // TypeError of Object.keys(null)
	}
	bbox := camelGeo(raw)
	props := []string{"top", "left", "bottom", "right"}
	var out [4]float64
	have := false
	all := true
	for _, k := range props {
		v := bbox.get(k)
		if v == nil || (v.kind != jsString && v.kind != jsNumber) {
			all = false
		}
	}
	if all {
		for i, k := range props {
			n := jsvFloat(bbox.get(k))
			if math.IsNaN(n) {
				return nil, parseError("unrecognized geoBoundingBox format: "+bbox.stringify(), pathAdd(p, field))
			}
			out[i] = n
		}
		have = true
	} else if tl, br := bbox.get("topLeft"), bbox.get("bottomRight"); tl.truthy() && br.truthy() {
		tlat, tlon, ok1 := pointFromJS(tl)
		blat, blon, ok2 := pointFromJS(br)
		if ok1 && ok2 {
			out = [4]float64{tlat, tlon, blat, blon}
			have = true
		}
	}
	if !have {
		return nil, parseError("unrecognized geo-point format", pathAdd(p, field))
	}
	shape := newObject()
	shape.set("bottom", numv(out[2]))
	shape.set("left", numv(out[1]))
	shape.set("right", numv(out[3]))
	shape.set("top", numv(out[0]))
	return geoObject("geoBoundingBox", field, shape), nil
}

func (s *standardizer) geoDistance(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "geoDistance", p, objOpts{properties: 2, required: []string{"distance"}}); err != nil {
		return nil, err
	}
	g := f.get("geoDistance")
	if err := isString(g, "distance", pathAdd(p, "distance")); err != nil {
		return nil, err
	}
	var field string
	for _, k := range g.keys {
		if k != "distance" {
			field = k
			break
		}
	}
	lat, lon, ok := pointFromJS(g.get(field))
	if !ok {
		return nil, parseError("unrecognized point format", pathAdd(p, field))
	}
	d, err := convertDistance(g.get("distance").s)
	if err != nil {
		return nil, err
	}
	shape := newObject()
	shape.set("distance", numv(d))
	shape.set("lat", numv(lat))
	shape.set("lon", numv(lon))
	return geoObject("geoDistance", field, shape), nil
}

func (s *standardizer) geoDistanceRange(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "geoDistanceRange", p, objOpts{properties: 3, required: []string{"from", "to"}}); err != nil {
		return nil, err
	}
	g := f.get("geoDistanceRange")
	var field string
	for _, k := range g.keys {
		if k != "from" && k != "to" {
			field = k
			break
		}
	}
	var d [2]float64
	for i, k := range []string{"from", "to"} {
		if err := isString(g, k, pathAdd(p, k)); err != nil {
			return nil, err
		}
		v, err := convertDistance(g.get(k).s)
		if err != nil {
			return nil, err
		}
		d[i] = v
	}
	if d[0] >= d[1] {
		return nil, parseError("inner radius must be smaller than outer radius", p)
	}
	lat, lon, ok := pointFromJS(g.get(field))
	if !ok {
		return nil, parseError("unrecognized point format", pathAdd(p, field))
	}
	shape := newObject()
	shape.set("from", numv(d[0]))
	shape.set("lat", numv(lat))
	shape.set("lon", numv(lon))
	shape.set("to", numv(d[1]))
	return geoObject("geoDistanceRange", field, shape), nil
}

func (s *standardizer) geoPolygon(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "geoPolygon", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	g := f.get("geoPolygon")
	field := g.keys[0]
	fp := pathAdd(p, field)
	if err := isObject(g, field, fp, objOpts{properties: 1, required: []string{"points"}}); err != nil {
		return nil, err
	}
	pp := pathAdd(fp, "points")
	if err := isArray(g.vals[0], "points", pp, arrOpts{}); err != nil {
		return nil, err
	}
	pts := g.vals[0].get("points").arr
	if len(pts) < 3 {
		return nil, parseError("at least 3 points are required to build a polygon", pp)
	}
	out := &jsv{kind: jsArray}
	for _, pt := range pts {
		lat, lon, ok := pointFromJS(pt)
		if !ok {
			return nil, parseError(`unrecognized point format "`+pt.stringify()+`"`, pp)
		}
		out.arr = append(out.arr, jsArr([]*jsv{numv(lat), numv(lon)}))
	}
	return geoObject("geoPolygon", field, out), nil
}
