package filter

import (
	"math"
	"slices"
	"unsafe"

	"github.com/tidwall/gjson"
)

// index is the matcher of one Koncorde index: Koncorde's engine (lib/engine/index.js,
// lib/engine/storeOperands.ts; described in Koncorde's lib/README.md),
// conditions and subfilters shared across filters, a per-field index per operator.
// All fields are guarded by Engine.mu; the range snapshots are rebuilt lazily under
// fieldIdx.rmu by readers.
type index struct {
	name    string                  // Koncorde index name
	filters map[string]*filterEntry // by filter id
	subs    map[string]*subEntry    // by term key
	conds   map[string]*condEntry   // by atom key

	fieldSlot map[string]int32 // flattened field path -> slot
	few       []namedSlot      // the same, when there are at most maxFew fields
	fields    []*fieldIdx      // by slot; nil when free
	freeField []int32
	prefixes  map[string]int32 // every p such that some field starts with p+"."; refcount

	allNeg []*subEntry // subfilters without a positive condition (including everything)

	subBySlot []*subEntry
	freeSub   []int32
	condSlots slotAlloc
	fltSlots  slotAlloc
}

// maxFew is the number of fields up to which a linear scan beats the map.
const maxFew = 8

type namedSlot struct {
	name string
	slot int32
}

// slotOf returns the slot of a registered field.
func (x *index) slotOf(name string) (int32, bool) {
	if len(x.fieldSlot) <= maxFew {
		for i := range x.few {
			if x.few[i].name == name {
				return x.few[i].slot, true
			}
		}
		return 0, false
	}
	slot, ok := x.fieldSlot[name]
	return slot, ok
}

func (x *index) refreshFew() {
	x.few = x.few[:0]
	if len(x.fieldSlot) <= maxFew {
		for name, slot := range x.fieldSlot {
			x.few = append(x.few, namedSlot{name, slot})
		}
	}
}

type slotAlloc struct {
	n    int32
	free []int32
}

func (s *slotAlloc) get() int32 {
	if k := len(s.free); k > 0 {
		v := s.free[k-1]
		s.free = s.free[:k-1]
		return v
	}
	s.n++
	return s.n - 1
}

func (s *slotAlloc) put(v int32) { s.free = append(s.free, v) }

type filterEntry struct {
	id   string
	slot int32
	subs []*subEntry
}

type subEntry struct {
	key       string
	slot      int32
	npos      int32
	lits      []condLit
	filters   []*filterEntry
	allNegIdx int // position in index.allNeg, -1 if npos > 0
}

type condLit struct {
	c   *condEntry
	neg bool
}

type condEntry struct {
	a      *atom
	slot   int32       // -1 once removed (dead); only range snapshots may still reference it then
	field0 [1]int32    // fields' storage for the conditions reading one field (all but match)
	pos    []*subEntry // subfilters holding the condition and other literals
	solo   []*subEntry // subfilters made of the condition alone
	neg    []*subEntry // subfilters holding its negation
	fields []int32     // field slots the condition reads
}

// dead reports whether c was removed; a slot field rather than a flag keeps condEntry in
// a smaller size class.
func (c *condEntry) dead() bool { return c.slot < 0 }

// fieldIdx indexes the conditions that read one flattened field.
type fieldIdx struct {
	name string
	refs int

	eqStr  map[string]*condEntry
	eqNum  map[float64]*condEntry
	eqBool [2]*condEntry
	eqNull *condEntry

	exists *condEntry
	exStr  map[string]*condEntry
	exNum  map[float64]*condEntry
	exBool [2]*condEntry
	exNull *condEntry
	nExArr int

	ranges   []*condEntry // all range conditions
	rsnap    *rangeSnap   // segment tree over some of them, rebuilt by writers
	rpending []*condEntry // added since rsnap was built, tested one by one
	rdead    int          // conditions of rsnap removed since it was built

	regexps  []*condEntry            // all regexp conditions
	reOther  []*condEntry            // those without an anchored literal prefix
	rePrefix map[string][]*condEntry // the others, by prefix
	reLens   []int                   // distinct prefix lengths, in bytes

	geos    int
	geoGrid map[uint64][]geoRef // by geoCell
	geoLvl  [len(geoLevels)]int // grid entries per level
	geoBig  []*condEntry

	matches []*condEntry
	selects []*condEntry
}

