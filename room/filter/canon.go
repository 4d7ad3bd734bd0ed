package filter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// atomKind is the keyword of a normalized condition.
type atomKind uint8

const (
	akEquals atomKind = iota + 1
	akExists
	akRange
	akRegexp
	akGeo
	akMatch
	akSelect
	akNothing
)

// scalar is an equals value or an exists array value, compared with SameValueZero.
type scalar struct {
	kind jsKind // jsNull, jsBool, jsNumber, jsString; anything else never matches
	b    bool
	n    float64
	s    string
}

// atom is one normalized condition. Atoms are immutable and shared between filters
// through their key.
type atom struct {
	kind  atomKind
	array bool   // exists: array-value form
	field string // equals/range/regexp/geo/select field, exists path; match: first key
	key   string // canonical identity

	val scalar // equals value, exists array value

	// *atomExt holds what only range, regexp, geo, match and select atoms need, so that
	// the equals and exists atoms most filters are made of stay small (they are kept for
	// as long as a filter holding them is stored). Nil for equals, exists and nothing.
	*atomExt
}

// atomExt is the part of an atom specific to range, regexp, geo, match and select.
type atomExt struct {
	lo, hi         float64 // range bounds (±Inf when open)
	loIncl, hiIncl bool

	re       *regexp.Regexp
	rePrefix string // literal the matched string must start with ("" if none known)

	geo *geoShape

	match *jsv // match: the object to match

	selIndex int
	selQuery *canonical
}

// expr is a standardized filter as a boolean formula over atoms, in negation normal
// form (the standardizer pushes every not down to a condition).
type expr struct {
	op   byte // '&', '|', '!', 'a'
	kids []*expr
	atom *atom
}

func toScalar(v *jsv) scalar {
	if v == nil {
		return scalar{kind: jsUndefined}
	}
	switch v.kind {
	case jsNull:
		return scalar{kind: jsNull}
	case jsBool:
		return scalar{kind: jsBool, b: v.b}
	case jsNumber:
		n := v.n
		if n == 0 {
			n = 0 // -0 and +0 are the same key (SameValueZero)
		}
		return scalar{kind: jsNumber, n: n}
	case jsString:
		return scalar{kind: jsString, s: v.s}
	}
	return scalar{kind: jsObject} // identity comparison: never matches
}

// keyBuilder builds unambiguous keys from length-prefixed parts.
type keyBuilder struct{ sb strings.Builder }

func (k *keyBuilder) str(s string) *keyBuilder {
	k.sb.WriteString(strconv.Itoa(len(s)))
	k.sb.WriteByte(':')
	k.sb.WriteString(s)
	return k
}

func (k *keyBuilder) num(f float64) *keyBuilder {
	return k.str(strconv.FormatUint(math.Float64bits(f), 16))
}

func (k *keyBuilder) scalar(s scalar, raw *jsv) *keyBuilder {
	switch s.kind {
	case jsNull:
		return k.str("null")
	case jsBool:
		return k.str("b" + strconv.FormatBool(s.b))
	case jsNumber:
		return k.str("n" + jsNumberString(s.n))
	case jsString:
		return k.str("s" + s.s)
	}
	return k.str("o" + canonicalJSON(raw))
}

// canonicalJSON serializes v with object keys sorted (object key order never matters
// to match or exists).
func canonicalJSON(v *jsv) string {
	if v == nil {
		return "null"
	}
	if v.kind != jsObject && v.kind != jsArray {
		return v.stringify()
	}
	var sb strings.Builder
	if v.kind == jsArray {
		sb.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(canonicalJSON(e))
		}
		sb.WriteByte(']')
		return sb.String()
	}
	idx := make([]int, len(v.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v.keys[idx[a]] < v.keys[idx[b]] })
	sb.WriteByte('{')
	for n, i := range idx {
		if n > 0 {
			sb.WriteByte(',')
		}
		writeJSString(&sb, v.keys[i])
		sb.WriteByte(':')
		sb.WriteString(canonicalJSON(v.vals[i]))
	}
	sb.WriteByte('}')
	return sb.String()
}

