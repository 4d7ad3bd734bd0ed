package auth

import (
	"fmt"
	"strings"
)

// Error is an error of this package that Kuzzle answers with an API error. ID is Kuzzle's
// error id (lib/kerror/codes/*.json in Kuzzle 2.56), Args the values of the "%s"
// placeholders of Kuzzle's message template for that id, in order. Error() renders that
// message. Neither ever holds a token or a password.
//
// Compare with errors.Is against the sentinel values below: an *Error matches the
// sentinel that has the same ID, whatever its Args.
type Error struct {
	ID   string
	Args []string
}

// The errors of this package, one per Kuzzle error id. The comment of each gives Kuzzle's
// HTTP status and where Kuzzle 2.56 raises it.
var (
	// ErrTokenInvalid is security.token.invalid (401): a token that does not parse, is not
	// signed with the configured secret or key, uses an algorithm outside the allow-list,
	// carries no "_id", was revoked (auth:logout), or was refreshed more than the grace
	// period ago (lib/core/security/tokenRepository.ts verifyToken, refresh).
	ErrTokenInvalid = &Error{ID: "security.token.invalid"}
	// ErrTokenExpired is security.token.expired (401): a well-signed token past its "exp"
	// (tokenRepository.ts decodeToken, jsonwebtoken's TokenExpiredError).
	ErrTokenExpired = &Error{ID: "security.token.expired"}
	// ErrRefreshForbidden is security.token.refresh_forbidden (401), Args [what]: a token
	// without expiry cannot be refreshed (tokenRepository.ts refresh).
	ErrRefreshForbidden = &Error{ID: "security.token.refresh_forbidden"}
	// ErrTTLExceeded is security.token.ttl_exceeded (400): the requested expiresIn is over
	// security.authToken.maxTTL (tokenRepository.ts generateToken).
	ErrTTLExceeded = &Error{ID: "security.token.ttl_exceeded"}
	// ErrTokenGeneration is security.token.generation_failed (500), Args [reason]: no
	// secret or no HMAC algorithm to sign with (tokenRepository.ts generateToken).
	ErrTokenGeneration = &Error{ID: "security.token.generation_failed"}
	// ErrInvalidExpiresIn is api.assert.invalid_argument (400), Args ["expiresIn", hint]:
	// an expiresIn that is neither a number of milliseconds nor a timespan string
	// (tokenRepository.ts generateToken).
	ErrInvalidExpiresIn = &Error{ID: "api.assert.invalid_argument"}
	// ErrUnknownStrategy is security.credentials.unknown_strategy (400), Args [strategy]:
	// auth:login with a strategy other than "local" (lib/api/controllers/authController.ts
	// login).
	ErrUnknownStrategy = &Error{ID: "security.credentials.unknown_strategy"}
	// ErrLoginFailed is plugin.strategy.missing_user (401), Args [message]: the local
	// strategy refused the credentials. The message is "wrong username or password"
	// (kuzzle-plugin-auth-passport-local lib/index.js verify, relayed by
	// lib/core/plugin/pluginsManager.ts and lib/core/auth/passportWrapper.ts) or, when the
	// username or the password is missing, "Missing credentials" (passport-local). Kuzzle
	// does not use security.credentials.rejected for a wrong password.
	ErrLoginFailed = &Error{ID: "plugin.strategy.missing_user"}
	// ErrTooManyLogins is api.process.too_many_logins_requests (429): more auth:login
	// requests in the current second than limits.loginsPerSecond (lib/api/rateLimiter.ts,
	// lib/api/funnel.ts).
	ErrTooManyLogins = &Error{ID: "api.process.too_many_logins_requests"}
	// ErrUnauthorized is security.rights.unauthorized (401), Args [controller, action]:
	// the anonymous user may not run the action (lib/api/funnel.ts checkRights).
	ErrUnauthorized = &Error{ID: "security.rights.unauthorized"}
	// ErrForbidden is security.rights.forbidden (403), Args [controller, action, kuid]:
	// an authenticated user may not run the action (lib/api/funnel.ts checkRights).
	ErrForbidden = &Error{ID: "security.rights.forbidden"}
	// ErrUserNotFound is security.user.not_found (404), Args [kuid]: a token names a kuid
	// that the security file does not define (lib/core/security/userRepository.ts).
	ErrUserNotFound = &Error{ID: "security.user.not_found"}
	// ErrRevocationFull is services.cache.write_failed (500), Args [reason]: Revoke or
	// Refresh found TokenConfig.MaxRevoked tokens already remembered (Kuzzle raises this
	// id when it cannot write a token to its cache, tokenRepository.ts persistForUser).
	ErrRevocationFull = &Error{ID: "services.cache.write_failed"}
)

// messages are Kuzzle's message templates for the ids above (lib/kerror/codes/*.json).
var messages = map[string]string{
	"security.token.invalid":                "Invalid token.",
	"security.token.expired":                "Token expired",
	"security.token.refresh_forbidden":      "%s cannot be refreshed.",
	"security.token.ttl_exceeded":           "expiresIn value exceeds maximum allowed value",
	"security.token.generation_failed":      "Error while generating token: %s",
	"api.assert.invalid_argument":           "Invalid argument \"%s\". Expected: %s",
	"security.credentials.unknown_strategy": "Unknown authentication strategy \"%s\"",
	"plugin.strategy.missing_user":          "%s",
	"api.process.too_many_logins_requests":  "Rejected: Too many login attempts per second",
	"security.rights.unauthorized":          "Unauthorized: authentication required to execute the action \"%s:%s\".",
	"security.rights.forbidden":             "Insufficient permissions to execute the action \"%s:%s\" (User \"%s\").",
	"security.user.not_found":               "User \"%s\" not found.",
	"services.cache.write_failed":           "Cache write fail: %s",
}

// Error renders Kuzzle's message for e.ID with e.Args.
func (e *Error) Error() string {
	tmpl, ok := messages[e.ID]
	if !ok {
		return e.ID
	}
	n := strings.Count(tmpl, "%s")
	args := make([]any, n)
	for i := range args {
		if i < len(e.Args) {
			args[i] = e.Args[i]
		} else {
			args[i] = ""
		}
	}
	return fmt.Sprintf(tmpl, args...)
}

// Is reports whether target is an *Error with the same ID.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.ID == e.ID
}

// with returns a copy of the sentinel e carrying args.
func (e *Error) with(args ...string) *Error {
	return &Error{ID: e.ID, Args: args}
}

// Messages of ErrLoginFailed (kuzzle-plugin-auth-passport-local, passport-local).
const (
	msgWrongCredentials   = "wrong username or password"
	msgMissingCredentials = "Missing credentials"
)
