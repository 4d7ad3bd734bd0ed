package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signClaims signs claims with method and key using golang-jwt (what a backend would do).
func signClaims(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// rawToken assembles a token from a header and a payload, signed with HMAC-SHA256 of
// secret (or unsigned when secret is nil), to make tokens golang-jwt refuses to sign.
func rawToken(t *testing.T, header, payload string, secret []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	s := enc([]byte(header)) + "." + enc([]byte(payload))
	if secret == nil {
		return s + "."
	}
	sig, err := jwt.SigningMethodHS256.Sign(s, secret)
	if err != nil {
		t.Fatal(err)
	}
	return s + "." + enc(sig)
}

func TestVerify(t *testing.T) {
	start := time.Unix(vectorIat, 0)
	secret := []byte(testSecret)
	now := start.Unix()
	hs := func(m jwt.SigningMethod, c jwt.MapClaims) string { return signClaims(t, m, secret, c) }
	valid := jwt.MapClaims{"_id": "bob", "iat": now, "exp": now + 3600}

	tests := []struct {
		name  string
		cfg   TokenConfig
		token string
		want  error
		kuid  string
	}{
		{
			name:  "kauth- prefix",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, valid),
			kuid:  "bob",
		},
		{
			name:  "bare JWT",
			token: hs(jwt.SigningMethodHS256, valid),
			kuid:  "bob",
		},
		{
			name:  "bare JWT with RequirePrefix",
			cfg:   TokenConfig{RequirePrefix: true},
			token: hs(jwt.SigningMethodHS256, valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "API key prefix",
			token: APIKeyPrefix + hs(jwt.SigningMethodHS256, valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "no exp",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "bob", "iat": now}),
			kuid:  "bob",
		},
		{
			name:  "other secret",
			token: AuthPrefix + signClaims(t, jwt.SigningMethodHS256, []byte("other"), valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "alg none",
			token: AuthPrefix + rawToken(t, `{"alg":"none","typ":"JWT"}`, `{"_id":"bob"}`, nil),
			want:  ErrTokenInvalid,
		},
		{
			name:  "alg none signed by golang-jwt",
			cfg:   TokenConfig{Algorithms: []string{"HS256", "HS512"}},
			token: AuthPrefix + signClaims(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "expired",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "bob", "iat": now - 7200, "exp": now - 3600}),
			want:  ErrTokenExpired,
		},
		{
			name:  "exactly at exp (jsonwebtoken: now >= exp is expired)",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "bob", "iat": now - 60, "exp": now}),
			want:  ErrTokenExpired,
		},
		{
			name:  "expired and badly signed",
			token: AuthPrefix + signClaims(t, jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"_id": "bob", "exp": now - 3600}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "algorithm not allowed",
			token: AuthPrefix + hs(jwt.SigningMethodHS384, valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "algorithm allowed",
			cfg:   TokenConfig{Algorithms: []string{"HS256", "HS384", "HS512"}},
			token: AuthPrefix + hs(jwt.SigningMethodHS384, valid),
			kuid:  "bob",
		},
		{
			name:  "no _id",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "bob", "exp": now + 60}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "empty _id",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "", "exp": now + 60}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "numeric _id",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": 42, "exp": now + 60}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "string exp",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"_id":"bob","exp":"%d"}`, now+60), secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "null exp (jsonwebtoken: invalid exp value)",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `{"_id":"bob","exp":null}`, secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "null nbf",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `{"_id":"bob","nbf":null}`, secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "null _id",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `{"_id":null}`, secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "fractional exp",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"_id":"bob","exp":%d.5}`, now+60), secret),
			kuid:  "bob",
		},
		{
			name:  "string nbf",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"_id":"bob","nbf":"%d"}`, now-60), secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "string iat is not checked (jsonwebtoken without maxAge)",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"_id":"bob","iat":"x","exp":%d}`, now+60), secret),
			kuid:  "bob",
		},
		{
			name:  "not yet valid and expired: jsonwebtoken checks nbf first",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "bob", "nbf": now + 60, "exp": now - 60}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "nbf in the future",
			token: AuthPrefix + hs(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "bob", "nbf": now + 60, "exp": now + 3600}),
			want:  ErrTokenInvalid,
		},
		{
			name:  "payload not an object",
			token: AuthPrefix + rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `"bob"`, secret),
			want:  ErrTokenInvalid,
		},
		{
			name:  "garbage",
			token: "kauth-not.a.token",
			want:  ErrTokenInvalid,
		},
		{
			name:  "empty",
			token: "",
			want:  ErrTokenInvalid,
		},
		{
			name:  "prefix only",
			token: AuthPrefix,
			want:  ErrTokenInvalid,
		},
		{
			name:  "too long",
			cfg:   TokenConfig{MaxTokenLength: 64},
			token: AuthPrefix + hs(jwt.SigningMethodHS256, valid),
			want:  ErrTokenInvalid,
		},
		{
			name:  "signature stripped",
			token: AuthPrefix + strings.TrimRight(hs(jwt.SigningMethodHS256, valid), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			want:  ErrTokenInvalid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(start)
			tk := newTestTokens(t, clock, tc.cfg)
			for round := range 2 { // the second answer comes from the cache when the first succeeded
				got, err := tk.Verify(tc.token)
				if tc.want != nil {
					if !errors.Is(err, tc.want) {
						t.Fatalf("round %d: Verify = %v, %v; want %v", round, got, err, tc.want)
					}
					continue
				}
				if err != nil {
					t.Fatalf("round %d: Verify: %v", round, err)
				}
				if got.Kuid != tc.kuid || got.Encoded() != tc.token {
					t.Fatalf("round %d: Verify = %v (%q)", round, got, got.Encoded())
				}
			}
		})
	}
}

