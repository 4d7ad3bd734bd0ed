package filter

import (
	"math"
	"strconv"
	"strings"
)

// This file ports Koncorde 4.7's lib/transform/standardize.js: the same checks, in the
// same order, with the same messages, and the same rewrites, including its
// re-standardization of already standardized sub-filters, which is what rejects geo
// keywords under a negated and/or (see doc.go).

// kpath is a Koncorde error path: nil is JavaScript's null.
type kpath = *string

func pathAdd(p kpath, leaf string) kpath {
	var s string
	if p == nil {
		s = leaf
	} else {
		s = *p + "." + leaf
	}
	return &s
}

func pathDot(p kpath, leaf string) kpath {
	// `${path}.${field}`: path is never null where Koncorde uses this form.
	s := "null"
	if p != nil {
		s = *p
	}
	s += "." + leaf
	return &s
}

// parseError builds a KoncordeParseError message: `"<path>": <message>`, or the bare
// message when path is null or empty.
func parseError(msg string, p kpath) *Error {
	if p != nil && *p != "" {
		return &Error{Message: `"` + *p + `": ` + msg}
	}
	return &Error{Message: msg}
}

var allowedKeywords = map[string]bool{
	"and": true, "bool": true, "equals": true, "exists": true, "geoBoundingBox": true,
	"geoDistance": true, "geoDistanceRange": true, "geoPolygon": true, "ids": true,
	"in": true, "match": true, "missing": true, "not": true, "nothing": true, "or": true,
	"select": true, "range": true, "regexp": true,
}

type standardizer struct {
	depth int
}

func obj1(key string, val *jsv) *jsv {
	return &jsv{kind: jsObject, keys: []string{key}, vals: []*jsv{val}}
}

func jsArr(items []*jsv) *jsv { return &jsv{kind: jsArray, arr: items} }

// objectKeys is Object.keys(v) for any value.
func objectKeys(v *jsv) []string {
	if v == nil {
		return nil
	}
	switch v.kind {
	case jsObject:
		return v.keys
	case jsArray:
		ks := make([]string, len(v.arr))
		for i := range v.arr {
			ks[i] = strconv.Itoa(i)
		}
		return ks
	case jsString:
		n := utf16Len(v.s)
		if n > 2 {
			n = 2 // only the count matters past 1
		}
		ks := make([]string, n)
		for i := range ks {
			ks[i] = strconv.Itoa(i)
		}
		return ks
	case jsExists:
		return []string{"path", "array", "value"}
	}
	return nil
}

func (s *standardizer) standardize(f *jsv, p kpath) (*jsv, error) {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > 4*maxFilterDepth {
		return nil, errTooDeep()
	}
	var keywords []string
	if f.truthy() {
		keywords = objectKeys(f)
	}
	if len(keywords) == 0 {
		return newObject(), nil
	}
	if len(keywords) > 1 {
		return nil, parseError("Invalid filter syntax. Filters must have one keyword only", p)
	}
	kw := keywords[0]
	if !allowedKeywords[kw] {
		return nil, parseError("unknown keyword", pathAdd(p, kw))
	}
	if f.kind != jsObject {
		// a one-character string or a one-element array: key "0" is not a keyword
		return nil, parseError("unknown keyword", pathAdd(p, kw))
	}
	p = pathAdd(p, kw)
	switch kw {
	case "exists":
		return s.exists(f, p, "exists")
	case "missing":
		r, err := s.exists(f, p, "missing")
		if err != nil {
			return nil, err
		}
		return obj1("not", obj1("exists", r.get("missing"))), nil
	case "ids":
		return s.ids(f, p)
	case "nothing":
		return obj1("nothing", &jsv{kind: jsBool, b: true}), nil
	case "range":
		return s.rangeKw(f, p)
	case "regexp":
		return s.regexp(f, p)
	case "equals":
		return s.equals(f, p)
	case "select":
		return s.selectKw(f, p)
	case "match":
		if err := isObject(f, "match", p, objOpts{nonEmpty: true}); err != nil {
			return nil, err
		}
		return f, nil
	case "in":
		return s.in(f, p)
	case "geoBoundingBox":
		return s.geoBoundingBox(f, p)
	case "geoDistance":
		return s.geoDistance(f, p)
	case "geoDistanceRange":
		return s.geoDistanceRange(f, p)
	case "geoPolygon":
		return s.geoPolygon(f, p)
	case "and", "or":
		if err := isArray(f, kw, p, arrOpts{nonEmpty: true}); err != nil {
			return nil, err
		}
		return s.filterArray(f, kw, p)
	case "not":
		return s.not(f, p)
	case "bool":
		return s.boolKw(f, p)
	}
	return nil, parseError("unknown keyword", p)
}

