package filter

import (
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
// flattenObject does (spec section 3), keeping only registered fields and descending
// only into registered prefixes; sc.path holds the current prefix (empty at the top).
// It returns the index just past the object.
func (x *index) walkObject(sc *scratch, s string, i int, skipID bool, depth int) int {
	top := len(sc.path) == 0
	i++
	for i < len(s) {
		i = skipWS(s, i)
		if i >= len(s) {
			return i
		}
		switch s[i] {
		case '}':
			return i + 1
		case ',':
			i++
			continue
		case '"':
		default:
			return len(s) // malformed
		}
		kEnd, esc := stringEnd(s, i)
		if kEnd >= len(s) {
			return len(s)
		}
		key := s[i+1 : kEnd]
		if esc {
			key = gjson.Parse(s[i : kEnd+1]).Str
		}
		i = skipWS(s, kEnd+1)
		if i >= len(s) || s[i] != ':' {
			return len(s)
		}
		i = skipWS(s, i+1)
		vEnd := skipValue(s, i)
		if vEnd <= i {
			return len(s)
		}
		raw := s[i:vEnd]
		if !(top && skipID && key == "_id") {
			var full string
			n := len(sc.path)
			if top {
				full = key
			} else {
				sc.path = append(sc.path, '.')
				sc.path = append(sc.path, key...)
			}
			if !top {
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
					x.walkObject(sc, s, i, false, depth+1)
					if top {
						sc.path = sc.path[:0]
					}
				}
			}
			sc.path = sc.path[:n]
		}
		i = vEnd
	}
	return i
}