// pemOf encodes a public key as a PKIX "PUBLIC KEY" PEM block.
func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerifyAsymmetric(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(vectorIat, 0)
	claims := jwt.MapClaims{"_id": "svc", "iat": now.Unix(), "exp": now.Unix() + 600}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})

	tests := []struct {
		name   string
		algs   []string
		pub    []byte
		method jwt.SigningMethod
		key    any
		want   error
	}{
		{name: "RS256", algs: []string{"RS256"}, pub: pemOf(t, &rsaKey.PublicKey), method: jwt.SigningMethodRS256, key: rsaKey},
		{name: "RS256 PKCS#1 PEM", algs: []string{"RS256"}, pub: pkcs1, method: jwt.SigningMethodRS256, key: rsaKey},
		{name: "PS256", algs: []string{"PS256"}, pub: pemOf(t, &rsaKey.PublicKey), method: jwt.SigningMethodPS256, key: rsaKey},
		{name: "RS256 other key", algs: []string{"RS256"}, pub: pemOf(t, &otherRSA.PublicKey), method: jwt.SigningMethodRS256, key: rsaKey, want: ErrTokenInvalid},
		{name: "RS384 not allowed", algs: []string{"RS256"}, pub: pemOf(t, &rsaKey.PublicKey), method: jwt.SigningMethodRS384, key: rsaKey, want: ErrTokenInvalid},
		{name: "ES256", algs: []string{"ES256"}, pub: pemOf(t, &p256.PublicKey), method: jwt.SigningMethodES256, key: p256},
		{name: "ES384", algs: []string{"ES384"}, pub: pemOf(t, &p384.PublicKey), method: jwt.SigningMethodES384, key: p384},
		{name: "EdDSA", algs: []string{"EdDSA"}, pub: pemOf(t, edPub), method: jwt.SigningMethodEdDSA, key: edPriv},
		{name: "EdDSA beside HS256", algs: []string{"HS256", "EdDSA"}, pub: pemOf(t, edPub), method: jwt.SigningMethodEdDSA, key: edPriv},
		{
			name: "HS256 signed with the PEM public key as secret (algorithm confusion)",
			algs: []string{"HS256", "RS256"}, pub: pemOf(t, &rsaKey.PublicKey),
			method: jwt.SigningMethodHS256, key: pemOf(t, &rsaKey.PublicKey), want: ErrTokenInvalid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := newTestTokens(t, newFakeClock(now), TokenConfig{Algorithms: tc.algs, PublicKey: tc.pub})
			got, err := tk.Verify(AuthPrefix + signClaims(t, tc.method, tc.key, claims))
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Verify = %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err != nil || got.Kuid != "svc" || got.ExpiresAt != (now.Unix()+600)*1000 || got.TTL != 600_000 {
				t.Fatalf("Verify = %v (TTL %d), %v", got, got.TTL, err)
			}
		})
	}
}