func newIndex(name string) *index {
	return &index{
		name:      name,
		filters:   map[string]*filterEntry{},
		subs:      map[string]*subEntry{},
		conds:     map[string]*condEntry{},
		fieldSlot: map[string]int32{},
		prefixes:  map[string]int32{},
	}
}

// ---- store / remove ----

func termKey(c *canonical, t []lit) string {
	if len(t) == 1 && t[0]&1 == 0 {
		// A term of one positive condition is keyed by the condition's key, without a
		// copy: atom keys start with a letter or with a length other than 1 ("2:eq..."),
		// so they never collide with the "1:+"/"1:-" keys built below.
		return c.atoms[t[0]/2].key
	}
	var kb keyBuilder
	for _, l := range t {
		if l&1 == 1 {
			kb.str("-")
		} else {
			kb.str("+")
		}
		kb.str(c.atoms[l/2].key)
	}
	return kb.sb.String()
}

func (x *index) store(n *Normalized) {
	if x.filters[n.ID] != nil {
		return
	}
	f := &filterEntry{id: n.ID, slot: x.fltSlots.get()}
	x.filters[n.ID] = f
	c := n.c
	for _, t := range c.terms {
		k := termKey(c, t)
		s := x.subs[k]
		if s == nil {
			s = x.addSub(k, c, t)
		}
		if !slices.Contains(s.filters, f) {
			s.filters = append(s.filters, f)
			f.subs = append(f.subs, s)
		}
	}
}

func (x *index) addSub(k string, c *canonical, t []lit) *subEntry {
	s := &subEntry{key: k, allNegIdx: -1}
	if k := len(x.freeSub); k > 0 {
		s.slot = x.freeSub[k-1]
		x.freeSub = x.freeSub[:k-1]
		x.subBySlot[s.slot] = s
	} else {
		s.slot = int32(len(x.subBySlot))
		x.subBySlot = append(x.subBySlot, s)
	}
	x.subs[k] = s
	for _, l := range t {
		a := c.atoms[l/2]
		ce := x.conds[a.key]
		if ce == nil {
			ce = x.addCond(a)
		}
		neg := l&1 == 1
		switch {
		case neg:
			ce.neg = append(ce.neg, s)
		case len(t) == 1:
			ce.solo = append(ce.solo, s)
			s.npos++
		default:
			ce.pos = append(ce.pos, s)
			s.npos++
		}
		s.lits = append(s.lits, condLit{ce, neg})
	}
	if s.npos == 0 {
		s.allNegIdx = len(x.allNeg)
		x.allNeg = append(x.allNeg, s)
	}
	return s
}

func (x *index) removeSub(s *subEntry) {
	delete(x.subs, s.key)
	x.subBySlot[s.slot] = nil
	x.freeSub = append(x.freeSub, s.slot)
	if s.allNegIdx >= 0 {
		last := x.allNeg[len(x.allNeg)-1]
		x.allNeg[s.allNegIdx] = last
		last.allNegIdx = s.allNegIdx
		x.allNeg = x.allNeg[:len(x.allNeg)-1]
	}
	for _, l := range s.lits {
		ce := l.c
		switch {
		case l.neg:
			ce.neg = removePtr(ce.neg, s)
		case len(s.lits) == 1:
			ce.solo = removePtr(ce.solo, s)
		default:
			ce.pos = removePtr(ce.pos, s)
		}
		if len(ce.pos) == 0 && len(ce.neg) == 0 && len(ce.solo) == 0 {
			x.removeCond(ce)
		}
	}
}

func removePtr[T comparable](list []T, v T) []T {
	for i, e := range list {
		if e == v {
			last := len(list) - 1
			list[i] = list[last]
			var zero T
			list[last] = zero
			return list[:last]
		}
	}
	return list
}

func (x *index) remove(id string) {
	f := x.filters[id]
	if f == nil {
		return
	}
	delete(x.filters, id)
	x.fltSlots.put(f.slot)
	for _, s := range f.subs {
		s.filters = removePtr(s.filters, f)
		if len(s.filters) == 0 {
			x.removeSub(s)
		}
	}
}