func (s *standardizer) exists(f *jsv, p kpath, name string) (*jsv, error) {
	v := f.get(name)
	if v != nil && v.kind == jsExists {
		return f, nil
	}
	if v != nil && v.kind == jsString {
		if v.s == "" {
			return nil, parseError("cannot test empty field name", p)
		}
		return parseFieldSyntax(v.s, name, p)
	}
	if err := isObject(f, name, p, objOpts{properties: 1, required: []string{"field"}}); err != nil {
		return nil, err
	}
	fp := pathAdd(p, "field")
	if err := isString(v, "field", fp); err != nil {
		return nil, err
	}
	return parseFieldSyntax(v.get("field").s, name, fp)
}

func isJSLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029
}

// parseFieldSyntax implements /^(.*?[^\\])\[(.*)]$/ + JSON.parse of the bracket part,
// then unescapes \[ and \] in the path.
func parseFieldSyntax(field, name string, p kpath) (*jsv, error) {
	fieldPath := field
	spec := &existsSpec{}
	if !strings.ContainsFunc(field, isJSLineTerminator) && strings.HasSuffix(field, "]") {
		for i := 1; i < len(field)-1; i++ {
			if field[i] == '[' && field[i-1] != '\\' {
				raw := field[i+1 : len(field)-1]
				val, ok, err := parseJS(raw)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, parseError(`contains an invalid array value ("`+raw+`")`, p)
				}
				fieldPath = field[:i]
				spec.array = true
				spec.value = val
				break
			}
		}
	}
	fieldPath = strings.NewReplacer(`\[`, `[`, `\]`, `]`).Replace(fieldPath)
	spec.path = fieldPath
	return obj1(name, &jsv{kind: jsExists, ex: spec}), nil
}

func leafOr(items []*jsv) *jsv {
	r := obj1("or", jsArr(items))
	r.leaf = true
	return r
}

func (s *standardizer) ids(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "ids", p, objOpts{properties: 1, required: []string{"values"}}); err != nil {
		return nil, err
	}
	ids := f.get("ids")
	if err := isArray(ids, "values", pathAdd(p, "values"), arrOpts{nonEmpty: true, typ: jsString}); err != nil {
		return nil, err
	}
	var items []*jsv
	for _, v := range ids.get("values").arr {
		items = append(items, obj1("equals", obj1("_id", v)))
	}
	return leafOr(items), nil
}

func (s *standardizer) rangeKw(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "range", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	r := f.get("range")
	field := r.keys[0]
	fieldPath := pathDot(p, field)
	if err := isObject(r, field, pathAdd(p, field), objOpts{allowed: []string{"gt", "gte", "lt", "lte"}, nonEmpty: true}); err != nil {
		return nil, err
	}
	high, low := math.Inf(1), math.Inf(-1)
	args := r.get(field)
	for i, key := range args.keys {
		v := args.vals[i]
		if v.kind != jsNumber {
			return nil, parseError("must be a number", pathAdd(fieldPath, key))
		}
		if key == "lt" || key == "lte" {
			if !math.IsInf(high, 1) {
				return nil, parseError("only 1 upper boundary allowed", fieldPath)
			}
			high = v.n
		}
		if key == "gt" || key == "gte" {
			if !math.IsInf(low, -1) {
				return nil, parseError("only 1 lower boundary allowed", fieldPath)
			}
			low = v.n
		}
	}
	if high <= low {
		return nil, parseError("lower boundary must be strictly inferior to the upper one", fieldPath)
	}
	return f, nil
}