// builder turns a standardized filter into an expr, interning atoms by key.
type builder struct {
	atoms map[string]*atom
	order []*atom
	count int // Koncorde's condition count (lib/transform/canonical.ts, _countConditions)
}

func (b *builder) intern(a *atom) *expr {
	b.count++
	if old, ok := b.atoms[a.key]; ok {
		return &expr{op: 'a', atom: old}
	}
	b.atoms[a.key] = a
	b.order = append(b.order, a)
	return &expr{op: 'a', atom: a}
}

func (b *builder) build(f *jsv) (*expr, error) {
	k := f.keys[0]
	v := f.vals[0]
	switch k {
	case "and", "or":
		op := byte('&')
		if k == "or" {
			op = '|'
		}
		e := &expr{op: op}
		for _, c := range v.arr {
			ce, err := b.build(c)
			if err != nil {
				return nil, err
			}
			e.kids = append(e.kids, ce)
		}
		return e, nil
	case "not":
		ce, err := b.build(v)
		if err != nil {
			return nil, err
		}
		return &expr{op: '!', kids: []*expr{ce}}, nil
	case "nothing":
		return b.intern(&atom{kind: akNothing, key: "nothing"}), nil
	case "equals":
		field := v.keys[0]
		a := &atom{kind: akEquals, field: field, val: toScalar(v.vals[0])}
		var kb keyBuilder
		kb.str("eq").str(field).scalar(a.val, v.vals[0])
		a.key = kb.sb.String()
		// The field and a string value are also in the key: point at them there, so that
		// a stored equals condition does not keep the whole filter text alive.
		at := len("2:eq") + len(strconv.Itoa(len(field))) + 1
		a.field = a.key[at : at+len(field)]
		if a.val.kind == jsString {
			a.val.s = a.key[len(a.key)-len(a.val.s):]
		}
		return b.intern(a), nil
	case "exists":
		ex := v.ex
		a := &atom{kind: akExists, field: ex.path, array: ex.array}
		var kb keyBuilder
		kb.str("ex").str(ex.path)
		if ex.array {
			a.val = toScalar(ex.value)
			kb.str("a").scalar(a.val, ex.value)
		}
		a.key = kb.sb.String()
		return b.intern(a), nil
	case "range":
		field := v.keys[0]
		args := v.vals[0]
		a := &atom{kind: akRange, field: field, atomExt: &atomExt{lo: math.Inf(-1), hi: math.Inf(1), loIncl: true, hiIncl: true}}
		for i, op := range args.keys {
			n := args.vals[i].n
			switch op {
			case "gt":
				a.lo, a.loIncl = n, false
			case "gte":
				a.lo, a.loIncl = n, true
			case "lt":
				a.hi, a.hiIncl = n, false
			case "lte":
				a.hi, a.hiIncl = n, true
			}
		}
		var kb keyBuilder
		kb.str("rg").str(field).num(a.lo).str(strconv.FormatBool(a.loIncl)).num(a.hi).str(strconv.FormatBool(a.hiIncl))
		a.key = kb.sb.String()
		return b.intern(a), nil
	case "regexp":
		field := v.keys[0]
		spec := v.vals[0]
		value, flags := spec.get("value"), spec.get("flags")
		re, _ := compileRegexp(value, flags)
		a := &atom{kind: akRegexp, field: field, atomExt: &atomExt{re: re, rePrefix: anchoredPrefix(re)}}
		var kb keyBuilder
		kb.str("re").str(field).str(canonicalFlags(flags)).str(value.jsToString())
		a.key = kb.sb.String()
		return b.intern(a), nil
	case "geospatial":
		gk := v.keys[0]
		field := v.vals[0].keys[0]
		shape := v.vals[0].vals[0]
		g := &geoShape{}
		var kb keyBuilder
		kb.str("geo").str(field).str(gk)
		switch gk {
		case "geoBoundingBox":
			g.kind = geoBBox
			g.top, g.left, g.bottom, g.right = shape.get("top").n, shape.get("left").n, shape.get("bottom").n, shape.get("right").n
			kb.num(g.top).num(g.left).num(g.bottom).num(g.right)
		case "geoDistance":
			g.kind = geoCircle
			g.lat, g.lon, g.to = shape.get("lat").n, shape.get("lon").n, shape.get("distance").n
			kb.num(g.lat).num(g.lon).num(g.to)
		case "geoDistanceRange":
			g.kind = geoAnnulus
			g.lat, g.lon, g.from, g.to = shape.get("lat").n, shape.get("lon").n, shape.get("from").n, shape.get("to").n
			kb.num(g.lat).num(g.lon).num(g.from).num(g.to)
		case "geoPolygon":
			g.kind = geoPoly
			for _, p := range shape.arr {
				g.points = append(g.points, [2]float64{p.arr[0].n, p.arr[1].n})
				kb.num(p.arr[0].n).num(p.arr[1].n)
			}
		}
		g.initEnvelope()
		a := &atom{kind: akGeo, field: field, atomExt: &atomExt{geo: g}}
		a.key = kb.sb.String()
		return b.intern(a), nil
	case "match":
		a := &atom{kind: akMatch, field: v.keys[0], atomExt: &atomExt{match: v}}
		var kb keyBuilder
		kb.str("ma").str(canonicalJSON(v))
		a.key = kb.sb.String()
		return b.intern(a), nil
	case "select":
		field := v.get("field").s
		idx := v.get("index").n
		a := &atom{kind: akSelect, field: field, atomExt: &atomExt{}}
		if idx >= -1<<31 && idx < 1<<31 {
			a.selIndex = int(idx)
		} else {
			a.selIndex = math.MaxInt32 // out of any array's range
		}
		// The query is normalized here without a condition limit so that its canonical
		// form keys the atom; Koncorde applies the limit when storing (storeChecks).
		sub, err := normalizeJS(v.get("query"), -1)
		if err != nil {
			return nil, err
		}
		a.selQuery = sub
		var kb keyBuilder
		kb.str("se").str(field).num(idx).str(sub.text)
		a.key = kb.sb.String()
		return b.intern(a), nil
	}
	return nil, &Error{Message: `"` + k + `": unknown keyword`}
}

