package room

import (
	"strconv"
	"strings"
)

// Error is a Kuzzle API error (spec section 6.1): the value of a response's `error`
// attribute. Every error returned by an Engine action is an *Error; the server may
// build its own with NewError.
//
// Its JSON form (AppendJSON) is {"code":…,"id":…,"message":…,"props":[…],"status":…},
// in Kuzzle's key order. An Error whose ID is empty is one of Kuzzle's bare assertion
// errors and serializes as {"message":…,"status":…} only (spec section 6.1).
type Error struct {
	// ID is Kuzzle's error id, "<domain>.<subdomain>.<error>", e.g. "core.realtime.not_subscribed".
	ID string
	// Code is Kuzzle's numeric code: (domain << 24) | (subdomain << 16) | error.
	Code int
	// Status is the HTTP-like status of the error class: 400, 401, 403, 404, 412, 413,
	// 429, 500, 503 or 504 (spec section 6.1). It is also the response's `status`.
	Status int
	// Message is the template of spec/kuzzle-errors.tsv with each %s replaced by the
	// next prop.
	Message string
	// Props are the values placed in the template, in order. Never nil for errors
	// made by NewError (serialized as []).
	Props []string
}

// Error returns e.Message.
func (e *Error) Error() string { return e.Message }

// AppendJSON appends the JSON object of e, as it appears in a response's `error`
// attribute, to dst and returns the extended slice.
func (e *Error) AppendJSON(dst []byte) []byte {
	if e.ID == "" {
		dst = append(dst, `{"message":`...)
		dst = appendString(dst, e.Message)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(e.Status), 10)
		return append(dst, '}')
	}
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	dst = append(dst, `,"props":[`...)
	for i, p := range e.Props {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, p)
	}
	dst = append(dst, `],"status":`...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	return append(dst, '}')
}

