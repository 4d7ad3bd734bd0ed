package main

// Authentication and rights, as Kuzzle 2.56 does them (lib/api/funnel.ts checkRights,
// lib/core/auth/tokenManager.ts, lib/api/controllers/authController.ts), with package auth.
//
// Modes, chosen by the settings:
//
//   - open (no -security, no -jwt-secret, no -jwt-public-key): every client is the
//     anonymous user with every right, a `jwt` is ignored. The pipeline pays one nil check.
//   - token-only (a secret or a public key, no security file): the anonymous user has
//     Kuzzle's standard anonymous rights (auth:checkToken, getCurrentUser, getMyRights,
//     login, server:publicApi), and the user of any verified token may do everything
//     (auth.TokenOnlySecurity). Suits kuzzlews beside a Kuzzle that issues the tokens.
//   - security file (with or without a secret): roles, profiles and users of the file; a
//     verified token whose kuid the file does not define gets the file's "default"
//     profile when it has one, else security.user.not_found (auth.Security.TokenUser).
//     Without a secret nor a key every token is security.token.invalid.
//
// Every request's `jwt` is verified (auth.Tokens caches verified tokens by their string),
// then the action is checked against the user's profiles after the controller and action
// are known. On WebSocket a verified token is linked to the connection: one auth.Expirer
// (a heap by expiry, one timer) sends TokenExpired at expiry and removes the
// connection's subscriptions; the socket stays open.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuzzlews/kuzzlews/auth"
	"github.com/kuzzlews/kuzzlews/frame"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"github.com/tidwall/gjson"
)

// Defaults of AuthConfig used by the flags of main.
const (
	DefaultJWTTTL           = time.Hour // Kuzzle's security.authToken.expiresIn "1h"
	DefaultLoginsPerSecond  = 1         // Kuzzle's limits.loginsPerSecond, per connection
	DefaultLoginsPerAddress = 10        // per source address, all its connections together
)

// maxPublicKeyFile bounds the -jwt-public-key file read.
const maxPublicKeyFile = 1 << 20

// Secret is a setting that must never be shown: its String, GoString and LogValue are
// "[redacted]", so a Config printed or logged by mistake does not leak it.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// AuthConfig configures authentication and rights (Config.Auth). Its zero value is the
// open mode: no authentication, every client may do everything.
type AuthConfig struct {
	// SecurityFile is the path of the security file: Kuzzle's roles, profiles and users
	// in JSON (auth.LoadSecurity). Empty: none. Server.ReloadSecurity (SIGHUP) reads it
	// again.
	SecurityFile string
	// Secret is Kuzzle's security.authToken.secret: it verifies HS256, HS384 and HS512
	// tokens (those of Algorithms) and signs auth:login's tokens. Empty: none.
	Secret Secret
	// Algorithms is the allow-list of token algorithms (auth.TokenConfig.Algorithms;
	// "none" is always refused). Empty: HS256 with a Secret, plus the PublicKeyFile's
	// usual algorithm (auth.PublicKeyAlgorithm: RS256, ES256/384/512 or EdDSA).
	Algorithms []string
	// PublicKeyFile is a PEM public key for tokens a backend signs with a key pair.
	// Empty: none.
	PublicKeyFile string
	// TTL is the lifetime of the tokens auth:login issues without expiresIn; 0 means
	// DefaultJWTTTL, one hour (Kuzzle's security.authToken.expiresIn).
	TTL time.Duration
	// LoginsPerSecond bounds auth:login attempts per connection per second (Kuzzle's
	// limits.loginsPerSecond); past it, api.process.too_many_logins_requests (429). 0:
	// unlimited.
	LoginsPerSecond int
	// LoginsPerAddress bounds auth:login attempts per second from one source address,
	// every connection together. 0: unlimited.
	LoginsPerAddress int
}

// configured reports whether clients must authenticate (any mode but open).
func (c AuthConfig) configured() bool {
	return c.SecurityFile != "" || c.Secret != "" || c.PublicKeyFile != ""
}

// validate reports the first setting out of range.
func (c AuthConfig) validate() error {
	switch {
	case c.TTL < 0:
		return &settingError{"jwt-ttl", c.TTL, "must not be negative"}
	case c.LoginsPerSecond < 0:
		return &settingError{"logins-per-second", c.LoginsPerSecond, "must not be negative"}
	case c.LoginsPerAddress < 0:
		return &settingError{"logins-per-address", c.LoginsPerAddress, "must not be negative"}
	}
	return nil
}

