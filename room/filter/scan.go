package filter

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// A minimal JSON object scanner for Test: it finds member keys and skips values
// without decoding them, and only turns the values of registered fields into
// gjson.Results. Input is the caller's document, assumed to be JSON; on malformed
// input it stops early and never reads out of bounds.

func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index of the closing quote of the string starting at s[i]
// (a quote), and whether it holds escapes; len(s) if unterminated.
func stringEnd(s string, i int) (int, bool) {
	// fast path: the next quote with no backslash before it
	if k := strings.IndexByte(s[i+1:], '"'); k >= 0 && strings.IndexByte(s[i+1:i+1+k], '\\') < 0 {
		return i + 1 + k, false
	}
	esc := false
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			esc = true
			i++
		case '"':
			return i, esc
		}
	}
	return len(s), esc
}

// skipValue returns the index just past the JSON value starting at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		e, _ := stringEnd(s, i)
		return min(e+1, len(s))
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				e, _ := stringEnd(s, i)
				i = e
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(s)
	}
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// resultOf returns the gjson.Result of the raw JSON value, without copying.
func resultOf(raw string) gjson.Result {
	if raw == "" {
		return gjson.Result{}
	}
	switch raw[0] {
	case '"':
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && strings.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
			return gjson.Result{Type: gjson.String, Raw: raw, Str: raw[1 : len(raw)-1]}
		}
		return gjson.Parse(raw)
	case 't':
		return gjson.Result{Type: gjson.True, Raw: raw}
	case 'f':
		return gjson.Result{Type: gjson.False, Raw: raw}
	case 'n':
		return gjson.Result{Type: gjson.Null, Raw: raw}
	case '{', '[':
		return gjson.Result{Type: gjson.JSON, Raw: raw}
	}
	return gjson.Result{Type: gjson.Number, Raw: raw, Num: parseJSONNumber(raw)}
}

// walkObject flattens the JSON object starting at s[i] ('{') as Koncorde's
// flattenObject does (lib/util/Flatten.ts), keeping only registered fields and descending
// only into registered prefixes; sc.path holds the current prefix (empty at the top).
// It returns the index just past the object. Members are taken in JSON order; when an
// object has array-index keys ("0", "12"), which JavaScript lists first, the walk
// only notes it in sc.sawIndex and Test walks again with ordered set.
func (x *index) walkObject(sc *scratch, s string, i int, skipID, ordered bool, depth int) int {
	type member struct {
		key        string
		start, end int
		idx        uint64
		isIdx      bool
	}
	var members []member // ordered mode only
	i++
	for i < len(s) {
		i = skipWS(s, i)
		if i >= len(s) {
			break
		}
		c := s[i]
		if c == '}' {
			i++
			break
		}
		if c == ',' {
			i++
			continue
		}
		if c != '"' {
			i = len(s) // malformed
			break
		}
		kEnd, esc := stringEnd(s, i)
		if kEnd >= len(s) {
			i = len(s)
			break
		}
		key := s[i+1 : kEnd]
		if esc {
			key = gjson.Parse(s[i : kEnd+1]).Str
		}
		i = skipWS(s, kEnd+1)
		if i >= len(s) || s[i] != ':' {
			i = len(s)
			break
		}
		i = skipWS(s, i+1)
		vEnd := skipValue(s, i)
		if vEnd <= i {
			i = len(s)
			break
		}
		if ordered {
			n, isIdx := isArrayIndex(key)
			members = append(members, member{key, i, vEnd, n, isIdx})
		} else {
			if key != "" && key[0] >= '0' && key[0] <= '9' {
				if _, isIdx := isArrayIndex(key); isIdx {
					sc.sawIndex = true
				}
			}
			x.member(sc, s, key, i, vEnd, skipID, false, depth)
		}
		i = vEnd
	}
	if ordered {
		slices.SortStableFunc(members, func(a, b member) int {
			return jsKeyOrder(a.idx, a.isIdx, b.idx, b.isIdx)
		})
		for _, m := range members {
			x.member(sc, s, m.key, m.start, m.end, skipID, true, depth)
		}
	}
	return i
}

// member records the value s[start:end] of key, and walks into it when it is an
// object leading to a registered field.
func (x *index) member(sc *scratch, s, key string, start, end int, skipID, ordered bool, depth int) {
	top := len(sc.path) == 0
	if top && skipID && key == "_id" {
		return
	}
	raw := s[start:end]
	full := key
	n := len(sc.path)
	if !top {
		sc.path = append(sc.path, '.')
		sc.path = append(sc.path, key...)
		// sc.path is not modified while the string is in use
		full = unsafe.String(unsafe.SliceData(sc.path), len(sc.path))
	}
	if slot, ok := x.slotOf(full); ok {
		x.setValue(sc, slot, resultOf(raw))
	}
	if raw[0] == '{' && depth < 512 {
		if _, isPrefix := x.prefixes[full]; isPrefix {
			if top {
				sc.path = append(sc.path[:0], key...)
			}
			x.walkObject(sc, s, start, false, ordered, depth+1)
		}
	}
	sc.path = sc.path[:n]
}