func (x *index) useField(name string) int32 {
	if slot, ok := x.fieldSlot[name]; ok {
		x.fields[slot].refs++
		return slot
	}
	fi := &fieldIdx{name: name, refs: 1}
	var slot int32
	if k := len(x.freeField); k > 0 {
		slot = x.freeField[k-1]
		x.freeField = x.freeField[:k-1]
		x.fields[slot] = fi
	} else {
		slot = int32(len(x.fields))
		x.fields = append(x.fields, fi)
	}
	x.fieldSlot[name] = slot
	x.refreshFew()
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			x.prefixes[name[:i]]++
		}
	}
	return slot
}

func (x *index) releaseField(slot int32) {
	fi := x.fields[slot]
	fi.refs--
	if fi.refs > 0 {
		return
	}
	name := fi.name
	delete(x.fieldSlot, name)
	x.refreshFew()
	x.fields[slot] = nil
	x.freeField = append(x.freeField, slot)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			p := name[:i]
			if x.prefixes[p]--; x.prefixes[p] <= 0 {
				delete(x.prefixes, p)
			}
		}
	}
}

func (x *index) addCond(a *atom) *condEntry {
	ce := &condEntry{a: a, slot: x.condSlots.get()}
	x.conds[a.key] = ce
	fields := []string{a.field}
	if a.kind == akMatch {
		fields = a.match.keys
	}
	if a.kind == akNothing {
		fields = nil
	}
	if len(fields) == 1 {
		ce.field0[0] = x.useField(fields[0])
		ce.fields = ce.field0[:]
	} else {
		for _, f := range fields {
			ce.fields = append(ce.fields, x.useField(f))
		}
	}
	if len(ce.fields) == 0 {
		return ce
	}
	fi := x.fields[ce.fields[0]]
	switch a.kind {
	case akEquals:
		fi.putScalar(&fi.eqStr, &fi.eqNum, &fi.eqBool, &fi.eqNull, a.val, ce)
	case akExists:
		if !a.array {
			fi.exists = ce
		} else if a.val.kind <= jsString && a.val.kind >= jsNull {
			fi.putScalar(&fi.exStr, &fi.exNum, &fi.exBool, &fi.exNull, a.val, ce)
			fi.nExArr++
		}
	case akRange:
		fi.ranges = append(fi.ranges, ce)
		fi.rpending = append(fi.rpending, ce)
		fi.maybeRebuildRanges()
	case akRegexp:
		fi.regexps = append(fi.regexps, ce)
		if p := a.rePrefix; p != "" {
			if fi.rePrefix == nil {
				fi.rePrefix = map[string][]*condEntry{}
			}
			fi.rePrefix[p] = append(fi.rePrefix[p], ce)
			if !slices.Contains(fi.reLens, len(p)) {
				fi.reLens = append(fi.reLens, len(p))
			}
		} else {
			fi.reOther = append(fi.reOther, ce)
		}
	case akGeo:
		fi.geoAdd(ce)
	case akMatch:
		fi.matches = append(fi.matches, ce)
	case akSelect:
		fi.selects = append(fi.selects, ce)
	}
	return ce
}

func (x *index) removeCond(ce *condEntry) {
	a := ce.a
	delete(x.conds, a.key)
	x.condSlots.put(ce.slot)
	ce.slot = -1
	if len(ce.fields) > 0 {
		fi := x.fields[ce.fields[0]]
		switch a.kind {
		case akEquals:
			fi.delScalar(fi.eqStr, fi.eqNum, &fi.eqBool, &fi.eqNull, a.val)
		case akExists:
			if !a.array {
				fi.exists = nil
			} else if a.val.kind <= jsString && a.val.kind >= jsNull {
				fi.delScalar(fi.exStr, fi.exNum, &fi.exBool, &fi.exNull, a.val)
				fi.nExArr--
			}
		case akRange:
			fi.ranges = removePtr(fi.ranges, ce)
			if slices.Contains(fi.rpending, ce) {
				fi.rpending = removePtr(fi.rpending, ce)
			} else {
				fi.rdead++
			}
			fi.maybeRebuildRanges()
		case akRegexp:
			fi.regexps = removePtr(fi.regexps, ce)
			if p := a.rePrefix; p != "" {
				if l := removePtr(fi.rePrefix[p], ce); len(l) > 0 {
					fi.rePrefix[p] = l
				} else {
					delete(fi.rePrefix, p)
					fi.reLens = fi.reLens[:0]
					for q := range fi.rePrefix {
						if !slices.Contains(fi.reLens, len(q)) {
							fi.reLens = append(fi.reLens, len(q))
						}
					}
				}
			} else {
				fi.reOther = removePtr(fi.reOther, ce)
			}
		case akGeo:
			fi.geoDel(ce)
		case akMatch:
			fi.matches = removePtr(fi.matches, ce)
		case akSelect:
			fi.selects = removePtr(fi.selects, ce)
		}
	}
	for _, s := range ce.fields {
		x.releaseField(s)
	}
}