// lit is a literal: atom index*2, +1 when negated.
type lit uint32

// dnf is a disjunction of conjunctions of literals; each term is sorted and free of
// duplicates.
type dnf [][]lit

// maxTerms bounds the subfilters of one normalized filter, and maxLits the literals
// over all of them: the guard against the exponential blow-up of distribution.
const (
	maxTerms = 1 << 14
	maxLits  = 1 << 18
)

// errTooManyTerms is the error for a filter whose normal form exceeds the bounds.
func errTooManyTerms() *Error {
	return &Error{Message: "Filter too complex: its normalized form exceeds " + strconv.Itoa(maxTerms) + " subfilters or " + strconv.Itoa(maxLits) + " conditions"}
}

// dnfBuilder expands an expr into a DNF over atoms numbered by index.
type dnfBuilder struct {
	index map[*atom]int
}

func (d *dnfBuilder) toDNF(e *expr, neg bool) (dnf, error) {
	switch e.op {
	case 'a':
		l := lit(d.index[e.atom] * 2)
		if neg {
			l++
		}
		return dnf{{l}}, nil
	case '!':
		return d.toDNF(e.kids[0], !neg)
	}
	and := e.op == '&'
	if neg {
		and = !and
	}
	if !and {
		var out dnf
		for _, k := range e.kids {
			kd, err := d.toDNF(k, neg)
			if err != nil {
				return nil, err
			}
			out = append(out, kd...)
			if len(out) > maxTerms {
				return nil, errTooManyTerms()
			}
		}
		return out, nil
	}
	// conjunction: the single-term children are concatenated once, the others are
	// distributed (each at least doubles the terms, so at most log2(maxTerms) rounds)
	var base []lit
	var multi []dnf
	for _, k := range e.kids {
		kd, err := d.toDNF(k, neg)
		if err != nil {
			return nil, err
		}
		switch len(kd) {
		case 0:
			return dnf{}, nil // false
		case 1:
			base = append(base, kd[0]...)
			if len(base) > maxLits {
				return nil, errTooManyTerms()
			}
		default:
			multi = append(multi, kd)
		}
	}
	slices.Sort(base)
	base = slices.Compact(base)
	out := dnf{base}
	for _, kd := range multi {
		if len(out)*len(kd) > maxTerms {
			return nil, errTooManyTerms()
		}
		next := make(dnf, 0, len(out)*len(kd))
		total := 0
		for _, t := range out {
			for _, u := range kd {
				m := mergeTerm(t, u)
				total += len(m)
				if total > maxLits {
					return nil, errTooManyTerms()
				}
				next = append(next, m)
			}
		}
		out = next
	}
	return out, nil
}

