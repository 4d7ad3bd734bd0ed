package filter

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// This file is the direct evaluator: one document against one canonical filter, with
// the leaf semantics of Koncorde's matchers (lib/engine/matcher/*). The indexed
// matcher (index.go) must agree with it; select queries use it for the array element.

// docToString is JavaScript's String(value) for a document value. Arrays nested more
// than 256 deep render as "" (where JavaScript would eventually overflow its stack).
func docToString(r gjson.Result) string { return docToStringDepth(r, 0) }

func docToStringDepth(r gjson.Result, depth int) string {
	switch r.Type {
	case gjson.Null:
		return "null"
	case gjson.True:
		return "true"
	case gjson.False:
		return "false"
	case gjson.Number:
		return jsNumberString(r.Num)
	case gjson.String:
		return r.Str
	}
	if r.IsArray() {
		if depth > 256 {
			return ""
		}
		var sb strings.Builder
		i := 0
		r.ForEach(func(_, e gjson.Result) bool {
			if i > 0 {
				sb.WriteByte(',')
			}
			i++
			if e.Type != gjson.Null {
				sb.WriteString(docToStringDepth(e, depth+1))
			}
			return true
		})
		return sb.String()
	}
	return "[object Object]"
}

// arrayAt returns arr[i], counting from the end when i < 0 (select).
func arrayAt(arr gjson.Result, i int) (gjson.Result, bool) {
	n := 0
	if i < 0 {
		arr.ForEach(func(_, _ gjson.Result) bool { n++; return true })
		i += n
		if i < 0 {
			return gjson.Result{}, false
		}
	}
	var out gjson.Result
	found := false
	k := 0
	arr.ForEach(func(_, e gjson.Result) bool {
		if k == i {
			out, found = e, true
			return false
		}
		k++
		return true
	})
	return out, found
}

// objectGet returns the last value of key in a document object (JSON.parse keeps the
// last of duplicated keys).
func objectGet(obj gjson.Result, key string) (gjson.Result, bool) {
	var out gjson.Result
	found := false
	obj.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			out, found = v, true
		}
		return true
	})
	return out, found
}

// forEachJS calls fn for each member of obj in JavaScript's own-key order: array-index
// keys first, ascending, then the others in JSON order.
func forEachJS(obj gjson.Result, fn func(key string, v gjson.Result)) {
	hasIndex := false
	obj.ForEach(func(k, _ gjson.Result) bool {
		if _, ok := isArrayIndex(k.Str); ok {
			hasIndex = true
			return false
		}
		return true
	})
	if !hasIndex {
		obj.ForEach(func(k, v gjson.Result) bool {
			fn(k.Str, v)
			return true
		})
		return
	}
	type member struct {
		key   string
		v     gjson.Result
		idx   uint64
		isIdx bool
	}
	var ms []member
	obj.ForEach(func(k, v gjson.Result) bool {
		n, ok := isArrayIndex(k.Str)
		ms = append(ms, member{k.Str, v, n, ok})
		return true
	})
	slices.SortStableFunc(ms, func(a, b member) int {
		return jsKeyOrder(a.idx, a.isIdx, b.idx, b.isIdx)
	})
	for _, m := range ms {
		fn(m.key, m.v)
	}
}

// flatLookup returns the value of the flattened key path in obj (lib/util/Flatten.ts):
// every way of splitting path at dots into nested keys is a candidate, and the last
// one written by a depth-first walk in JavaScript key order wins.
func flatLookup(obj gjson.Result, path string) (gjson.Result, bool) {
	return flatLookupSkip(obj, path, "")
}

// flatLookupSkip is flatLookup ignoring the member skip of obj ("" skips nothing).
func flatLookupSkip(obj gjson.Result, path, skip string) (gjson.Result, bool) {
	var out gjson.Result
	found := false
	forEachJS(obj, func(key string, v gjson.Result) {
		if skip != "" && key == skip {
			return
		}
		if key == path {
			out, found = v, true
		}
		if v.IsObject() && len(path) > len(key) && path[len(key)] == '.' && path[:len(key)] == key {
			if r, ok := flatLookup(v, path[len(key)+1:]); ok {
				out, found = r, true
			}
		}
	})
	return out, found
}

// lookupFunc reads a flattened field of the tested document.
type lookupFunc func(field string) (gjson.Result, bool)

// evalSelect tests elem, as the document {value: elem}, against a select query.
func evalSelect(q *canonical, elem gjson.Result) bool {
	return evalCanonical(q, func(field string) (gjson.Result, bool) {
		if field == "value" {
			return elem, true
		}
		if strings.HasPrefix(field, "value.") && elem.IsObject() {
			return flatLookup(elem, field[len("value."):])
		}
		return gjson.Result{}, false
	})
}

