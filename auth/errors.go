package auth

import "github.com/kuzzlews/kuzzlews/kuzzle"

// The errors of this package are Kuzzle API errors (*kuzzle.Error) of the kinds below, each
// an alias of package kuzzle's catalog entry. Compare with errors.Is(err, auth.ErrX). The
// comment of each gives Kuzzle's HTTP status and where Kuzzle 2.56 raises it. Neither a
// message nor a prop ever holds a token or a password.
var (
	// ErrTokenInvalid is security.token.invalid (401): a token that does not parse, is not
	// signed with the configured secret or key, uses an algorithm outside the allow-list,
	// carries no "_id", was revoked (auth:logout), or was refreshed more than the grace
	// period ago (lib/core/security/tokenRepository.ts verifyToken, refresh).
	ErrTokenInvalid = kuzzle.ErrTokenInvalid
	// ErrTokenExpired is security.token.expired (401): a well-signed token past its "exp"
	// (tokenRepository.ts decodeToken, jsonwebtoken's TokenExpiredError).
	ErrTokenExpired = kuzzle.ErrTokenExpired
	// ErrRefreshForbidden is security.token.refresh_forbidden (401), props [what]: a token
	// without expiry cannot be refreshed (tokenRepository.ts refresh).
	ErrRefreshForbidden = kuzzle.ErrTokenRefreshForbidden
	// ErrTTLExceeded is security.token.ttl_exceeded (400): the requested expiresIn is over
	// security.authToken.maxTTL (tokenRepository.ts generateToken).
	ErrTTLExceeded = kuzzle.ErrTokenTTLExceeded
	// ErrTokenGeneration is security.token.generation_failed (500), props [reason]: no
	// secret or no HMAC algorithm to sign with (tokenRepository.ts generateToken).
	ErrTokenGeneration = kuzzle.ErrTokenGenerationFailed
	// ErrInvalidExpiresIn is api.assert.invalid_argument (400), props ["expiresIn", hint]:
	// an expiresIn that is neither a number of milliseconds nor a timespan string
	// (tokenRepository.ts generateToken).
	ErrInvalidExpiresIn = kuzzle.ErrInvalidArgument
	// ErrUnknownStrategy is security.credentials.unknown_strategy (400), props [strategy]:
	// auth:login with a strategy other than "local" (lib/api/controllers/authController.ts
	// login).
	ErrUnknownStrategy = kuzzle.ErrUnknownStrategy
	// ErrLoginFailed is plugin.strategy.missing_user (401), props [message]: the local
	// strategy refused the credentials. The message is "wrong username or password"
	// (kuzzle-plugin-auth-passport-local lib/index.js verify, relayed by
	// lib/core/plugin/pluginsManager.ts and lib/core/auth/passportWrapper.ts) or, when the
	// username or the password is missing, "Missing credentials" (passport-local). Kuzzle
	// does not use security.credentials.rejected for a wrong password.
	ErrLoginFailed = kuzzle.ErrStrategyMissingUser
	// ErrTooManyLogins is api.process.too_many_logins_requests (429): more auth:login
	// requests in the current second than limits.loginsPerSecond (lib/api/rateLimiter.ts,
	// lib/api/funnel.ts).
	ErrTooManyLogins = kuzzle.ErrTooManyLogins
	// ErrUnauthorized is security.rights.unauthorized (401), props [controller, action]:
	// the anonymous user may not run the action (lib/api/funnel.ts checkRights).
	ErrUnauthorized = kuzzle.ErrUnauthorized
	// ErrForbidden is security.rights.forbidden (403), props [controller, action, kuid]:
	// an authenticated user may not run the action (lib/api/funnel.ts checkRights).
	ErrForbidden = kuzzle.ErrForbidden
	// ErrUserNotFound is security.user.not_found (404), props [kuid]: a token names a kuid
	// that the security file does not define (lib/core/security/userRepository.ts).
	ErrUserNotFound = kuzzle.ErrUserNotFound
	// ErrRevocationFull is services.cache.write_failed (500), props [reason]: Revoke or
	// Refresh found TokenConfig.MaxRevoked tokens already remembered (Kuzzle raises this
	// id when it cannot write a token to its cache, tokenRepository.ts persistForUser).
	ErrRevocationFull = kuzzle.ErrCacheWriteFailed
)

// Errors without props, made once: an *kuzzle.Error is never modified, so one value serves
// every failure.
var (
	errTokenInvalid  = ErrTokenInvalid.New()
	errTokenExpired  = ErrTokenExpired.New()
	errTTLExceeded   = ErrTTLExceeded.New()
	errTooManyLogins = ErrTooManyLogins.New()
)

// Messages of ErrLoginFailed (kuzzle-plugin-auth-passport-local, passport-local).
const (
	msgWrongCredentials   = "wrong username or password"
	msgMissingCredentials = "Missing credentials"
)
