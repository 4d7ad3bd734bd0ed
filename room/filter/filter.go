package filter

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultMaxConditions is Kuzzle's limits.subscriptionConditionsCount default.
const DefaultMaxConditions = 100

// Config configures an Engine. The zero value works.
type Config struct {
	// MaxConditions is the largest number of conditions a filter may hold, counted as
	// Koncorde counts them (lib/transform/canonical.ts, _countConditions: every
	// condition of the standardized filter, `in` and `ids` counting one per value).
	// Zero means DefaultMaxConditions; a negative value means no limit. Independently
	// of it, a filter whose normal form exceeds 16384 subfilters or 262144 conditions
	// is rejected, which bounds the work of Normalize on any input.
	MaxConditions int
}

func (c Config) withDefaults() Config {
	if c.MaxConditions == 0 {
		c.MaxConditions = DefaultMaxConditions
	}
	return c
}

// Error is a filter rejected by Normalize. Message is Koncorde's message verbatim
// (for example `"term": unknown keyword`), which Kuzzle returns as the message of
// api.assert.koncorde_dsl_error.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

// Normalized is a validated filter in canonical form, bound to one index.
// It is immutable and may be shared.
type Normalized struct {
	// ID identifies the filter: 64 lowercase hex characters (HMAC-SHA256 of the
	// canonical form and the index under a fixed key), equal for equivalent filters on
	// the same index, stable across processes. It is Kuzzle's roomId.
	ID string
	// Index is the Koncorde index the filter belongs to (Kuzzle: "<index>/<collection>").
	Index string

	c *canonical
}

// String renders the canonical form, for debugging: subfilters joined by " OR ",
// conditions by " AND ".
func (n *Normalized) String() string {
	if len(n.c.terms) == 0 {
		return "nothing"
	}
	var parts []string
	for _, t := range n.c.terms {
		if len(t) == 0 {
			parts = append(parts, "everything")
			continue
		}
		var c []string
		for _, l := range t {
			s := n.c.atoms[l/2].key
			if l&1 == 1 {
				s = "NOT " + s
			}
			c = append(c, s)
		}
		parts = append(parts, strings.Join(c, " AND "))
	}
	return strings.Join(parts, " OR ")
}

// Engine holds the stored filters of every index and matches documents against them.
// It is safe for concurrent use: Test runs under a read lock, Store and Remove under
// the write lock, Normalize takes no lock.
type Engine struct {
	cfg Config

	mu      shardedRWMutex    // guards indexes and everything reachable from them
	indexes map[string]*index // by Koncorde index name

	last    atomic.Pointer[index] // index of the previous Test, saves a map lookup
	scratch sync.Pool             // *scratch, per-Test working memory
}

// NewEngine returns an empty engine.
func NewEngine(cfg Config) *Engine {
	return &Engine{cfg: cfg.withDefaults(), indexes: map[string]*index{}}
}

// Normalize validates filter (a JSON object; empty, `{}` or `null` match everything)
// and returns its canonical form for index. It stores nothing. A filter Koncorde
// rejects returns *Error with Koncorde's message, including the errors Koncorde only
// raises when storing (doc.go, Q10 and Q11), so that Store never fails on its
// result.
func (e *Engine) Normalize(index string, filter []byte) (*Normalized, error) {
	text := strings.TrimSpace(string(filter))
	var root *jsv
	if text == "" || text == "null" {
		root = newObject()
	} else {
		v, ok, err := parseJS(text)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Message: "Invalid filter: not valid JSON"}
		}
		root = v
	}
	c, err := normalizeJS(root, e.cfg.MaxConditions)
	if err != nil {
		return nil, err
	}
	return &Normalized{ID: filterID(index, c), Index: index, c: c}, nil
}