func TestNewTokensConfigErrors(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  TokenConfig
		want string
	}{
		{name: "none", cfg: TokenConfig{Secret: []byte("s"), Algorithms: []string{"none"}}, want: `"none"`},
		{name: "NONE", cfg: TokenConfig{Secret: []byte("s"), Algorithms: []string{"HS256", "NONE"}}, want: `"none"`},
		{name: "unknown", cfg: TokenConfig{Secret: []byte("s"), Algorithms: []string{"HS257"}}, want: "unknown JWT algorithm"},
		{name: "lower case", cfg: TokenConfig{Secret: []byte("s"), Algorithms: []string{"hs256"}}, want: "unknown JWT algorithm"},
		{name: "HS without secret", cfg: TokenConfig{}, want: "needs a secret"},
		{name: "RS without key", cfg: TokenConfig{Algorithms: []string{"RS256"}}, want: "needs a public key"},
		{name: "ES256 with a P-384 key", cfg: TokenConfig{Algorithms: []string{"ES256"}, PublicKey: pemOf(t, &p384.PublicKey)}, want: "needs a public key"},
		{name: "key without algorithm", cfg: TokenConfig{Secret: []byte("s"), PublicKey: pemOf(t, &p256.PublicKey)}, want: "no RS/PS/ES/EdDSA"},
		{name: "private key", cfg: TokenConfig{Algorithms: []string{"ES256"}, PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})}, want: "not a public key"},
		{name: "not PEM", cfg: TokenConfig{Algorithms: []string{"ES256"}, PublicKey: []byte("hello")}, want: "not PEM"},
		{name: "bad DER", cfg: TokenConfig{Algorithms: []string{"ES256"}, PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})}, want: "public key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTokens(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewTokens = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	start := time.Unix(vectorIat, 400e6)
	tests := []struct {
		name      string
		cfg       TokenConfig
		ttl       time.Duration
		want      error
		exp       int64 // the "exp" claim, 0 for none
		ttlMs     int64
		expiresAt int64
	}{
		{name: "default one hour", exp: vectorIat + 3600, ttlMs: 3_600_000, expiresAt: start.UnixMilli() + 3_600_000},
		{name: "configured default", cfg: TokenConfig{ExpiresIn: time.Minute}, exp: vectorIat + 60, ttlMs: 60_000, expiresAt: start.UnixMilli() + 60_000},
		{name: "1500 ms: exp in whole seconds, ttl in ms", ttl: 1500 * time.Millisecond, exp: vectorIat + 1, ttlMs: 1500, expiresAt: start.UnixMilli() + 1500},
		{name: "infinite", ttl: Infinite, ttlMs: -1, expiresAt: -1},
		{name: "within MaxTTL", cfg: TokenConfig{MaxTTL: time.Hour}, ttl: time.Hour, exp: vectorIat + 3600, ttlMs: 3_600_000, expiresAt: start.UnixMilli() + 3_600_000},
		{name: "over MaxTTL", cfg: TokenConfig{MaxTTL: time.Hour}, ttl: time.Hour + time.Second, want: ErrTTLExceeded},
		{name: "infinite over MaxTTL", cfg: TokenConfig{MaxTTL: time.Hour}, ttl: Infinite, want: ErrTTLExceeded},
		{name: "signs with the first HS algorithm", cfg: TokenConfig{Algorithms: []string{"HS512", "HS256"}}, exp: vectorIat + 3600, ttlMs: 3_600_000, expiresAt: start.UnixMilli() + 3_600_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(start)
			tk := newTestTokens(t, clock, tc.cfg)
			tok, err := tk.Issue("bob", tc.ttl)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Issue = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Kuid != "bob" || tok.TTL != tc.ttlMs || tok.ExpiresAt != tc.expiresAt {
				t.Fatalf("Issue = %v TTL %d, want TTL %d expiresAt %d", tok, tok.TTL, tc.ttlMs, tc.expiresAt)
			}
			parts := strings.Split(strings.TrimPrefix(tok.Encoded(), AuthPrefix), ".")
			header, _ := base64.RawURLEncoding.DecodeString(parts[0])
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			wantAlg := "HS256"
			if len(tc.cfg.Algorithms) > 0 {
				wantAlg = tc.cfg.Algorithms[0]
			}
			if string(header) != `{"alg":"`+wantAlg+`","typ":"JWT"}` {
				t.Fatalf("header = %s", header)
			}
			want := fmt.Sprintf(`{"_id":"bob","iat":%d`, vectorIat)
			if tc.exp != 0 {
				want += fmt.Sprintf(`,"exp":%d`, tc.exp)
			}
			if string(payload) != want+"}" {
				t.Fatalf("payload = %s, want %s}", payload, want)
			}
			if tc.ttlMs > 1000 || tc.ttlMs < 0 {
				if _, err := tk.Verify(tok.Encoded()); err != nil {
					t.Fatalf("Verify(Issue) = %v", err)
				}
			}
		})
	}

	t.Run("no secret", func(t *testing.T) {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := NewTokens(TokenConfig{Algorithms: []string{"RS256"}, PublicKey: pemOf(t, &rsaKey.PublicKey)})
		if err != nil {
			t.Fatal(err)
		}
		if tk.CanIssue() {
			t.Fatal("CanIssue without a secret")
		}
		if _, err := tk.Issue("bob", 0); !errors.Is(err, ErrTokenGeneration) {
			t.Fatalf("Issue = %v, want ErrTokenGeneration", err)
		}
	})
	t.Run("empty kuid", func(t *testing.T) {
		if _, err := newTestTokens(t, nil, TokenConfig{}).Issue("", 0); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("Issue = %v, want ErrTokenInvalid", err)
		}
	})
	t.Run("under a second is born expired, as in Kuzzle", func(t *testing.T) {
		tk := newTestTokens(t, newFakeClock(start), TokenConfig{})
		tok, err := tk.Issue("bob", 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Verify(tok.Encoded()); !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("Verify = %v, want ErrTokenExpired", err)
		}
	})
}

