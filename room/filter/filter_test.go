package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func mustNormalize(t *testing.T, e *Engine, index, f string) *Normalized {
	t.Helper()
	n, err := e.Normalize(index, []byte(f))
	if err != nil {
		t.Fatalf("Normalize(%s): %v", f, err)
	}
	return n
}

// matches registers filter alone and tests doc through the engine and the direct
// evaluator, which must agree.
func matches(t *testing.T, filter, doc, docID string) bool {
	t.Helper()
	e := NewEngine(Config{})
	n := mustNormalize(t, e, "i", filter)
	if err := e.Store(n); err != nil {
		t.Fatal(err)
	}
	ids := e.Test("i", []byte(doc), docID, nil)
	got := slices.Contains(ids, n.ID)
	if direct := Match(n, []byte(doc), docID); direct != got {
		t.Fatalf("engine %v, direct evaluation %v: filter %s doc %s", got, direct, filter, doc)
	}
	return got
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		doc    string
		docID  string
		want   bool
	}{
		// empty filters (lib/transform/standardize.js turns {} and null into {}, which
		// lib/transform/canonical.ts converts to everything)
		{name: "empty-filter-matches-everything", filter: `{}`, doc: `{}`, want: true},
		{name: "null-filter-matches-everything", filter: `null`, doc: `{"a":1}`, want: true},
		// document model (lib/util/Flatten.ts)
		{name: "equals-nested-dot-path", filter: `{"equals":{"name.last":"x"}}`, doc: `{"name":{"last":"x"}}`, want: true},
		{name: "equals-dot-path-does-not-traverse-arrays", filter: `{"equals":{"a.b":1}}`, doc: `{"a":[{"b":1}]}`, want: false},
		{name: "equals-no-array-index-paths", filter: `{"equals":{"a.0":1}}`, doc: `{"a":[1]}`, want: false},
		{name: "equals-literal-dotted-key", filter: `{"equals":{"a.b":1}}`, doc: `{"a.b":1}`, want: true},
		{name: "collision-last-wins-literal", filter: `{"equals":{"a.b":1}}`, doc: `{"a":{"b":2},"a.b":1}`, want: true},
		{name: "collision-last-wins-nested", filter: `{"equals":{"a.b":1}}`, doc: `{"a.b":1,"a":{"b":2}}`, want: false},
		{name: "equals-float64-precision", filter: `{"equals":{"a":9007199254740992}}`, doc: `{"a":9007199254740993}`, want: true},
		{name: "one-equals-one-point-zero", filter: `{"equals":{"a":1}}`, doc: `{"a":1.0}`, want: true},
		// equals (4.1)
		{name: "equals-number-vs-string", filter: `{"equals":{"a":1}}`, doc: `{"a":"1"}`, want: false},
		{name: "equals-true-vs-1", filter: `{"equals":{"a":true}}`, doc: `{"a":1}`, want: false},
		{name: "equals-null-null", filter: `{"equals":{"a":null}}`, doc: `{"a":null}`, want: true},
		{name: "equals-null-missing", filter: `{"equals":{"a":null}}`, doc: `{}`, want: false},
		{name: "equals-does-not-look-inside-arrays", filter: `{"equals":{"tags":"x"}}`, doc: `{"tags":["x"]}`, want: false},
		{name: "not-equals-matches-missing-field", filter: `{"not":{"equals":{"a":1}}}`, doc: `{}`, want: true},
		{name: "not-equals-matches-array-value", filter: `{"not":{"equals":{"a":1}}}`, doc: `{"a":[1]}`, want: true},
		{name: "not-equals-same-value", filter: `{"not":{"equals":{"a":1}}}`, doc: `{"a":1}`, want: false},
		// in, ids (4.2, 4.3)
		{name: "in-match", filter: `{"in":{"a":["x","y"]}}`, doc: `{"a":"y"}`, want: true},
		{name: "in-number-string", filter: `{"in":{"a":["1"]}}`, doc: `{"a":1}`, want: false},
		{name: "in-array", filter: `{"in":{"a":["x"]}}`, doc: `{"a":["x"]}`, want: false},
		{name: "ids-injected", filter: `{"ids":{"values":["d1"]}}`, doc: `{"_id":"other"}`, docID: "d1", want: true},
		{name: "ids-body", filter: `{"ids":{"values":["d1"]}}`, doc: `{"_id":"d1"}`, want: true},
		{name: "ids-override", filter: `{"ids":{"values":["d1"]}}`, doc: `{"_id":"d1"}`, docID: "d2", want: false},
		// exists, missing (4.4)
		{name: "exists-null-value-counts-as-present", filter: `{"exists":"a"}`, doc: `{"a":null}`, want: true},
		{name: "exists-nested-false-value", filter: `{"exists":"a.b"}`, doc: `{"a":{"b":false}}`, want: true},
		{name: "exists-object-syntax", filter: `{"exists":{"field":"a"}}`, doc: `{"a":0}`, want: true},
		{name: "exists-missing", filter: `{"exists":"a"}`, doc: `{"b":1}`, want: false},
		{name: "exists-array-value", filter: `{"exists":"tags[\"x\"]"}`, doc: `{"tags":["y","x"]}`, want: true},
		{name: "exists-array-value-number", filter: `{"exists":"tags[1]"}`, doc: `{"tags":["1"]}`, want: false},
		{name: "exists-array-value-not-array", filter: `{"exists":"tags[\"x\"]"}`, doc: `{"tags":"x"}`, want: false},
		{name: "exists-array-value-null", filter: `{"exists":"tags[null]"}`, doc: `{"tags":[null]}`, want: true},
		{name: "exists-array-object-never", filter: `{"exists":"tags[{}]"}`, doc: `{"tags":[{}]}`, want: false},
		{name: "exists-escaped-bracket-is-literal-field", filter: `{"exists":"a\\[\"x\"]"}`, doc: `{"a[\"x\"]":1}`, want: true},
		{name: "exists-nested-array-value", filter: `{"exists":"a.b[\"x\"]"}`, doc: `{"a":{"b":["x"]}}`, want: true},
		{name: "missing-field", filter: `{"missing":"a"}`, doc: `{}`, want: true},
		{name: "missing-present", filter: `{"missing":"a"}`, doc: `{"a":null}`, want: false},
		{name: "missing-array-value-not-array", filter: `{"missing":"tags[\"x\"]"}`, doc: `{"tags":"x"}`, want: true},
		{name: "missing-array-value-absent", filter: `{"missing":"tags[\"x\"]"}`, doc: `{"tags":["y"]}`, want: true},
		{name: "missing-array-value-present", filter: `{"missing":"tags[\"x\"]"}`, doc: `{"tags":["x"]}`, want: false},
		// range (4.5)
		{name: "range-in", filter: `{"range":{"a":{"gte":1,"lt":5}}}`, doc: `{"a":1}`, want: true},
		{name: "range-upper-excluded", filter: `{"range":{"a":{"gte":1,"lt":5}}}`, doc: `{"a":5}`, want: false},
		{name: "range-gt-excluded", filter: `{"range":{"a":{"gt":5}}}`, doc: `{"a":5}`, want: false},
		{name: "range-string", filter: `{"range":{"a":{"gte":0}}}`, doc: `{"a":"5"}`, want: false},
		{name: "range-null", filter: `{"range":{"a":{"lte":0}}}`, doc: `{"a":null}`, want: false},
		{name: "range-array", filter: `{"range":{"a":{"gte":0}}}`, doc: `{"a":[1]}`, want: false},
		{name: "not-range-missing", filter: `{"not":{"range":{"a":{"gte":0}}}}`, doc: `{}`, want: true},
		{name: "not-range-string", filter: `{"not":{"range":{"a":{"gte":0}}}}`, doc: `{"a":"x"}`, want: true},
		{name: "not-range-inside", filter: `{"not":{"range":{"a":{"gte":0}}}}`, doc: `{"a":3}`, want: false},
		// regexp (4.6)
		{name: "regexp-search", filter: `{"regexp":{"a":"o+"}}`, doc: `{"a":"foo"}`, want: true},
		{name: "regexp-flag-i", filter: `{"regexp":{"a":{"value":"^FOO$","flags":"i"}}}`, doc: `{"a":"foo"}`, want: true},
		{name: "regexp-no-flag", filter: `{"regexp":{"a":{"value":"^FOO$"}}}`, doc: `{"a":"foo"}`, want: false},
		{name: "regexp-flag-m", filter: `{"regexp":{"a":{"value":"^b","flags":"m"}}}`, doc: `{"a":"a\nb"}`, want: true},
		{name: "regexp-flag-s", filter: `{"regexp":{"a":{"value":"a.b","flags":"s"}}}`, doc: `{"a":"a\nb"}`, want: true},
		{name: "regexp-empty-pattern", filter: `{"regexp":{"a":""}}`, doc: `{"a":""}`, want: true},
		{name: "regexp-only-tests-strings", filter: `{"regexp":{"a":"1"}}`, doc: `{"a":12}`, want: false},
		{name: "regexp-does-not-look-inside-arrays", filter: `{"regexp":{"a":"x"}}`, doc: `{"a":["x"]}`, want: false},
		{name: "regexp-re2-w-ascii", filter: `{"regexp":{"a":"^\\w$"}}`, doc: `{"a":"é"}`, want: false},
		{name: "not-regexp-missing", filter: `{"not":{"regexp":{"a":"x"}}}`, doc: `{}`, want: true},
		{name: "quirk-not-regexp-coerces-numbers", filter: `{"not":{"regexp":{"a":"^1"}}}`, doc: `{"a":12}`, want: false},
		{name: "not-regexp-coerces-null", filter: `{"not":{"regexp":{"a":"^nu"}}}`, doc: `{"a":null}`, want: false},
		{name: "not-regexp-coerces-array", filter: `{"not":{"regexp":{"a":"^1,2$"}}}`, doc: `{"a":[1,2]}`, want: false},
		// geo (4.7)
		{name: "geo-bbox-inside", filter: `{"geoBoundingBox":{"p":{"top":10,"left":0,"bottom":0,"right":10}}}`, doc: `{"p":[5,5]}`, want: true},
		{name: "geo-bbox-corner-inclusive", filter: `{"geoBoundingBox":{"p":{"top":10,"left":0,"bottom":0,"right":10}}}`, doc: `{"p":[10,10]}`, want: true},
		{name: "geo-bbox-not-geodesic", filter: `{"geoBoundingBox":{"p":{"top":10,"left":0,"bottom":0,"right":10}}}`, doc: `{"p":[10.05,5]}`, want: false},
		{name: "geo-bbox-antimeridian-via-right-over-180", filter: `{"geoBoundingBox":{"p":{"top":10,"left":170,"bottom":0,"right":190}}}`, doc: `{"p":[5,-175]}`, want: true},
		{name: "geo-bbox-longitude-wraps", filter: `{"geoBoundingBox":{"p":{"top":10,"left":0,"bottom":0,"right":10}}}`, doc: `{"p":[5,365]}`, want: true},
		{name: "geo-bbox-lat-95-outside", filter: `{"geoBoundingBox":{"p":{"top":90,"left":0,"bottom":0,"right":10}}}`, doc: `{"p":[95,5]}`, want: false},
		{name: "geo-bbox-topleft", filter: `{"geoBoundingBox":{"p":{"top_left":"10,0","bottom_right":[0,10]}}}`, doc: `{"p":{"lat":5,"lon":5}}`, want: true},
		{name: "geo-bbox-string-bounds", filter: `{"geoBoundingBox":{"p":{"top":"10","left":"0","bottom":"0","right":"10"}}}`, doc: `{"p":"5,5"}`, want: true},
		{name: "geo-doc-point-string-coordinates", filter: `{"geoDistance":{"p":[43.6,3.9],"distance":"1km"}}`, doc: `{"p":{"lat":"43.6","lon":"3.9"}}`, want: true},
		{name: "geo-doc-point-geohash", filter: `{"geoDistance":{"p":[43.6,3.9],"distance":"10m"}}`, doc: `{"p":"spf5b4jmc"}`, want: false},
		{name: "geo-doc-point-lat-lon-object", filter: `{"geoDistance":{"p":{"lat_lon":[43.6,3.9]},"distance":"1km"}}`, doc: `{"p":{"latLon":{"lat":43.6,"lon":3.9}}}`, want: true},
		{name: "geo-distance-wgs84-not-sphere-out", filter: `{"geoDistance":{"p":[45,0],"distance":"1000m"}}`, doc: `{"p":[45,0.0127]}`, want: false},
		{name: "geo-distance-wgs84-not-sphere-in", filter: `{"geoDistance":{"p":[45,0],"distance":"1000m"}}`, doc: `{"p":[45,0.0126]}`, want: true},
		{name: "quirk-geo-distance-mbr-clips-along-meridian", filter: `{"geoDistance":{"p":[0,0],"distance":"1000m"}}`, doc: `{"p":[0.00899,0]}`, want: false},
		{name: "geo-distance-antimeridian", filter: `{"geoDistance":{"p":[0,179.9],"distance":"50km"}}`, doc: `{"p":[0,-179.9]}`, want: true},
		{name: "geo-distance-across-north-pole", filter: `{"geoDistance":{"p":[89.99,0],"distance":"5km"}}`, doc: `{"p":[89.99,180]}`, want: true},
		{name: "geo-distance-range-inside", filter: `{"geoDistanceRange":{"p":[0,0],"from":"1km","to":"2km"}}`, doc: `{"p":[0,0.0135]}`, want: true},
		{name: "geo-distance-range-hole", filter: `{"geoDistanceRange":{"p":[0,0],"from":"1km","to":"2km"}}`, doc: `{"p":[0,0.005]}`, want: false},
		{name: "geo-polygon-inside", filter: `{"geoPolygon":{"p":{"points":[[0,0],[0,10],[10,10],[10,0]]}}}`, doc: `{"p":[5,5]}`, want: true},
		{name: "geo-polygon-vertex-inclusive", filter: `{"geoPolygon":{"p":{"points":[[0,0],[0,10],[10,10],[10,0]]}}}`, doc: `{"p":[10,10]}`, want: true},
		{name: "geo-polygon-geodesic-edge-bulge", filter: `{"geoPolygon":{"p":{"points":[[0,0],[0,10],[10,10],[10,0]]}}}`, doc: `{"p":[10.03,5]}`, want: true},
		{name: "geo-polygon-high-latitude-thin-triangle", filter: `{"geoPolygon":{"p":{"points":[[60,0],[60,90],[70,45]]}}}`, doc: `{"p":[65,45]}`, want: false},
		{name: "geo-polygon-antimeridian", filter: `{"geoPolygon":{"p":{"points":[[-5,170],[-5,-170],[5,-170],[5,170]]}}}`, doc: `{"p":[0,179]}`, want: true},
		{name: "geo-polygon-outside", filter: `{"geoPolygon":{"p":{"points":[[0,0],[0,10],[10,10],[10,0]]}}}`, doc: `{"p":[5,11]}`, want: false},
		{name: "not-geo-missing", filter: `{"not":{"geoDistance":{"p":[0,0],"distance":"1km"}}}`, doc: `{}`, want: true},
		{name: "not-geo-falsy", filter: `{"not":{"geoDistance":{"p":[0,0],"distance":"1km"}}}`, doc: `{"p":0}`, want: true},
		{name: "quirk-not-geo-distance-unparseable-point", filter: `{"not":{"geoDistance":{"p":[0,0],"distance":"1km"}}}`, doc: `{"p":"garbage!"}`, want: false},
		// match (4.8)
		{name: "match-dotted-key-uses-flattened-doc", filter: `{"match":{"a.b":1}}`, doc: `{"a":{"b":1}}`, want: true},
		{name: "match-type-strict", filter: `{"match":{"a":1}}`, doc: `{"a":"1"}`, want: false},
		{name: "match-null-vs-missing", filter: `{"match":{"a":null}}`, doc: `{}`, want: false},
		{name: "match-empty-object-vs-array", filter: `{"match":{"a":{}}}`, doc: `{"a":[]}`, want: false},
		{name: "match-object-partial", filter: `{"match":{"a":{"x":1}}}`, doc: `{"a":{"x":1,"y":2}}`, want: true},
		{name: "match-array-subset", filter: `{"match":{"a":[2,1]}}`, doc: `{"a":[1,2,3]}`, want: true},
		{name: "match-array-multiset", filter: `{"match":{"a":[1,1]}}`, doc: `{"a":[1]}`, want: false},
		{name: "quirk-match-array-greedy-first-fit", filter: `{"match":{"a":[{"x":1},{"x":1,"y":2}]}}`, doc: `{"a":[{"x":1,"y":2},{"x":1}]}`, want: false},
		{name: "match-several-fields", filter: `{"match":{"a":1,"b":2}}`, doc: `{"a":1,"b":2}`, want: true},
		{name: "match-several-fields-one-missing", filter: `{"match":{"a":1,"b":2}}`, doc: `{"a":1}`, want: false},
		{name: "not-match-missing-field", filter: `{"not":{"match":{"a":1}}}`, doc: `{}`, want: true},
		// select (4.9)
		{name: "select-first", filter: `{"select":{"field":"a","index":0,"query":{"equals":{"value":1}}}}`, doc: `{"a":[1,2]}`, want: true},
		{name: "select-last", filter: `{"select":{"field":"a","index":-1,"query":{"equals":{"value":2}}}}`, doc: `{"a":[1,2]}`, want: true},
		{name: "select-out-of-range", filter: `{"select":{"field":"a","index":2,"query":{"exists":"value"}}}`, doc: `{"a":[1,2]}`, want: false},
		{name: "select-nested", filter: `{"select":{"field":"a","index":0,"query":{"equals":{"value.x":"y"}}}}`, doc: `{"a":[{"x":"y"}]}`, want: true},
		{name: "select-not-array", filter: `{"select":{"field":"a","index":0,"query":{"exists":"value"}}}`, doc: `{"a":{"0":1}}`, want: false},
		// nothing (4.10) and operands (4.11)
		{name: "nothing", filter: `{"nothing":1}`, doc: `{}`, want: false},
		{name: "and", filter: `{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, doc: `{"a":1,"b":2}`, want: true},
		{name: "and-partial", filter: `{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, doc: `{"a":1}`, want: false},
		{name: "or", filter: `{"or":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, doc: `{"b":2}`, want: true},
		{name: "not-and", filter: `{"not":{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}}`, doc: `{"a":1}`, want: true},
		{name: "tautology", filter: `{"or":[{"exists":"a"},{"not":{"exists":"a"}}]}`, doc: `{}`, want: true},
		{name: "bool-must", filter: `{"bool":{"must":[{"equals":{"a":1}}],"must_not":[{"equals":{"b":1}}]}}`, doc: `{"a":1,"b":2}`, want: true},
		{name: "bool-must-not", filter: `{"bool":{"must":[{"equals":{"a":1}}],"must_not":[{"equals":{"b":1}}]}}`, doc: `{"a":1,"b":1}`, want: false},
		{name: "bool-should-is-mandatory", filter: `{"bool":{"must":[{"equals":{"a":1}}],"should":[{"equals":{"b":1}},{"equals":{"c":1}}]}}`, doc: `{"a":1}`, want: false},
		{name: "bool-should-not-means-not-all", filter: `{"bool":{"should_not":[{"equals":{"b":1}},{"equals":{"c":1}}]}}`, doc: `{"b":1}`, want: true},
		{name: "bool-should-not-all", filter: `{"bool":{"should_not":[{"equals":{"b":1}},{"equals":{"c":1}}]}}`, doc: `{"b":1,"c":1}`, want: false},
		{name: "bool-must-accepts-single-object", filter: `{"bool":{"must":{"equals":{"a":1}}}}`, doc: `{"a":1}`, want: true},
		{name: "bool-empty-must-with-should", filter: `{"bool":{"must":[],"should":[{"equals":{"a":1}}]}}`, doc: `{"a":1}`, want: true},
		{name: "bool-must-not-geo", filter: `{"bool":{"must_not":[{"geoDistance":{"p":[0,0],"distance":"1km"}}]}}`, doc: `{"p":[1,1]}`, want: true},
		// JavaScript key order: array-index keys come first, whatever the JSON order (Q14)
		{name: "index-key-first-literal-wins", filter: `{"equals":{"1.x":"A"}}`, doc: `{"1.x":"A","1":{"x":"B"}}`, want: true},
		{name: "index-key-first-literal-wins-reversed", filter: `{"equals":{"1.x":"A"}}`, doc: `{"1":{"x":"B"},"1.x":"A"}`, want: true},
		{name: "index-key-nested", filter: `{"equals":{"a.2.x":"B"}}`, doc: `{"a":{"2.x":"B","2":{"x":"A"}}}`, want: true},
		// deviations: see doc.go
		{name: "Q1-not-reproduced", filter: `{"and":[{"exists":"tags[\"a\"]"},{"missing":"tags[\"b\"]"}]}`, doc: `{"tags":["a"]}`, want: true},
		{name: "Q2-not-reproduced", filter: `{"and":[{"not":{"equals":{"a":1}}},{"equals":{"a":"1"}}]}`, doc: `{"a":"1"}`, want: true},
		{name: "Q3-not-reproduced", filter: `{"missing":"toString"}`, doc: `{}`, want: true},
		{name: "Q4-gt-exact-large", filter: `{"range":{"a":{"gt":2000000}}}`, doc: `{"a":2000000}`, want: false},
		{name: "Q4-gt-exact-small", filter: `{"range":{"a":{"gt":5}}}`, doc: `{"a":5.00000000001}`, want: true},
		{name: "Q5-g-flag-stateless", filter: `{"regexp":{"a":{"value":"x","flags":"g"}}}`, doc: `{"a":"x"}`, want: true},
		{name: "Q8-two-geo-fields", filter: `{"and":[{"geoDistance":{"p":[0,0],"distance":"10km"}},{"geoDistance":{"q":[0,0],"distance":"10km"}}]}`, doc: `{"p":[0,0],"q":[0,0]}`, want: true},
		{name: "Q9-other-field-still-evaluated", filter: `{"or":[{"geoDistance":{"p":[0,0],"distance":"10km"}},{"geoDistance":{"q":[0,0],"distance":"10km"}}]}`, doc: `{"p":"garbage!","q":[0,0]}`, want: true},
		{name: "Q12-hours", filter: `{"geoDistance":{"p":[0,0],"distance":"1h"}}`, doc: `{"p":[0,0.0005]}`, want: true},
		{name: "Q12-hours-is-60m", filter: `{"geoDistance":{"p":[0,0],"distance":"1h"}}`, doc: `{"p":[0,0.0006]}`, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(t, tc.filter, tc.doc, tc.docID); got != tc.want {
				t.Errorf("filter %s doc %s: got %v, want %v", tc.filter, tc.doc, got, tc.want)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		cfg    Config
		msg    string
	}{
		{name: "two-keywords", filter: `{"equals":{"a":1},"exists":"a"}`, msg: `Invalid filter syntax. Filters must have one keyword only`},
		{name: "unknown-keyword", filter: `{"term":{"a":1}}`, msg: `"term": unknown keyword`},
		{name: "nested-unknown-keyword-error", filter: `{"not":{"and":[{"foo":1},{"equals":{"a":1}}]}}`, msg: `"not.and.foo": unknown keyword`},
		{name: "top-level-string", filter: `"ab"`, msg: `Invalid filter syntax. Filters must have one keyword only`},
		{name: "top-level-array", filter: `[{"equals":{"a":1}}]`, msg: `"0": unknown keyword`},
		{name: "equals-not-object", filter: `{"equals":"a"}`, msg: `"equals": must be an object`},
		{name: "equals-two-fields", filter: `{"equals":{"a":1,"b":2}}`, msg: `"equals": expected object to have exactly 1 property, got 2`},
		{name: "equals-array", filter: `{"equals":{"a":[1]}}`, msg: `"equals.a": must either be a string, a number, a boolean, or null`},
		{name: "in-mixed-types-error", filter: `{"in":{"a":["x",1]}}`, msg: `"in.a": must hold only values of type "string"`},
		{name: "in-empty", filter: `{"in":{"a":[]}}`, msg: `"in.a": cannot be empty`},
		{name: "in-not-array", filter: `{"in":{"a":"x"}}`, msg: `"in.a": must be an array`},
		{name: "ids-missing-values", filter: `{"ids":{"foo":["a"]}}`, msg: `"ids": the property "values" is missing`},
		{name: "ids-type", filter: `{"ids":{"values":[1]}}`, msg: `"ids.values": must hold only values of type "string"`},
		{name: "exists-empty", filter: `{"exists":""}`, msg: `"exists": cannot test empty field name`},
		{name: "exists-field-empty", filter: `{"exists":{"field":""}}`, msg: `"exists.field": cannot be empty`},
		{name: "exists-number", filter: `{"exists":1}`, msg: `"exists": must be an object`},
		{name: "exists-invalid-array-value-error", filter: `{"exists":"a[x]"}`, msg: `"exists": contains an invalid array value ("x")`},
		{name: "missing-invalid-array-value", filter: `{"missing":{"field":"a[1][2]"}}`, msg: `"missing.field": contains an invalid array value ("1][2")`},
		{name: "range-not-number", filter: `{"range":{"a":{"gt":"1"}}}`, msg: `"range.a.gt": must be a number`},
		{name: "range-attribute", filter: `{"range":{"a":{"foo":1}}}`, msg: `"range.a": "foo" is not an allowed attribute (allowed: gt,gte,lt,lte)`},
		{name: "range-empty", filter: `{"range":{"a":{}}}`, msg: `"range.a": must be a non-empty object`},
		{name: "range-two-lower", filter: `{"range":{"a":{"gt":1,"gte":2}}}`, msg: `"range.a": only 1 lower boundary allowed`},
		{name: "range-two-upper", filter: `{"range":{"a":{"lt":1,"lte":2}}}`, msg: `"range.a": only 1 upper boundary allowed`},
		{name: "range-equal-bounds", filter: `{"range":{"a":{"gte":5,"lte":5}}}`, msg: `"range.a": lower boundary must be strictly inferior to the upper one`},
		{name: "regexp-unclosed", filter: `{"regexp":{"a":"(unclosed"}}`, msg: `"regexp.a": cannot parse regexp expression "/(unclosed/undefined" (missing ): (unclosed)`},
		{name: "regexp-re2-lookbehind", filter: `{"regexp":{"a":"(?<=x)y"}}`, msg: `"regexp.a": cannot parse regexp expression "/(?<=x)y/undefined" (invalid perl operator: (?<=)`},
		{name: "regexp-re2-backreference", filter: `{"regexp":{"a":{"value":"(a)\\1","flags":"i"}}}`, msg: `"regexp.a": cannot parse regexp expression "/(a)\1/i" (invalid escape sequence: \1)`},
		{name: "regexp-flags-type", filter: `{"regexp":{"a":{"value":"x","flags":1}}}`, msg: `"regexp.a.flags": must be a string`},
		{name: "regexp-value-missing", filter: `{"regexp":{"a":{"flags":"i"}}}`, msg: `"regexp.a": the property "value" is missing`},
		{name: "regexp-attribute", filter: `{"regexp":{"a":{"value":"x","foo":1}}}`, msg: `"regexp.a": "foo" is not an allowed attribute (allowed: flags,value)`},
		{name: "regexp-number", filter: `{"regexp":{"a":1}}`, msg: `"regexp.a": must be either a string or a non-empty object`},
		{name: "geo-distance-number-error", filter: `{"geoDistance":{"p":[0,0],"distance":1000}}`, msg: `"geoDistance.distance": must be a string`},
		{name: "geo-distance-unitless-string-error", filter: `{"geoDistance":{"p":[0,0],"distance":"1000"}}`, msg: `unable to parse distance value "1000"`},
		{name: "geo-distance-bad-unit", filter: `{"geoDistance":{"p":[0,0],"distance":"500 furlongs"}}`, msg: `unable to parse distance value "500 furlongs"`},
		{name: "geo-distance-exponent", filter: `{"geoDistance":{"p":[0,0],"distance":"1e3m"}}`, msg: `unable to parse distance value "1e3m"`},
		{name: "geo-distance-bad-point", filter: `{"geoDistance":{"p":"nowhere!","distance":"1km"}}`, msg: `"geoDistance.p": unrecognized point format`},
		{name: "geo-distance-properties", filter: `{"geoDistance":{"p":[0,0]}}`, msg: `"geoDistance": expected object to have exactly 2 properties, got 1`},
		{name: "geo-distance-range-radii", filter: `{"geoDistanceRange":{"p":[0,0],"from":"2km","to":"1km"}}`, msg: `"geoDistanceRange": inner radius must be smaller than outer radius`},
		{name: "geo-bbox-bottom-top-error", filter: `{"geoBoundingBox":{"p":{"top":1,"left":0,"bottom":2,"right":1}}}`, msg: `min_lat argument cannot be greater or equal max_lat`},
		{name: "geo-bbox-left-right-error", filter: `{"geoBoundingBox":{"p":{"top":1,"left":1,"bottom":0,"right":0}}}`, msg: `min_lon argument cannot be greater or equal max_lon`},
		{name: "geo-bbox-bad-number", filter: `{"geoBoundingBox":{"p":{"top":"x","left":0,"bottom":0,"right":1}}}`, msg: `"geoBoundingBox.p": unrecognized geoBoundingBox format: {"top":"x","left":0,"bottom":0,"right":1}`},
		{name: "geo-bbox-bad-point", filter: `{"geoBoundingBox":{"p":{"topLeft":"bad","bottomRight":[0,1]}}}`, msg: `"geoBoundingBox.p": unrecognized geo-point format`},
		{name: "geo-bbox-null", filter: `{"geoBoundingBox":{"p":null}}`, msg: `Cannot convert undefined or null to object`},
		{name: "geo-polygon-two-points", filter: `{"geoPolygon":{"p":{"points":[[0,0],[1,1]]}}}`, msg: `"geoPolygon.p.points": at least 3 points are required to build a polygon`},
		{name: "geo-polygon-bad-point", filter: `{"geoPolygon":{"p":{"points":[[0,0],[1,1],"zz"]}}}`, msg: `"geoPolygon.p.points": unrecognized point format ""zz""`},
		{name: "geo-under-negated-or", filter: `{"not":{"or":[{"geoDistance":{"p":[0,0],"distance":"1km"}},{"equals":{"a":1}}]}}`, msg: `"not.geospatial": unknown keyword`},
		{name: "geo-in-mixed-and", filter: `{"and":[{"geoDistance":{"p":[0,0],"distance":"1km"}},{"or":[{"equals":{"a":1}},{"equals":{"b":1}}]},{"exists":"c"}]}`, msg: `"and.and.geospatial": unknown keyword`},
		{name: "and-empty", filter: `{"and":[]}`, msg: `"and": cannot be empty`},
		{name: "or-object", filter: `{"or":{}}`, msg: `"or": must be an array`},
		{name: "and-empty-object", filter: `{"and":[{}]}`, msg: `"and": can only contain non-empty objects`},
		{name: "not-empty", filter: `{"not":{}}`, msg: `"not": expected object to have exactly 1 property, got 0`},
		{name: "bool-attribute", filter: `{"bool":{"filter":[]}}`, msg: `"bool": "filter" is not an allowed attribute (allowed: must,must_not,should,should_not)`},
		{name: "bool-empty-must", filter: `{"bool":{"must":[]}}`, msg: `"bool.and": cannot be empty`},
		{name: "bool-empty-must-not", filter: `{"bool":{"must_not":[]}}`, msg: `"bool.and.not.or": cannot be empty`},
		{name: "bool-empty-should", filter: `{"bool":{"should":[]}}`, msg: `"bool.and.or": cannot be empty`},
		{name: "bool-empty-should-not", filter: `{"bool":{"should_not":[]}}`, msg: `"bool.and.not.and": cannot be empty`},
		{name: "match-empty", filter: `{"match":{}}`, msg: `"match": must be a non-empty object`},
		{name: "select-decimals", filter: `{"select":{"field":"a","index":1.5,"query":{"exists":"value"}}}`, msg: `"select.index": cannot have decimals, must be an integer`},
		{name: "select-query-error", filter: `{"select":{"field":"a","index":0,"query":{"bad":1}}}`, msg: `"select.query.bad": unknown keyword`},
		{name: "quirk-not-select-crashes", filter: `{"not":{"select":{"field":"a","index":0,"query":{"exists":"value"}}}}`, msg: `this.storeOperand[cond.keyword] is not a function`},
		{name: "quirk-not-nothing-crashes", filter: `{"not":{"nothing":1}}`, msg: `this.storeOperand[cond.keyword] is not a function`},
		{name: "too-many-conditions-error", filter: `{"in":{"a":[` + strings.TrimSuffix(strings.Repeat(`"v",`, 51), ",") + `]}}`, cfg: Config{MaxConditions: 50}, msg: `Filter too complex: exceeds the configured maximum number of conditions (conditions: 51, max: 50)`},
		{name: "too-many-conditions-default", filter: `{"in":{"a":[` + strings.TrimSuffix(strings.Repeat(`"v",`, 101), ",") + `]}}`, msg: `Filter too complex: exceeds the configured maximum number of conditions (conditions: 101, max: 100)`},
		{name: "select-query-too-complex", filter: `{"select":{"field":"a","index":0,"query":{"in":{"value":["a","b","c"]}}}}`, cfg: Config{MaxConditions: 2}, msg: `Filter too complex: exceeds the configured maximum number of conditions (conditions: 3, max: 2)`},
		{name: "nesting-limit", filter: strings.Repeat(`{"not":`, 70) + `{"exists":"a"}` + strings.Repeat(`}`, 70), msg: errTooDeep().Message},
		{name: "blow-up-guard", filter: blowUp(16), cfg: Config{MaxConditions: -1}, msg: errTooManyTerms().Message},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEngine(tc.cfg).Normalize("i", []byte(tc.filter))
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("filter %s: got %v, want *Error %q", tc.filter, err, tc.msg)
			}
			if fe.Message != tc.msg {
				t.Errorf("filter %s:\n got  %q\n want %q", tc.filter, fe.Message, tc.msg)
			}
		})
	}
}

// blowUp is an and of n two-way ors: 2^n subfilters.
func blowUp(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, fmt.Sprintf(`{"or":[{"equals":{"a%d":1}},{"equals":{"b%d":1}}]}`, i, i))
	}
	return `{"and":[` + strings.Join(parts, ",") + `]}`
}

func TestNoLimit(t *testing.T) {
	e := NewEngine(Config{MaxConditions: -1})
	mustNormalize(t, e, "i", `{"in":{"a":[`+strings.TrimSuffix(strings.Repeat(`"v",`, 500), ",")+`]}}`)
}

func TestIDs(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "doc-example", a: `{"and":[{"not":{"in":{"f":["foo","bar"]}}},{"missing":"g"}]}`, b: `{"not":{"or":[{"or":[{"equals":{"f":"foo"}},{"equals":{"f":"bar"}}]},{"exists":"g"}]}}`, same: true},
		{name: "de-morgan", a: `{"not":{"and":[{"exists":"bar"},{"equals":{"foo":1}}]}}`, b: `{"or":[{"not":{"exists":"bar"}},{"not":{"equals":{"foo":1}}}]}`, same: true},
		{name: "bool-should-not", a: `{"bool":{"should_not":[{"exists":"bar"},{"equals":{"foo":1}}]}}`, b: `{"or":[{"not":{"exists":"bar"}},{"not":{"equals":{"foo":1}}}]}`, same: true},
		{name: "in-vs-or", a: `{"in":{"a":["x","y"]}}`, b: `{"or":[{"equals":{"a":"x"}},{"equals":{"a":"y"}}]}`, same: true},
		{name: "not-not", a: `{"not":{"not":{"equals":{"a":1}}}}`, b: `{"equals":{"a":1}}`, same: true},
		{name: "exists-syntaxes", a: `{"exists":"a"}`, b: `{"exists":{"field":"a"}}`, same: true},
		{name: "regexp-syntaxes", a: `{"regexp":{"a":"p"}}`, b: `{"regexp":{"a":{"value":"p"}}}`, same: true},
		{name: "and-reordered", a: `{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, b: `{"and":[{"equals":{"b":2}},{"equals":{"a":1}}]}`, same: true},
		{name: "or-reordered", a: `{"or":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, b: `{"or":[{"equals":{"b":2}},{"equals":{"a":1}}]}`, same: true},
		{name: "or-duplicated", a: `{"or":[{"equals":{"a":1}},{"equals":{"a":1}}]}`, b: `{"equals":{"a":1}}`, same: true},
		{name: "and-duplicated", a: `{"and":[{"equals":{"a":1}},{"equals":{"a":1}}]}`, b: `{"equals":{"a":1}}`, same: true},
		{name: "absorption", a: `{"or":[{"equals":{"a":1}},{"and":[{"equals":{"a":1}},{"equals":{"b":1}}]}]}`, b: `{"equals":{"a":1}}`, same: true},
		{name: "impossible-filters-collide", a: `{"and":[{"equals":{"city":"A"}},{"equals":{"city":"B"}}]}`, b: `{"and":[{"equals":{"city":"A"}},{"equals":{"city":"C"}}]}`, same: true},
		{name: "nothing-keyword-is-impossible", a: `{"nothing":1}`, b: `{"and":[{"exists":"a"},{"missing":"a"}]}`, same: true},
		{name: "match-key-order", a: `{"match":{"a":1,"b":{"x":1,"y":2}}}`, b: `{"match":{"b":{"y":2,"x":1},"a":1}}`, same: true},
		{name: "regexp-flag-order", a: `{"regexp":{"a":{"value":"x","flags":"is"}}}`, b: `{"regexp":{"a":{"value":"x","flags":"si"}}}`, same: true},
		{name: "number-spelling", a: `{"equals":{"a":1}}`, b: `{"equals":{"a":1.0}}`, same: true},
		{name: "empty-vs-tautology", a: `{}`, b: `{"or":[{"exists":"a"},{"missing":"a"}]}`, same: true},
		{name: "consensus", a: `{"or":[{"and":[{"equals":{"a":1}},{"exists":"b"}]},{"and":[{"equals":{"a":1}},{"missing":"b"}]}]}`, b: `{"equals":{"a":1}}`, same: true},
		{name: "empty-vs-null", a: `{}`, b: `null`, same: true},
		{name: "different-values", a: `{"equals":{"a":1}}`, b: `{"equals":{"a":"1"}}`, same: false},
		{name: "different-fields", a: `{"equals":{"a":1}}`, b: `{"equals":{"b":1}}`, same: false},
		{name: "gt-vs-gte", a: `{"range":{"a":{"gt":1}}}`, b: `{"range":{"a":{"gte":1}}}`, same: false},
		{name: "and-vs-or", a: `{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, b: `{"or":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, same: false},
	}
	e := NewEngine(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustNormalize(t, e, "i", tc.a), mustNormalize(t, e, "i", tc.b)
			if (a.ID == b.ID) != tc.same {
				t.Errorf("same id = %v, want %v\n %s\n %s", a.ID == b.ID, tc.same, a, b)
			}
		})
	}
	t.Run("index-matters", func(t *testing.T) {
		a, b := mustNormalize(t, e, "i", `{"equals":{"a":1}}`), mustNormalize(t, e, "j", `{"equals":{"a":1}}`)
		if a.ID == b.ID {
			t.Error("same id on two indexes")
		}
	})
	t.Run("shape", func(t *testing.T) {
		n := mustNormalize(t, e, "i", `{"equals":{"a":1}}`)
		if len(n.ID) != 64 || strings.Trim(n.ID, "0123456789abcdef") != "" {
			t.Errorf("id %q is not 64 lowercase hex characters", n.ID)
		}
		// deterministic across engines (and processes: the key is a constant)
		if m := mustNormalize(t, NewEngine(Config{MaxConditions: 7}), "i", `{"equals":{"a":1}}`); m.ID != n.ID {
			t.Error("id depends on the engine")
		}
	})
}

func TestStoreRemove(t *testing.T) {
	e := NewEngine(Config{})
	f1 := mustNormalize(t, e, "i", `{"equals":{"a":1}}`)
	f2 := mustNormalize(t, e, "i", `{"or":[{"equals":{"a":1}},{"range":{"b":{"gt":0}}}]}`)
	f3 := mustNormalize(t, e, "i", `{"not":{"equals":{"a":1}}}`)
	for _, n := range []*Normalized{f1, f2, f3, f1} {
		if err := e.Store(n); err != nil {
			t.Fatal(err)
		}
	}
	test := func(doc string) []string {
		ids := e.Test("i", []byte(doc), "", nil)
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got, want := test(`{"a":1}`), sorted(f1.ID, f2.ID); !slices.Equal(got, want) {
		t.Errorf("a=1: got %v, want %v", got, want)
	}
	if got, want := test(`{"b":1}`), sorted(f2.ID, f3.ID); !slices.Equal(got, want) {
		t.Errorf("b=1: got %v, want %v", got, want)
	}
	e.Remove("i", f1.ID)
	e.Remove("i", f1.ID)
	e.Remove("nope", f1.ID)
	if got, want := test(`{"a":1}`), sorted(f2.ID); !slices.Equal(got, want) {
		t.Errorf("after remove: got %v, want %v", got, want)
	}
	e.Remove("i", f2.ID)
	if got, want := test(`{"a":2,"b":1}`), sorted(f3.ID); !slices.Equal(got, want) {
		t.Errorf("after remove 2: got %v, want %v", got, want)
	}
	e.Remove("i", f3.ID)
	if len(e.indexes) != 0 {
		t.Errorf("empty index kept")
	}
	if got := e.Test("other", []byte(`{}`), "", nil); len(got) != 0 {
		t.Errorf("unknown index matched %v", got)
	}
	if err := e.Store(&Normalized{ID: "x"}); !errors.Is(err, ErrForeignFilter) {
		t.Errorf("foreign filter: %v", err)
	}
}

// TestRemoveRestoresStructures stores and removes many filters and checks that the
// index is empty again and that re-stored filters still match.
func TestRemoveRestoresStructures(t *testing.T) {
	e := NewEngine(Config{})
	var ns []*Normalized
	for i := 0; i < 200; i++ {
		f := fmt.Sprintf(`{"or":[{"equals":{"a":%d}},{"range":{"b":{"gte":%d,"lt":%d}}},{"geoDistance":{"p":[%d,0],"distance":"1km"}},{"exists":"t[%d]"},{"regexp":{"s":"^%d$"}}]}`, i, i, i+2, i%80, i, i)
		n := mustNormalize(t, e, "i", f)
		ns = append(ns, n)
		if err := e.Store(n); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 2; round++ {
		for i, n := range ns {
			doc := fmt.Sprintf(`{"b":%d.5}`, i)
			if !slices.Contains(e.Test("i", []byte(doc), "", nil), n.ID) {
				t.Fatalf("round %d: filter %d does not match %s", round, i, doc)
			}
		}
		for _, n := range ns {
			e.Remove("i", n.ID)
		}
		if len(e.indexes) != 0 {
			t.Fatalf("index not empty after removing everything")
		}
		for _, n := range ns {
			e.Store(n)
		}
	}
	if got := len(e.indexes["i"].conds); got != 4*200+80 {
		t.Fatalf("%d shared conditions after re-storing, want %d (80 distinct circles)", got, 4*200+80)
	}
}

func TestConcurrent(t *testing.T) {
	e := NewEngine(Config{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				n, err := e.Normalize("i", []byte(fmt.Sprintf(`{"range":{"a":{"gte":%d}}}`, w*1000+i)))
				if err != nil {
					t.Error(err)
					return
				}
				e.Store(n)
				if ids := e.Test("i", []byte(fmt.Sprintf(`{"a":%d}`, w*1000+i)), "", nil); !slices.Contains(ids, n.ID) {
					t.Errorf("stored filter does not match")
				}
				if i%3 == 0 {
					e.Remove("i", n.ID)
				}
			}
		}(w)
	}
	wg.Wait()
}

func TestTestAllocs(t *testing.T) {
	tests := []struct {
		name   string
		filter func(i int) string
		doc    string
	}{
		{name: "equals", filter: func(i int) string { return fmt.Sprintf(`{"equals":{"a":"v%d"}}`, i) }, doc: `{"a":"v7","b":{"c":1}}`},
		{name: "in", filter: func(i int) string { return fmt.Sprintf(`{"in":{"a":["v%d","w%d"]}}`, i, i) }, doc: `{"a":"w7"}`},
		{name: "exists", filter: func(i int) string { return fmt.Sprintf(`{"exists":"f%d"}`, i) }, doc: `{"f7":1,"z":[1,2]}`},
		{name: "range", filter: func(i int) string { return fmt.Sprintf(`{"range":{"a":{"gte":%d,"lt":%d}}}`, i, i+10) }, doc: `{"a":50}`},
		{name: "geoDistance", filter: func(i int) string {
			return fmt.Sprintf(`{"geoDistance":{"p":[%g,0],"distance":"5km"}}`, float64(i)/100)
		}, doc: `{"p":[0.5,0]}`},
		{name: "regexp", filter: func(i int) string { return fmt.Sprintf(`{"regexp":{"a":"^v%d"}}`, i) }, doc: `{"a":"v7x"}`},
		{name: "geoPolygon", filter: func(i int) string {
			return fmt.Sprintf(`{"geoPolygon":{"p":{"points":[[0,%d],[1,%d],[1,%d]]}}}`, i-50, i-50, i-49)
		}, doc: `{"p":{"lat":0.9,"lon":0.5}}`},
		{name: "geoBoundingBox", filter: func(i int) string {
			return fmt.Sprintf(`{"geoBoundingBox":{"p":{"top":%d,"left":0,"bottom":%d,"right":1}}}`, i+1, i-1)
		}, doc: `{"p":"7.5,0.5"}`},
		{name: "nested-and-not", filter: func(i int) string {
			return fmt.Sprintf(`{"and":[{"equals":{"n.a":%d}},{"not":{"equals":{"n.b":%d}}}]}`, i%10, i)
		}, doc: `{"n":{"a":3,"b":4}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(Config{})
			for i := 0; i < 100; i++ {
				e.Store(mustNormalize(t, e, "i", tc.filter(i)))
			}
			doc := []byte(tc.doc)
			dst := e.Test("i", doc, "", nil)
			if len(dst) == 0 {
				t.Fatalf("no match for %s", tc.doc)
			}
			allocs := testing.AllocsPerRun(100, func() { dst = e.Test("i", doc, "", dst[:0]) })
			if raceEnabled {
				t.Logf("race detector on: %v allocations per Test, not asserted", allocs)
				return
			}
			if allocs != 0 {
				t.Errorf("%v allocations per Test", allocs)
			}
		})
	}
}

// TestChurn stores and removes filters in random order (exercising the range tree's
// pending and removed conditions, the geo grid and shared conditions) and compares the
// engine with the direct evaluation of every stored filter.
func TestChurn(t *testing.T) {
	r := mulberry32(7)
	e := NewEngine(Config{})
	stored := map[string]*Normalized{}
	var order []string
	gen := func() string {
		lo := r.intn(-50, 50)
		switch r.intn(0, 3) {
		case 0:
			return fmt.Sprintf(`{"range":{"a":{"gte":%d,"lt":%d}}}`, lo, lo+r.intn(1, 30))
		case 1:
			return fmt.Sprintf(`{"not":{"range":{"a":{"gt":%d}}}}`, lo)
		case 2:
			return fmt.Sprintf(`{"geoDistance":{"p":[%d,%d],"distance":"%dkm"}}`, lo/10, lo/5, r.intn(1, 900))
		}
		return fmt.Sprintf(`{"and":[{"range":{"a":{"lte":%d}}},{"equals":{"b":%d}}]}`, lo, lo%3)
	}
	for step := 0; step < 1500; step++ {
		if len(order) > 0 && r.next() < 0.4 {
			i := r.intn(0, len(order)-1)
			e.Remove("i", order[i])
			delete(stored, order[i])
			order = append(order[:i], order[i+1:]...)
		} else {
			n := mustNormalize(t, e, "i", gen())
			if stored[n.ID] == nil {
				stored[n.ID] = n
				order = append(order, n.ID)
			}
			e.Store(n)
		}
		if step%25 != 0 {
			continue
		}
		for k := 0; k < 20; k++ {
			doc := fmt.Sprintf(`{"a":%d,"b":%d,"p":[%d,%d]}`, r.intn(-60, 60), r.intn(0, 2), r.intn(-5, 5), r.intn(-10, 10))
			got := e.Test("i", []byte(doc), "", nil)
			for id, n := range stored {
				if want := Match(n, []byte(doc), ""); slices.Contains(got, id) != want {
					t.Fatalf("step %d: filter %s on %s: engine %v, direct %v", step, n, doc, !want, want)
				}
			}
		}
	}
}

// TestLargeFilters normalizes big filters without a condition limit: the work stays
// bounded (linear in the conditions for conjunctions, capped for distributions).
func TestLargeFilters(t *testing.T) {
	many := func(op string, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"range":{"f%d":{"gt":%d}}}`, i%7, i)
		}
		return `{"` + op + `":[` + strings.Join(parts, ",") + `]}`
	}
	e := NewEngine(Config{MaxConditions: -1})
	for _, tc := range []struct {
		name   string
		filter string
		ok     bool
	}{
		{name: "and-50000", filter: many("and", 50000), ok: true},
		{name: "or-10000", filter: many("or", 10000), ok: true},
		{name: "or-20000", filter: many("or", 20000), ok: false},
		{name: "match-20000-keys", filter: func() string {
			parts := make([]string, 20000)
			for i := range parts {
				parts[i] = fmt.Sprintf(`"k%d":%d`, i, i)
			}
			return `{"match":{` + strings.Join(parts, ",") + `,"k1":-1}}`
		}(), ok: true},
		{name: "in-10000", filter: `{"in":{"a":[` + strings.TrimSuffix(strings.Repeat(`"v",`, 10000), ",") + `]}}`, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := e.Normalize("i", []byte(tc.filter))
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				if err := e.Store(n); err != nil {
					t.Fatal(err)
				}
				e.Test("i", []byte(`{"f1":3,"a":"v"}`), "", nil)
				e.Remove("i", n.ID)
			}
		})
	}
}

func TestLockShardPadding(t *testing.T) {
	var m shardedRWMutex
	if size := unsafe.Sizeof(m.shards[0]); size != 64 {
		t.Errorf("lock shard is %d bytes, want one 64-byte cache line", size)
	}
}