// authState is the server's authentication: nil in open mode.
type authState struct {
	file    string        // the security file, "" for none
	holder  *auth.Holder  // the current Security
	tokens  *auth.Tokens  // nil without secret nor public key: every token is invalid
	expirer *auth.Expirer // links of WebSocket connections to tokens; nil without tokens
	perConn *auth.LoginLimiter
	perAddr *auth.LoginLimiter
	// linked maps an Expirer key (the connection's room.Conn id) to its *session, from
	// its first linked token until it closes.
	linked sync.Map
	// expired is the TokenExpired frame, built once.
	expired []byte
	reload  sync.Mutex // one ReloadSecurity at a time
}

// openAnonymous is the user of every request in open mode.
var openAnonymous = auth.OpenSecurity().Anonymous()

// newAuth returns the authentication of cfg.Auth, nil in open mode. It reads the
// security file and the public key file, and fails on a file that does not load, an
// algorithm that is unknown, "none", or without its key.
func newAuth(s *Server) (*authState, error) {
	c := s.cfg.Auth
	if !c.configured() {
		return nil, nil
	}
	a := &authState{file: c.SecurityFile}
	if c.Secret != "" || c.PublicKeyFile != "" {
		tc := auth.TokenConfig{Secret: []byte(c.Secret), Algorithms: c.Algorithms, ExpiresIn: c.TTL}
		if c.PublicKeyFile != "" {
			pem, err := readLimited(c.PublicKeyFile, maxPublicKeyFile)
			if err != nil {
				return nil, fmt.Errorf("-jwt-public-key: %w", err)
			}
			tc.PublicKey = pem
		}
		if len(tc.Algorithms) == 0 {
			if c.Secret != "" {
				tc.Algorithms = append(tc.Algorithms, "HS256")
			}
			if tc.PublicKey != nil {
				alg, err := auth.PublicKeyAlgorithm(tc.PublicKey)
				if err != nil {
					return nil, fmt.Errorf("-jwt-public-key: %w", err)
				}
				tc.Algorithms = append(tc.Algorithms, alg)
			}
		}
		tokens, err := auth.NewTokens(tc)
		if err != nil {
			return nil, fmt.Errorf("-jwt-algorithms: %w", err)
		}
		a.tokens = tokens
	}
	sec := auth.TokenOnlySecurity()
	if c.SecurityFile != "" {
		var err error
		if sec, err = auth.LoadSecurityFile(c.SecurityFile); err != nil {
			return nil, fmt.Errorf("-security %s: %w", c.SecurityFile, err)
		}
	}
	a.holder = auth.NewHolder(sec)
	a.perConn = auth.NewLoginLimiter(c.LoginsPerSecond, 0)
	a.perAddr = auth.NewLoginLimiter(c.LoginsPerAddress, 0)
	buf := kuzzle.AppendTokenExpired(make([]byte, frame.Headroom, frame.Headroom+256), s.nodeJSON)
	a.expired = frame.Seal(buf, frame.OpText)
	if a.tokens != nil {
		a.expirer = auth.NewExpirer(s.tokenExpired)
	}
	return a, nil
}

// readLimited reads at most max bytes of the file at path.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}

// close stops the expiry timer. It may be called on a nil authState and more than once.
func (a *authState) close() {
	if a != nil && a.expirer != nil {
		a.expirer.Stop()
	}
}

// warnings returns what the operator should know about the configuration: credentials
// that no secret can turn into tokens, a secret shorter than RFC 7518 section 3.2 asks
// for HS256.
func (a *authState) warnings(secret Secret) []string {
	var w []string
	if sec := a.holder.Load(); sec.HasCredentials() && (a.tokens == nil || !a.tokens.CanIssue()) {
		w = append(w, "the security file has users with credentials but there is no -jwt-secret to sign tokens: auth:login will fail")
	}
	if secret != "" && len(secret) < 32 {
		w = append(w, "-jwt-secret is shorter than 32 bytes, less than RFC 7518 section 3.2 requires for HS256")
	}
	return w
}

// ErrNoSecurityFile is ReloadSecurity's error when no security file is configured.
var ErrNoSecurityFile = errors.New("no -security file to reload")

