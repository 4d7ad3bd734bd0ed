package auth

import (
	"container/heap"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Prefixes Kuzzle 2.56 puts in front of the JWTs it issues (lib/model/security/token.ts
// AUTH_PREFIX, APIKEY_PREFIX).
const (
	AuthPrefix   = "kauth-"
	APIKeyPrefix = "kapikey-"
)

// AnonymousKuid is the kuid of Kuzzle's anonymous user (lib/core/security/userRepository.ts).
const AnonymousKuid = "-1"

// Infinite, as a ttl, asks for a token without expiry: Kuzzle's expiresIn -1.
const Infinite time.Duration = -1

// TokenConfig configures Tokens. Its zero value verifies nothing (no secret, no key); set
// Secret to Kuzzle's security.authToken.secret to accept and issue Kuzzle's tokens.
type TokenConfig struct {
	// Secret is the HMAC key, the bytes of Kuzzle's security.authToken.secret (Kuzzle uses
	// the string's UTF-8 bytes). Empty: HS256/HS384/HS512 tokens are refused and Issue
	// fails with ErrTokenGeneration.
	Secret []byte

	// Algorithms is the allow-list of JWT "alg" values accepted by Verify, among HS256,
	// HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and
	// EdDSA. Empty means ["HS256"], Kuzzle's security.authToken.algorithm. "none" is never
	// accepted. Issue signs with the first HS algorithm of the list. Kuzzle itself pins no
	// algorithm on verification (jsonwebtoken then accepts HS256/384/512 for a secret);
	// list all three to accept tokens of a Kuzzle configured with another one.
	Algorithms []string

	// PublicKey is an optional PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY" or
	// "CERTIFICATE" block) for tokens a backend signs with a key pair: RSA for RS*/PS*,
	// ECDSA on the matching curve for ES256 (P-256), ES384 (P-384), ES512 (P-521), Ed25519
	// for EdDSA. A private key is refused.
	PublicKey []byte

	// RequirePrefix refuses tokens that do not start with "kauth-". False accepts a bare
	// JWT too: Kuzzle 2.56 strips the prefix before jwt.verify and so verifies bare JWTs
	// the same way, then looks the token up in its Redis store, where only tokens assigned
	// by a plugin (core:security:token:assign) can be bare.
	RequirePrefix bool

	// ExpiresIn is the ttl of issued tokens when the caller gives none. Zero means one
	// hour, Kuzzle's security.authToken.expiresIn "1h".
	ExpiresIn time.Duration

	// MaxTTL is the largest ttl Issue and Refresh accept (Kuzzle's
	// security.authToken.maxTTL); past it, or for an infinite ttl, they fail with
	// ErrTTLExceeded. Zero or negative means no limit (Kuzzle's -1).
	MaxTTL time.Duration

	// GracePeriod is how long a refreshed token stays valid after Refresh (Kuzzle's
	// security.authToken.gracePeriod). Zero means one second, Kuzzle's 1000 ms; negative
	// means none.
	GracePeriod time.Duration

	// CacheSize is the number of verified tokens kept, least recently used first out.
	// Zero means 10,000.
	CacheSize int

	// MaxRevoked bounds the revoked and refreshed tokens remembered until their expiry.
	// Zero means 1,048,576 (about 100 MiB). Past it, Revoke fails with ErrRevocationFull.
	MaxRevoked int

	// MaxTokenLength is the longest token string accepted, in bytes; longer ones are
	// ErrTokenInvalid without being parsed. Zero means 8 KiB.
	MaxTokenLength int

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

func (c TokenConfig) withDefaults() TokenConfig {
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{"HS256"}
	}
	if c.ExpiresIn == 0 {
		c.ExpiresIn = time.Hour
	}
	if c.MaxTTL < 0 {
		c.MaxTTL = 0
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = time.Second
	} else if c.GracePeriod < 0 {
		c.GracePeriod = 0
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 10_000
	}
	if c.MaxRevoked <= 0 {
		c.MaxRevoked = 1 << 20
	}
	if c.MaxTokenLength <= 0 {
		c.MaxTokenLength = 8 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Token is a verified or issued authentication token. Its String, GoString and LogValue
// methods never show the token itself.
type Token struct {
	// Kuid is the user id: the token's "_id" claim.
	Kuid string
	// ExpiresAt is when the token expires, in Unix milliseconds (Kuzzle's expiresAt), -1
	// for never. For a verified token it is the "exp" claim; for an issued one, the
	// issuing instant plus the ttl, as Kuzzle computes it, which is up to a second after
	// the "exp" claim (whole seconds from the issuing second).
	ExpiresAt int64
	// TTL is the token's lifetime in milliseconds (Kuzzle's ttl), -1 for never.
	TTL int64

	encoded string // the token as presented or issued, prefix included
	jwt     string // the JWT without prefix: the token's identity
}

// Encoded returns the token string as presented to Verify or as issued (Kuzzle's jwt
// field). Treat it as a secret: it must not be logged.
func (t Token) Encoded() string { return t.encoded }

// IsZero reports whether t is the zero Token.
func (t Token) IsZero() bool { return t.jwt == "" && t.Kuid == "" }

// String describes t without the token itself.
func (t Token) String() string {
	return "auth.Token{Kuid:" + strconv.Quote(t.Kuid) + " ExpiresAt:" + strconv.FormatInt(t.ExpiresAt, 10) + "}"
}

// GoString is String, so that %#v does not print the token either.
func (t Token) GoString() string { return t.String() }

// LogValue is what log/slog records for t: the kuid and the expiry, never the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kuid", t.Kuid), slog.Int64("expiresAt", t.ExpiresAt))
}

// revocation is a revoked or refreshed token remembered until it expires.
type revocation struct {
	key [32]byte
	// from is the Unix millisecond from which the token is refused: now for a logout, the
	// end of the grace period for a refresh.
	from int64
	// expiresAt is the token's own expiry in Unix ms, -1 for never; the entry is dropped
	// at that instant.
	expiresAt int64
}

// revHeap orders revocations by expiresAt, earliest first; infinite ones are not in it.
type revHeap []*revocation

func (h revHeap) Len() int           { return len(h) }
func (h revHeap) Less(i, j int) bool { return h[i].expiresAt < h[j].expiresAt }
func (h revHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *revHeap) Push(x any)        { *h = append(*h, x.(*revocation)) }
func (h *revHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}

// Tokens verifies, issues, refreshes and revokes Kuzzle-shaped tokens. It is safe for
// concurrent use. Verified tokens are cached by their string (bounded, least recently
// used first out); revocations are remembered until the token expires.
type Tokens struct {
	cfg    TokenConfig
	parser *jwt.Parser
	pub    any                    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	signer *jwt.SigningMethodHMAC // first HS algorithm of the allow-list, nil if none

	mu      sync.Mutex
	cache   *lru                     // guarded by mu
	revoked map[[32]byte]*revocation // guarded by mu
	revExp  revHeap                  // guarded by mu
}

// NewTokens checks cfg and returns Tokens. It fails on an unknown or "none" algorithm, an
// HS algorithm without Secret, an asymmetric algorithm without a PublicKey of its type, a
// PublicKey that no allowed algorithm uses, or a PublicKey that does not parse.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	cfg = cfg.withDefaults()
	t := &Tokens{cfg: cfg, cache: newLRU(cfg.CacheSize), revoked: make(map[[32]byte]*revocation)}
	if len(cfg.PublicKey) > 0 {
		pub, err := parsePublicKey(cfg.PublicKey)
		if err != nil {
			return nil, err
		}
		t.pub = pub
	}
	usesKey := false
	for _, alg := range cfg.Algorithms {
		if strings.EqualFold(alg, "none") {
			return nil, errors.New(`auth: algorithm "none" is never accepted`)
		}
		m := jwt.GetSigningMethod(alg)
		if m == nil {
			return nil, fmt.Errorf("auth: unknown JWT algorithm %q", alg)
		}
		switch m := m.(type) {
		case *jwt.SigningMethodHMAC:
			if len(cfg.Secret) == 0 {
				return nil, fmt.Errorf("auth: algorithm %s needs a secret", alg)
			}
			if t.signer == nil {
				t.signer = m
			}
		default:
			if !keyFits(m, t.pub) {
				return nil, fmt.Errorf("auth: algorithm %s needs a public key of its type", alg)
			}
			usesKey = true
		}
	}
	if t.pub != nil && !usesKey {
		return nil, errors.New("auth: a public key is configured but no RS/PS/ES/EdDSA algorithm is allowed")
	}
	t.parser = jwt.NewParser(jwt.WithValidMethods(cfg.Algorithms), jwt.WithTimeFunc(cfg.Now))
	return t, nil
}

// parsePublicKey reads the first PEM block of b as a public key.
func parsePublicKey(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("auth: the public key is not PEM")
	}
	var (
		pub any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("auth: PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: public key: %w", err)
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("auth: unsupported public key type %T", pub)
}

// PublicKeyAlgorithm returns the JWT algorithm a PEM public key (TokenConfig.PublicKey)
// is usually used with, for a default allow-list: RS256 for RSA, ES256, ES384 or ES512
// for ECDSA on P-256, P-384 or P-521, EdDSA for Ed25519. It fails as NewTokens does on a
// key that does not parse or whose type or curve is not supported.
func PublicKeyAlgorithm(pemKey []byte) (string, error) {
	pub, err := parsePublicKey(pemKey)
	if err != nil {
		return "", err
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case ed25519.PublicKey:
		return "EdDSA", nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return "ES256", nil
		case 384:
			return "ES384", nil
		case 521:
			return "ES512", nil
		}
	}
	return "", errors.New("auth: unsupported public key curve")
}

// keyFits reports whether pub verifies signatures of the asymmetric method m.
func keyFits(m jwt.SigningMethod, pub any) bool {
	switch m := m.(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok := pub.(*rsa.PublicKey)
		return ok
	case *jwt.SigningMethodECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve.Params().BitSize == m.CurveBits
	case *jwt.SigningMethodEd25519:
		_, ok := pub.(ed25519.PublicKey)
		return ok
	}
	return false
}

// keyFor is the jwt.Keyfunc: the secret for HMAC, the public key for its own method, so a
// public key is never used as an HMAC secret.
func (t *Tokens) keyFor(tok *jwt.Token) (any, error) {
	if _, ok := tok.Method.(*jwt.SigningMethodHMAC); ok {
		if len(t.cfg.Secret) == 0 {
			return nil, errors.New("no secret")
		}
		return t.cfg.Secret, nil
	}
	if keyFits(tok.Method, t.pub) {
		return t.pub, nil
	}
	return nil, errors.New("no key for this algorithm")
}

// claims are the claims Verify reads: "_id", and "exp", "nbf", "iat" held to
// jsonwebtoken's rules (verify.js): "exp" and "nbf", when present, must be JSON numbers
// (null or a quoted number, which golang-jwt's NumericDate would take, are refused),
// "iat" is not checked.
type claims struct {
	Kuid string          `json:"_id"`
	Exp  numericDate     `json:"exp"`
	Nbf  numericDate     `json:"nbf"`
	Iat  json.RawMessage `json:"iat"`
}

// numericDate is a JSON number of seconds since the epoch (RFC 7519 section 2); set
// tells whether the claim was present. Its UnmarshalJSON also sees a null.
type numericDate struct {
	jwt.NumericDate
	set bool
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	d.set = true
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errors.New("not a number")
	}
	return d.NumericDate.UnmarshalJSON(b)
}

