// Package filter compiles Koncorde filters (the DSL of Kuzzle subscriptions) and matches
// JSON documents against every filter registered for an index.
//
// Concurrency: an Engine is safe for concurrent use. Test may run on many goroutines at
// once; Normalize is pure; Store and Remove take the engine's write lock.
//
// Spec: ../shared/spec/koncorde.md (Koncorde 4.7, as Kuzzle 2.56 drives it).
//
// STUB: this file fixes the API that room/ builds on. Only `{}` and `equals` are
// implemented; the full engine replaces the bodies, not the signatures.
package filter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"

	"github.com/tidwall/gjson"
)

// DefaultMaxConditions is Kuzzle's limits.subscriptionConditionsCount default.
const DefaultMaxConditions = 100

// Config configures an Engine. The zero value works.
type Config struct {
	// MaxConditions is the largest number of conditions a normalized filter may hold,
	// counted as Koncorde counts them (spec/koncorde.md section 5.2). Zero means
	// DefaultMaxConditions; a negative value means no limit.
	MaxConditions int
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
	// ID identifies the filter: 64 lowercase hex characters, equal for equivalent
	// filters on the same index, stable across processes. It is Kuzzle's roomId.
	ID string
	// Index is the Koncorde index the filter belongs to (Kuzzle: "<index>/<collection>").
	Index string

	equals map[string]any // stub representation
}

// Engine holds the stored filters of every index and matches documents against them.
type Engine struct {
	cfg Config

	mu      sync.RWMutex // guards indexes
	indexes map[string]map[string]*Normalized
}

// NewEngine returns an empty engine.
func NewEngine(cfg Config) *Engine {
	if cfg.MaxConditions == 0 {
		cfg.MaxConditions = DefaultMaxConditions
	}
	return &Engine{cfg: cfg, indexes: map[string]map[string]*Normalized{}}
}

// Normalize validates filter (a JSON object; empty, `{}` or `null` match everything)
// and returns its canonical form for index. It stores nothing. A filter Koncorde
// rejects returns *Error with Koncorde's message.
func (e *Engine) Normalize(index string, filter []byte) (*Normalized, error) {
	var m map[string]map[string]any
	if len(filter) > 0 && string(filter) != "null" {
		if err := json.Unmarshal(filter, &m); err != nil {
			return nil, &Error{Message: "invalid filter"}
		}
	}
	n := &Normalized{Index: index}
	for k, v := range m {
		if k != "equals" {
			return nil, &Error{Message: `"` + k + `": unknown keyword`}
		}
		n.equals = v
	}
	canon, _ := json.Marshal(struct {
		Filter map[string]any `json:"filter"`
		Index  string         `json:"index"`
	}{n.equals, index})
	mac := hmac.New(sha256.New, []byte("^m&mOISKBvb1xpl1mRsrylaQXpjb&IJX"))
	mac.Write(canon)
	n.ID = hex.EncodeToString(mac.Sum(nil))
	return n, nil
}

// ErrForeignFilter is returned by Store for a Normalized not made by Normalize.
var ErrForeignFilter = errors.New("filter: not a normalized filter")

// Store registers n in its index. Storing an ID already stored is a no-op.
func (e *Engine) Store(n *Normalized) error {
	if n == nil || n.ID == "" {
		return ErrForeignFilter
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	idx := e.indexes[n.Index]
	if idx == nil {
		idx = map[string]*Normalized{}
		e.indexes[n.Index] = idx
	}
	idx[n.ID] = n
	return nil
}

// Remove unregisters the filter id from index. Unknown ids and indexes are no-ops.
func (e *Engine) Remove(index, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.indexes[index], id)
	if len(e.indexes[index]) == 0 {
		delete(e.indexes, index)
	}
}

// Test appends to dst the ids of the filters of index that doc (a JSON object) matches,
// and returns the extended slice. docID, when not empty, is the document's `_id`: it
// overrides any `_id` field of doc, as Kuzzle does (spec/koncorde.md section 1).
// The order of ids is unspecified.
func (e *Engine) Test(index string, doc []byte, docID string, dst []string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for id, n := range e.indexes[index] {
		ok := true
		for field, want := range n.equals {
			got := gjson.GetBytes(doc, gjson.Escape(field))
			if field == "_id" && docID != "" {
				got = gjson.Parse(`"` + docID + `"`)
			}
			if !got.Exists() || got.Value() != want {
				ok = false
				break
			}
		}
		if ok {
			dst = append(dst, id)
		}
	}
	return dst
}