func TestVerifyCachedExpiry(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{})
	tok, err := tk.Issue("bob", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(tok.Encoded()); err != nil {
		t.Fatal(err)
	}
	clock.Add(59*time.Second + 999*time.Millisecond)
	if _, err := tk.Verify(tok.Encoded()); err != nil {
		t.Fatalf("1 ms before exp: %v", err)
	}
	clock.Add(time.Millisecond)
	for round := range 2 { // from the cache, then parsed again
		if _, err := tk.Verify(tok.Encoded()); !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("round %d at exp: %v, want ErrTokenExpired", round, err)
		}
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{CacheSize: 3})
	var toks []Token
	for i := range 10 {
		tok, err := tk.Issue(fmt.Sprintf("user%d", i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		if _, err := tk.Verify(tok.Encoded()); err != nil {
			t.Fatal(err)
		}
		if n := tk.cache.len(); n > 3 {
			t.Fatalf("cache holds %d tokens, bound 3", n)
		}
	}
	for _, tok := range toks { // evicted ones verify again
		if got, err := tk.Verify(tok.Encoded()); err != nil || got.Kuid != tok.Kuid {
			t.Fatalf("Verify(%v) = %v, %v", tok, got, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{})
	tok, err := tk.Issue("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tk.Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bare := strings.TrimPrefix(tok.Encoded(), AuthPrefix)
	for _, s := range []string{tok.Encoded(), bare, other.Encoded()} {
		if _, err := tk.Verify(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := tk.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{tok.Encoded(), bare} {
		if _, err := tk.Verify(s); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("revoked: Verify = %v, want ErrTokenInvalid", err)
		}
	}
	if _, err := tk.Verify(other.Encoded()); err != nil {
		t.Fatalf("other token: %v", err)
	}
	if err := tk.Revoke(tok); err != nil { // twice is fine
		t.Fatal(err)
	}
	if _, err := tk.Refresh(tok, 0); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("Refresh(revoked) = %v, want ErrTokenInvalid", err)
	}
	if n := tk.Revoked(); n != 1 {
		t.Fatalf("Revoked() = %d, want 1", n)
	}
	clock.Add(time.Hour) // dropped at its expiry; refused as expired from then on
	if n := tk.Revoked(); n != 0 {
		t.Fatalf("after expiry Revoked() = %d, want 0", n)
	}
	if _, err := tk.Verify(tok.Encoded()); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("after expiry: Verify = %v, want ErrTokenExpired", err)
	}
	if err := tk.Revoke(tok); err != nil || tk.Revoked() != 0 {
		t.Fatalf("Revoke(expired) = %v, remembered %d", err, tk.Revoked())
	}
}

func TestRevokeBounded(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{MaxRevoked: 2})
	for i := range 3 {
		tok, err := tk.Issue(fmt.Sprintf("u%d", i), Infinite)
		if err != nil {
			t.Fatal(err)
		}
		err = tk.Revoke(tok)
		if i < 2 && err != nil {
			t.Fatalf("Revoke %d: %v", i, err)
		}
		if i == 2 && !errors.Is(err, ErrRevocationFull) {
			t.Fatalf("Revoke past MaxRevoked = %v, want ErrRevocationFull", err)
		}
	}
	// Expiring entries make room again.
	tk2 := newTestTokens(t, clock, TokenConfig{MaxRevoked: 1})
	a, _ := tk2.Issue("a", time.Minute)
	b, _ := tk2.Issue("b", time.Hour)
	if err := tk2.Revoke(a); err != nil {
		t.Fatal(err)
	}
	if err := tk2.Revoke(b); !errors.Is(err, ErrRevocationFull) {
		t.Fatalf("Revoke = %v, want ErrRevocationFull", err)
	}
	clock.Add(time.Minute)
	if err := tk2.Revoke(b); err != nil {
		t.Fatalf("after a expired: %v", err)
	}
}

func TestRefreshGrace(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{})
	old, err := tk.Issue("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(old.Encoded()); err != nil { // cached
		t.Fatal(err)
	}
	clock.Add(10 * time.Second)
	fresh, err := tk.Refresh(old, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Kuid != "bob" || fresh.TTL != 7_200_000 || fresh.ExpiresAt != clock.UnixMilli()+7_200_000 {
		t.Fatalf("Refresh = %v TTL %d", fresh, fresh.TTL)
	}
	clock.Add(999 * time.Millisecond) // within security.authToken.gracePeriod (1000 ms)
	for round := range 2 {
		if _, err := tk.Verify(old.Encoded()); err != nil {
			t.Fatalf("round %d within the grace period: %v", round, err)
		}
	}
	if _, err := tk.Refresh(old, 0); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("second Refresh = %v, want ErrTokenInvalid", err)
	}
	clock.Add(time.Millisecond)
	for round := range 2 {
		if _, err := tk.Verify(old.Encoded()); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("round %d after the grace period: %v, want ErrTokenInvalid", round, err)
		}
	}
	if _, err := tk.Verify(fresh.Encoded()); err != nil {
		t.Fatalf("new token: %v", err)
	}

	t.Run("same second, same ttl: the same token, still valid after the grace period", func(t *testing.T) {
		tk := newTestTokens(t, clock, TokenConfig{})
		old, _ := tk.Issue("bob", time.Hour)
		fresh, err := tk.Refresh(old, time.Hour)
		if err != nil || fresh.Encoded() != old.Encoded() {
			t.Fatalf("Refresh = %v, %v", fresh, err)
		}
		clock.Add(2 * time.Second)
		if _, err := tk.Verify(fresh.Encoded()); err != nil {
			t.Fatalf("Verify after the grace period: %v", err)
		}
		if tk.Revoked() != 0 {
			t.Fatal("a revocation was recorded")
		}
	})
	t.Run("infinite TTL", func(t *testing.T) {
		inf, err := tk.Issue("bob", Infinite)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tk.Refresh(inf, 0)
		var e *kuzzle.Error
		if !errors.As(err, &e) || e.ID != "security.token.refresh_forbidden" || e.Error() != "Token with infinite TTL cannot be refreshed." {
			t.Fatalf("Refresh(infinite) = %v", err)
		}
	})
	t.Run("no grace period", func(t *testing.T) {
		tk := newTestTokens(t, clock, TokenConfig{GracePeriod: -1})
		old, _ := tk.Issue("bob", time.Hour)
		clock.Add(time.Second) // else the new token is the old one
		if _, err := tk.Refresh(old, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Verify(old.Encoded()); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("Verify = %v, want ErrTokenInvalid", err)
		}
	})
	t.Run("over MaxTTL keeps the old token refreshable", func(t *testing.T) {
		tk := newTestTokens(t, clock, TokenConfig{MaxTTL: time.Hour})
		old, _ := tk.Issue("bob", time.Hour)
		if _, err := tk.Refresh(old, 2*time.Hour); !errors.Is(err, ErrTTLExceeded) {
			t.Fatalf("Refresh = %v, want ErrTTLExceeded", err)
		}
		if _, err := tk.Refresh(old, 0); err != nil {
			t.Fatalf("Refresh after a failed one: %v", err)
		}
	})
	t.Run("zero token", func(t *testing.T) {
		if _, err := tk.Refresh(Token{}, 0); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("Refresh(zero) = %v", err)
		}
	})
}

