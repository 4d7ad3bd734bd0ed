package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// TestWorkloadAgreesWithKoncorde checks the load generator's evaluator against the real
// Koncorde 4.7 (bench/peers/kuzzle/match.js, installed by npm ci): for the mixed workload of
// the full preset (4,000 filters) and every document of its pool, and for the targeted
// workload, both must find the same matching filters. The verification of the filtered
// scenarios rests on this agreement.
func TestWorkloadAgreesWithKoncorde(t *testing.T) {
	roots, err := FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: t.Context(), cfg: Quick(), roots: roots}
	dir := e.nodeDir("kuzzle-standin")
	if err := e.npmCI(dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind string
		subs int
	}{{load.WorkMixed, Full().FilterSubs}, {load.WorkTargeted, 500}} {
		w, err := load.NewWorkload(c.kind, c.subs, 1)
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Filters []json.RawMessage `json:"filters"`
			Docs    []json.RawMessage `json:"docs"`
		}
		for i := range w.Subs {
			f := w.Filter(i)
			in.Filters = append(in.Filters, f.AppendJSON(nil))
		}
		for m := range w.PoolSize() {
			d := w.Doc(m)
			in.Docs = append(in.Docs, load.AppendDocBody(nil, 1, int64(m), 0, &d))
		}
		b, _ := json.Marshal(in)
		cmd := exec.CommandContext(t.Context(), "node", "match.js")
		cmd.Dir = dir
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: node match.js: %v", c.kind, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		m, pairs, bad := 0, 0, 0
		for ; sc.Scan(); m++ {
			var got []int
			if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
				t.Fatalf("%s: line %d: %v", c.kind, m, err)
			}
			var want []int
			for i := range w.Subs {
				if w.Matches(i, m) {
					want = append(want, i)
				}
			}
			pairs += len(want)
			if !slices.Equal(got, want) {
				bad++
				if bad <= 3 {
					t.Errorf("%s: document %d matches %d filters for Koncorde, %d for the evaluator", c.kind, m, len(got), len(want))
				}
			}
		}
		if m != w.PoolSize() {
			t.Fatalf("%s: %d answers for %d documents", c.kind, m, w.PoolSize())
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d documents disagree", c.kind, bad, m)
		}
		t.Logf("%s: %d filters x %d documents, %d matching pairs, all agree: %v", c.kind, w.Subs, m, pairs, bad == 0)
	}
}
