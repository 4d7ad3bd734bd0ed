package room

import (
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as JavaScript's JSON.stringify
// escapes (quote, backslash, \b \f \n \r \t, other control characters as \u00XX).
// Invalid UTF-8 becomes U+FFFD so that the output is always valid JSON.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// view parses the JSON value raw without copying it. Strings in the result (Str of a
// string without escapes, Raw) alias raw: they are valid only while raw is, so clone
// any that must outlive the request.
func view(raw []byte) gjson.Result {
	return gjson.Parse(unsafe.String(unsafe.SliceData(raw), len(raw)))
}

// rawOrNull appends raw, or the JSON literal null when raw is nil.
func rawOrNull(dst, raw []byte) []byte {
	if raw == nil {
		return append(dst, "null"...)
	}
	return append(dst, raw...)
}

// truthy reports whether the JSON value raw is truthy in JavaScript's sense: present
// and not null, false, 0, -0, NaN or "".
func truthy(raw []byte) bool {
	if raw == nil {
		return false
	}
	v := view(raw)
	switch v.Type {
	case gjson.Null, gjson.False:
		return false
	case gjson.Number:
		return v.Num != 0
	case gjson.String:
		return v.Str != ""
	}
	return true
}

// setKey returns a copy of obj, a JSON object, with the top-level key (a plain name:
// no escapes, no gjson path syntax) set to the JSON value raw: replaced where it
// stands when present (as a JavaScript assignment keeps the key's position), else
// appended as the last key. It returns what sjson.SetRawBytes(obj, key, raw) returns,
// in one allocation.
func setKey(obj []byte, key string, raw []byte) []byte {
	// One pass over the members: the first occurrence of key is replaced in place; later
	// occurrences (a duplicated key, which JSON.parse would resolve to the last one) are
	// removed with their leading comma, so no client can read a value the sender forged.
	var first gjson.Result
	var dups [][2]int // byte ranges [end of the previous value, end of the duplicate's value)
	prevEnd, empty := 0, true
	view(obj).ForEach(func(k, v gjson.Result) bool {
		empty = false
		end := v.Index + len(v.Raw)
		if k.Str == key {
			if !first.Exists() {
				first = v
			} else {
				dups = append(dups, [2]int{prevEnd, end})
			}
		}
		prevEnd = end
		return true
	})
	if first.Exists() && first.Index > 0 {
		out := make([]byte, 0, len(obj)-len(first.Raw)+len(raw))
		out = append(out, obj[:first.Index]...)
		out = append(out, raw...)
		from := first.Index + len(first.Raw)
		for _, d := range dups {
			out = append(out, obj[from:d[0]]...)
			from = d[1]
		}
		return append(out, obj[from:]...)
	}
	end := len(obj) - 1
	for end > 0 && obj[end] != '}' {
		end--
	}
	out := make([]byte, 0, len(obj)+len(key)+len(raw)+4)
	out = append(out, obj[:end]...)
	if !empty {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, '"', ':')
	out = append(out, raw...)
	return append(out, '}') // trailing whitespace dropped, as sjson does
}