// TestTokensConcurrent runs Verify, Refresh and Revoke at once under the race detector.
func TestTokensConcurrent(t *testing.T) {
	tk := newTestTokens(t, nil, TokenConfig{CacheSize: 8})
	var toks []Token
	for i := range 32 {
		tok, err := tk.Issue(fmt.Sprintf("u%d", i), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				tok := toks[(i*7+w)%len(toks)]
				switch i % 10 {
				case 0:
					_ = tk.Revoke(tok)
				case 1:
					_, _ = tk.Refresh(tok, 0)
				default:
					_, _ = tk.Verify(tok.Encoded())
				}
			}
		})
	}
	wg.Wait()
	for _, tok := range toks {
		_ = tk.Revoke(tok)
		if _, err := tk.Verify(tok.Encoded()); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("revoked token verifies: %v", err)
		}
	}
}

// TestTokenNeverPrinted checks that formatting or logging a Token does not show it.
func TestTokenNeverPrinted(t *testing.T) {
	tk := newTestTokens(t, nil, TokenConfig{})
	tok, err := tk.Issue("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sig := tok.Encoded()[strings.LastIndexByte(tok.Encoded(), '.')+1:]
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "token", tok)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%v", &tok), buf.String()} {
		if strings.Contains(s, sig) || strings.Contains(s, "eyJ") {
			t.Fatalf("token printed: %s", s)
		}
		if !strings.Contains(s, "bob") {
			t.Fatalf("kuid not printed: %s", s)
		}
	}
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(sig)) {
		t.Fatalf("json.Marshal shows the token: %s", b)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  error
		is   error
		want string
	}{
		{err: errTokenInvalid, is: ErrTokenInvalid, want: "Invalid token."},
		{err: errTokenExpired, is: ErrTokenExpired, want: "Token expired"},
		{err: ErrForbidden.New("realtime", "subscribe", "bob"), is: ErrForbidden, want: `Insufficient permissions to execute the action "realtime:subscribe" (User "bob").`},
		{err: ErrUnauthorized.New("realtime", "publish"), is: ErrUnauthorized, want: `Unauthorized: authentication required to execute the action "realtime:publish".`},
		{err: ErrUnknownStrategy.New("oauth"), is: ErrUnknownStrategy, want: `Unknown authentication strategy "oauth"`},
		{err: ErrLoginFailed.New(msgWrongCredentials), is: ErrLoginFailed, want: "wrong username or password"},
		{err: errTooManyLogins, is: ErrTooManyLogins, want: "Rejected: Too many login attempts per second"},
		{err: ErrUserNotFound.New("bob"), is: ErrUserNotFound, want: `User "bob" not found.`},
		{err: fmt.Errorf("wrapped: %w", errTokenExpired), is: ErrTokenExpired, want: "wrapped: Token expired"},
	}
	for _, tc := range tests {
		if tc.err.Error() != tc.want {
			t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.want)
		}
		if tc.is != nil && !errors.Is(tc.err, tc.is) {
			t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.is)
		}
	}
	if errors.Is(ErrTokenInvalid, ErrTokenExpired) {
		t.Error("ErrTokenInvalid is ErrTokenExpired")
	}
}

