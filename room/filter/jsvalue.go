package filter

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// jsKind is the JavaScript type of a decoded filter value.
type jsKind uint8

const (
	jsUndefined jsKind = iota
	jsNull
	jsBool
	jsNumber
	jsString
	jsArray
	jsObject
	jsExists // a NormalizedExists produced by the standardizer (never from JSON)
)

// jsv is a JSON value decoded the way JavaScript's JSON.parse decodes it: numbers are
// float64, object keys keep JavaScript's own-key order (array-index keys first, in
// ascending order, then the others in insertion order) and a duplicated key keeps its
// first position with its last value.
type jsv struct {
	kind jsKind
	b    bool
	n    float64
	s    string
	arr  []*jsv
	keys []string
	vals []*jsv

	// leaf is the standardizer's non-enumerable _isLeaf mark on and/or objects.
	leaf bool
	// ex is set for jsExists values.
	ex *existsSpec
}

// existsSpec is Koncorde's NormalizedExists: a field path, and for the array-value
// syntax `path[value]` the value looked for.
type existsSpec struct {
	path  string
	array bool
	value *jsv // JSON value in brackets; nil when !array (Koncorde stores null)
}

// get returns the own property key of an object, or nil when absent (undefined).
func (v *jsv) get(key string) *jsv {
	if v == nil || v.kind != jsObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *jsv) isPlainObject() bool { return v != nil && v.kind == jsObject }

// truthy is JavaScript's ToBoolean.
func (v *jsv) truthy() bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case jsUndefined, jsNull:
		return false
	case jsBool:
		return v.b
	case jsNumber:
		return v.n != 0 && !math.IsNaN(v.n)
	case jsString:
		return v.s != ""
	}
	return true
}

func newObject() *jsv { return &jsv{kind: jsObject} }

// set assigns key (appending it when new), as a JavaScript property assignment.
// Key order is fixed by sortKeys once the object is complete.
func (v *jsv) set(key string, val *jsv) {
	for i, k := range v.keys {
		if k == key {
			v.vals[i] = val
			return
		}
	}
	v.keys = append(v.keys, key)
	v.vals = append(v.vals, val)
}

// isArrayIndex reports whether key is a canonical array index ("0" .. "4294967294"),
// the keys JavaScript lists first, in numeric order.
func isArrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < math.MaxUint32
}

// sortKeys puts array-index keys first in ascending order, keeping the others in
// insertion order (ECMAScript OrdinaryOwnPropertyKeys).
func (v *jsv) sortKeys() {
	hasIndex := false
	for _, k := range v.keys {
		if _, ok := isArrayIndex(k); ok {
			hasIndex = true
			break
		}
	}
	if !hasIndex {
		return
	}
	type kv struct {
		k   string
		v   *jsv
		idx uint64
		isI bool
		pos int
	}
	all := make([]kv, len(v.keys))
	for i, k := range v.keys {
		n, ok := isArrayIndex(k)
		all[i] = kv{k, v.vals[i], n, ok, i}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.isI != b.isI {
			return a.isI
		}
		if a.isI {
			return a.idx < b.idx
		}
		return false
	})
	for i, e := range all {
		v.keys[i], v.vals[i] = e.k, e.v
	}
}

// maxFilterDepth bounds the nesting of a filter, so that recursion stays bounded.
const maxFilterDepth = 64

// errTooDeep is the error for a filter nested deeper than maxFilterDepth.
func errTooDeep() *Error {
	return &Error{Message: "Invalid filter: nested too deeply (max depth " + strconv.Itoa(maxFilterDepth) + ")"}
}

// parseJS decodes JSON text like JSON.parse. ok is false for invalid JSON.
func parseJS(text string) (*jsv, bool, error) {
	if !gjson.Valid(text) {
		return nil, false, nil
	}
	v, err := fromGJSON(gjson.Parse(text), 0)
	return v, true, err
}

func fromGJSON(r gjson.Result, depth int) (*jsv, error) {
	if depth > maxFilterDepth {
		return nil, errTooDeep()
	}
	switch r.Type {
	case gjson.Null:
		return &jsv{kind: jsNull}, nil
	case gjson.False:
		return &jsv{kind: jsBool}, nil
	case gjson.True:
		return &jsv{kind: jsBool, b: true}, nil
	case gjson.Number:
		return &jsv{kind: jsNumber, n: parseJSONNumber(r.Raw)}, nil
	case gjson.String:
		return &jsv{kind: jsString, s: r.Str}, nil
	}
	if r.IsArray() {
		out := &jsv{kind: jsArray, arr: []*jsv{}}
		var err error
		r.ForEach(func(_, e gjson.Result) bool {
			var c *jsv
			c, err = fromGJSON(e, depth+1)
			out.arr = append(out.arr, c)
			return err == nil
		})
		return out, err
	}
	out := newObject()
	var err error
	var pos map[string]int // key positions, once the object is big
	r.ForEach(func(k, e gjson.Result) bool {
		var c *jsv
		c, err = fromGJSON(e, depth+1)
		if pos == nil && len(out.keys) < 16 {
			out.set(k.Str, c)
			return err == nil
		}
		if pos == nil {
			pos = make(map[string]int, 2*len(out.keys))
			for i, key := range out.keys {
				pos[key] = i
			}
		}
		if i, ok := pos[k.Str]; ok {
			out.vals[i] = c // JSON.parse: the last duplicate wins, at the first position
		} else {
			pos[k.Str] = len(out.keys)
			out.keys = append(out.keys, k.Str)
			out.vals = append(out.vals, c)
		}
		return err == nil
	})
	out.sortKeys()
	return out, err
}