func (fi *fieldIdx) putScalar(ms *map[string]*condEntry, mn *map[float64]*condEntry, mb *[2]*condEntry, mnull **condEntry, v scalar, ce *condEntry) {
	switch v.kind {
	case jsString:
		if *ms == nil {
			*ms = map[string]*condEntry{}
		}
		(*ms)[v.s] = ce
	case jsNumber:
		if *mn == nil {
			*mn = map[float64]*condEntry{}
		}
		(*mn)[v.n] = ce
	case jsBool:
		if v.b {
			mb[1] = ce
		} else {
			mb[0] = ce
		}
	case jsNull:
		*mnull = ce
	}
}

func (fi *fieldIdx) delScalar(ms map[string]*condEntry, mn map[float64]*condEntry, mb *[2]*condEntry, mnull **condEntry, v scalar) {
	switch v.kind {
	case jsString:
		delete(ms, v.s)
	case jsNumber:
		delete(mn, v.n)
	case jsBool:
		if v.b {
			mb[1] = nil
		} else {
			mb[0] = nil
		}
	case jsNull:
		*mnull = nil
	}
}

// ---- geo grid: cells of 1, 4, 16 and 64 degrees; a shape goes to the finest level
// where its envelope spans at most maxGeoCells cells, or to a scanned list ----

const maxGeoCells = 64

// geoRef is a grid entry: the shape's envelope inline, so that most candidates are
// rejected without touching the condition.
type geoRef struct {
	minLat, maxLat, minLon, maxLon float64
	c                              *condEntry
}

var geoLevels = [...]float64{1, 4, 16, 64}

func geoCell(level int, lat, lon float64) uint64 {
	size := geoLevels[level]
	la := int64(math.Floor(lat / size))
	lo := int64(math.Floor(lon/size)) % int64(360/size)
	if lo < 0 {
		lo += int64(360 / size)
	}
	return uint64(level)<<60 | uint64(la+1<<20)<<32 | uint64(lo)
}

// cells returns the level and cells of the shape's envelope, ok false when the shape
// must be scanned (whole longitude range, non-finite or huge envelope).
// gridCells returns the grid level and cells of the shape.
func (g *geoShape) gridCells() (int, []uint64, bool) {
	if g.allLon || math.IsNaN(g.minLat+g.maxLat+g.minLon+g.maxLon) || math.IsInf(g.minLat+g.maxLat+g.minLon+g.maxLon, 0) {
		return 0, nil, false
	}
	for level, size := range geoLevels {
		la0, la1 := math.Floor(g.minLat/size), math.Floor(g.maxLat/size)
		lo0, lo1 := math.Floor(g.minLon/size), math.Floor(g.maxLon/size)
		if (la1-la0+1)*(lo1-lo0+1) > maxGeoCells {
			continue
		}
		var out []uint64
		for la := la0; la <= la1; la++ {
			for lo := lo0; lo <= lo1; lo++ {
				out = append(out, geoCell(level, la*size, lo*size))
			}
		}
		return level, out, true
	}
	return 0, nil, false
}

func (fi *fieldIdx) geoAdd(ce *condEntry) {
	fi.geos++
	level, cells, ok := ce.a.geo.gridCells()
	if !ok {
		fi.geoBig = append(fi.geoBig, ce)
		return
	}
	fi.geoLvl[level]++
	if fi.geoGrid == nil {
		fi.geoGrid = map[uint64][]geoRef{}
	}
	g := ce.a.geo
	ref := geoRef{minLat: g.minLat, maxLat: g.maxLat, minLon: g.minLon, maxLon: g.maxLon, c: ce}
	for _, c := range cells {
		fi.geoGrid[c] = append(fi.geoGrid[c], ref)
	}
}