// evalCanonical reports whether some subfilter of c has all its literals true.
func evalCanonical(c *canonical, get lookupFunc) bool {
	for _, t := range c.terms {
		ok := true
		for _, l := range t {
			pos, negTrue := evalAtom(c.atoms[l/2], get)
			if l&1 == 1 {
				ok = negTrue
			} else {
				ok = pos
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// evalAtom returns the truth of the condition and of its negation. They are
// complements except for regexp (the negation tests String(value), Q6) and geo (an
// unparseable point makes both false, Q9).
func evalAtom(a *atom, get lookupFunc) (pos, negTrue bool) {
	if a.kind == akNothing {
		return false, true
	}
	if a.kind == akMatch {
		for i, k := range a.match.keys {
			v, ok := get(k)
			if !matchAny(v, ok, a.match.vals[i]) {
				return false, true
			}
		}
		return true, false
	}
	v, ok := get(a.field)
	if !ok {
		return false, true
	}
	switch a.kind {
	case akEquals:
		pos = sameScalar(v, a.val)
	case akExists:
		if !a.array {
			pos = true
		} else if v.IsArray() {
			v.ForEach(func(_, e gjson.Result) bool {
				pos = sameScalar(e, a.val)
				return !pos
			})
		}
	case akRange:
		pos = v.Type == gjson.Number && a.inRange(v.Num)
	case akRegexp:
		if v.Type == gjson.String {
			pos = a.re.MatchString(v.Str)
			return pos, !pos
		}
		return false, !a.re.MatchString(docToString(v))
	case akGeo:
		if !docTruthy(v) {
			return false, true
		}
		lat, lon, ok := pointFromDoc(v)
		if !ok {
			return false, false
		}
		pos = a.geo.contains(lat, lon)
	case akSelect:
		if v.IsArray() {
			if elem, ok := arrayAt(v, a.selIndex); ok {
				pos = evalSelect(a.selQuery, elem)
			}
		}
	}
	return pos, !pos
}

// sameScalar is SameValueZero between a document value and a filter scalar.
func sameScalar(v gjson.Result, s scalar) bool {
	switch v.Type {
	case gjson.String:
		return s.kind == jsString && s.s == v.Str
	case gjson.Number:
		return s.kind == jsNumber && s.n == v.Num
	case gjson.True:
		return s.kind == jsBool && s.b
	case gjson.False:
		return s.kind == jsBool && !s.b
	case gjson.Null:
		return s.kind == jsNull
	}
	return false
}

// matchAny is Koncorde's matchAny (lib/util/ObjectMatcher.ts): same typeof,
// objects match as subsets, arrays as greedy first-fit multiset subsets (Q15,
// replicated), scalars with ===. has is false for a missing document value.
func matchAny(v gjson.Result, has bool, f *jsv) bool {
	if !has {
		return false
	}
	docObj := v.Type == gjson.Null || v.Type == gjson.JSON
	fObj := f.kind == jsNull || f.kind == jsArray || f.kind == jsObject
	if docObj != fObj {
		return false
	}
	if docObj {
		if v.Type == gjson.Null || f.kind == jsNull {
			return v.Type == gjson.Null && f.kind == jsNull
		}
		if v.IsArray() != (f.kind == jsArray) {
			return false
		}
		if f.kind == jsArray {
			var elems []gjson.Result
			v.ForEach(func(_, e gjson.Result) bool { elems = append(elems, e); return true })
			if len(elems) < len(f.arr) {
				return false
			}
			for _, want := range f.arr {
				found := false
				for j, e := range elems {
					if matchAny(e, true, want) {
						elems = append(elems[:j], elems[j+1:]...)
						found = true
						break
					}
				}
				if !found {
					return false
				}
			}
			return true
		}
		for i, k := range f.keys {
			dv, ok := objectGet(v, k)
			if !matchAny(dv, ok, f.vals[i]) {
				return false
			}
		}
		return true
	}
	switch v.Type {
	case gjson.String:
		return f.kind == jsString && f.s == v.Str
	case gjson.Number:
		return f.kind == jsNumber && f.n == v.Num
	case gjson.True:
		return f.kind == jsBool && f.b
	case gjson.False:
		return f.kind == jsBool && !f.b
	}
	return false
}

// Match reports whether doc matches n, evaluating n directly (no index). docID
// overrides doc's `_id` as in Engine.Test. It is slower than Engine.Test and meant for
// one-off checks and tests.
func Match(n *Normalized, doc []byte, docID string) bool {
	root := gjson.ParseBytes(doc)
	return evalCanonical(n.c, func(field string) (gjson.Result, bool) {
		if docID != "" {
			if field == "_id" {
				return gjson.Result{Type: gjson.String, Str: docID}, true
			}
			if field == "_id" || strings.HasPrefix(field, "_id.") {
				// Kuzzle replaces the whole _id, so nothing below it exists, but a
				// literal dotted key "_id.x" still does.
				return flatLookupSkipID(root, field)
			}
		}
		if !root.IsObject() {
			return gjson.Result{}, false
		}
		return flatLookup(root, field)
	})
}

func flatLookupSkipID(root gjson.Result, field string) (gjson.Result, bool) {
	return flatLookupSkip(root, field, "_id")
}

// jsKeyOrder orders object members as JavaScript enumerates them: array-index keys
// (idx, when isIdx) first in ascending order, then the other keys in insertion order
// (the sort using it is stable).
func jsKeyOrder(aIdx uint64, aIsIdx bool, bIdx uint64, bIsIdx bool) int {
	switch {
	case aIsIdx && bIsIdx:
		return cmp.Compare(aIdx, bIdx)
	case aIsIdx:
		return -1
	case bIsIdx:
		return 1
	}
	return 0
}
