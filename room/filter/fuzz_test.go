package filter

import (
	"testing"

	"github.com/tidwall/gjson"
)

// FuzzCompile checks that Normalize, Store, Test and Remove never panic or hang on
// any input, and that the indexed matcher agrees with the direct evaluator.
func FuzzCompile(f *testing.F) {
	seeds := []string{
		`{}`, `null`, `"ab"`, `[1]`, `5`,
		`{"equals":{"a":1}}`, `{"in":{"a":["x","y"]}}`, `{"ids":{"values":["a"]}}`,
		`{"exists":"a.b[\"x\"]"}`, `{"missing":{"field":"a"}}`,
		`{"range":{"a":{"gt":1,"lte":5}}}`, `{"regexp":{"a":{"value":"^x","flags":"i"}}}`,
		`{"geoBoundingBox":{"p":{"top":1,"left":0,"bottom":0,"right":1}}}`,
		`{"geoDistance":{"p":"u09tvw0","distance":"1,5 km"}}`,
		`{"geoDistanceRange":{"p":{"lat":1,"lon":2},"from":"1m","to":"2mi"}}`,
		`{"geoPolygon":{"p":{"points":[[0,0],[0,1],"1,1"]}}}`,
		`{"match":{"a":[1,{"b":2}]}}`, `{"select":{"field":"a","index":-1,"query":{"equals":{"value.x":1}}}}`,
		`{"bool":{"must":{"equals":{"a":1}},"must_not":[{"exists":"b"}],"should":[{"equals":{"c":1}}],"should_not":[{"equals":{"d":1}}]}}`,
		`{"not":{"and":[{"or":[{"equals":{"a":1}},{"equals":{"b":1}}]},{"not":{"exists":"c"}}]}}`,
		`{"nothing":true}`, `{"not":{"nothing":true}}`,
	}
	for _, s := range seeds {
		f.Add(s, `{"a":1,"b":{"c":[1,"x"]},"p":[0,0],"a.b":2}`)
	}
	f.Fuzz(func(t *testing.T, filter, doc string) {
		e := NewEngine(Config{})
		n, err := e.Normalize("i", []byte(filter))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(n.ID) != 64 {
			t.Fatalf("id %q", n.ID)
		}
		if err := e.Store(n); err != nil {
			t.Fatalf("Store after Normalize: %v", err)
		}
		got := len(e.Test("i", []byte(doc), "", nil)) == 1
		// on malformed JSON the two readers may stop at different places; only
		// valid documents have a defined answer
		if direct := Match(n, []byte(doc), ""); gjson.Valid(doc) && direct != got {
			t.Fatalf("engine %v, direct %v", got, direct)
		}
		e.Remove("i", n.ID)
	})
}