// mergeTerm returns the sorted, duplicate-free union of two sorted terms.
func mergeTerm(a, b []lit) []lit {
	out := make([]lit, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// impossible reports whether a term can never be true: x and not x, two different
// equals values on one field, equals or range with a missing field, equals outside
// a range of the same field, or the nothing keyword. These are Koncorde's
// _removeImpossiblePredicates rules (lib/transform/canonical.ts) without its bugs
// (doc.go, Q1-Q3).
func impossible(t []lit, atoms []*atom) bool {
	for i, l := range t {
		if i > 0 && t[i-1] == l^1 {
			return true // sorted: x and not x are adjacent
		}
		if atoms[l/2].kind == akNothing && l&1 == 0 {
			return true
		}
	}
	return contradicts(t, atoms, false)
}

// fieldFacts summarizes the literals of one term on one field.
type fieldFacts struct {
	eq      *atom   // a positive equals
	twoEq   bool    // two different positive equals
	needs   bool    // a positive equals, range or exists
	missing bool    // a negated exists (plain only, unless koncorde)
	ranges  []*atom // positive ranges
}

// contradicts applies the per-field rules in O(len(t)). koncorde selects Koncorde's
// variant: exists keyed by path whatever the array form, and equals values coerced to
// numbers against ranges (used to predict which subfilters Koncorde stores).
func contradicts(t []lit, atoms []*atom, koncorde bool) bool {
	var facts map[string]*fieldFacts
	for _, l := range t {
		a := atoms[l/2]
		neg := l&1 == 1
		if a.kind != akEquals && a.kind != akRange && a.kind != akExists {
			continue
		}
		if neg && !(a.kind == akExists && (koncorde || !a.array)) {
			continue
		}
		if facts == nil {
			facts = map[string]*fieldFacts{}
		}
		f := facts[a.field]
		if f == nil {
			f = &fieldFacts{}
			facts[a.field] = f
		}
		switch {
		case neg:
			f.missing = true
		case a.kind == akEquals:
			if f.eq != nil && f.eq != a {
				f.twoEq = true
			}
			f.eq = a
			f.needs = true
		case a.kind == akRange:
			f.ranges = append(f.ranges, a)
			f.needs = true
		default:
			f.needs = true
		}
	}
	for _, f := range facts {
		if f.twoEq || f.missing && f.needs {
			return true
		}
		if f.eq == nil {
			continue
		}
		for _, r := range f.ranges {
			if koncorde {
				if v := jsToNumber(f.eq.val); !math.IsNaN(v) && !r.inRange(v) {
					return true
				}
			} else if f.eq.val.kind != jsNumber || !r.inRange(f.eq.val.n) {
				return true
			}
		}
	}
	return false
}

func (a *atom) inRange(v float64) bool {
	if a.loIncl {
		if !(v >= a.lo) {
			return false
		}
	} else if !(v > a.lo) {
		return false
	}
	if a.hiIncl {
		return v <= a.hi
	}
	return v < a.hi
}

// Budget of the prime implicant computation: small DNFs only.
const (
	blakeMaxTerms = 64
	blakeMaxPairs = 8192
)

// blake completes a small absorbed DNF into its Blake canonical form (the set of all
// its prime implicants) by iterated consensus, so that equivalent DNFs such as
// or[a, not a] and everything, or or[and[a,b], and[a, not b]] and a, get the same
// form. Beyond the budget the input is returned unchanged (it is already sorted, so
// the result stays deterministic).
func blake(terms [][]lit, atoms []*atom) [][]lit {
	if len(terms) < 2 || len(terms) > blakeMaxTerms {
		return terms
	}
	cur := slices.Clone(terms)
	pairs := 0
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(cur); i++ {
			for j := i + 1; j < len(cur); j++ {
				if pairs++; pairs > blakeMaxPairs {
					return terms
				}
				c, ok := consensus(cur[i], cur[j])
				if !ok || impossible(c, atoms) {
					continue
				}
				absorbed := false
				for _, t := range cur {
					if subsumes(t, c) {
						absorbed = true
						break
					}
				}
				if absorbed {
					continue
				}
				next := cur[:0:0]
				for _, t := range cur {
					if !subsumes(c, t) {
						next = append(next, t)
					}
				}
				cur = append(next, c)
				if len(cur) > blakeMaxTerms {
					return terms
				}
				changed = true
			}
		}
	}
	sort.Slice(cur, func(i, j int) bool { return lessTerm(cur[i], cur[j]) })
	return cur
}

// consensus returns the consensus of two sorted terms that clash on exactly one
// variable: their union without that variable.
func consensus(a, b []lit) ([]lit, bool) {
	clash := lit(0)
	n := 0
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i]/2 < b[j]/2:
			i++
		case a[i]/2 > b[j]/2:
			j++
		default:
			if a[i] != b[j] {
				n++
				clash = a[i] / 2
			}
			i++
			j++
		}
	}
	if n != 1 {
		return nil, false
	}
	out := make([]lit, 0, len(a)+len(b))
	for _, l := range mergeTerm(a, b) {
		if l/2 != clash {
			out = append(out, l)
		}
	}
	return out, true
}

