package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzLoadSecurity feeds arbitrary bytes to the security file parser: it must answer a
// Security or an error, never panic, and a Security it answers must be usable.
func FuzzLoadSecurity(f *testing.F) {
	f.Add([]byte(rightsFile))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"roles": {"anonymous": {"controllers": {"*": {"actions": {"*": true}}}}}}`))
	f.Add([]byte(`{"profiles": {"p": {"rateLimit": 5, "policies": [{"roleId": "anonymous", "restrictedTo": [{"index": "i", "collections": ["a", "b"]}, {"index": "i"}]}]}}}`))
	f.Add([]byte(`{"users": {"bob": {"content": {"profileIds": ["anonymous"], "x": [1, {"y": null}]}, "credentials": {"local": {"username": "bob", "password": "$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzabcde"}}}}}`))
	f.Add([]byte(`{"users": {"bob": {"content": {"profileIds": ["anonymous"]}, "credentials": {"local": {"username": "bob", "password": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}}}}}`))
	f.Add([]byte(`{"roles": {"r": {"controllers": {"a": {"actions": {"b": "yes"}}}}}, "users": []}`))
	f.Add([]byte(`[1, 2`))
	f.Add([]byte(`{"profiles": {"p": {"policies": []}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadSecurity(data)
		if err != nil {
			if s != nil {
				t.Fatal("a Security and an error")
			}
			return
		}
		anon := s.Anonymous()
		if anon == nil || !anon.IsAnonymous() {
			t.Fatal("no anonymous user")
		}
		_ = anon.Allowed("realtime", "subscribe", "i", "c")
		_ = anon.Rights()
		for kuid, u := range s.users {
			if u.Kuid() != kuid || len(u.profiles) == 0 {
				t.Fatalf("user %q malformed", kuid)
			}
			_ = u.Allowed("auth", "login", "", "")
			_ = u.Rights()
		}
	})
}

// FuzzVerifyToken feeds arbitrary strings to Verify: it must never panic, answer only
// ErrTokenInvalid or ErrTokenExpired on failure, the same answer twice (the second from
// the cache), and accept only tokens signed with the secret.
func FuzzVerifyToken(f *testing.F) {
	now := time.Unix(vectorIat, 0)
	secret := []byte(testSecret)
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	good := sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"_id": "bob", "iat": now.Unix(), "exp": now.Unix() + 60})
	f.Add(AuthPrefix + good)
	f.Add(good)
	f.Add(jsonwebtokenVectors[0].token)
	f.Add(jsonwebtokenVectors[1].token)
	f.Add(AuthPrefix + sign(jwt.SigningMethodHS512, secret, jwt.MapClaims{"_id": "x"}))
	f.Add(AuthPrefix + sign(jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"_id": "bob"}))
	f.Add(AuthPrefix + sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"_id": "bob", "exp": now.Unix() - 1}))
	f.Add(AuthPrefix + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"_id": "bob"}))
	f.Add("kapikey-" + good)
	f.Add("kauth-kauth-" + good)
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJfaWQiOiJib2IifQ.")
	f.Add("....")
	f.Add("")
	tk, err := NewTokens(TokenConfig{Secret: secret, Algorithms: []string{"HS256", "HS512"}, CacheSize: 64, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewTokens(TokenConfig{Secret: []byte("another secret"), Algorithms: []string{"HS256", "HS512"}, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := tk.Verify(token)
		tok2, err2 := tk.Verify(token)
		if (err == nil) != (err2 == nil) || tok.Kuid != tok2.Kuid || (err != nil && !errors.Is(err2, err)) {
			t.Fatalf("answers differ: %v %v / %v %v", tok, err, tok2, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if tok.Kuid == "" || tok.Encoded() != token || !strings.HasSuffix(token, tok.jwt) {
			t.Fatalf("accepted %v for %q", tok, token)
		}
		if _, err := other.Verify(token); err == nil {
			t.Fatalf("%q verifies with two secrets", token)
		}
	})
}