func (d *numericDate) get() (*jwt.NumericDate, error) {
	if !d.set {
		return nil, nil
	}
	return &d.NumericDate, nil
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Exp.get() }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.Nbf.get() }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.iat(), nil }
func (c *claims) GetIssuer() (string, error)                   { return "", nil }
func (c *claims) GetSubject() (string, error)                  { return "", nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// iat is the "iat" claim when it is a number, else nil.
func (c *claims) iat() *jwt.NumericDate {
	var d numericDate
	if len(c.Iat) == 0 || d.UnmarshalJSON(c.Iat) != nil {
		return nil
	}
	return &d.NumericDate
}

// Verify checks a token string: the "kauth-" prefix (see TokenConfig.RequirePrefix), the
// signature with an allowed algorithm (golang-jwt), "exp" and "nbf" if present, a
// non-empty string "_id", and that the token was neither revoked nor refreshed more than
// the grace period ago. It fails with ErrTokenExpired for a well-signed expired token and
// ErrTokenInvalid for everything else, as Kuzzle's tokenRepository.verifyToken does.
// API keys ("kapikey-") are refused with ErrTokenInvalid: their revocation lives in
// Kuzzle's database. An empty string is ErrTokenInvalid: the caller decides what a
// request without a token means (Kuzzle: the anonymous user).
func (t *Tokens) Verify(token string) (Token, error) {
	if token == "" || len(token) > t.cfg.MaxTokenLength {
		return Token{}, errTokenInvalid
	}
	now := t.cfg.Now()
	nowMs := now.UnixMilli()

	t.mu.Lock()
	if e, ok := t.cache.get(token); ok {
		if e.until >= 0 && nowMs >= e.until {
			t.cache.remove(token)
			t.mu.Unlock()
			return Token{}, e.endErr
		}
		t.mu.Unlock()
		return e.tok, nil
	}
	t.mu.Unlock()

	tok, err := t.parse(token, nowMs)
	if err != nil {
		return Token{}, err
	}
	key := sha256.Sum256([]byte(tok.jwt))

	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(nowMs)
	until, endErr := tok.ExpiresAt, error(errTokenExpired)
	if r, ok := t.revoked[key]; ok {
		if nowMs >= r.from {
			return Token{}, errTokenInvalid
		}
		if until < 0 || r.from < until {
			until, endErr = r.from, errTokenInvalid
		}
	}
	t.cache.add(&cacheEntry{key: token, tok: tok, until: until, endErr: endErr})
	return tok, nil
}

// parse verifies the token string without the cache or the revocations.
func (t *Tokens) parse(token string, nowMs int64) (Token, error) {
	raw := token
	switch {
	case strings.HasPrefix(token, AuthPrefix):
		raw = token[len(AuthPrefix):]
	case strings.HasPrefix(token, APIKeyPrefix), t.cfg.RequirePrefix:
		return Token{}, errTokenInvalid
	}
	var c claims
	if _, err := t.parser.ParseWithClaims(raw, &c, t.keyFor); err != nil {
		// jsonwebtoken checks "nbf" before "exp": a token both not yet valid and expired
		// is a NotBeforeError, which Kuzzle answers as invalid.
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenNotValidYet) {
			return Token{}, errTokenExpired
		}
		return Token{}, errTokenInvalid
	}
	// Kuzzle: "probably forged token => throw without providing any information".
	if c.Kuid == "" {
		return Token{}, errTokenInvalid
	}
	tok := Token{Kuid: c.Kuid, ExpiresAt: -1, TTL: -1, encoded: token, jwt: raw}
	if c.Exp.set {
		tok.ExpiresAt = c.Exp.UnixMilli()
		if iat := c.iat(); iat != nil {
			tok.TTL = tok.ExpiresAt - iat.UnixMilli()
		} else {
			tok.TTL = max(tok.ExpiresAt-nowMs, 0)
		}
	}
	return tok, nil
}