func TestParseExpiresIn(t *testing.T) {
	tests := []struct {
		in   any
		want time.Duration
		bad  bool
	}{
		{in: nil, want: 0},
		{in: "1h", want: time.Hour},
		{in: "1H", want: time.Hour},
		{in: "30 minutes", want: 30 * time.Minute},
		{in: "2.5d", want: 60 * time.Hour},
		{in: "1y", want: time.Duration(31557600000) * time.Millisecond},
		{in: "1w", want: 7 * 24 * time.Hour},
		{in: "90000", want: 90 * time.Second},
		{in: ".5s", want: 500 * time.Millisecond},
		{in: "10 ms", want: 10 * time.Millisecond},
		{in: "-1", want: Infinite},
		{in: float64(-1), want: Infinite},
		{in: float64(3600000), want: time.Hour},
		{in: json.Number("1500"), want: 1500 * time.Millisecond},
		{in: 42, want: 42 * time.Millisecond},
		{in: int64(42), want: 42 * time.Millisecond},
		{in: "", bad: true},
		{in: "0", bad: true},
		{in: float64(0), bad: true},
		{in: "-5s", bad: true},
		{in: "1 fortnight", bad: true},
		{in: "1h30m", bad: true},
		{in: strings.Repeat("1", 101), bad: true},
		{in: "99999999999999y", bad: true},
		{in: true, bad: true},
		{in: json.Number("x"), bad: true},
	}
	for _, tc := range tests {
		got, err := ParseExpiresIn(tc.in)
		if tc.bad {
			var e *kuzzle.Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidExpiresIn) || len(e.Props) != 2 || e.Props[0] != "expiresIn" {
				t.Errorf("ParseExpiresIn(%#v) = %v, %v; want ErrInvalidExpiresIn", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseExpiresIn(%#v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// A Revocation made on one node and applied on another refuses the token there, even a
// verification already cached, and unlinks the connections linked to it.
func TestApplyRevocation(t *testing.T) {
	clock := newFakeClock(time.Now()) // the Expirer runs on the real clock
	here := newTestTokens(t, clock, TokenConfig{})
	there := newTestTokens(t, clock, TokenConfig{})
	tok, err := here.Issue("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := here.Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{tok.Encoded(), other.Encoded()} {
		if _, err := there.Verify(s); err != nil { // cached there
			t.Fatal(err)
		}
	}
	e := NewExpirer(func(string, Token) {})
	defer e.Stop()
	e.Set("conn-1", tok)
	e.Set("conn-2", other)
	e.Set("conn-3", tok)

	if err := here.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	r := RevocationOf(tok)
	if err := there.ApplyRevocation(r); err != nil {
		t.Fatal(err)
	}
	if _, err := there.Verify(tok.Encoded()); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("revoked elsewhere: Verify = %v, want ErrTokenInvalid", err)
	}
	if _, err := there.Verify(other.Encoded()); err != nil {
		t.Fatalf("another token: %v", err)
	}
	if keys := e.RemoveRevoked(r); strings.Join(keys, ",") != "conn-1,conn-3" {
		t.Fatalf("RemoveRevoked = %v", keys)
	}
	if _, ok := e.Get("conn-2"); !ok || e.Len() != 1 {
		t.Fatal("another token's link was removed")
	}
	// An expired revocation is ignored: nothing to remember.
	clock.Add(2 * time.Hour)
	if err := there.ApplyRevocation(RevocationOf(other)); err != nil || there.Revoked() != 0 {
		t.Fatalf("expired revocation: %v, %d remembered", err, there.Revoked())
	}
}
