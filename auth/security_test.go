package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// hashes made once for the tests: an argon2id hash of "bob-password" by HashPassword and
// a bcrypt hash of "alice-password" at the lowest cost.
var testHashes = sync.OnceValues(func() (argon, bcryptHash string) {
	a, err := HashPassword("bob-password")
	if err != nil {
		panic(err)
	}
	b, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return a, string(b)
})

// testFile is a valid security file: an editor restricted to the shop index, a reader,
// bob (argon2id) and alice (bcrypt), and carol without credentials.
func testFile(t *testing.T) []byte {
	t.Helper()
	argon, bc := testHashes()
	return fmt.Appendf(nil, `{
  "roles": {
    "editor": {"controllers": {
      "realtime": {"actions": {"*": true, "publish": false}},
      "auth": {"actions": {"*": true}}
    }},
    "reader": {"controllers": {"realtime": {"actions": {"subscribe": true, "count": true}}}},
    "default": {"controllers": {"auth": {"actions": {"getCurrentUser": true}}}, "description": "kept by Kuzzle, ignored here"}
  },
  "profiles": {
    "editor": {"rateLimit": 0, "policies": [
      {"roleId": "editor", "restrictedTo": [{"index": "shop", "collections": ["orders", "carts"]}, {"index": "shop", "collections": ["items"]}, {"index": "logs"}]}
    ]},
    "reader": {"rateLimit": 10, "policies": [{"roleId": "reader"}]},
    "nobody": {}
  },
  "users": {
    "bob": {"content": {"profileIds": ["editor", "reader"], "name": "Bob <b@example.com>", "age": 42, "_id": "ignored", "_kuzzle_info": {"author": "x"}},
      "credentials": {"local": {"username": "bob", "password": %q}}},
    "alice": {"content": {"profileIds": ["reader"]}, "credentials": {"local": {"username": "alice@example.com", "password": %q}}},
    "carol": {"content": {"profileIds": ["nobody"]}}
  }
}`, argon, bc)
}

func loadTestFile(t *testing.T) *Security {
	t.Helper()
	s, err := LoadSecurity(testFile(t))
	if err != nil {
		t.Fatalf("LoadSecurity: %v", err)
	}
	return s
}

func TestLoadSecurity(t *testing.T) {
	s := loadTestFile(t)
	if s.Users() != 3 || s.Open() {
		t.Fatalf("Users() = %d, Open() = %v", s.Users(), s.Open())
	}
	bob, err := s.User("bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Kuid() != "bob" || bob.IsAnonymous() || strings.Join(bob.ProfileIDs(), ",") != "editor,reader" {
		t.Fatalf("bob = %s %v", bob.Kuid(), bob.ProfileIDs())
	}
	if got := string(bob.Source()); got != `{"age":42,"name":"Bob <b@example.com>","profileIds":["editor","reader"]}` {
		t.Fatalf("Source = %s", got)
	}
	if got := bob.Strategies(); len(got) != 1 || got[0] != "local" {
		t.Fatalf("Strategies = %v", got)
	}
	if bob.RateLimit() != 0 {
		t.Fatalf("bob.RateLimit() = %d, want 0 (one profile unlimited)", bob.RateLimit())
	}
	alice, _ := s.User("alice")
	if alice.RateLimit() != 10 {
		t.Fatalf("alice.RateLimit() = %d, want 10", alice.RateLimit())
	}
	carol, _ := s.User("carol")
	if got := carol.Strategies(); got == nil || len(got) != 0 {
		t.Fatalf("carol.Strategies() = %#v, want []", got)
	}
	// A profile without policies has the default role (profileRepository.fromDTO).
	if !carol.Allowed("auth", "getCurrentUser", "", "") || carol.Allowed("auth", "logout", "", "") {
		t.Fatal("carol's default role")
	}
	if _, err := s.User("dave"); !errors.Is(err, ErrUserNotFound) || err.Error() != `User "dave" not found.` {
		t.Fatalf("User(dave) = %v", err)
	}
	for _, kuid := range []string{"-1", "anonymous"} {
		anon, err := s.User(kuid)
		if err != nil || anon != s.Anonymous() || !anon.IsAnonymous() || anon.Kuid() != "-1" {
			t.Fatalf("User(%q) = %v, %v", kuid, anon, err)
		}
	}
	anon := s.Anonymous()
	if string(anon.Source()) != `{"name":"Anonymous","profileIds":["anonymous"]}` || anon.RateLimit() != 200 {
		t.Fatalf("anonymous: %s rateLimit %d", anon.Source(), anon.RateLimit())
	}
	// Kuzzle's standard anonymous role.
	for _, a := range []string{"auth:checkToken", "auth:getCurrentUser", "auth:getMyRights", "auth:login", "server:publicApi", "server:openapi"} {
		c, act, _ := strings.Cut(a, ":")
		if !anon.Allowed(c, act, "", "") {
			t.Errorf("anonymous may not %s", a)
		}
	}
	for _, a := range []string{"auth:logout", "realtime:subscribe", "server:now", "document:get"} {
		c, act, _ := strings.Cut(a, ":")
		if anon.Allowed(c, act, "shop", "orders") {
			t.Errorf("anonymous may %s", a)
		}
	}
	if s.Role("editor") == nil || s.Role("editor").ID() != "editor" || s.Profile("reader").RateLimit() != 10 || s.Role("nope") != nil {
		t.Fatal("Role/Profile lookups")
	}
	if got := s.Strategies(); len(got) != 1 || got[0] != "local" {
		t.Fatalf("Strategies = %v", got)
	}
}

func TestLoadSecurityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "security.json")
	if err := os.WriteFile(path, testFile(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecurityFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecurityFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "security file: ") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestLoadSecurityAnonymousFromFile(t *testing.T) {
	s, err := LoadSecurity([]byte(`{
  "roles": {"anonymous": {"controllers": {"auth": {"actions": {"login": true}}, "realtime": {"actions": {"subscribe": true}}}}},
  "profiles": {"anonymous": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"index": "public"}]}]}}
}`))
	if err != nil {
		t.Fatal(err)
	}
	anon := s.Anonymous()
	if !anon.Allowed("realtime", "subscribe", "public", "news") || anon.Allowed("realtime", "subscribe", "private", "x") {
		t.Fatal("anonymous profile of the file not used")
	}
	if anon.RateLimit() != 0 {
		t.Fatalf("rateLimit = %d, want the file's (0)", anon.RateLimit())
	}
	// The file's anonymous role with Kuzzle's profile.
	s, err = LoadSecurity([]byte(`{"roles": {"anonymous": {"controllers": {"*": {"actions": {"*": true}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Anonymous().Allowed("realtime", "publish", "a", "b") || s.Anonymous().RateLimit() != 200 {
		t.Fatal("file's anonymous role not used")
	}
}

func TestOpenSecurity(t *testing.T) {
	s := OpenSecurity()
	anon := s.Anonymous()
	if !s.Open() || !anon.Allowed("realtime", "publish", "any", "thing") || !anon.Allowed("x", "y", "", "") {
		t.Fatal("open mode must allow everything")
	}
	if err := anon.Check("document", "delete", "i", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login("local", "bob", "pw"); !errors.Is(err, ErrLoginFailed) {
		t.Fatalf("Login in open mode = %v", err)
	}
	want := []Right{{Controller: "*", Action: "*", Index: "*", Collection: "*", Value: "allowed"}}
	if got := anon.Rights(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Rights = %v", got)
	}
}

func TestLoadSecurityErrors(t *testing.T) {
	argon, bc := testHashes()
	plain := "hunter2-plaintext"
	user := func(creds string) string {
		return `{"users": {"bob": {"content": {"profileIds": ["anonymous"]}, "credentials": {"local": ` + creds + `}}}}`
	}
	tests := []struct {
		name string
		file string
		want []string // substrings of the error
	}{
		{name: "invalid JSON", file: `{"roles":`, want: []string{"invalid JSON"}},
		{name: "trailing data", file: `{} {}`, want: []string{"after the top-level value"}},
		{name: "top-level array", file: `[]`, want: []string{"top-level value must be an object"}},
		{name: "unknown top-level key", file: `{"role": {}}`, want: []string{"security file: role: unknown key"}},
		{name: "roles not an object", file: `{"roles": []}`, want: []string{"roles: must be an object"}},
		{name: "role without controllers", file: `{"roles": {"r": {}}}`, want: []string{"roles.r.controllers: missing"}},
		{name: "controllers not an object", file: `{"roles": {"r": {"controllers": []}}}`, want: []string{"roles.r.controllers: must be an object"}},
		{name: "controllers empty", file: `{"roles": {"r": {"controllers": {}}}}`, want: []string{"roles.r.controllers: is empty"}},
		{name: "controller without actions", file: `{"roles": {"r": {"controllers": {"auth": {}}}}}`, want: []string{"roles.r.controllers.auth.actions: missing"}},
		{name: "actions empty", file: `{"roles": {"r": {"controllers": {"auth": {"actions": {}}}}}}`, want: []string{"roles.r.controllers.auth.actions: is empty"}},
		{name: "action not boolean", file: `{"roles": {"r": {"controllers": {"auth": {"actions": {"login": "yes"}}}}}}`, want: []string{"roles.r.controllers.auth.actions.login: must be true or false"}},
		{name: "star controller with named action", file: `{"roles": {"r": {"controllers": {"*": {"actions": {"get": true}}}}}}`, want: []string{`roles.r.controllers.*.actions.get: the "*" controller only takes the "*" action`}},
		{name: "anonymous role cannot log in", file: `{"roles": {"anonymous": {"controllers": {"realtime": {"actions": {"*": true}}}}}}`, want: []string{"roles.anonymous: the anonymous role must allow auth:login"}},
		{name: "unknown role", file: `{"profiles": {"p": {"policies": [{"roleId": "writer"}]}}}`, want: []string{`profiles.p.policies[0].roleId: unknown role "writer"`}},
		{name: "policy without roleId", file: `{"profiles": {"p": {"policies": [{}]}}}`, want: []string{"profiles.p.policies[0].roleId: missing"}},
		{name: "policy extra key", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "role": "x"}]}}}`, want: []string{"profiles.p.policies[0].role: unexpected key"}},
		{name: "policies not an array", file: `{"profiles": {"p": {"policies": {}}}}`, want: []string{"profiles.p.policies: must be an array"}},
		{name: "no policies and no default role", file: `{"profiles": {"p": {"policies": []}}}`, want: []string{`profiles.p.policies: missing or empty: Kuzzle then gives the profile the "default" role`}},
		{name: "restrictedTo not an array", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": {"index": "i"}}]}}}`, want: []string{"profiles.p.policies[0].restrictedTo: must be an array"}},
		{name: "restriction without index", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"collections": ["c"]}]}]}}}`, want: []string{"profiles.p.policies[0].restrictedTo[0].index: missing"}},
		{name: "restriction with empty index", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"index": ""}]}]}}}`, want: []string{"restrictedTo[0].index: missing or not a non-empty string"}},
		{name: "restriction extra key", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"index": "i", "collection": "c"}]}]}}}`, want: []string{"restrictedTo[0].collection: unexpected key"}},
		{name: "collections not an array", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"index": "i", "collections": "c"}]}]}}}`, want: []string{"restrictedTo[0].collections: must be an array of strings"}},
		{name: "collection not a string", file: `{"profiles": {"p": {"policies": [{"roleId": "anonymous", "restrictedTo": [{"index": "i", "collections": [1]}]}]}}}`, want: []string{"restrictedTo[0].collections[0]: must be a string"}},
		{name: "negative rateLimit", file: `{"profiles": {"p": {"rateLimit": -1, "policies": [{"roleId": "anonymous"}]}}}`, want: []string{"profiles.p.rateLimit: must be an integer >= 0"}},
		{name: "fractional rateLimit", file: `{"profiles": {"p": {"rateLimit": 1.5, "policies": [{"roleId": "anonymous"}]}}}`, want: []string{"profiles.p.rateLimit"}},
		{name: "string rateLimit", file: `{"profiles": {"p": {"rateLimit": "10", "policies": [{"roleId": "anonymous"}]}}}`, want: []string{"profiles.p.rateLimit"}},
		{name: "anonymous profile without anonymous role", file: `{"roles": {"r": {"controllers": {"*": {"actions": {"*": true}}}}}, "profiles": {"anonymous": {"policies": [{"roleId": "r"}]}}}`, want: []string{"profiles.anonymous.policies: the anonymous profile must include the anonymous role"}},
		{name: "user unknown profile", file: `{"users": {"bob": {"content": {"profileIds": ["admin"]}}}}`, want: []string{`users.bob.content.profileIds[0]: unknown profile "admin"`}},
		{name: "user without content", file: `{"users": {"bob": {}}}`, want: []string{"users.bob.content: missing"}},
		{name: "user without profileIds", file: `{"users": {"bob": {"content": {}}}}`, want: []string{"users.bob.content.profileIds: missing"}},
		{name: "profileIds empty", file: `{"users": {"bob": {"content": {"profileIds": []}}}}`, want: []string{"users.bob.content.profileIds: is empty"}},
		{name: "profileIds not an array", file: `{"users": {"bob": {"content": {"profileIds": "anonymous"}}}}`, want: []string{"users.bob.content.profileIds: must be an array"}},
		{name: "user extra key", file: `{"users": {"bob": {"content": {"profileIds": ["anonymous"]}, "credential": {}}}}`, want: []string{"users.bob.credential: unexpected key"}},
		{name: "anonymous kuid", file: `{"users": {"-1": {"content": {"profileIds": ["anonymous"]}}}}`, want: []string{"users.-1: this kuid is the anonymous user's"}},
		{name: "empty kuid", file: `{"users": {"": {"content": {"profileIds": ["anonymous"]}}}}`, want: []string{`users."": empty kuid`}},
		{name: "unknown strategy", file: `{"users": {"bob": {"content": {"profileIds": ["anonymous"]}, "credentials": {"oauth": {}}}}}`, want: []string{`users.bob.credentials.oauth: unknown authentication strategy "oauth"`}},
		{name: "missing username", file: user(fmt.Sprintf(`{"password": %q}`, argon)), want: []string{"users.bob.credentials.local.username: missing"}},
		{name: "missing password", file: user(`{"username": "bob"}`), want: []string{"users.bob.credentials.local.password: missing"}},
		{name: "local extra key", file: user(fmt.Sprintf(`{"username": "bob", "password": %q, "kuid": "x"}`, argon)), want: []string{"users.bob.credentials.local.kuid: unexpected key"}},
		{name: "plain password", file: user(fmt.Sprintf(`{"username": "bob", "password": %q}`, plain)), want: []string{"users.bob.credentials.local.password: not a bcrypt", "kuzzlews hash-password"}},
		{name: "argon2i", file: user(`{"username": "bob", "password": "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}`), want: []string{"only argon2id"}},
		{name: "argon2id huge memory", file: user(`{"username": "bob", "password": "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}`), want: []string{"argon2id memory"}},
		{name: "argon2id bad version", file: user(`{"username": "bob", "password": "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}`), want: []string{"v=19"}},
		{name: "argon2id malformed", file: user(`{"username": "bob", "password": "$argon2id$v=19$t=2,m=19456,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}`), want: []string{"malformed argon2id"}},
		{name: "bcrypt cost too high", file: user(fmt.Sprintf(`{"username": "bob", "password": %q}`, strings.Replace(bc, "$04$", "$17$", 1))), want: []string{"bcrypt cost 17 is over 16"}},
		{name: "bcrypt truncated", file: user(fmt.Sprintf(`{"username": "bob", "password": %q}`, bc[:59])), want: []string{"malformed bcrypt"}},
		{
			name: "duplicate username",
			file: fmt.Sprintf(`{"users": {"a": {"content": {"profileIds": ["anonymous"]}, "credentials": {"local": {"username": "same", "password": %q}}},
			                               "b": {"content": {"profileIds": ["anonymous"]}, "credentials": {"local": {"username": "same", "password": %q}}}}}`, argon, bc),
			want: []string{`users.b.credentials.local.username: username "same" is already used by user "a"`},
		},
		{
			name: "several problems at once, sorted",
			file: `{"roles": {"b": {}, "a": {"controllers": {}}}, "profiles": {"p": {"policies": [{"roleId": "zz"}]}}}`,
			want: []string{"roles.a.controllers: is empty\nsecurity file: roles.b.controllers: missing\nsecurity file: profiles.p.policies[0].roleId: unknown role"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSecurity([]byte(tc.file))
			if err == nil {
				t.Fatalf("LoadSecurity = %v, want an error", s)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), plain) {
				t.Fatalf("error quotes the password: %q", err)
			}
			var fe *FileError
			if strings.HasPrefix(tc.name, "invalid JSON") || tc.name == "trailing data" || tc.name == "top-level array" {
				return
			}
			if !errors.As(err, &fe) || fe.Path == "" {
				t.Fatalf("error %q has no *FileError", err)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		if _, err := LoadSecurity(make([]byte, MaxSecurityFileSize+1)); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("error count bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"roles": {`)
		for i := range 200 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"r%03d": {}`, i)
		}
		b.WriteString(`}}`)
		_, err := LoadSecurity([]byte(b.String()))
		if err == nil || strings.Count(err.Error(), "\n") != maxFileErrors || !strings.Contains(err.Error(), "150 more problems not shown") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestHolder swaps Security values while readers use them (run with -race).
func TestHolder(t *testing.T) {
	var zero Holder
	if zero.Load() != nil {
		t.Fatal("zero Holder holds a Security")
	}
	a := loadTestFile(t)
	b := OpenSecurity()
	h := NewHolder(a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Load()
				if s != a && s != b {
					panic("torn Security")
				}
				_ = s.Anonymous().Allowed("realtime", "subscribe", "shop", "orders")
			}
		})
	}
	for i := range 1000 {
		if i%2 == 0 {
			h.Store(b)
		} else {
			h.Store(a)
		}
	}
	close(stop)
	wg.Wait()
	if h.Load() != a {
		t.Fatal("last Store lost")
	}
}

// TestSourceIsJSON checks that Source is valid JSON for odd content.
func TestSourceIsJSON(t *testing.T) {
	s, err := LoadSecurity([]byte(`{"users": {"x": {"content": {"profileIds": ["anonymous"], "n": 1e400, "nested": {"a": [null, true, "\u2028"]}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := s.User("x")
	if !json.Valid(u.Source()) {
		t.Fatalf("Source %s is not JSON", u.Source())
	}
}
