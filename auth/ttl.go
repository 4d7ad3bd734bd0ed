package auth

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// msPattern is the grammar of the "ms" npm package (v2.1) that Kuzzle parses expiresIn
// strings with (lib/core/security/tokenRepository.ts parseTimespan): a number, optional
// spaces, an optional unit, case-insensitive; no unit means milliseconds.
var msPattern = regexp.MustCompile(`(?i)^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

// msUnits are the milliseconds per unit of the "ms" package (a year is 365.25 days).
var msUnits = map[string]float64{
	"years": 31557600000, "year": 31557600000, "yrs": 31557600000, "yr": 31557600000, "y": 31557600000,
	"weeks": 604800000, "week": 604800000, "w": 604800000,
	"days": 86400000, "day": 86400000, "d": 86400000,
	"hours": 3600000, "hour": 3600000, "hrs": 3600000, "hr": 3600000, "h": 3600000,
	"minutes": 60000, "minute": 60000, "mins": 60000, "min": 60000, "m": 60000,
	"seconds": 1000, "second": 1000, "secs": 1000, "sec": 1000, "s": 1000,
	"milliseconds": 1, "millisecond": 1, "msecs": 1, "msec": 1, "ms": 1, "": 1,
}

// ParseExpiresIn reads the expiresIn argument of auth:login and auth:refreshToken as
// Kuzzle does: a number of milliseconds (float64, json.Number, int or int64) or a timespan
// string of the "ms" package ("1h", "30 minutes", "2.5d", "90000"). It returns the ttl to
// pass to Tokens.Issue or Tokens.Refresh: 0 for nil (not given: the configured default),
// Infinite for -1. Zero, other negative values, unparsable strings and values that
// overflow a time.Duration fail with ErrInvalidExpiresIn (Kuzzle rejects zero; it signs
// other negative values into tokens that are already expired, which is refused here).
func ParseExpiresIn(v any) (time.Duration, error) {
	var ms float64
	switch v := v.(type) {
	case nil:
		return 0, nil
	case string:
		f, ok := parseMS(v)
		if !ok {
			return 0, errExpiresIn()
		}
		ms = f
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, errExpiresIn()
		}
		ms = f
	case float64:
		ms = v
	case int:
		ms = float64(v)
	case int64:
		ms = float64(v)
	default:
		return 0, errExpiresIn()
	}
	switch {
	case ms == -1:
		return Infinite, nil
	case math.IsNaN(ms) || ms <= 0 || ms >= float64(math.MaxInt64)/float64(time.Millisecond):
		return 0, errExpiresIn()
	}
	d := time.Duration(ms * float64(time.Millisecond))
	if d <= 0 {
		return 0, errExpiresIn()
	}
	return d, nil
}

// parseMS is ms(s) of the "ms" package: the value in milliseconds, or false where ms
// answers undefined (or throws, for the empty string).
func parseMS(s string) (float64, bool) {
	if s == "" || len(s) > 100 {
		return 0, false
	}
	m := msPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return n * msUnits[strings.ToLower(m[2])], true
}

func errExpiresIn() error {
	return ErrInvalidExpiresIn.New("expiresIn", "a number of milliseconds, or a parsable timespan string")
}