// subsumes reports whether term a (sorted) is a subset of term b.
func subsumes(a, b []lit) bool {
	if len(a) > len(b) {
		return false
	}
	j := 0
	for _, l := range a {
		for j < len(b) && b[j] < l {
			j++
		}
		if j >= len(b) || b[j] != l {
			return false
		}
		j++
	}
	return true
}

// canonical is a normalized filter: a DNF over atoms identified by their keys, sorted
// so that equivalent spellings give the same value.
type canonical struct {
	count int // Koncorde's condition count of the filter
	atoms []*atom
	terms [][]lit
	text  string // serialization hashed into the id
}

// canonicalize sorts and simplifies raw (terms over atoms) and renumbers atoms by key
// order, so that the result does not depend on the order conditions were written.
func canonicalize(atoms []*atom, raw dnf, maxConditions int) (*canonical, error) {
	// renumber atoms by key
	order := make([]int, len(atoms))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return atoms[order[i]].key < atoms[order[j]].key })
	remap := make([]lit, len(atoms))
	sorted := make([]*atom, len(atoms))
	for n, i := range order {
		remap[i] = lit(n)
		sorted[n] = atoms[i]
	}
	terms := make([][]lit, 0, len(raw))
	for _, t := range raw {
		u := make([]lit, len(t))
		for i, l := range t {
			u[i] = remap[l/2]*2 + l&1
		}
		sort.Slice(u, func(i, j int) bool { return u[i] < u[j] })
		if !koncordeDrops(u, sorted) {
			if err := storeChecks(u, sorted, maxConditions); err != nil {
				return nil, err
			}
		}
		if !impossible(u, sorted) {
			terms = append(terms, u)
		}
	}
	sort.Slice(terms, func(i, j int) bool { return lessTerm(terms[i], terms[j]) })
	// drop duplicates, then terms absorbed by a shorter one (bounded work)
	uniq := terms[:0]
	for i, t := range terms {
		if i > 0 && equalTerm(t, terms[i-1]) {
			continue
		}
		uniq = append(uniq, t)
	}
	terms = uniq
	litCount := 0
	for _, t := range terms {
		litCount += len(t)
	}
	if len(terms) <= 2048 && len(terms)*litCount <= 1<<24 {
		byLen := make([][]lit, len(terms))
		copy(byLen, terms)
		sort.SliceStable(byLen, func(i, j int) bool { return len(byLen[i]) < len(byLen[j]) })
		kept := terms[:0:0]
		for _, t := range terms {
			absorbed := false
			for _, s := range byLen {
				if len(s) >= len(t) {
					break
				}
				if subsumes(s, t) {
					absorbed = true
					break
				}
			}
			if !absorbed {
				kept = append(kept, t)
			}
		}
		terms = kept
	}
	terms = blake(terms, sorted)
	// keep only the atoms still used, renumbered densely in key order
	used := make([]bool, len(sorted))
	for _, t := range terms {
		for _, l := range t {
			used[l/2] = true
		}
	}
	dense := make([]lit, len(sorted))
	var final []*atom
	for i, a := range sorted {
		if used[i] {
			dense[i] = lit(len(final))
			final = append(final, a)
		}
	}
	for _, t := range terms {
		for i, l := range t {
			t[i] = dense[l/2]*2 + l&1
		}
	}
	var kb keyBuilder
	kb.str(strconv.Itoa(len(final)))
	for _, a := range final {
		kb.str(a.key)
	}
	kb.str(strconv.Itoa(len(terms)))
	for _, t := range terms {
		kb.str(strconv.Itoa(len(t)))
		for _, l := range t {
			kb.str(strconv.FormatUint(uint64(l), 10))
		}
	}
	return &canonical{atoms: final, terms: terms, text: kb.sb.String()}, nil
}