// ReloadSecurity reads the security file again and makes it current atomically: requests
// that started with the old one finish with it, the next ones use the new one. On error
// (ErrNoSecurityFile, or the file does not load: the error names the problems, never a
// password) the current one is kept. Subscriptions made under the old rights are kept,
// as Kuzzle checks rights when a request is made.
func (s *Server) ReloadSecurity() error {
	a := s.auth
	if a == nil || a.file == "" {
		return ErrNoSecurityFile
	}
	a.reload.Lock()
	defer a.reload.Unlock()
	sec, err := auth.LoadSecurityFile(a.file)
	if err != nil {
		return err
	}
	a.holder.Store(sec)
	return nil
}

// authorize is Kuzzle's funnel checkRights for the request of c: the `jwt`, when present,
// must verify (security.token.invalid, security.token.expired) and name a user
// (security.user.not_found, see auth.Security.TokenUser); on WebSocket the token is
// linked to the connection; then the user's profiles must allow controller:action on the
// request's index and collection (when they are strings; actions that carry only a roomId
// are checked without restrictions, as in Kuzzle): security.rights.unauthorized (401)
// for the anonymous user, security.rights.forbidden (403) otherwise. It sets c.user and
// c.tok.
func (a *authState) authorize(c *call, controller, action string) error {
	sec := a.holder.Load()
	ses := c.ses
	user := sec.Anonymous()
	if jwt := c.req.Token(); jwt != "" {
		if a.tokens == nil {
			return auth.ErrTokenInvalid.New()
		}
		// The request's strings alias the message buffer: the session keeps a copy,
		// which is also the key the verified token is cached under.
		if jwt != ses.tokStr {
			ses.tokStr, ses.user = strings.Clone(jwt), nil
		}
		tok, err := a.tokens.Verify(ses.tokStr)
		if err != nil {
			return err
		}
		if ses.user == nil || ses.userSec != sec {
			u, err := sec.TokenUser(tok.Kuid)
			if err != nil {
				return err
			}
			ses.user, ses.userSec = u, sec
		}
		user = ses.user
		c.tok = tok
		if ses.notifiable && !user.IsAnonymous() && ses.linked != ses.tokStr {
			a.link(ses, tok)
		}
	}
	c.user = user
	var index, collection string
	if c.req.Index.Type == gjson.String {
		index = c.req.Index.Str
	}
	if c.req.Collection.Type == gjson.String {
		collection = c.req.Collection.Str
	}
	return user.Check(controller, action, index, collection)
}

// link links the session's connection to tok, replacing the token it had (Kuzzle's
// TokenManager.link). It runs on the connection's turn.
func (a *authState) link(ses *session, tok auth.Token) {
	rc := ses.roomConn() // before the Expirer can call back: the callback reads ses.rc
	if !ses.registered {
		a.linked.Store(rc.ID(), ses)
		ses.registered = true
	}
	a.expirer.Set(rc.ID(), tok)
	ses.linked = tok.Encoded()
}

// unlink forgets the session's links, when it closes.
func (a *authState) unlink(ses *session) {
	id := ses.rc.ID()
	a.expirer.Remove(id)
	a.linked.Delete(id)
	ses.linked, ses.registered = "", false
}

// tokenExpired is the Expirer's callback, on its goroutine: the connection whose token
// expired gets Kuzzle's TokenExpired server notification and loses its subscriptions;
// the socket stays open (lib/core/auth/tokenManager.ts, lib/core/realtime/notifier.ts
// notifyTokenExpired).
func (s *Server) tokenExpired(key string, _ auth.Token) {
	v, ok := s.auth.linked.Load(key)
	if !ok {
		return
	}
	ses := v.(*session)
	ses.out.Send(s.auth.expired)
	s.rooms.UnsubscribeAll(ses.rc)
}

// dropSubscriptions removes the subscriptions of the connections linked to tok, without
// notification, and unlinks them (Kuzzle's TokenManager.expire after a token is deleted:
// auth:logout).
func (a *authState) dropSubscriptions(s *Server, tok auth.Token) {
	if a.expirer == nil {
		return
	}
	for _, key := range a.expirer.RemoveToken(tok) {
		if v, ok := a.linked.Load(key); ok {
			s.rooms.UnsubscribeAll(v.(*session).rc)
		}
	}
}