func (fi *fieldIdx) geoDel(ce *condEntry) {
	fi.geos--
	level, cells, ok := ce.a.geo.gridCells()
	if !ok {
		fi.geoBig = removePtr(fi.geoBig, ce)
		return
	}
	fi.geoLvl[level]--
	for _, c := range cells {
		l := fi.geoGrid[c]
		for i := range l {
			if l[i].c == ce {
				l[i] = l[len(l)-1]
				l = l[:len(l)-1]
				break
			}
		}
		if len(l) == 0 {
			delete(fi.geoGrid, c)
		} else {
			fi.geoGrid[c] = l
		}
	}
}

// ---- range: a stabbing segment tree over the elementary slots of the bounds ----

// rangeSnap indexes the range conditions of one field. The distinct bounds xs cut the
// number line into slots: 2i+1 is the point xs[i], 2i the open gap below it. Each
// interval is stored in the O(log n) canonical nodes of a segment tree over the slots;
// the conditions holding for v are those stored on the path from v's slot to the root
// (O(log n + matches), exact, no per-interval comparison).
type rangeSnap struct {
	xs    []float64
	size  int          // leaves of the segment tree (power of two)
	off   []int32      // node -> start in conds (CSR), len 2*size+1
	conds []*condEntry // conditions per node
	n     int          // conditions indexed
}

func buildRangeSnap(conds []*condEntry) *rangeSnap {
	xs := make([]float64, 0, 2*len(conds))
	for _, c := range conds {
		xs = append(xs, c.a.lo, c.a.hi)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	slots := 2*len(xs) + 1
	size := 1
	for size < slots {
		size <<= 1
	}
	r := &rangeSnap{xs: xs, size: size, off: make([]int32, 2*size+1), n: len(conds)}
	type span struct{ l, h int }
	spans := make([]span, len(conds))
	for i, c := range conds {
		li, _ := slices.BinarySearch(xs, c.a.lo)
		hi, _ := slices.BinarySearch(xs, c.a.hi)
		l, h := 2*li+1, 2*hi+1
		if !c.a.loIncl {
			l++
		}
		if !c.a.hiIncl {
			h--
		}
		spans[i] = span{l, h}
	}
	visit := func(fn func(node int, c *condEntry)) {
		for i, c := range conds {
			l, h := spans[i].l+size, spans[i].h+size+1
			for l < h {
				if l&1 == 1 {
					fn(l, c)
					l++
				}
				if h&1 == 1 {
					h--
					fn(h, c)
				}
				l >>= 1
				h >>= 1
			}
		}
	}
	visit(func(node int, _ *condEntry) { r.off[node+1]++ })
	for i := 1; i < len(r.off); i++ {
		r.off[i] += r.off[i-1]
	}
	r.conds = make([]*condEntry, r.off[len(r.off)-1])
	fill := slices.Clone(r.off)
	visit(func(node int, c *condEntry) {
		r.conds[fill[node]] = c
		fill[node]++
	})
	return r
}

// maybeRebuildRanges rebuilds the segment tree when the conditions tested one by one
// or the removed ones it still holds exceed a fraction of it, so that a store or
// remove costs O(log n) amortized. fi's index write lock must be held.
func (fi *fieldIdx) maybeRebuildRanges() {
	n := 0
	if fi.rsnap != nil {
		n = fi.rsnap.n
	}
	if len(fi.rpending) <= 16+n/16 && fi.rdead <= 16+n/4 {
		return
	}
	fi.rsnap = buildRangeSnap(fi.ranges)
	fi.rpending = fi.rpending[:0]
	fi.rdead = 0
}

// queryRanges fires the range conditions of fi that contain v.
func (fi *fieldIdx) queryRanges(sc *scratch, v float64) {
	if fi.rsnap != nil {
		fi.rsnap.query(sc, v)
	}
	for _, c := range fi.rpending {
		if c.a.inRange(v) {
			sc.fire(c)
		}
	}
}

// query fires every range condition containing v.
func (r *rangeSnap) query(sc *scratch, v float64) {
	if v != v {
		return
	}
	i, found := slices.BinarySearch(r.xs, v)
	slot := 2 * i
	if found {
		slot++
	}
	for p := slot + r.size; p >= 1; p >>= 1 {
		for _, c := range r.conds[r.off[p]:r.off[p+1]] {
			if !c.dead() {
				sc.fire(c)
			}
		}
	}
}

// ---- test ----

// scratch is the working memory of one Test call; stamps avoid clearing it.
type scratch struct {
	gen uint32

	vals    []gjson.Result // by field slot
	valGen  []uint32
	present []int32

	condGen   []uint32
	subGen    []uint32
	subHits   []int32
	subKilled []bool
	touched   []int32
	direct    []*subEntry // single-condition subfilters whose condition fired
	fltGen    []uint32

	path     []byte
	sawIndex bool // the walk met an array-index key
}

func growU32(s []uint32, n int) []uint32 {
	if len(s) >= n {
		return s
	}
	return append(s, make([]uint32, n-len(s))...)
}

func (sc *scratch) reset(x *index) {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.valGen)
		clear(sc.condGen)
		clear(sc.subGen)
		clear(sc.fltGen)
		sc.gen = 1
	}
	if n := len(x.fields); len(sc.vals) < n {
		sc.vals = append(sc.vals, make([]gjson.Result, n-len(sc.vals))...)
		sc.valGen = growU32(sc.valGen, n)
	}
	sc.condGen = growU32(sc.condGen, int(x.condSlots.n))
	if n := len(x.subBySlot); len(sc.subGen) < n {
		sc.subGen = growU32(sc.subGen, n)
		sc.subHits = append(sc.subHits, make([]int32, n-len(sc.subHits))...)
		sc.subKilled = append(sc.subKilled, make([]bool, n-len(sc.subKilled))...)
	}
	sc.fltGen = growU32(sc.fltGen, int(x.fltSlots.n))
	sc.present = sc.present[:0]
	sc.touched = sc.touched[:0]
	clear(sc.direct) // drop references to subfilters, which may be removed later
	sc.direct = sc.direct[:0]
}