// parseJSONNumber converts a JSON number literal to float64 with JavaScript's
// rounding; out-of-range literals become ±Infinity, as in JSON.parse.
func parseJSONNumber(raw string) float64 {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// jsNumberString formats f as JavaScript's Number.prototype.toString (ECMA-262
// Number::toString with radix 10).
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	neg := f < 0
	if neg {
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exps, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(exps)
	k := len(digits)
	n := exp + 1
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		s = digits[:1]
		if k > 1 {
			s += "." + digits[1:]
		}
		if n-1 >= 0 {
			s += "e+" + strconv.Itoa(n-1)
		} else {
			s += "e-" + strconv.Itoa(1-n)
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// jsToString is JavaScript's String(v).
func (v *jsv) jsToString() string {
	if v == nil {
		return "undefined"
	}
	switch v.kind {
	case jsUndefined:
		return "undefined"
	case jsNull:
		return "null"
	case jsBool:
		if v.b {
			return "true"
		}
		return "false"
	case jsNumber:
		return jsNumberString(v.n)
	case jsString:
		return v.s
	case jsArray:
		var sb strings.Builder
		for i, e := range v.arr {
			if i > 0 {
				sb.WriteByte(',')
			}
			if e.kind != jsNull && e.kind != jsUndefined {
				sb.WriteString(e.jsToString())
			}
		}
		return sb.String()
	}
	return "[object Object]"
}

// stringify is JSON.stringify(v).
func (v *jsv) stringify() string {
	var sb strings.Builder
	v.writeJSON(&sb)
	return sb.String()
}

func (v *jsv) writeJSON(sb *strings.Builder) {
	switch v.kind {
	case jsNull, jsUndefined:
		sb.WriteString("null")
	case jsBool:
		if v.b {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case jsNumber:
		if math.IsNaN(v.n) || math.IsInf(v.n, 0) {
			sb.WriteString("null")
		} else {
			sb.WriteString(jsNumberString(v.n))
		}
	case jsString:
		writeJSString(sb, v.s)
	case jsArray:
		sb.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				sb.WriteByte(',')
			}
			e.writeJSON(sb)
		}
		sb.WriteByte(']')
	case jsObject:
		sb.WriteByte('{')
		first := true
		for i, k := range v.keys {
			if v.vals[i].kind == jsUndefined {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			writeJSString(sb, k)
			sb.WriteByte(':')
			v.vals[i].writeJSON(sb)
		}
		sb.WriteByte('}')
	case jsExists:
		sb.WriteString(`{"path":`)
		writeJSString(sb, v.ex.path)
		sb.WriteString(`,"array":`)
		sb.WriteString(strconv.FormatBool(v.ex.array))
		sb.WriteString(`,"value":`)
		if v.ex.value == nil {
			sb.WriteString("null")
		} else {
			v.ex.value.writeJSON(sb)
		}
		sb.WriteByte('}')
	}
}

// writeJSString quotes s as JSON.stringify does (only ", \ and control characters
// are escaped).
func writeJSString(sb *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if c < 0x20 {
				sb.WriteString(`\u00`)
				sb.WriteByte(hex[c>>4])
				sb.WriteByte(hex[c&15])
			} else {
				sb.WriteByte(c)
			}
		}
	}
	sb.WriteByte('"')
}

// utf16Len is a string's JavaScript length (UTF-16 code units).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// isJSSpace reports JavaScript's WhiteSpace and LineTerminator code points (\s).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsParseFloat is Number.parseFloat applied to a string.
func jsParseFloat(s string) float64 {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isJSSpace(r) {
			break
		}
		i += size
	}
	s = s[i:]
	j := 0
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	if strings.HasPrefix(s[j:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	start := j
	digits := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		k := j + 1
		frac := 0
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
			frac++
		}
		if digits > 0 || frac > 0 {
			j = k
			digits += frac
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	_ = start
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		ed := 0
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
			ed++
		}
		if ed > 0 {
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[:j], 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}