// Issue signs a token for kuid as Kuzzle's auth:login does (tokenRepository.ts
// generateToken): jsonwebtoken's jwt.sign({_id: kuid}, secret, {algorithm, expiresIn})
// with the first HS algorithm of the allow-list, so the header is {"alg":…,"typ":"JWT"}
// and the payload {"_id":…,"iat":…,"exp":…} with exp = iat + ttl in whole seconds, then
// prefixed with "kauth-". ttl zero means TokenConfig.ExpiresIn; a negative ttl (Infinite)
// gives a token without "exp". A ttl under a second gives a token that is already expired,
// as in Kuzzle. Fails with ErrTTLExceeded past MaxTTL, ErrTokenGeneration without a
// secret or an HS algorithm, and ErrTokenInvalid for an empty kuid.
func (t *Tokens) Issue(kuid string, ttl time.Duration) (Token, error) {
	return t.issue(kuid, ttl, t.cfg.Now())
}

func (t *Tokens) issue(kuid string, ttl time.Duration, now time.Time) (Token, error) {
	if kuid == "" {
		return Token{}, errTokenInvalid
	}
	if t.signer == nil {
		return Token{}, ErrTokenGeneration.New("no secret and HS algorithm configured to sign tokens")
	}
	if ttl == 0 {
		ttl = t.cfg.ExpiresIn
	}
	if t.cfg.MaxTTL > 0 && (ttl < 0 || ttl > t.cfg.MaxTTL) {
		return Token{}, errTTLExceeded
	}
	iat := now.Unix()
	payload := make([]byte, 0, 64+len(kuid))
	payload = append(payload, `{"_id":`...)
	payload = appendJSString(payload, kuid)
	payload = append(payload, `,"iat":`...)
	payload = strconv.AppendInt(payload, iat, 10)
	tok := Token{Kuid: kuid, ExpiresAt: -1, TTL: -1}
	if ttl > 0 {
		ttlMs := ttl.Milliseconds()
		payload = append(payload, `,"exp":`...)
		payload = strconv.AppendInt(payload, iat+ttlMs/1000, 10)
		tok.TTL = ttlMs
		tok.ExpiresAt = now.UnixMilli() + ttlMs
	}
	payload = append(payload, '}')

	header := `{"alg":"` + t.signer.Alg() + `","typ":"JWT"}`
	signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := t.signer.Sign(signing, t.cfg.Secret)
	if err != nil {
		return Token{}, ErrTokenGeneration.New(err.Error())
	}
	tok.jwt = signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	tok.encoded = AuthPrefix + tok.jwt
	return tok, nil
}