func (sc *scratch) touch(s *subEntry) int32 {
	i := s.slot
	if sc.subGen[i] != sc.gen {
		sc.subGen[i] = sc.gen
		sc.subHits[i] = 0
		sc.subKilled[i] = false
		sc.touched = append(sc.touched, i)
	}
	return i
}

// fire records that the condition holds for the document.
func (sc *scratch) fire(c *condEntry) {
	if sc.condGen[c.slot] == sc.gen {
		return
	}
	sc.condGen[c.slot] = sc.gen
	sc.direct = append(sc.direct, c.solo...)
	for _, s := range c.pos {
		sc.subHits[sc.touch(s)]++
	}
	for _, s := range c.neg {
		sc.subKilled[sc.touch(s)] = true
	}
}

// killNeg records that the negation of the condition is false although the condition
// itself is false too (not regexp on coerced values, not geo on unparseable points).
func (sc *scratch) killNeg(c *condEntry) {
	for _, s := range c.neg {
		sc.subKilled[sc.touch(s)] = true
	}
}

func (sc *scratch) value(slot int32) (gjson.Result, bool) {
	if sc.valGen[slot] != sc.gen {
		return gjson.Result{}, false
	}
	return sc.vals[slot], true
}

func (x *index) setValue(sc *scratch, slot int32, v gjson.Result) {
	if sc.valGen[slot] != sc.gen {
		sc.valGen[slot] = sc.gen
		sc.present = append(sc.present, slot)
	}
	sc.vals[slot] = v
}

func (x *index) test(sc *scratch, doc []byte, docID string, dst []string) []string {
	sc.reset(x)
	if len(x.fieldSlot) > 0 {
		s := unsafe.String(unsafe.SliceData(doc), len(doc))
		if i := skipWS(s, 0); i < len(s) && s[i] == '{' {
			sc.path = sc.path[:0]
			sc.sawIndex = false
			x.walkObject(sc, s, i, docID != "", false, 0)
			if sc.sawIndex {
				// array-index keys come first in JavaScript's key order, which decides
				// colliding paths: walk again in that order (rare, allocates)
				sc.reset(x)
				sc.path = sc.path[:0]
				x.walkObject(sc, s, i, docID != "", true, 0)
			}
		}
	}
	if docID != "" {
		if slot, ok := x.fieldSlot["_id"]; ok {
			x.setValue(sc, slot, gjson.Result{Type: gjson.String, Str: docID, Raw: ""})
		}
	}
	for _, slot := range sc.present {
		x.evalField(sc, x.fields[slot], sc.vals[slot])
	}
	for _, s := range sc.direct {
		dst = sc.emit(s, dst)
	}
	for _, i := range sc.touched {
		s := x.subBySlot[i]
		if !sc.subKilled[i] && s.npos > 0 && sc.subHits[i] == s.npos {
			dst = sc.emit(s, dst)
		}
	}
	for _, s := range x.allNeg {
		if sc.subGen[s.slot] == sc.gen && sc.subKilled[s.slot] {
			continue
		}
		dst = sc.emit(s, dst)
	}
	return dst
}