func (s *standardizer) regexp(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "regexp", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	r := f.get("regexp")
	field := r.keys[0]
	fv := r.vals[0]
	var value, flags *jsv
	switch {
	case fv.kind == jsString:
		value = fv
	case fv.kind == jsObject:
		fp := pathAdd(p, field)
		if err := isObject(r, field, fp, objOpts{allowed: []string{"flags", "value"}, nonEmpty: true, required: []string{"value"}}); err != nil {
			return nil, err
		}
		value = fv.get("value")
		if fl := fv.get("flags"); fl.truthy() {
			if err := isString(fv, "flags", pathAdd(fp, "flags")); err != nil {
				return nil, err
			}
			flags = fl
		}
	default:
		return nil, parseError("must be either a string or a non-empty object", pathAdd(p, field))
	}
	flagStr := "undefined"
	if flags != nil {
		flagStr = flags.s
	}
	if _, msg := compileRegexp(value, flags); msg != "" {
		return nil, parseError(`cannot parse regexp expression "/`+value.jsToString()+`/`+flagStr+`" (`+msg+`)`, pathAdd(p, field))
	}
	inner := newObject()
	if flags != nil {
		inner.set("flags", flags)
	}
	inner.set("value", value)
	return obj1("regexp", obj1(field, inner)), nil
}

func (s *standardizer) equals(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "equals", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	e := f.get("equals")
	if v := e.vals[0]; v.kind == jsArray || v.kind == jsObject || v.kind == jsUndefined {
		return nil, parseError("must either be a string, a number, a boolean, or null", pathAdd(p, e.keys[0]))
	}
	return f, nil
}

func (s *standardizer) selectKw(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "select", p, objOpts{properties: 3}); err != nil {
		return nil, err
	}
	sel := f.get("select")
	if err := isString(sel, "field", pathAdd(p, "field")); err != nil {
		return nil, err
	}
	idx := sel.get("index")
	ip := pathAdd(p, "index")
	if idx == nil || idx.kind != jsNumber {
		return nil, parseError("must be an integer", ip)
	}
	if math.Floor(idx.n) != idx.n {
		return nil, parseError("cannot have decimals, must be an integer", ip)
	}
	qp := pathAdd(p, "query")
	if err := isObject(sel, "query", qp, objOpts{nonEmpty: true}); err != nil {
		return nil, err
	}
	if _, err := s.standardize(sel.get("query"), qp); err != nil {
		return nil, err
	}
	return f, nil
}

func (s *standardizer) in(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "in", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	in := f.get("in")
	field := in.keys[0]
	if err := isArray(in, field, pathAdd(p, field), arrOpts{nonEmpty: true, typ: jsString}); err != nil {
		return nil, err
	}
	var items []*jsv
	for _, v := range in.vals[0].arr {
		items = append(items, obj1("equals", obj1(field, v)))
	}
	return leafOr(items), nil
}

func (s *standardizer) not(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "not", p, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	result, err := s.standardize(f.get("not"), p)
	if err != nil {
		return nil, err
	}
	if len(result.keys) == 0 {
		// not {} cannot happen: isObject above requires exactly one property, and no
		// keyword standardizes to {} except an empty filter.
		return obj1("not", result), nil
	}
	k := result.keys[0]
	if k == "and" || k == "or" {
		leaf := true
		subs := make([]*jsv, 0, len(result.vals[0].arr))
		for _, c := range result.vals[0].arr {
			sub, err := s.standardize(obj1("not", c), nil)
			if err != nil {
				return nil, err
			}
			if sub.get("or") != nil || sub.get("and") != nil {
				leaf = false
			}
			subs = append(subs, sub)
		}
		nk := "or"
		if k == "or" {
			nk = "and"
		}
		res := obj1(nk, jsArr(subs))
		res.leaf = leaf
		return res, nil
	}
	if n := result.get("not"); n != nil {
		return n, nil
	}
	return obj1("not", result), nil
}