// appendJSString appends s quoted as JavaScript's JSON.stringify quotes a string, so that
// issued tokens are byte for byte those of jsonwebtoken: '"' and '\\' escaped, \b \f \n \r
// \t, other control characters as \u00xx, everything else (U+2028, '<', ...) as is.
// Invalid UTF-8 becomes U+FFFD.
func appendJSString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r) // RuneError for invalid UTF-8
		i += size
	}
	return append(b, '"')
}

// Refresh issues a new token for old.Kuid, as auth:refreshToken does
// (tokenRepository.ts refresh): old stays valid for TokenConfig.GracePeriod, then Verify
// refuses it with ErrTokenInvalid, and it cannot be refreshed again. ttl is as for
// Issue. Fails with ErrTokenInvalid if old was already refreshed or revoked (or is not a
// token of Verify or Issue), ErrRefreshForbidden for a token without expiry, the errors
// of Issue, and ErrRevocationFull. A refresh in the second old was issued, with the same
// ttl, gives the very same token string (its claims are the same): it stays valid and
// nothing is revoked.
func (t *Tokens) Refresh(old Token, ttl time.Duration) (Token, error) {
	if old.jwt == "" {
		return Token{}, errTokenInvalid
	}
	now := t.cfg.Now()
	nowMs := now.UnixMilli()
	key := sha256.Sum256([]byte(old.jwt))

	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(nowMs)
	if _, ok := t.revoked[key]; ok {
		return Token{}, errTokenInvalid
	}
	if old.TTL < 0 {
		return Token{}, ErrRefreshForbidden.New("Token with infinite TTL")
	}
	if len(t.revoked) >= t.cfg.MaxRevoked {
		return Token{}, ErrRevocationFull.New("too many revoked tokens")
	}
	fresh, err := t.issue(old.Kuid, ttl, now)
	if err != nil {
		return Token{}, err
	}
	if fresh.jwt == old.jwt {
		// Same kuid, iat and exp (refreshed in the second it was issued, same ttl):
		// jsonwebtoken's output is the same token, which must stay valid. (Kuzzle 2.56
		// expires that Redis key after the grace period, refusing the new token too.)
		return fresh, nil
	}
	from := nowMs + t.cfg.GracePeriod.Milliseconds()
	t.rememberLocked(&revocation{key: key, from: from, expiresAt: old.ExpiresAt})
	t.forgetLocked(old)
	return fresh, nil
}

