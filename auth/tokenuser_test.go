package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
)

func TestTokenUser(t *testing.T) {
	s := loadTestFile(t)
	if u, err := s.TokenUser("bob"); err != nil || u.Kuid() != "bob" {
		t.Fatalf("TokenUser(bob) = %v, %v", u, err)
	}
	if u, err := s.TokenUser(AnonymousKuid); err != nil || !u.IsAnonymous() {
		t.Fatalf("TokenUser(-1) = %v, %v", u, err)
	}
	// The test file has a "default" role but no "default" profile: an unknown kuid is
	// not found.
	if _, err := s.TokenUser("stranger"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("TokenUser(stranger) without a default profile: %v", err)
	}

	withDefault, err := LoadSecurity([]byte(`{
  "roles": {"listener": {"controllers": {"realtime": {"actions": {"subscribe": true}}}}},
  "profiles": {"default": {"policies": [{"roleId": "listener", "restrictedTo": [{"index": "public"}]}]}}
}`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := withDefault.TokenUser("stranger")
	if err != nil {
		t.Fatal(err)
	}
	if u.Kuid() != "stranger" || u.IsAnonymous() || string(u.Source()) != `{"profileIds":["default"]}` ||
		len(u.Strategies()) != 0 || u.ProfileIDs()[0] != "default" {
		t.Fatalf("stranger = %v %s %v", u.Kuid(), u.Source(), u.ProfileIDs())
	}
	if !u.Allowed("realtime", "subscribe", "public", "news") || u.Allowed("realtime", "subscribe", "private", "x") ||
		u.Allowed("realtime", "publish", "public", "news") {
		t.Fatal("the default profile's rights are not the stranger's")
	}
	if err := u.Check("realtime", "publish", "public", "news"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Check = %v, want forbidden (an authenticated user)", err)
	}

	if _, err := OpenSecurity().TokenUser("stranger"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("OpenSecurity().TokenUser: %v", err)
	}
}

func TestTokenOnlySecurity(t *testing.T) {
	s := TokenOnlySecurity()
	anon := s.Anonymous()
	for _, a := range []string{"checkToken", "getCurrentUser", "getMyRights", "login"} {
		if !anon.Allowed("auth", a, "", "") {
			t.Errorf("anonymous may not auth:%s", a)
		}
	}
	if err := anon.Check("realtime", "subscribe", "i", "c"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("anonymous subscribe: %v", err)
	}
	u, err := s.TokenUser("anyone")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Allowed("realtime", "subscribe", "i", "c") || !u.Allowed("server", "now", "", "") {
		t.Fatal("a token's user may not do everything")
	}
	if s.HasCredentials() || s.Users() != 0 || s.Open() {
		t.Fatal("token-only security has users")
	}
	if _, err := s.Login("local", "a", "b"); !errors.Is(err, ErrLoginFailed) {
		t.Fatalf("Login: %v", err)
	}
	if !loadTestFile(t).HasCredentials() {
		t.Fatal("the test file has credentials")
	}
}

func TestPublicKeyAlgorithm(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pub  any
		want string
	}{
		{&rsaKey.PublicKey, "RS256"},
		{edPub, "EdDSA"},
	} {
		if got, err := PublicKeyAlgorithm(pemOf(t, tt.pub)); err != nil || got != tt.want {
			t.Errorf("%T: %q, %v; want %s", tt.pub, got, err, tt.want)
		}
	}
	for curve, want := range map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"} {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PublicKeyAlgorithm(pemOf(t, &k.PublicKey))
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %s", curve.Params().Name, got, err, want)
		}
		// NewTokens accepts the algorithm it names for that key.
		if _, err := NewTokens(TokenConfig{Algorithms: []string{got}, PublicKey: pemOf(t, &k.PublicKey)}); err != nil {
			t.Errorf("NewTokens(%s): %v", got, err)
		}
	}
	if _, err := PublicKeyAlgorithm([]byte("not pem")); err == nil {
		t.Fatal("PublicKeyAlgorithm accepted garbage")
	}
}
