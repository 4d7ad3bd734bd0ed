// Package auth is Kuzzle's authentication and rights model, compatible with Kuzzle 2.56:
// tokens a Kuzzle sharing the secret accepts and issues, users, profiles and roles from a
// security file, the rights check of every request, the local login strategy, and the
// timer that expires the tokens of live connections.
//
// Concurrency: every exported type is safe for concurrent use. A Security is immutable
// once loaded; a reload builds a new one and swaps it in a Holder, and each request uses
// the one Security (and the Users from it) it took with Holder.Load. Tokens and
// LoginLimiter guard their state with one mutex each. An Expirer runs one goroutine
// until Stop and calls back from it with no lock held.
//
// # Model
//
// A Role maps controllers ("*" for any) to actions ("*" for any) to true or false. A
// Profile is a list of policies, each a role and optional restrictions to indexes and
// their collections, and a rateLimit. A User has profiles, content (its _source) and
// optional local credentials (a username and a bcrypt or argon2id hash). A request for
// controller:action on index/collection is allowed if some policy of some profile of the
// user has a role allowing the action and restrictions covering the index and collection
// (User.Allowed, User.Check: 401 for the anonymous user, 403 otherwise). The anonymous
// user, kuid "-1", has the profile "anonymous": the security file's, or Kuzzle's
// standard one. OpenSecurity, for a server with neither security file nor secret, lets
// the anonymous user do everything. A verified token whose kuid the file does not define
// (a token of another system sharing the secret) gets the file's "default" profile if it
// has one (Security.TokenUser), else ErrUserNotFound; TokenOnlySecurity, for a server with
// a secret but no file, gives such users a "default" profile allowed everything and the
// anonymous user Kuzzle's standard rights.
//
// A token is Kuzzle's: "kauth-" and a JWT whose "_id" claim is the kuid, signed with
// security.authToken.secret (HS256 by default), "exp" honoured. Tokens.Verify checks one
// against an allow-list of algorithms (an optional PEM public key adds RS, PS, ES or
// EdDSA), caches the verified ones, and refuses revoked ones (Tokens.Revoke, auth:logout)
// and refreshed ones past the grace period (Tokens.Refresh, auth:refreshToken).
// Tokens.Issue signs tokens byte for byte as Kuzzle's jsonwebtoken call does. The
// Expirer links connections to their tokens and calls back when a token expires: the
// server then sends the TokenExpired notification and removes the subscriptions.
//
// Errors that Kuzzle answers with an API error are *kuzzle.Error values of package
// kuzzle's catalog (ErrTokenInvalid is kuzzle.ErrTokenInvalid, security.token.invalid, and
// so on); compare them with errors.Is. auth imports kuzzle for that vocabulary only. Security file problems are *FileError values naming the item. No error,
// String or log value of this package shows a token or a password.
//
// # Sources
//
// Kuzzle 2.56 (github.com/kuzzleio/kuzzle): lib/core/security/tokenRepository.ts
// (signing, verification, refresh, prefixes), lib/core/auth/tokenManager.ts (links of
// tokens to connections, expiry), lib/model/security/role.ts, profile.ts, user.ts and
// rights.ts (rights check and getMyRights), lib/core/security/profileRepository.ts
// (restriction optimization), roleRepository.ts, userRepository.ts and
// securityLoader.ts (validation, the anonymous user), lib/api/controllers/authController.ts
// (login, logout, checkToken, refreshToken), lib/api/funnel.ts (401 or 403),
// lib/api/rateLimiter.ts (logins per second), lib/config/default.config.ts
// (security.authToken defaults, the standard anonymous role), lib/kerror/codes/*.json
// (error ids and messages); kuzzle-plugin-auth-passport-local lib/index.js (the local
// strategy); jsonwebtoken 9 sign.js and verify.js (what Kuzzle's tokens look like and
// how they are checked).
//
// # Example
//
//	sec, err := auth.LoadSecurityFile("security.json")
//	if err != nil { ... }
//	holder := auth.NewHolder(sec)
//	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(secret)})
//	if err != nil { ... }
//
//	// auth:login
//	user, err := holder.Load().Login("local", username, password)
//	tok, err := tokens.Issue(user.Kuid(), 0) // {_id, expiresAt, jwt: tok.Encoded(), ttl}
//
//	// every request
//	s := holder.Load()
//	user := s.Anonymous()
//	if jwt != "" {
//		tok, err := tokens.Verify(jwt) // ErrTokenInvalid, ErrTokenExpired
//		user, err = s.TokenUser(tok.Kuid)
//	}
//	err = user.Check("realtime", "subscribe", index, collection) // ErrUnauthorized, ErrForbidden
package auth
