package kuzzle

// The catalog: the ids kuzzlews raises, with the values of testdata/kuzzle-errors.tsv
// (Kuzzle 2.56). TestCatalogMatchesKuzzle checks every entry against that file: add an id
// here, with its values copied from there.

// The ids kuzzlews raises, from Kuzzle 2.56 lib/kerror/codes/*.json.
var (
	// ErrUnexpected is core.fatal.unexpected_error (InternalError): an unexpected failure: a bug, or a dependency that failed.
	ErrUnexpected = &Kind{ID: "core.fatal.unexpected_error", Code: 1, Class: "InternalError", Message: "Caught an unexpected error: %s."}
	// ErrRoomNotFound is core.realtime.room_not_found (NotFoundError): join of a roomId that no node holds; props [roomId].
	ErrRoomNotFound = &Kind{ID: "core.realtime.room_not_found", Code: 65537, Class: "NotFoundError", Message: "The room \"%s\" doesn't exist"}
	// ErrInvalidScope is core.realtime.invalid_scope (BadRequestError): scope not one of all, in, out, none.
	ErrInvalidScope = &Kind{ID: "core.realtime.invalid_scope", Code: 65540, Class: "BadRequestError", Message: "Invalid value for the \"scope\" parameter (allowed: \"all\", \"in\", \"out\", \"none\")."}
	// ErrInvalidUsers is core.realtime.invalid_users (BadRequestError): users not one of all, in, out, none.
	ErrInvalidUsers = &Kind{ID: "core.realtime.invalid_users", Code: 65541, Class: "BadRequestError", Message: "Invalid value for the \"users\" parameter (allowed: \"all\", \"in\", \"out\", \"none\")."}
	// ErrTooManyRooms is core.realtime.too_many_rooms (SizeLimitError): a new room past limits.subscriptionRooms.
	ErrTooManyRooms = &Kind{ID: "core.realtime.too_many_rooms", Code: 65543, Class: "SizeLimitError", Message: "Unable to subscribe: maximum number of unique rooms reached."}
	// ErrNotSubscribed is core.realtime.not_subscribed (PreconditionError): unsubscribe from a room the connection is not in; props [connection id, roomId].
	ErrNotSubscribed = &Kind{ID: "core.realtime.not_subscribed", Code: 65544, Class: "PreconditionError", Message: "User \"%s\" has not subscribed to \"%s\"."}
	// ErrInvalidType is api.assert.invalid_type (BadRequestError): an argument of the wrong type; props [name, expected type].
	ErrInvalidType = &Kind{ID: "api.assert.invalid_type", Code: 33619969, Class: "BadRequestError", Message: "Wrong type for argument \"%s\" (expected: %s)"}
	// ErrInvalidArgument is api.assert.invalid_argument (BadRequestError): an argument with a wrong value; props [name, what is expected].
	ErrInvalidArgument = &Kind{ID: "api.assert.invalid_argument", Code: 33619970, Class: "BadRequestError", Message: "Invalid argument \"%s\". Expected: %s"}
	// ErrMissingArgument is api.assert.missing_argument (BadRequestError): a required argument missing or falsy; props [name].
	ErrMissingArgument = &Kind{ID: "api.assert.missing_argument", Code: 33619971, Class: "BadRequestError", Message: "Missing argument \"%s\"."}
	// ErrEmptyArgument is api.assert.empty_argument (BadRequestError): an empty argument; props [name].
	ErrEmptyArgument = &Kind{ID: "api.assert.empty_argument", Code: 33619972, Class: "BadRequestError", Message: "The argument \"%s\" is empty."}
	// ErrMutuallyExclusive is api.assert.mutually_exclusive (BadRequestError): two arguments given together; props [a, b].
	ErrMutuallyExclusive = &Kind{ID: "api.assert.mutually_exclusive", Code: 33619973, Class: "BadRequestError", Message: "Arguments \"%s\" and \"%s\" are mutually exclusive"}
	// ErrBodyRequired is api.assert.body_required (BadRequestError): a request without the body its action needs.
	ErrBodyRequired = &Kind{ID: "api.assert.body_required", Code: 33619976, Class: "BadRequestError", Message: "The request must specify a body."}
	// ErrKoncordeDSL is api.assert.koncorde_dsl_error (BadRequestError): a filter Koncorde refuses; props [Koncorde's message].
	ErrKoncordeDSL = &Kind{ID: "api.assert.koncorde_dsl_error", Code: 33619982, Class: "BadRequestError", Message: "%s"}
	// ErrControllerNotFound is api.process.controller_not_found (NotFoundError): props [controller].
	ErrControllerNotFound = &Kind{ID: "api.process.controller_not_found", Code: 33685508, Class: "NotFoundError", Message: "API controller \"%s\" not found."}
	// ErrActionNotFound is api.process.action_not_found (NotFoundError): props [controller, action].
	ErrActionNotFound = &Kind{ID: "api.process.action_not_found", Code: 33685509, Class: "NotFoundError", Message: "API action \"%s\":\"%s\" not found"}
	// ErrIncompatibleSDKVersion is api.process.incompatible_sdk_version (BadRequestError): props [sdk version, requirement].
	ErrIncompatibleSDKVersion = &Kind{ID: "api.process.incompatible_sdk_version", Code: 33685510, Class: "BadRequestError", Message: "Incompatible SDK client. Your SDK version (%s) does not match Kuzzle requirement (%s)."}
	// ErrOverloaded is api.process.overloaded (ServiceUnavailableError): the request queue is full.
	ErrOverloaded = &Kind{ID: "api.process.overloaded", Code: 33685506, Class: "ServiceUnavailableError", Message: "Request discarded: Kuzzle Server is temporarily overloaded."}
	// ErrProcessShuttingDown is api.process.shutting_down (ServiceUnavailableError): the node is shutting down (funnel).
	ErrProcessShuttingDown = &Kind{ID: "api.process.shutting_down", Code: 33685511, Class: "ServiceUnavailableError", Message: "Rejected: this node is shutting down."}
	// ErrTooManyRequests is api.process.too_many_requests (TooManyRequestsError): a user past its request rate limit.
	ErrTooManyRequests = &Kind{ID: "api.process.too_many_requests", Code: 33685512, Class: "TooManyRequestsError", Message: "Rejected: requests rate limit exceeded for this user."}
	// ErrUnauthorizedOrigin is api.process.unauthorized_origin (UnauthorizedError): a browser origin not allowed; props [origin].
	ErrUnauthorizedOrigin = &Kind{ID: "api.process.unauthorized_origin", Code: 33685516, Class: "UnauthorizedError", Message: "The origin \"%s\" is not authorized."}
	// ErrTooManyLogins is api.process.too_many_logins_requests (TooManyRequestsError): login attempts past their rate limit.
	ErrTooManyLogins = &Kind{ID: "api.process.too_many_logins_requests", Code: 33685517, Class: "TooManyRequestsError", Message: "Rejected: Too many login attempts per second"}
	// ErrHTTPRequestTooLarge is network.http.request_too_large (SizeLimitError): an HTTP body past the size limit.
	ErrHTTPRequestTooLarge = &Kind{ID: "network.http.request_too_large", Code: 50397185, Class: "SizeLimitError", Message: "Maximum HTTP request size exceeded."}
	// ErrHTTPUnexpected is network.http.unexpected_error (BadRequestError): props [reason].
	ErrHTTPUnexpected = &Kind{ID: "network.http.unexpected_error", Code: 50397186, Class: "BadRequestError", Message: "Caught an unexpected HTTP error: %s"}
	// ErrHTTPUnsupportedVerb is network.http.unsupported_verb (BadRequestError): props [method].
	ErrHTTPUnsupportedVerb = &Kind{ID: "network.http.unsupported_verb", Code: 50397190, Class: "BadRequestError", Message: "Unsupported HTTP verb \"%s\"."}
	// ErrHTTPURLNotFound is network.http.url_not_found (NotFoundError): props [url].
	ErrHTTPURLNotFound = &Kind{ID: "network.http.url_not_found", Code: 50397191, Class: "NotFoundError", Message: "API URL not found: %s."}
	// ErrHTTPUnsupportedContent is network.http.unsupported_content (BadRequestError): props [content type].
	ErrHTTPUnsupportedContent = &Kind{ID: "network.http.unsupported_content", Code: 50397192, Class: "BadRequestError", Message: "Invalid request content-type. Expected \"application/json\", got: \"%s\"."}
	// ErrHTTPUnsupportedCharset is network.http.unsupported_charset (BadRequestError): props [charset].
	ErrHTTPUnsupportedCharset = &Kind{ID: "network.http.unsupported_charset", Code: 50397193, Class: "BadRequestError", Message: "Unsupported request charset. Expected \"utf-8\", got: \"%s\"."}
	// ErrHTTPVolatileParseFailed is network.http.volatile_parse_failed (BadRequestError): props [reason].
	ErrHTTPVolatileParseFailed = &Kind{ID: "network.http.volatile_parse_failed", Code: 50397195, Class: "BadRequestError", Message: "Unable to convert the \"x-kuzzle-volatile\" HTTP header to JSON: %s"}
	// ErrHTTPBodyParseFailed is network.http.body_parse_failed (BadRequestError): props [reason].
	ErrHTTPBodyParseFailed = &Kind{ID: "network.http.body_parse_failed", Code: 50397196, Class: "BadRequestError", Message: "Unable to convert the HTTP body to JSON: %s"}
	// ErrWebSocketUnexpected is network.websocket.unexpected_error (BadRequestError): a WebSocket message that cannot be read (room-less); props [reason].
	ErrWebSocketUnexpected = &Kind{ID: "network.websocket.unexpected_error", Code: 50528257, Class: "BadRequestError", Message: "Caught an unexpected WebSocket error: %s"}
	// ErrRateLimitExceeded is network.websocket.ratelimit_exceeded (TooManyRequestsError): a socket past its message rate (room-less).
	ErrRateLimitExceeded = &Kind{ID: "network.websocket.ratelimit_exceeded", Code: 50528258, Class: "TooManyRequestsError", Message: "Rejected: too many requests received from that socket"}
	// ErrShuttingDown is network.entrypoint.shutting_down (ServiceUnavailableError): the entry point is shutting down.
	ErrShuttingDown = &Kind{ID: "network.entrypoint.shutting_down", Code: 50593795, Class: "ServiceUnavailableError", Message: "Rejected: instance is shutting down"}
	// ErrInvalidIndexName is services.storage.invalid_index_name (BadRequestError): props [index].
	ErrInvalidIndexName = &Kind{ID: "services.storage.invalid_index_name", Code: 16842793, Class: "BadRequestError", Message: "The index name \"%s\" is invalid"}
	// ErrInvalidCollectionName is services.storage.invalid_collection_name (BadRequestError): props [collection].
	ErrInvalidCollectionName = &Kind{ID: "services.storage.invalid_collection_name", Code: 16842794, Class: "BadRequestError", Message: "The collection name \"%s\" is invalid"}
	// ErrTokenInvalid is security.token.invalid (UnauthorizedError): a token that does not verify.
	ErrTokenInvalid = &Kind{ID: "security.token.invalid", Code: 117506049, Class: "UnauthorizedError", Message: "Invalid token."}
	// ErrTokenUnknownUser is security.token.unknown_user (InternalError): a token for a user that does not exist.
	ErrTokenUnknownUser = &Kind{ID: "security.token.unknown_user", Code: 117506050, Class: "InternalError", Message: "Unknown User : cannot generate token"}
	// ErrTokenTTLExceeded is security.token.ttl_exceeded (BadRequestError): expiresIn past the maximum.
	ErrTokenTTLExceeded = &Kind{ID: "security.token.ttl_exceeded", Code: 117506052, Class: "BadRequestError", Message: "expiresIn value exceeds maximum allowed value"}
	// ErrTokenGenerationFailed is security.token.generation_failed (InternalError): props [reason].
	ErrTokenGenerationFailed = &Kind{ID: "security.token.generation_failed", Code: 117506053, Class: "InternalError", Message: "Error while generating token: %s"}
	// ErrTokenExpired is security.token.expired (UnauthorizedError): a token past its exp.
	ErrTokenExpired = &Kind{ID: "security.token.expired", Code: 117506054, Class: "UnauthorizedError", Message: "Token expired"}
	// ErrTokenRefreshForbidden is security.token.refresh_forbidden (UnauthorizedError): props [what].
	ErrTokenRefreshForbidden = &Kind{ID: "security.token.refresh_forbidden", Code: 117506056, Class: "UnauthorizedError", Message: "%s cannot be refreshed."}
	// ErrTokenInvalidExpiration is security.token.invalid_expiration (BadRequestError): props [expiresIn].
	ErrTokenInvalidExpiration = &Kind{ID: "security.token.invalid_expiration", Code: 117506057, Class: "BadRequestError", Message: "Token can not be created with this expiration time: %s"}
	// ErrUnknownStrategy is security.credentials.unknown_strategy (BadRequestError): props [strategy].
	ErrUnknownStrategy = &Kind{ID: "security.credentials.unknown_strategy", Code: 117571585, Class: "BadRequestError", Message: "Unknown authentication strategy \"%s\""}
	// ErrCredentialsRejected is security.credentials.rejected (BadRequestError): props [reason].
	ErrCredentialsRejected = &Kind{ID: "security.credentials.rejected", Code: 117571587, Class: "BadRequestError", Message: "Credentials rejected: %s"}
	// ErrUnauthorized is security.rights.unauthorized (UnauthorizedError): the anonymous user may not run the action; props [controller, action].
	ErrUnauthorized = &Kind{ID: "security.rights.unauthorized", Code: 117637121, Class: "UnauthorizedError", Message: "Unauthorized: authentication required to execute the action \"%s:%s\"."}
	// ErrForbidden is security.rights.forbidden (ForbiddenError): an authenticated user may not run the action; props [controller, action, kuid].
	ErrForbidden = &Kind{ID: "security.rights.forbidden", Code: 117637122, Class: "ForbiddenError", Message: "Insufficient permissions to execute the action \"%s:%s\" (User \"%s\")."}
	// ErrStrategyMissingUser is plugin.strategy.missing_user (UnauthorizedError): the local strategy refused the credentials; props [message].
	ErrStrategyMissingUser = &Kind{ID: "plugin.strategy.missing_user", Code: 67305492, Class: "UnauthorizedError", Message: "%s"}
	// ErrCacheWriteFailed is services.cache.write_failed (InternalError): a token could not be remembered; props [reason].
	ErrCacheWriteFailed = &Kind{ID: "services.cache.write_failed", Code: 16973828, Class: "InternalError", Message: "Cache write fail: %s"}
	// ErrUserNotFound is security.user.not_found (NotFoundError): props [kuid].
	ErrUserNotFound = &Kind{ID: "security.user.not_found", Code: 117702658, Class: "NotFoundError", Message: "User \"%s\" not found."}
	// ErrCookieUnsupported is security.cookie.unsupported (InternalError): cookieAuth on a protocol that has no cookies.
	ErrCookieUnsupported = &Kind{ID: "security.cookie.unsupported", Code: 117899266, Class: "InternalError", Message: "Cookie authentication not supported."}
)