// NewError returns the Kuzzle error id with its message template filled with props,
// in order (spec section 6.4; codes and templates from spec/kuzzle-errors.tsv). Extra
// props are kept in Props but not placed; missing ones leave "%s" in the message, as
// Node's util.format does.
//
// Known ids: every id of the core.realtime, api.assert, api.process and
// network.websocket subdomains, plus network.entrypoint.shutting_down,
// security.token.invalid and .expired, security.rights.unauthorized and .forbidden,
// security.credentials.unknown_strategy and .rejected, and core.fatal.unexpected_error.
// An unknown id is a programming error: it yields core.fatal.unexpected_error (500)
// whose prop names the unknown id.
func NewError(id string, props ...string) *Error {
	d, ok := errorDefs[id]
	if !ok {
		return NewError("core.fatal.unexpected_error", "unknown error id "+strconv.Quote(id))
	}
	if props == nil {
		props = []string{}
	}
	return &Error{ID: id, Code: d.code, Status: classStatus[d.class], Message: format(d.message, props), Props: props}
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

// classStatus maps Kuzzle error classes to their status (spec section 6.1).
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

type errorDef struct {
	code    int
	class   string
	message string
}

// errorDefs is the subset of spec/kuzzle-errors.tsv that a realtime server uses.
// TestErrorTableMatchesTSV checks every entry against the TSV file.
var errorDefs = map[string]errorDef{
	"core.fatal.unexpected_error":               {1, "InternalError", "Caught an unexpected error: %s."},
	"core.realtime.room_not_found":              {65537, "NotFoundError", "The room \"%s\" doesn't exist"},
	"core.realtime.invalid_rooms":               {65538, "BadRequestError", "The \"rooms\" attribute must be an array."},
	"core.realtime.invalid_state":               {65539, "BadRequestError", "Invalid value for the \"state\" parameter (allowed: \"all\", \"done\", \"pending\")."},
	"core.realtime.invalid_scope":               {65540, "BadRequestError", "Invalid value for the \"scope\" parameter (allowed: \"all\", \"in\", \"out\", \"none\")."},
	"core.realtime.invalid_users":               {65541, "BadRequestError", "Invalid value for the \"users\" parameter (allowed: \"all\", \"in\", \"out\", \"none\")."},
	"core.realtime.too_many_terms":              {65542, "SizeLimitError", "Unable to subscribe: maximum number of terms exceeded (max %s, received %s)."},
	"core.realtime.too_many_rooms":              {65543, "SizeLimitError", "Unable to subscribe: maximum number of unique rooms reached."},
	"core.realtime.not_subscribed":              {65544, "PreconditionError", "User \"%s\" has not subscribed to \"%s\"."},
	"api.assert.invalid_type":                   {33619969, "BadRequestError", "Wrong type for argument \"%s\" (expected: %s)"},
	"api.assert.invalid_argument":               {33619970, "BadRequestError", "Invalid argument \"%s\". Expected: %s"},
	"api.assert.missing_argument":               {33619971, "BadRequestError", "Missing argument \"%s\"."},
	"api.assert.empty_argument":                 {33619972, "BadRequestError", "The argument \"%s\" is empty."},
	"api.assert.mutually_exclusive":             {33619973, "BadRequestError", "Arguments \"%s\" and \"%s\" are mutually exclusive"},
	"api.assert.too_many_arguments":             {33619974, "BadRequestError", "Argument \"%s\" contains too many values"},
	"api.assert.unexpected_argument":            {33619975, "BadRequestError", "Unexpected argument \"%s\" (accepted arguments: %s)"},
	"api.assert.body_required":                  {33619976, "BadRequestError", "The request must specify a body."},
	"api.assert.unexpected_type_assertion":      {33619977, "InternalError", "An unexepected type assertion \"%s\" has been invoked on attribute \"%s\"."},
	"api.assert.invalid_id":                     {33619978, "BadRequestError", "Invalid \"_id\" value: cannot start with an underscore"},
	"api.assert.forbidden_argument":             {33619979, "BadRequestError", "The argument \"%s\" is not allowed by this API action."},
	"api.assert.koncorde_unknown_keyword":       {33619980, "BadRequestError", "The keyword \"%s\" is not part of Koncorde filters DSL keywords. Are you trying to use an Elasticsearch query?"},
	"api.assert.koncorde_restricted_keyword":    {33619981, "BadRequestError", "The %s \"%s\" of Koncorde DSL is not supported for search queries."},
	"api.assert.koncorde_dsl_error":             {33619982, "BadRequestError", "%s"},
	"api.assert.forbidden_stream":               {33619983, "InternalError", "Cannot set an HttpStream as a request's response in a non-http protocol"},
	"api.assert.unsupported_protocol":           {33619984, "InternalError", "The protocol \"%s\" is not supported by the API action \"%s\"."},
	"api.process.action_locked":                 {33685505, "PreconditionError", "Cannot execute action \"%s\": already executing."},
	"api.process.overloaded":                    {33685506, "ServiceUnavailableError", "Request discarded: Kuzzle Server is temporarily overloaded."},
	"api.process.connection_dropped":            {33685507, "BadRequestError", "Client connection dropped"},
	"api.process.controller_not_found":          {33685508, "NotFoundError", "API controller \"%s\" not found."},
	"api.process.action_not_found":              {33685509, "NotFoundError", "API action \"%s\":\"%s\" not found"},
	"api.process.incompatible_sdk_version":      {33685510, "BadRequestError", "Incompatible SDK client. Your SDK version (%s) does not match Kuzzle requirement (%s)."},
	"api.process.shutting_down":                 {33685511, "ServiceUnavailableError", "Rejected: this node is shutting down."},
	"api.process.too_many_requests":             {33685512, "TooManyRequestsError", "Rejected: requests rate limit exceeded for this user."},
	"api.process.admin_exists":                  {33685513, "PreconditionError", "Admin user is already set."},
	"api.process.incomplete_multiple_request":   {33685514, "MultipleErrorsError", "At least one of the %s actions failed."},
	"api.process.not_enough_nodes":              {33685515, "ServiceUnavailableError", "Rejected: this cluster is disabled because there aren't enough nodes connected."},
	"api.process.unauthorized_origin":           {33685516, "UnauthorizedError", "The origin \"%s\" is not authorized."},
	"api.process.too_many_logins_requests":      {33685517, "TooManyRequestsError", "Rejected: Too many login attempts per second"},
	"api.process.forbidden_embedded_sdk_action": {33685518, "PluginImplementationError", "The action %s:%s has been called while it is forbidden in the EmbeddedSDK%s."},
	"network.websocket.unexpected_error":        {50528257, "BadRequestError", "Caught an unexpected WebSocket error: %s"},
	"network.websocket.ratelimit_exceeded":      {50528258, "TooManyRequestsError", "Rejected: too many requests received from that socket"},
	"services.storage.invalid_index_name":       {16842793, "BadRequestError", "The index name \"%s\" is invalid"},
	"services.storage.invalid_collection_name":  {16842794, "BadRequestError", "The collection name \"%s\" is invalid"},
	"network.entrypoint.shutting_down":          {50593795, "ServiceUnavailableError", "Rejected: instance is shutting down"},
	"security.token.invalid":                    {117506049, "UnauthorizedError", "Invalid token."},
	"security.token.expired":                    {117506054, "UnauthorizedError", "Token expired"},
	"security.credentials.unknown_strategy":     {117571585, "BadRequestError", "Unknown authentication strategy \"%s\""},
	"security.credentials.rejected":             {117571587, "BadRequestError", "Credentials rejected: %s"},
	"security.rights.unauthorized":              {117637121, "UnauthorizedError", "Unauthorized: authentication required to execute the action \"%s:%s\"."},
	"security.rights.forbidden":                 {117637122, "ForbiddenError", "Insufficient permissions to execute the action \"%s:%s\" (User \"%s\")."},
}