// Revoke refuses tok from now until it expires (auth:logout, tokenRepository.ts expire):
// Verify answers ErrTokenInvalid for it, with or without its prefix. Revoking an expired
// or already revoked token is a no-op. Fails with ErrRevocationFull when
// TokenConfig.MaxRevoked tokens are already remembered.
func (t *Tokens) Revoke(tok Token) error {
	if tok.jwt == "" {
		return nil
	}
	nowMs := t.cfg.Now().UnixMilli()
	key := sha256.Sum256([]byte(tok.jwt))

	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(nowMs)
	t.forgetLocked(tok)
	if tok.ExpiresAt >= 0 && nowMs >= tok.ExpiresAt {
		return nil
	}
	if r, ok := t.revoked[key]; ok {
		r.from = min(r.from, nowMs)
		return nil
	}
	if len(t.revoked) >= t.cfg.MaxRevoked {
		return ErrRevocationFull.New("too many revoked tokens")
	}
	t.rememberLocked(&revocation{key: key, from: nowMs, expiresAt: tok.ExpiresAt})
	return nil
}

// rememberLocked records r. t.mu must be held.
func (t *Tokens) rememberLocked(r *revocation) {
	t.revoked[r.key] = r
	if r.expiresAt >= 0 {
		heap.Push(&t.revExp, r)
	}
}