// catalog lists every Kind above, for tests and lookups by id.
var catalog = []*Kind{
	ErrUnexpected,
	ErrRoomNotFound,
	ErrInvalidScope,
	ErrInvalidUsers,
	ErrTooManyRooms,
	ErrNotSubscribed,
	ErrInvalidType,
	ErrInvalidArgument,
	ErrMissingArgument,
	ErrEmptyArgument,
	ErrMutuallyExclusive,
	ErrBodyRequired,
	ErrKoncordeDSL,
	ErrControllerNotFound,
	ErrActionNotFound,
	ErrIncompatibleSDKVersion,
	ErrOverloaded,
	ErrProcessShuttingDown,
	ErrTooManyRequests,
	ErrUnauthorizedOrigin,
	ErrTooManyLogins,
	ErrHTTPRequestTooLarge,
	ErrHTTPUnexpected,
	ErrHTTPUnsupportedVerb,
	ErrHTTPURLNotFound,
	ErrHTTPUnsupportedContent,
	ErrHTTPUnsupportedCharset,
	ErrHTTPVolatileParseFailed,
	ErrHTTPBodyParseFailed,
	ErrWebSocketUnexpected,
	ErrRateLimitExceeded,
	ErrShuttingDown,
	ErrInvalidIndexName,
	ErrInvalidCollectionName,
	ErrTokenInvalid,
	ErrTokenUnknownUser,
	ErrTokenTTLExceeded,
	ErrTokenGenerationFailed,
	ErrTokenExpired,
	ErrTokenRefreshForbidden,
	ErrTokenInvalidExpiration,
	ErrUnknownStrategy,
	ErrCredentialsRejected,
	ErrUnauthorized,
	ErrForbidden,
	ErrUserNotFound,
	ErrStrategyMissingUser,
	ErrCacheWriteFailed,
	ErrCookieUnsupported,
}
