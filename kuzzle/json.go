package kuzzle

import (
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s to dst as a JSON string, escaped as JavaScript's JSON.stringify
// escapes it (ECMA-262 QuoteJSONString): quote, backslash, \b \f \n \r \t, other control
// characters as \u00XX; everything else, "<", ">", "&" and U+2028 included, as is. Invalid
// UTF-8 becomes U+FFFD, so the output is always valid JSON. This is the module's one JSON
// string encoder.
func AppendString(dst []byte, s string) []byte {
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

// AppendRoom sets the root attribute `room` of obj to quoted, a JSON string (the
// requestId of a response, the channel of a notification), and returns the extended
// slice. obj must be a JSON object that ends with its closing brace, has at least one key
// and no `room` key yet: every payload kuzzlews builds. The key is appended last, where
// Kuzzle's entry points put it (lib/core/network/protocols/websocket.ts appends
// `,"room":…}` to the serialized payload), so the result is byte for byte what
// sjson.SetRawBytes(obj, "room", quoted) returns, without re-scanning obj, and in place
// when obj has the capacity. This is the module's one way to set `room`.
func AppendRoom[T ~string | ~[]byte](obj []byte, quoted T) []byte {
	obj = append(obj[:len(obj)-1], `,"room":`...)
	obj = append(obj, quoted...)
	return append(obj, '}')
}

// View parses the JSON value raw without copying it. Strings in the result (Raw, and Str
// of a string without escapes) alias raw: they are valid only while raw is, so clone any
// that must outlive it. raw must be valid JSON.
func View(raw []byte) gjson.Result {
	return gjson.Parse(unsafe.String(unsafe.SliceData(raw), len(raw)))
}

// Bytes returns the bytes of s without copying: the caller must not modify them. nil
// for "".
func Bytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Present reports whether v exists and is not JSON null: Kuzzle treats a null argument as
// an absent one.
func Present(v gjson.Result) bool { return v.Exists() && v.Type != gjson.Null }

// Truthy reports whether v is truthy in JavaScript's sense: present and not null, false,
// 0, -0, NaN or "". Kuzzle's argument checks are written `if (!args.index)`.
func Truthy(v gjson.Result) bool {
	switch v.Type {
	case gjson.Null, gjson.False:
		return false
	case gjson.Number:
		return v.Num != 0
	case gjson.String:
		return v.Str != ""
	}
	return v.Exists()
}

// AppendRawOrNull appends raw, or the JSON literal null when raw is empty.
func AppendRawOrNull[T ~string | ~[]byte](dst []byte, raw T) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, raw...)
}

// SetKey returns a copy of obj, a JSON object, with the top-level key (a plain name: no
// escapes, no gjson path syntax) set to the JSON value raw: replaced where it stands when
// present (as a JavaScript assignment keeps the key's position), else appended as the
// last key. Later occurrences of a duplicated key (which JSON.parse would resolve to the
// last one) are removed with their leading comma, so a sender cannot forge the value a
// JavaScript reader sees. Without duplicates the result is what
// sjson.SetRawBytes(obj, key, raw) returns, in one allocation. obj is not modified.
func SetKey(obj []byte, key string, raw []byte) []byte {
	var first gjson.Result
	var dups [][2]int // byte ranges [end of the previous value, end of the duplicate's value)
	prevEnd, empty := 0, true
	View(obj).ForEach(func(k, v gjson.Result) bool {
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

// FirstByte returns the first byte of b that is not JSON whitespace, or 0.
func FirstByte(b []byte) byte {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}

// depthExceeds reports whether the JSON text msg nests arrays and objects deeper than
// max. It is linear and not recursive, so it can run before any recursive parser. A
// message with no more than max opening brackets in all cannot be too deep: that case,
// the common one, costs two vectorized byte counts.
func depthExceeds(msg []byte, max int) bool {
	if countByte(msg, '[')+countByte(msg, '{') <= max {
		return false
	}
	depth := 0
	inString := false
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > max {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