// currentUser is the request's user: the anonymous one in open mode.
func (c *call) currentUser() *auth.User {
	if c.user == nil {
		return openAnonymous
	}
	return c.user
}

// author is the kuid put in the _kuzzle_info.author of notifications: "" (the anonymous
// user, "-1") or the request's user.
func (c *call) author() string {
	if c.user == nil || c.user.IsAnonymous() {
		return ""
	}
	return c.user.Kuid()
}

// subscribable returns realtime:list's filter: the index/collection pairs the request's
// user may subscribe to (hotelClerk.ts listSubscriptions), nil for all in open mode.
func (c *call) subscribable() func(index, collection string) bool {
	if c.user == nil {
		return nil
	}
	u := c.user
	return func(index, collection string) bool { return u.Allowed("realtime", "subscribe", index, collection) }
}

// --- auth controller (Kuzzle 2.56 lib/api/controllers/authController.ts) ---

var anonymousToken = []byte(`{"expiresAt":null,"kuid":"-1","valid":true}`)

// authCheckToken answers auth:checkToken: body.token (not the request's jwt) is
// verified. No token (or an empty one): the anonymous user,
// {"expiresAt":null,"kuid":"-1","valid":true}; a valid one: {"expiresAt":<ms or
// -1>,"kuid":<id>,"valid":true}; an invalid or expired one (or any, with no secret nor
// key): {"state":<the error's message>,"valid":false}. A non-string token is
// api.assert.invalid_type.
func authCheckToken(c call) ([]byte, error) {
	v := c.req.Body.Get("token")
	if kuzzle.Present(v) && v.Type != gjson.String {
		return nil, kuzzle.ErrInvalidType.New("body.token", "string")
	}
	if v.Str == "" {
		return anonymousToken, nil
	}
	a := c.s.auth
	if a == nil || a.tokens == nil {
		return invalidToken(auth.ErrTokenInvalid.New()), nil
	}
	tok, err := a.tokens.Verify(strings.Clone(v.Str))
	if err != nil {
		if e := kuzzle.AsError(err); e.Status == 401 {
			return invalidToken(e), nil
		}
		return nil, err
	}
	b := append(make([]byte, 0, 64+len(tok.Kuid)), `{"expiresAt":`...)
	b = strconv.AppendInt(b, tok.ExpiresAt, 10)
	b = append(b, `,"kuid":`...)
	b = kuzzle.AppendString(b, tok.Kuid)
	return append(b, `,"valid":true}`...), nil
}

func invalidToken(e *kuzzle.Error) []byte {
	b := append([]byte(`{"state":`), kuzzle.AppendString(nil, e.Message)...)
	return append(b, `,"valid":false}`...)
}

// authGetCurrentUser answers auth:getCurrentUser in Kuzzle's shape
// (formatProcessing.serializeUser, then the strategies the user has credentials for):
// {"_id":<kuid>,"_source":{...,"profileIds":[...]},"strategies":["local"] or []}.
func authGetCurrentUser(c call) ([]byte, error) {
	u := c.currentUser()
	b := append(make([]byte, 0, 64+len(u.Source())), `{"_id":`...)
	b = kuzzle.AppendString(b, u.Kuid())
	b = append(b, `,"_source":`...)
	b = append(b, u.Source()...)
	b = append(b, `,"strategies":`...)
	st, _ := json.Marshal(u.Strategies())
	b = append(b, st...)
	return append(b, '}'), nil
}

// authGetMyRights answers auth:getMyRights: {"hits":[{controller, action, index,
// collection, value}...],"total":n} (auth.User.Rights).
func authGetMyRights(c call) ([]byte, error) {
	rights := c.currentUser().Rights()
	return json.Marshal(struct {
		Hits  []auth.Right `json:"hits"`
		Total int          `json:"total"`
	}{rights, len(rights)})
}

// authGetStrategies answers auth:getStrategies: ["local"].
func authGetStrategies(call) ([]byte, error) { return []byte(`["local"]`), nil }