// normalizeJS standardizes, counts, expands and canonicalizes a decoded filter.
func normalizeJS(root *jsv, maxConditions int) (*canonical, error) {
	var s standardizer
	std, err := s.standardize(root, nil)
	if err != nil {
		return nil, err
	}
	if len(std.keys) == 0 {
		// everything: the same canonical form as any tautology
		return canonicalize(nil, dnf{{}}, maxConditions)
	}
	b := &builder{atoms: map[string]*atom{}}
	ex, err := b.build(std)
	if err != nil {
		return nil, err
	}
	if maxConditions > 0 && b.count > maxConditions {
		return nil, tooManyConditions(b.count, maxConditions)
	}
	d := &dnfBuilder{index: map[*atom]int{}}
	for i, a := range b.order {
		d.index[a] = i
	}
	raw, err := d.toDNF(ex, false)
	if err != nil {
		return nil, err
	}
	c, err := canonicalize(b.order, raw, maxConditions)
	if err != nil {
		return nil, err
	}
	c.count = b.count
	return c, nil
}

func tooManyConditions(count, max int) *Error {
	return &Error{Message: "Filter too complex: exceeds the configured maximum number of conditions (conditions: " +
		strconv.Itoa(count) + ", max: " + strconv.Itoa(max) + ")"}
}

// storeChecks raises, at normalization time, the errors Koncorde throws when storing
// a filter: a bounding box whose bottom is not below its top or whose left is not
// left of its right (boost-geospatial-index), a negated select or nothing (no such
// operand), and the errors of a select's query, which Koncorde normalizes at store
// time (doc.go, Q10 and Q11).
func storeChecks(t []lit, atoms []*atom, maxConditions int) error {
	{
		for _, l := range t {
			a := atoms[l/2]
			switch a.kind {
			case akGeo:
				if a.geo.kind == geoBBox {
					if !(a.geo.bottom < a.geo.top) {
						return &Error{Message: "min_lat argument cannot be greater or equal max_lat"}
					}
					if !(a.geo.left < a.geo.right) {
						return &Error{Message: "min_lon argument cannot be greater or equal max_lon"}
					}
				}
			case akSelect:
				if l&1 == 1 {
					return &Error{Message: "this.storeOperand[cond.keyword] is not a function"}
				}
				if q := a.selQuery; maxConditions > 0 && q.count > maxConditions {
					return tooManyConditions(q.count, maxConditions)
				}
			case akNothing:
				if l&1 == 1 {
					return &Error{Message: "this.storeOperand[cond.keyword] is not a function"}
				}
			}
		}
	}
	return nil
}

// ErrForeignFilter is returned by Store for a Normalized not made by Normalize.
var ErrForeignFilter = errors.New("filter: not a normalized filter")

// Store registers n in its index. Storing an ID already stored is a no-op. It fails
// only for a Normalized that Normalize did not return.
func (e *Engine) Store(n *Normalized) error {
	if n == nil || n.ID == "" || n.c == nil {
		return ErrForeignFilter
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.indexes[n.Index]
	if x == nil {
		x = newIndex(n.Index)
		e.indexes[n.Index] = x
	}
	x.store(n)
	return nil
}

// Remove unregisters the filter id from index. Unknown ids and indexes are no-ops.
func (e *Engine) Remove(index, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.indexes[index]
	if x == nil {
		return
	}
	x.remove(id)
	if len(x.filters) == 0 {
		delete(e.indexes, index)
		e.last.CompareAndSwap(x, nil)
	}
}

// Test appends to dst the ids of the filters of index that doc (a JSON object) matches,
// and returns the extended slice. docID, when not empty, is the document's `_id`: it
// overrides any `_id` field of doc, as Kuzzle does (kuzzleio/kuzzle
// lib/util/koncordeCompat.ts, koncordeTest).
// The order of ids is unspecified; each id appears once. doc is only read during the
// call. A doc that is not a JSON object is tested as `{}` (plus docID).
func (e *Engine) Test(index string, doc []byte, docID string, dst []string) []string {
	defer e.mu.RUnlock(e.mu.RLock())
	x := e.last.Load()
	if x == nil || x.name != index {
		if x = e.indexes[index]; x == nil {
			return dst
		}
		e.last.Store(x)
	}
	sc, _ := e.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	dst = x.test(sc, doc, docID, dst)
	e.scratch.Put(sc)
	return dst
}