func (s *standardizer) boolKw(f *jsv, p kpath) (*jsv, error) {
	if err := isObject(f, "bool", p, objOpts{allowed: []string{"must", "must_not", "should", "should_not"}, nonEmpty: true}); err != nil {
		return nil, err
	}
	b := f.get("bool")
	var and []*jsv
	concat := func(v *jsv) {
		if v.kind == jsArray {
			and = append(and, v.arr...)
		} else {
			and = append(and, v)
		}
	}
	if v := b.get("must"); v.truthy() {
		concat(v)
	}
	if v := b.get("must_not"); v.truthy() {
		and = append(and, obj1("not", obj1("or", v)))
	}
	if v := b.get("should"); v.truthy() {
		and = append(and, obj1("or", v))
	}
	if v := b.get("should_not"); v.truthy() {
		and = append(and, obj1("not", obj1("and", v)))
	}
	// p already ends with "bool": Koncorde calls standardize(f, path) which appends "and".
	return s.standardize(obj1("and", jsArr(and)), p)
}

// filterArray is _standardizeFilterArray.
func (s *standardizer) filterArray(f *jsv, operand string, p kpath) (*jsv, error) {
	items := f.get(operand).arr
	for _, it := range items {
		if it.kind != jsObject || len(it.keys) == 0 {
			return nil, parseError("can only contain non-empty objects", p)
		}
	}
	leaf := true
	var leaves, andOrs []*jsv
	for _, it := range items {
		sub, err := s.standardize(it, p)
		if err != nil {
			return nil, err
		}
		if same := sub.get(operand); same != nil {
			leaves = append(leaves, same.arr...)
			if !sub.leaf {
				leaf = false
			}
		} else if sub.get("and") != nil || sub.get("or") != nil {
			leaf = false
			andOrs = append(andOrs, sub)
		} else {
			leaves = append(leaves, sub)
		}
	}
	if !leaf && len(leaves) > 1 {
		sub, err := s.standardize(obj1(operand, jsArr(leaves)), p)
		if err != nil {
			return nil, err
		}
		res := obj1(operand, jsArr(append(andOrs, sub)))
		return res, nil
	}
	all := append(andOrs, leaves...)
	if len(all) == 1 {
		return all[0], nil
	}
	res := obj1(operand, jsArr(all))
	res.leaf = leaf
	return res, nil
}

type objOpts struct {
	allowed    []string
	nonEmpty   bool
	required   []string
	properties int
}

// isObject checks that parent[prop] is a plain object; errors carry path p.
func isObject(parent *jsv, prop string, p kpath, o objOpts) error {
	v := parent.get(prop)
	if !v.isPlainObject() {
		return parseError("must be an object", p)
	}
	n := len(v.keys)
	if o.nonEmpty && n == 0 {
		return parseError("must be a non-empty object", p)
	}
	if o.properties > 0 && n != o.properties {
		suffix := "y"
		if o.properties > 1 {
			suffix = "ies"
		}
		return parseError("expected object to have exactly "+strconv.Itoa(o.properties)+" propert"+suffix+", got "+strconv.Itoa(n), p)
	}
	for _, r := range o.required {
		if v.get(r) == nil {
			return parseError(`the property "`+r+`" is missing`, p)
		}
	}
	if o.allowed != nil {
		for _, k := range v.keys {
			ok := false
			for _, a := range o.allowed {
				if a == k {
					ok = true
				}
			}
			if !ok {
				return parseError(`"`+k+`" is not an allowed attribute (allowed: `+strings.Join(o.allowed, ",")+`)`, p)
			}
		}
	}
	return nil
}

func isString(parent *jsv, prop string, p kpath) error {
	v := parent.get(prop)
	if v == nil || v.kind != jsString {
		return parseError("must be a string", p)
	}
	if v.s == "" {
		return parseError("cannot be empty", p)
	}
	return nil
}

type arrOpts struct {
	nonEmpty bool
	typ      jsKind // 0: any
}

func isArray(parent *jsv, prop string, p kpath, o arrOpts) error {
	v := parent.get(prop)
	if v == nil || v.kind != jsArray {
		return parseError("must be an array", p)
	}
	if o.nonEmpty && len(v.arr) == 0 {
		return parseError("cannot be empty", p)
	}
	if o.typ != 0 {
		for _, e := range v.arr {
			if e.kind != o.typ {
				return parseError(`must hold only values of type "string"`, p)
			}
		}
	}
	return nil
}