// tokenResult is Kuzzle's answer to login and refreshToken: {_id, expiresAt, jwt, ttl}
// (authController.ts _sendToken).
func tokenResult(t auth.Token) []byte {
	b := append(make([]byte, 0, 96+len(t.Kuid)+len(t.Encoded())), `{"_id":`...)
	b = kuzzle.AppendString(b, t.Kuid)
	b = append(b, `,"expiresAt":`...)
	b = strconv.AppendInt(b, t.ExpiresAt, 10)
	b = append(b, `,"jwt":`...)
	b = kuzzle.AppendString(b, t.Encoded())
	b = append(b, `,"ttl":`...)
	b = strconv.AppendInt(b, t.TTL, 10)
	return append(b, '}')
}

// expiresIn reads the expiresIn argument as Kuzzle does (`if (args.expiresIn)`: a falsy
// value is the default), then auth.ParseExpiresIn.
func expiresIn(r *kuzzle.Request) (time.Duration, error) {
	v := r.Arg("expiresIn")
	if !kuzzle.Truthy(v) {
		return 0, nil
	}
	switch v.Type {
	case gjson.String:
		return auth.ParseExpiresIn(v.Str)
	case gjson.Number:
		return auth.ParseExpiresIn(json.Number(v.Raw))
	}
	return auth.ParseExpiresIn(struct{}{}) // api.assert.invalid_argument
}

// bodyString is body.<name> when it is a string, else "".
func bodyString(r *kuzzle.Request, name string) string {
	if v := r.Body.Get(name); v.Type == gjson.String && r.Body.IsObject() {
		return v.Str
	}
	return ""
}

// authLogin answers auth:login with the local strategy: attempts per connection and per
// source address first (api.process.too_many_logins_requests), then strategy
// (missing_argument, invalid_type, security.credentials.unknown_strategy), body.username and
// body.password checked against the security file (plugin.strategy.missing_user, 401),
// expiresIn, then a token Kuzzle would issue: {"_id","expiresAt","jwt","ttl"}. On
// WebSocket the token is linked to the connection, and a token of the same user already
// linked to it is replaced on every connection (Kuzzle's TokenManager.refresh), unless it
// never expires: then it is answered again.
func authLogin(c call) ([]byte, error) {
	a := c.s.auth
	if a != nil { // Kuzzle's rate limiter runs before the action (lib/api/funnel.ts)
		if err := a.perConn.Check(c.ses.connKey()); err != nil {
			return nil, err
		}
		if err := a.perAddr.Check(c.ses.hostKey()); err != nil {
			return nil, err
		}
	}
	strategy, err := c.req.String("strategy")
	if err != nil {
		return nil, err
	}
	sec := auth.OpenSecurity()
	if a != nil {
		sec = a.holder.Load()
	}
	user, err := sec.Login(strategy, bodyString(c.req, "username"), bodyString(c.req, "password"))
	if err != nil {
		return nil, err
	}
	ttl, err := expiresIn(c.req)
	if err != nil {
		return nil, err
	}
	if a == nil || a.tokens == nil || !a.tokens.CanIssue() {
		return nil, auth.ErrTokenGeneration.New("no -jwt-secret to sign tokens with")
	}
	ses := c.ses
	var existing auth.Token
	if ses.notifiable && ses.rc != nil && a.expirer != nil {
		if t, ok := a.expirer.Get(ses.rc.ID()); ok && t.Kuid == user.Kuid() {
			existing = t
		}
	}
	if !existing.IsZero() && existing.TTL < 0 {
		return tokenResult(existing), nil
	}
	tok, err := a.tokens.Issue(user.Kuid(), ttl)
	if err != nil {
		return nil, err
	}
	if !existing.IsZero() {
		a.expirer.Replace(existing, tok)
	}
	if ses.notifiable {
		a.link(ses, tok)
	}
	return tokenResult(tok), nil
}

// authLogout answers auth:logout: the anonymous user gets security.rights.unauthorized;
// otherwise the connection is unlinked from the token, the token is refused from now
// until its expiry (on this server: see the README for other systems), the subscriptions
// of the other connections linked to it are removed without notification, and the
// answer is {"acknowledged":true}. global: true (every token of the user) is
// api.assert.invalid_argument: kuzzlews only knows the tokens it has seen.
func authLogout(c call) ([]byte, error) {
	u := c.currentUser()
	if u.IsAnonymous() {
		return nil, auth.ErrUnauthorized.New("auth", "logout")
	}
	global, err := c.req.Bool("global")
	if err != nil {
		return nil, err
	}
	if global {
		return nil, kuzzle.ErrInvalidArgument.New("global", "false (kuzzlews cannot revoke the tokens of a user it has not seen; log out with each token)")
	}
	a, ses := c.s.auth, c.ses
	if ses.notifiable && ses.rc != nil && a.expirer != nil {
		if t, ok := a.expirer.Get(ses.rc.ID()); ok && t.Encoded() == c.tok.Encoded() {
			a.expirer.Remove(ses.rc.ID())
			ses.linked = ""
		}
	}
	if err := a.tokens.Revoke(c.tok); err != nil {
		return nil, err
	}
	a.dropSubscriptions(c.s, c.tok)
	a.shareLogout(c.s, c.tok)
	return []byte(`{"acknowledged":true}`), nil
}