// forgetLocked drops the cached verifications of tok, under each spelling. t.mu must be
// held.
func (t *Tokens) forgetLocked(tok Token) {
	t.cache.remove(tok.encoded)
	t.cache.remove(tok.jwt)
	t.cache.remove(AuthPrefix + tok.jwt)
}

// purgeLocked drops the revocations of tokens expired at nowMs: an expired token is
// refused for its "exp" anyway. t.mu must be held.
func (t *Tokens) purgeLocked(nowMs int64) {
	for len(t.revExp) > 0 && t.revExp[0].expiresAt <= nowMs {
		r := heap.Pop(&t.revExp).(*revocation)
		if t.revoked[r.key] == r {
			delete(t.revoked, r.key)
		}
	}
}

// Revoked returns the number of revoked or refreshed tokens remembered.
func (t *Tokens) Revoked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(t.cfg.Now().UnixMilli())
	return len(t.revoked)
}

// CanIssue reports whether Issue can sign tokens (a secret and an HS algorithm).
func (t *Tokens) CanIssue() bool { return t.signer != nil }

// Revocation names a revoked token without its string: the SHA-256 of its JWT and its
// expiry (Unix milliseconds, -1 for never). It is what a logout on one node tells the
// other nodes of a cluster, so that no token travels between them.
type Revocation struct {
	Key       [32]byte
	ExpiresAt int64
}

// RevocationOf returns the Revocation of tok.
func RevocationOf(tok Token) Revocation {
	return Revocation{Key: sha256.Sum256([]byte(tok.jwt)), ExpiresAt: tok.ExpiresAt}
}

// ApplyRevocation refuses from now on the token r names, as Revoke does for a token of
// this process (a logout made on another node). Cached verifications of it are dropped:
// a scan of the cache, which logouts are rare enough to afford. An expired r is ignored;
// past TokenConfig.MaxRevoked it fails with ErrRevocationFull.
func (t *Tokens) ApplyRevocation(r Revocation) error {
	nowMs := t.cfg.Now().UnixMilli()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(nowMs)
	if r.ExpiresAt >= 0 && nowMs >= r.ExpiresAt {
		return nil
	}
	t.cache.removeIf(func(e *cacheEntry) bool { return sha256.Sum256([]byte(e.tok.jwt)) == r.Key })
	if old, ok := t.revoked[r.Key]; ok {
		old.from = min(old.from, nowMs)
		return nil
	}
	if len(t.revoked) >= t.cfg.MaxRevoked {
		return ErrRevocationFull.New("too many revoked tokens")
	}
	t.rememberLocked(&revocation{key: r.Key, from: nowMs, expiresAt: r.ExpiresAt})
	return nil
}
