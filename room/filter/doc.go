// Package filter compiles Koncorde filters (the DSL of Kuzzle realtime subscriptions,
// Koncorde 4.7 as Kuzzle 2 drives it) once and matches JSON documents against every
// filter of an index. The DSL is documented at
// https://docs.kuzzle.io/core/2/api/koncorde-filters-syntax/clauses/ and in Koncorde's
// doc/terms/index.md; paths such as lib/transform/standardize.js in this package's
// comments are files of github.com/kuzzleio/koncorde (the npm package koncorde@4.7.0
// ships them compiled to JavaScript).
//
// Concurrency: an Engine is safe for concurrent use. Normalize is pure and takes no
// lock; Test runs under a read lock, so any number of Test calls proceed in parallel
// (the lock is sharded so that readers on different cores do not contend); Store and
// Remove take the write lock. A Normalized is immutable.
//
// # Model
//
// Normalize parses a filter, validates it with Koncorde 4.7's checks and messages
// (a port of lib/transform/standardize.js, including its rewrites: in and ids become
// or-ed equals, missing becomes not exists, bool becomes and/or/not, not is pushed
// down to the conditions) and expands it into a disjunctive normal form: subfilters
// (OR-ed) of conditions (AND-ed), each condition possibly negated. Conditions are
// interned by a canonical key; subfilters are sorted and de-duplicated, impossible
// subfilters (x and not x, two values for one field, a value outside a range of the
// same field, a required field that must be missing, nothing) are dropped, a
// subfilter containing another one is absorbed, and small forms (up to 64 subfilters)
// are completed into the set of all their prime implicants by consensus, which makes
// or[a, not a] the same as {} and or[and[a,b], and[a, not b]] the same as a.
//
// The filter id is an HMAC-SHA256 of that canonical form and the index under a fixed
// key, in lowercase hex: equivalent spellings (reordered and/or children, duplicated
// conditions, in vs or of equals, double negations, the exists and regexp syntaxes,
// De Morgan rewrites, bool) share an id, on every process. Every pair of filters Koncorde gives one id gets one id here
// (checked on the differential corpus), except the satisfiable filters that Koncorde
// wrongly reduces to nothing (Q1-Q3 below).
//
// The condition limit is Koncorde's: Config.MaxConditions (default 100, Kuzzle's
// limits.subscriptionConditionsCount) counted on the standardized filter, with the
// message "Filter too complex: exceeds the configured maximum number of conditions
// (conditions: N, max: M)". The expansion itself is bounded (16384 subfilters, 262144
// conditions, 64 levels of JSON nesting), so Normalize does bounded work on any input,
// unlike Koncorde's truth-table minimization that is exponential in the number of
// conditions. These two extra errors have messages of their own.
//
// Store adds a filter to its index. An index shares conditions and subfilters between
// filters, like Koncorde's engine, and keeps per-field indexes: hash maps for equals,
// in, ids and exists array values, a segment tree over the bounds for ranges (rebuilt
// by writers once enough conditions changed, the newest ones tested one by one),
// a multi-resolution grid (1, 4, 16, 64 degrees) for geo shapes, regexps grouped by
// their anchored literal prefix. Test scans the document's JSON bytes once, skipping
// the values of fields no filter uses and descending only into objects that lead to
// one; the values it keeps are gjson.Results pointing into the document. It fires the
// conditions that hold and counts them per subfilter; a negated condition costs
// nothing unless its positive condition fires. Test does not allocate in steady state
// for equals, in, ids, exists, range, regexp and geo filters.
//
// # Documents
//
// A field path follows Koncorde's flattening (lib/util/Flatten.ts): "a.b" reaches
// {"a":{"b":…}} and also a literal key {"a.b":…}; on a collision the last one in
// JavaScript key order (Q14 below) wins; arrays are leaves (no traversal, no index paths); numbers are float64
// (9007199254740993 is 2^53). Test's docID, when not empty, replaces the document's
// _id like Kuzzle does, which is what the ids keyword reads.
//
// # Koncorde's bugs and the choices made
//
//   - Q1, not reproduced: and[exists 'tags["a"]', missing 'tags["b"]'] matches
//     {"tags":["a"]} here; Koncorde reduces it to nothing.
//   - Q2, not reproduced: and[not equals a:1, equals a:"1"] matches {"a":"1"} here.
//   - Q3, not reproduced: fields named after Object.prototype members are ordinary
//     fields: missing "toString" matches {}.
//   - Q4, not reproduced: range bounds are exact; gt:2000000 rejects 2000000 and gt:5
//     accepts 5.00000000001 (Koncorde: the opposite, through its ±1e-10 epsilon).
//   - Q5, not reproduced: the g and y regexp flags are ignored, so a document always
//     gets the same answer.
//   - Q6, reproduced: not regexp tests String(value) for non-strings, so
//     not regexp {a:"^1"} does not match {"a":12}; regexp itself only tests strings.
//   - Q7, reproduced: a geoDistance/geoDistanceRange point must also lie in
//     boost-geospatial-index's rough box (r/6378137 rad around the centre): centre
//     [0,0] with 1000m does not contain [0.00899,0].
//   - Q8, not reproduced: geo conditions on several fields of one index work; Koncorde's
//     test() throws "subfilters is not iterable".
//   - Q9, partly: a truthy value that is not a geopoint makes both geo and not geo false
//     on that field, as in Koncorde; the geo conditions on other fields are still
//     evaluated (Koncorde stops).
//   - Q10, rejected cleanly: a geoBoundingBox with bottom >= top or left >= right fails
//     Normalize with Koncorde's store-time message "min_lat argument cannot be greater
//     or equal max_lat" (or min_lon …), and nothing is half-registered.
//   - Q11, rejected cleanly: a negated select or nothing in a stored subfilter fails
//     Normalize with Koncorde's TypeError message "this.storeOperand[cond.keyword] is
//     not a function"; a select query over the condition limit fails Normalize too.
//   - Q12, reproduced: a distance needs a unit ("1000" is an error); units follow
//     node-units, SI prefixes and the odd time units included ("1h" is 60 m); the number
//     words of node-units' numerizer are not supported.
//   - Q13, reproduced: bool.must may be a bare object.
//   - Q14, reproduced, in JavaScript's key order: array-index keys ("0", "12") first in
//     ascending order, then the others in JSON order; so {"1.x":"A","1":{"x":"B"}}
//     gives 1.x = "A". Not reproduced: a duplicated key in a document is taken at each
//     of its positions, where JSON.parse keeps the first position with the last value.
//   - Q15, reproduced: match on arrays is greedy first-fit.
//
// Koncorde also rejects a geo keyword inside a negated and/or, or inside an and/or that
// mixes plain conditions with nested and/or (its standardizer re-reads its own output):
// not or[geoDistance …, equals …] fails with `"not.geospatial": unknown keyword`. This is
// reproduced, since Kuzzle returns that error to clients.
//
// # Geometry
//
// Distances use Andoyer's first-order formula on the WGS84 ellipsoid, as Boost.Geometry
// does for Koncorde: they agree with Koncorde to floating-point rounding (Karney's
// exact geodesic differs by up to about 0.01 % at short range). Polygon edges are great
// circles through the geodetic coordinates, where Boost follows ellipsoidal geodesics:
// the two edges differ by about flattening × bulge, under 1 m for edges shorter than
// 100 km, up to some tens of metres for edges of 10 degrees. Boxes are inclusive and
// wrap longitudes. A point exactly on a vertex of a polygon crossing the antimeridian
// can be missed by Koncorde (its envelope loses one ulp); it is inside here.
//
// # Regular expressions
//
// Go's regexp implements RE2's syntax, the default engine of Koncorde (and of Kuzzle
// without realtime.pcreSupport). Error messages use RE2's wording. Differences in the
// corner cases of the two implementations (for instance \s classes) are possible.
//
// # Example
//
//	e := filter.NewEngine(filter.Config{})
//	n, err := e.Normalize("index/collection", []byte(`{"range":{"age":{"gte":18}}}`))
//	if err != nil {
//		return err // *filter.Error with Koncorde's message
//	}
//	_ = e.Store(n)
//	ids := e.Test("index/collection", []byte(`{"age":21}`), "doc-1", nil) // [n.ID]
package filter