// revokeEvent is the cluster event (room/cluster Node.Broadcast) that carries a logout to
// the other nodes: the token's Revocation (its SHA-256 and its expiry), never the token.
const revokeEvent = "auth.revoke"

// shareLogout tells the other nodes of a cluster that tok was revoked here. Delivery is
// at most once, as every message between nodes: a node that misses it (NATS down) keeps
// accepting the token until its expiry, and the logout's answer does not wait for it.
func (a *authState) shareLogout(s *Server, tok auth.Token) {
	if s.cluster == nil {
		return
	}
	r := auth.RevocationOf(tok)
	b := binary.BigEndian.AppendUint64(r.Key[:], uint64(r.ExpiresAt))
	if err := s.cluster.Broadcast(revokeEvent, b); err != nil {
		s.log.Warn("a logout could not be sent to the other nodes", "err", err)
	}
}

// applyRemoteLogout honours a logout made on another node: the token is refused from now
// on, and the connections linked to it here lose their subscriptions, as on the node
// where the logout was made. payload is shareLogout's: 32 bytes of hash, 8 of expiry.
func (a *authState) applyRemoteLogout(s *Server, payload []byte) {
	if len(payload) != 40 {
		s.log.Warn("malformed logout from another node", "bytes", len(payload))
		return
	}
	var r auth.Revocation
	copy(r.Key[:], payload)
	r.ExpiresAt = int64(binary.BigEndian.Uint64(payload[32:]))
	if err := a.tokens.ApplyRevocation(r); err != nil {
		s.log.Warn("a logout from another node could not be applied", "err", err)
	}
	if a.expirer == nil {
		return
	}
	for _, key := range a.expirer.RemoveRevoked(r) {
		if v, ok := a.linked.Load(key); ok {
			s.rooms.UnsubscribeAll(v.(*session).rc)
		}
	}
}

// authRefreshToken answers auth:refreshToken (tokenRepository.ts refresh): the
// anonymous user gets security.rights.unauthorized; otherwise a new token for the user
// (expiresIn as for login), the request's token staying valid for Kuzzle's grace period
// (one second) and not refreshable again (security.token.invalid), a token without
// expiry security.token.refresh_forbidden. Connections linked to the old token are
// linked to the new one.
func authRefreshToken(c call) ([]byte, error) {
	if c.currentUser().IsAnonymous() {
		return nil, auth.ErrUnauthorized.New("auth", "refreshToken")
	}
	ttl, err := expiresIn(c.req)
	if err != nil {
		return nil, err
	}
	a := c.s.auth
	fresh, err := a.tokens.Refresh(c.tok, ttl)
	if err != nil {
		return nil, err
	}
	if a.expirer != nil {
		a.expirer.Replace(c.tok, fresh)
	}
	return tokenResult(fresh), nil
}

// connKey is the login limiter's key of the session's connection: its connection id on
// WebSocket, its address and port over HTTP.
func (ses *session) connKey() string {
	if ses.remote != nil {
		return ses.remote.RemoteAddr().String()
	}
	return ses.roomConn().ID()
}

// hostKey is the login limiter's key of the session's source address (the IP address,
// without the port).
func (ses *session) hostKey() string {
	var addr net.Addr
	if ses.remote != nil {
		addr = ses.remote.RemoteAddr()
	} else if p, ok := ses.out.(addresser); ok {
		addr = p.RemoteAddr()
	}
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// authMode names the authentication mode for the start-up log: "open", "token-only" or
// "security-file".
func (s *Server) authMode() string {
	switch {
	case s.auth == nil:
		return "open"
	case s.auth.file == "":
		return "token-only"
	}
	return "security-file"
}
