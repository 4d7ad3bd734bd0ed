package filter

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// compileRegexp compiles a Koncorde regexp condition with Go's RE2-syntax engine,
// the counterpart of Koncorde's default `re2` engine. Flags: i, m and s map to RE2's
// flags; u is accepted (Go always matches UTF-8 text by code point); g and y are
// dropped, so the stateful lastIndex behaviour of Koncorde is not reproduced
// (lib/engine/matcher/matchRegexp.js; doc.go, Q5); any other flag is ignored, as RE2
// does. The message is RE2's, or "" on success.
func compileRegexp(value, flags *jsv) (*regexp.Regexp, string) {
	if value == nil || value.kind != jsString {
		// node-re2 only takes a string (or Buffer/RegExp, which JSON cannot express)
		return nil, "Expected string, Buffer, RegExp, or RE2 as the 1st argument."
	}
	pattern := value.s
	prefix := regexpFlagPrefix(flags)
	re, err := regexp.Compile(prefix + translateJSPattern(pattern))
	if err != nil {
		return nil, re2Message(err)
	}
	seen := map[string]bool{}
	for _, name := range re.SubexpNames() {
		if name != "" {
			if seen[name] {
				return nil, "duplicate capture group name" // RE2 rejects, Go accepts
			}
			seen[name] = true
		}
	}
	return re, ""
}

// regexpFlagPrefix turns JS flags into an RE2 flag group, e.g. "(?is)".
func regexpFlagPrefix(flags *jsv) string {
	if flags == nil || flags.kind != jsString {
		return ""
	}
	var i, m, s bool
	for _, c := range flags.s {
		switch c {
		case 'i':
			i = true
		case 'm':
			m = true
		case 's':
			s = true
		}
	}
	if !i && !m && !s {
		return ""
	}
	p := "(?"
	if i {
		p += "i"
	}
	if m {
		p += "m"
	}
	if s {
		p += "s"
	}
	return p + ")"
}

// canonicalFlags is the subset of flags that changes what a regexp matches, sorted.
func canonicalFlags(flags *jsv) string {
	if flags == nil || flags.kind != jsString {
		return ""
	}
	var out []byte
	for _, c := range "imsu" {
		if strings.ContainsRune(flags.s, c) {
			out = append(out, byte(c))
		}
	}
	return string(out)
}

// translateJSPattern rewrites the JavaScript escapes RE2 lacks: \uXXXX and \u{X...}
// become \x{...}, like node-re2's translation.
func translateJSPattern(p string) string {
	if !strings.Contains(p, `\u`) {
		return p
	}
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' {
				if i+5 < len(p)+0 && i+6 <= len(p) && isHex4(p[i+2:i+6]) {
					sb.WriteString(`\x{` + p[i+2:i+6] + `}`)
					i += 5
					continue
				}
				if i+2 < len(p) && p[i+2] == '{' {
					if j := strings.IndexByte(p[i+3:], '}'); j >= 0 {
						sb.WriteString(`\x{` + p[i+3:i+3+j] + `}`)
						i += 3 + j
						continue
					}
				}
			}
			sb.WriteByte(c)
			sb.WriteByte(p[i+1])
			i++
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

func isHex4(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// re2Message renders a Go regexp syntax error with the wording of RE2's C++ library,
// which node-re2 reports: "<code>: <fragment>".
func re2Message(err error) string {
	se, ok := err.(*syntax.Error)
	if !ok {
		return err.Error()
	}
	code := string(se.Code)
	switch se.Code {
	case syntax.ErrMissingParen:
		code = "missing )"
	case syntax.ErrMissingBracket:
		code = "missing ]"
	case syntax.ErrTrailingBackslash:
		return "trailing \\"
	case syntax.ErrMissingRepeatArgument:
		code = "no argument for repetition operator"
	case syntax.ErrInvalidRepeatSize:
		code = "invalid repetition size"
	case syntax.ErrInvalidRepeatOp:
		code = "bad repetition operator"
	case syntax.ErrInvalidPerlOp:
		code = "invalid perl operator"
	case syntax.ErrInvalidNamedCapture:
		if strings.HasPrefix(se.Expr, "(?<=") || strings.HasPrefix(se.Expr, "(?<!") {
			return "invalid perl operator: " + se.Expr[:4] // lookbehind
		}
		code = "invalid named capture group"
	case syntax.ErrUnexpectedParen:
		code = "unexpected )"
	case syntax.ErrInvalidEscape:
		code = "invalid escape sequence"
	case syntax.ErrInvalidCharRange:
		code = "invalid character class range"
	case syntax.ErrInvalidCharClass:
		code = "invalid character class"
	case syntax.ErrNestingDepth, syntax.ErrLarge:
		code = "pattern too large - compile failed"
		return code
	}
	return code + ": " + se.Expr
}

// anchoredPrefix returns the literal that every string matched by re starts with,
// when re begins with ^ (not multi-line) and a case-sensitive literal; "" otherwise.
// It lets the matcher look regexps up by prefix instead of running all of them.
func anchoredPrefix(re *regexp.Regexp) string {
	if re == nil {
		return ""
	}
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return ""
	}
	p = p.Simplify()
	if p.Op != syntax.OpConcat || len(p.Sub) < 2 || p.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	lit := p.Sub[1]
	if lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 {
		return ""
	}
	return string(lit.Rune)
}