// koncordeDrops approximates Koncorde's _removeImpossiblePredicates
// (lib/transform/canonical.ts), bugs included: Koncorde stores the other subfilters,
// which is when its store-time errors fire.
func koncordeDrops(t []lit, atoms []*atom) bool {
	for i, l := range t {
		if i > 0 && t[i-1] == l^1 && (atoms[l/2].kind == akEquals || atoms[l/2].kind == akExists) {
			return true
		}
	}
	return contradicts(t, atoms, true)
}

// jsToNumber is JavaScript's ToNumber of an equals value, as used by Koncorde's
// relational comparisons.
func jsToNumber(s scalar) float64 {
	switch s.kind {
	case jsNumber:
		return s.n
	case jsBool:
		if s.b {
			return 1
		}
		return 0
	case jsNull:
		return 0
	case jsString:
		t := strings.TrimFunc(s.s, isJSSpace)
		if t == "" {
			return 0
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

func lessTerm(a, b []lit) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func equalTerm(a, b []lit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// idSeed is the fixed HMAC-SHA256 key of filter ids (Kuzzle hashes with a fixed seed
// too); ids are therefore stable across processes and versions of this package that
// keep the canonical serialization.
var idSeed = []byte("kuzzlews/room/filter: canonical DNF v1")

func filterID(index string, c *canonical) string {
	mac := hmac.New(sha256.New, idSeed)
	mac.Write([]byte(strconv.Itoa(len(index))))
	mac.Write([]byte{':'})
	mac.Write([]byte(index))
	mac.Write([]byte(c.text))
	return hex.EncodeToString(mac.Sum(nil))
}