func (sc *scratch) emit(s *subEntry, dst []string) []string {
	for _, f := range s.filters {
		if len(f.subs) == 1 {
			// its only subfilter is emitted at most once per test: no stamp needed
			dst = append(dst, f.id)
		} else if sc.fltGen[f.slot] != sc.gen {
			sc.fltGen[f.slot] = sc.gen
			dst = append(dst, f.id)
		}
	}
	return dst
}

func scalarCond(v gjson.Result, ms map[string]*condEntry, mn map[float64]*condEntry, mb *[2]*condEntry, mnull *condEntry) *condEntry {
	switch v.Type {
	case gjson.String:
		return ms[v.Str]
	case gjson.Number:
		return mn[v.Num]
	case gjson.True:
		return mb[1]
	case gjson.False:
		return mb[0]
	case gjson.Null:
		return mnull
	}
	return nil
}

func (x *index) evalField(sc *scratch, fi *fieldIdx, v gjson.Result) {
	if c := scalarCond(v, fi.eqStr, fi.eqNum, &fi.eqBool, fi.eqNull); c != nil {
		sc.fire(c)
	}
	if fi.exists != nil {
		sc.fire(fi.exists)
	}
	isArr := v.IsArray()
	if fi.nExArr > 0 && isArr {
		v.ForEach(func(_, e gjson.Result) bool {
			if c := scalarCond(e, fi.exStr, fi.exNum, &fi.exBool, fi.exNull); c != nil {
				sc.fire(c)
			}
			return true
		})
	}
	if len(fi.ranges) > 0 && v.Type == gjson.Number {
		fi.queryRanges(sc, v.Num)
	}
	if len(fi.regexps) > 0 {
		if v.Type == gjson.String {
			str := v.Str
			for _, l := range fi.reLens {
				if len(str) >= l {
					for _, c := range fi.rePrefix[str[:l]] {
						if c.a.re.MatchString(str) {
							sc.fire(c)
						}
					}
				}
			}
			for _, c := range fi.reOther {
				if c.a.re.MatchString(str) {
					sc.fire(c)
				}
			}
		} else {
			var s string
			coerced := false
			for _, c := range fi.regexps {
				if len(c.neg) == 0 {
					continue
				}
				if !coerced {
					s, coerced = docToString(v), true
				}
				if c.a.re.MatchString(s) {
					sc.killNeg(c)
				}
			}
		}
	}
	if fi.geos > 0 && docTruthy(v) {
		lat, lon, ok := pointFromDoc(v)
		if !ok {
			for _, c := range fi.geoBig {
				sc.killNeg(c)
			}
			for _, l := range fi.geoGrid {
				for _, r := range l {
					sc.killNeg(r.c)
				}
			}
		} else {
			if fi.geoGrid != nil {
				for level := range geoLevels {
					if fi.geoLvl[level] == 0 {
						continue
					}
					l := fi.geoGrid[geoCell(level, lat, lon)]
					for i := range l {
						r := &l[i]
						if lat >= r.minLat && lat <= r.maxLat && lonIn(lon, r.minLon, r.maxLon, false) && r.c.a.geo.contains(lat, lon) {
							sc.fire(r.c)
						}
					}
				}
			}
			for _, c := range fi.geoBig {
				if c.a.geo.contains(lat, lon) {
					sc.fire(c)
				}
			}
		}
	}
	for _, c := range fi.matches {
		if x.matchCond(sc, c) {
			sc.fire(c)
		}
	}
	if len(fi.selects) > 0 && isArr {
		for _, c := range fi.selects {
			if elem, ok := arrayAt(v, c.a.selIndex); ok && evalSelect(c.a.selQuery, elem) {
				sc.fire(c)
			}
		}
	}
}

func (x *index) matchCond(sc *scratch, c *condEntry) bool {
	m := c.a.match
	for i, slot := range c.fields {
		v, ok := sc.value(slot)
		if !matchAny(v, ok, m.vals[i]) {
			return false
		}
	}
	return true
}
