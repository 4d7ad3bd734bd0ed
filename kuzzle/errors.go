package kuzzle

import (
	"errors"
	"strconv"
	"strings"
)

// Kind is one entry of Kuzzle's error catalog (Kuzzle 2.56 lib/kerror/codes/*.json):
// the id, its numeric code, its class and its message template. The catalog is the set
// of exported Err* values of this package, so an id used in code is checked by the
// compiler. A Kind is also an error (its ID), so errors.Is(err, kuzzle.ErrRoomNotFound)
// tells an *Error of that kind.
type Kind struct {
	// ID is "<domain>.<subdomain>.<error>", e.g. "core.realtime.not_subscribed".
	ID string
	// Code is Kuzzle's numeric code: (domain << 24) | (subdomain << 16) | error.
	Code int
	// Class is the Kuzzle error class (lib/kerror/errors/*.ts), e.g. "NotFoundError".
	Class string
	// Message is the template; each %s is replaced by the next prop (Node's util.format).
	Message string
}

// Error implements error: the id.
func (k *Kind) Error() string { return k.ID }

// Status returns the HTTP status of the kind's class (lib/kerror/errors/*.ts): 400, 401,
// 403, 404, 412, 413, 429, 500, 503, 504 or 206; 500 for an unknown class.
func (k *Kind) Status() int {
	if s, ok := classStatus[k.Class]; ok {
		return s
	}
	return 500
}

// New returns an error of kind k whose message is the template filled with props in
// order. Extra props are kept in Props but not placed; missing ones leave "%s" in the
// message, as Node's util.format does.
func (k *Kind) New(props ...string) *Error {
	if props == nil {
		props = []string{}
	}
	return &Error{ID: k.ID, Code: k.Code, Status: k.Status(), Message: format(k.Message, props), Props: props, kind: k}
}

// Error is a Kuzzle API error: the value of a response's `error` attribute (Kuzzle 2.56
// lib/kerror/errors/kuzzleError.ts toJSON). Its JSON form (AppendJSON) is
// {"code":…,"id":…,"message":…,"props":[…],"status":…}, in Kuzzle's key order. An Error
// with an empty ID is one of Kuzzle's bare assertion errors (lib/util/assertType.js) and
// serializes as {"message":…,"status":…} only.
type Error struct {
	// ID is Kuzzle's error id; empty for a bare assertion error.
	ID string
	// Code is Kuzzle's numeric code (Kind.Code); 0 for a bare assertion error.
	Code int
	// Status is the HTTP status of the error's class; it is also the response's status.
	Status int
	// Message is the filled template.
	Message string
	// Props are the values placed in the template, in order; never nil for errors made by
	// Kind.New (serialized as []).
	Props []string

	kind *Kind
}

// Error returns e.Message.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(*Kind)
	return ok && e.kind == k
}

// Bare returns one of Kuzzle's bare assertion errors: no id, no code, no props.
func Bare(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// AsError returns err as an *Error: itself when it is one, a new error of its kind when it
// is a *Kind, else core.fatal.unexpected_error with err's message. nil stays nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var k *Kind
	if errors.As(err, &k) {
		return k.New()
	}
	return ErrUnexpected.New(err.Error())
}

// AppendJSON appends the JSON object of e, as it appears in a response's `error`
// attribute, to dst and returns the extended slice.
func (e *Error) AppendJSON(dst []byte) []byte {
	if e.ID == "" {
		dst = append(dst, `{"message":`...)
		dst = AppendString(dst, e.Message)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(e.Status), 10)
		return append(dst, '}')
	}
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, e.ID)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	dst = append(dst, `,"props":[`...)
	for i, p := range e.Props {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, p)
	}
	dst = append(dst, `],"status":`...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	return append(dst, '}')
}

// jsonSize is an upper bound of len(e.AppendJSON(nil)) for plain ASCII props.
func (e *Error) jsonSize() int {
	n := 96 + len(e.ID) + len(e.Message) + 4*len(e.Props)
	for _, p := range e.Props {
		n += len(p)
	}
	return n
}

// format replaces each %s of tmpl with the next prop.
func format(tmpl string, props []string) string {
	if len(props) == 0 || !strings.Contains(tmpl, "%s") {
		return tmpl
	}
	var b strings.Builder
	for _, p := range props {
		i := strings.Index(tmpl, "%s")
		if i < 0 {
			break
		}
		b.WriteString(tmpl[:i])
		b.WriteString(p)
		tmpl = tmpl[i+2:]
	}
	b.WriteString(tmpl)
	return b.String()
}

// classStatus maps Kuzzle error classes to their status (lib/kerror/errors/*.ts).
var classStatus = map[string]int{
	"BadRequestError":           400,
	"UnauthorizedError":         401,
	"ForbiddenError":            403,
	"NotFoundError":             404,
	"PreconditionError":         412,
	"SizeLimitError":            413,
	"TooManyRequestsError":      429,
	"InternalError":             500,
	"PluginImplementationError": 500,
	"ExternalServiceError":      500,
	"ServiceUnavailableError":   503,
	"GatewayTimeoutError":       504,
	"PartialError":              206,
	"MultipleErrorsError":       400,
}
