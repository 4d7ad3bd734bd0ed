package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/golang-jwt/jwt/v5"
	"github.com/kuzzlews/kuzzlews/auth"
	"github.com/tidwall/gjson"
)

// testJWTSecret is the secret of the tests' servers (Kuzzle's security.authToken.secret).
const testJWTSecret = "kuzzlews-root-test-secret-of-32-bytes!"

// alicePassword is the password of the test file's alice; its hash is made once.
const alicePassword = "alice-secret-password"

var aliceHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(alicePassword)
	if err != nil {
		panic(err)
	}
	return h
})

// securityFile is the tests' security file: alice may listen (subscribe, count, list,
// ...) on shop/orders only and log in; bob may do anything realtime on the shop index;
// dave's profile "nothing" allows only auth:getCurrentUser. The anonymous user has
// Kuzzle's standard rights.
func securityFile() string {
	return fmt.Sprintf(`{
  "roles": {
    "listener": {"controllers": {
      "realtime": {"actions": {"subscribe": true, "unsubscribe": true, "join": true, "count": true, "list": true}},
      "auth": {"actions": {"*": true}},
      "server": {"actions": {"now": true}}
    }},
    "publisher": {"controllers": {"realtime": {"actions": {"*": true}}, "auth": {"actions": {"*": true}}}},
    "nothing": {"controllers": {"auth": {"actions": {"getCurrentUser": true}}}}
  },
  "profiles": {
    "orders": {"policies": [{"roleId": "listener", "restrictedTo": [{"index": "shop", "collections": ["orders"]}]}]},
    "shop": {"policies": [{"roleId": "publisher", "restrictedTo": [{"index": "shop"}]}]},
    "nothing": {"policies": [{"roleId": "nothing"}]}
  },
  "users": {
    "alice": {"content": {"profileIds": ["orders"], "name": "Alice"},
      "credentials": {"local": {"username": "alice", "password": %q}}},
    "bob": {"content": {"profileIds": ["shop"]}},
    "dave": {"content": {"profileIds": ["nothing"]}}
  }
}`, aliceHash())
}

// authConfig is a security file and the test secret, logins unlimited.
func authConfig(t *testing.T) AuthConfig {
	return AuthConfig{SecurityFile: writeFile(t, "security.json", securityFile()), Secret: testJWTSecret}
}

// sign returns a Kuzzle-shaped token ("kauth-" + JWT) for kuid, signed with secret and
// method, expiring at exp (no "exp" when zero).
func sign(t *testing.T, method jwt.SigningMethod, secret any, kuid string, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{"_id": kuid, "iat": time.Now().Unix()}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return auth.AuthPrefix + s
}

// token is a valid one-hour token for kuid signed with the test secret.
func token(t *testing.T, kuid string) string {
	return sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), kuid, time.Now().Add(time.Hour))
}

// newAuthSession is newSession with cfg.Auth set up, as a WebSocket session (tokens are
// linked to it). The expiry timer stops with the test.
func newAuthSession(t *testing.T, cfg Config) (*session, *recorder) {
	t.Helper()
	ses, rec := newSession(t, cfg)
	a, err := newAuth(ses.s)
	if err != nil {
		t.Fatal(err)
	}
	ses.s.auth = a
	t.Cleanup(a.close)
	ses.notifiable = true
	return ses, rec
}

// peer returns another WebSocket session of ses's server.
func peer(ses *session) (*session, *recorder) {
	rec := &recorder{}
	return &session{s: ses.s, out: rec, notifiable: true}, rec
}

// ask runs msg through ses and returns the response (the last frame) and the frames sent
// before it (notifications).
func ask(t *testing.T, ses *session, rec *recorder, msg string) (gjson.Result, []string) {
	t.Helper()
	ses.handle([]byte(msg))
	frames := rec.take()
	if len(frames) == 0 {
		t.Fatalf("%s: no response", msg)
	}
	return gjson.Parse(frames[len(frames)-1]), frames[:len(frames)-1]
}

// req builds a request envelope: controller, action, then extra keys (raw JSON values).
func req(controller, action, jwtToken string, extra ...string) string {
	b := `{"controller":"` + controller + `","action":"` + action + `"`
	if jwtToken != "" {
		b += `,"jwt":` + string(quoteJSON(jwtToken))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b += `,"` + extra[i] + `":` + extra[i+1]
	}
	return b + "}"
}

// quoteJSON is v in JSON.
func quoteJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The rights table through the pipeline, without sockets: Kuzzle's 401 for the anonymous
// user and 403 for others, restrictions by index and collection, roomId-only actions,
// and every kind of bad token.
func TestRightsThroughPipeline(t *testing.T) {
	ses, rec := newAuthSession(t, Config{Auth: authConfig(t)})
	alice, bob, dave := token(t, "alice"), token(t, "bob"), token(t, "dave")
	otherSecret := sign(t, jwt.SigningMethodHS256, []byte("another-secret"), "alice", time.Now().Add(time.Hour))
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "alice", time.Now().Add(time.Hour))
	expired := sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "alice", time.Now().Add(-time.Minute))
	hs512 := sign(t, jwt.SigningMethodHS512, []byte(testJWTSecret), "alice", time.Now().Add(time.Hour))
	stranger := token(t, "stranger")

	sub := func(index, collection string) []string {
		return []string{"index", `"` + index + `"`, "collection", `"` + collection + `"`, "body", `{}`}
	}
	for _, tt := range []struct {
		name, msg string
		errID     string // "" for success
		status    int
	}{
		{"anonymous subscribe", req("realtime", "subscribe", "", sub("shop", "orders")...), "security.rights.unauthorized", 401},
		{"anonymous publish", req("realtime", "publish", "", sub("shop", "orders")...), "security.rights.unauthorized", 401},
		{"anonymous server:now", req("server", "now", ""), "security.rights.unauthorized", 401},
		{"anonymous server:publicApi", req("server", "publicApi", ""), "", 200},
		{"anonymous checkToken", req("auth", "checkToken", ""), "", 200},
		{"anonymous getMyRights", req("auth", "getMyRights", ""), "", 200},
		{"anonymous logout", req("auth", "logout", ""), "security.rights.unauthorized", 401},
		{"alice subscribe shop/orders", req("realtime", "subscribe", alice, sub("shop", "orders")...), "", 200},
		{"alice subscribe shop/carts", req("realtime", "subscribe", alice, sub("shop", "carts")...), "security.rights.forbidden", 403},
		{"alice subscribe other/orders", req("realtime", "subscribe", alice, sub("other", "orders")...), "security.rights.forbidden", 403},
		{"alice publish shop/orders", req("realtime", "publish", alice, sub("shop", "orders")...), "security.rights.forbidden", 403},
		{"alice count: roomId only, no restriction", req("realtime", "count", alice, "body", `{"roomId":"x"}`), "", 200},
		{"alice server:now", req("server", "now", alice), "", 200},
		{"alice server:info", req("server", "info", alice), "security.rights.forbidden", 403},
		{"bob publish shop/carts", req("realtime", "publish", bob, sub("shop", "carts")...), "", 200},
		{"bob publish other/x", req("realtime", "publish", bob, sub("other", "x")...), "security.rights.forbidden", 403},
		{"bob non-string index: no restriction, then the action's own check", req("realtime", "publish", bob, "index", `1`, "collection", `"c"`, "body", `{}`), "api.assert.invalid_type", 400},
		{"dave subscribe", req("realtime", "subscribe", dave, sub("shop", "orders")...), "security.rights.forbidden", 403},
		{"unknown controller before rights", req("nope", "x", ""), "api.process.controller_not_found", 404},
		{"another secret", req("realtime", "subscribe", otherSecret, sub("shop", "orders")...), "security.token.invalid", 401},
		{"alg none", req("realtime", "subscribe", none, sub("shop", "orders")...), "security.token.invalid", 401},
		{"expired", req("realtime", "subscribe", expired, sub("shop", "orders")...), "security.token.expired", 401},
		{"HS512 outside the allow-list", req("realtime", "subscribe", hs512, sub("shop", "orders")...), "security.token.invalid", 401},
		{"garbage", req("server", "publicApi", "kauth-garbage"), "security.token.invalid", 401},
		{"API key prefix", req("server", "publicApi", "kapikey-"+strings.TrimPrefix(alice, auth.AuthPrefix)), "security.token.invalid", 401},
		{"kuid the file does not define, no default profile", req("server", "publicApi", stranger), "security.user.not_found", 404},
		{"bare JWT accepted as Kuzzle does", req("realtime", "subscribe", strings.TrimPrefix(alice, auth.AuthPrefix), sub("shop", "orders")...), "", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := ask(t, ses, rec, tt.msg)
			if got := resp.Get("error.id").Str; got != tt.errID || resp.Get("status").Int() != int64(tt.status) {
				t.Fatalf("got %s %d, want %q %d: %s", got, resp.Get("status").Int(), tt.errID, tt.status, resp.Raw)
			}
			if strings.Contains(resp.Raw, testJWTSecret) {
				t.Fatal("the secret is in a response")
			}
		})
	}
	// Kuzzle's messages and props for the two refusals.
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", alice, sub("shop", "carts")...))
	if resp.Get("error.message").Str != `Insufficient permissions to execute the action "realtime:subscribe" (User "alice").` ||
		resp.Get("error.props").Raw != `["realtime","subscribe","alice"]` || resp.Get("error.code").Int() != 117637122 {
		t.Fatalf("forbidden: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("realtime", "subscribe", "", sub("shop", "orders")...))
	if resp.Get("error.message").Str != `Unauthorized: authentication required to execute the action "realtime:subscribe".` ||
		resp.Get("error.code").Int() != 117637121 {
		t.Fatalf("unauthorized: %s", resp.Raw)
	}
	// One link per connection: a new token replaces the previous one.
	ask(t, ses, rec, req("server", "publicApi", alice))
	if tok, ok := ses.s.auth.expirer.Get(ses.rc.ID()); !ok || tok.Kuid != "alice" || ses.s.auth.expirer.Len() != 1 {
		t.Fatalf("link %v %v", tok, ok)
	}
	ask(t, ses, rec, req("server", "publicApi", bob))
	if tok, ok := ses.s.auth.expirer.Get(ses.rc.ID()); !ok || tok.Kuid != "bob" || ses.s.auth.expirer.Len() != 1 {
		t.Fatalf("link after bob's token %v %v", tok, ok)
	}
	ses.close()
	if ses.s.auth.expirer.Len() != 0 {
		t.Fatal("the link outlived the session")
	}
}

// realtime:list hides the rooms the caller may not subscribe to; publications carry the
// publisher's kuid as _kuzzle_info.author.
func TestListHidingAndAuthor(t *testing.T) {
	ses, rec := newAuthSession(t, Config{Auth: authConfig(t)})
	other, orec := peer(ses)
	alice, bob := token(t, "alice"), token(t, "bob")
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", alice, "index", `"shop"`, "collection", `"orders"`, "body", `{}`))
	ordersRoom := resp.Get("result.roomId").Str
	resp, _ = ask(t, other, orec, req("realtime", "subscribe", bob, "index", `"shop"`, "collection", `"carts"`, "body", `{}`))
	cartsRoom := resp.Get("result.roomId").Str
	if ordersRoom == "" || cartsRoom == "" {
		t.Fatal("subscriptions failed")
	}
	resp, _ = ask(t, ses, rec, req("realtime", "list", alice))
	if want := `{"shop":{"orders":{"` + ordersRoom + `":1}}}`; resp.Get("result").Raw != want {
		t.Fatalf("alice's list %s, want %s", resp.Get("result").Raw, want)
	}
	resp, _ = ask(t, other, orec, req("realtime", "list", bob))
	if !resp.Get("result.shop.orders").Exists() || !resp.Get("result.shop.carts").Exists() {
		t.Fatalf("bob's list %s", resp.Get("result").Raw)
	}

	_, notes := ask(t, other, orec, req("realtime", "publish", bob, "index", `"shop"`, "collection", `"orders"`, "body", `{"n":1,"_kuzzle_info":{"author":"forged"}}`))
	if len(notes) != 0 {
		t.Fatalf("bob got %d notifications of a room he is not in", len(notes))
	}
	got := rec.take()
	if len(got) != 1 || gjson.Get(got[0], "result._source._kuzzle_info.author").Str != "bob" {
		t.Fatalf("alice's notification: %q", got)
	}
	ses.close()
	other.close()
}

// Open mode costs nothing and changes nothing: a jwt is ignored, everything is allowed,
// notifications are by the anonymous user.
func TestOpenModeIgnoresTokens(t *testing.T) {
	ses, rec := newSession(t, Config{})
	if ses.s.auth != nil {
		t.Fatal("open mode has an auth state")
	}
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", "kauth-garbage", "index", `"i"`, "collection", `"c"`, "body", `{}`))
	if resp.Get("status").Int() != 200 {
		t.Fatalf("subscribe: %s", resp.Raw)
	}
	_, notes := ask(t, ses, rec, req("realtime", "publish", "kauth-garbage", "index", `"i"`, "collection", `"c"`, "body", `{}`))
	if len(notes) != 1 || gjson.Get(notes[0], "result._source._kuzzle_info.author").Str != "-1" {
		t.Fatalf("notification %q", notes)
	}
	resp, _ = ask(t, ses, rec, req("auth", "getCurrentUser", ""))
	if resp.Get("result._id").Str != "-1" || resp.Get("result._source.profileIds.0").Str != "anonymous" {
		t.Fatalf("getCurrentUser %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "login", "", "strategy", `"local"`, "body", `{"username":"a","password":"b"}`))
	if resp.Get("error.id").Str != "plugin.strategy.missing_user" {
		t.Fatalf("login in open mode: %s", resp.Raw)
	}
	ses.close()
}

// A secret without a security file: the anonymous user has Kuzzle's standard rights, any
// verified token's user may do everything with the "default" profile.
func TestTokenOnlyMode(t *testing.T) {
	ses, rec := newAuthSession(t, Config{Auth: AuthConfig{Secret: testJWTSecret}})
	if ses.s.authMode() != "token-only" {
		t.Fatalf("mode %s", ses.s.authMode())
	}
	sub := []string{"index", `"i"`, "collection", `"c"`, "body", `{}`}
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", "", sub...))
	if resp.Get("error.id").Str != "security.rights.unauthorized" {
		t.Fatalf("anonymous subscribe: %s", resp.Raw)
	}
	tok := token(t, "kuzzle-user-42")
	resp, _ = ask(t, ses, rec, req("realtime", "subscribe", tok, sub...))
	if resp.Get("status").Int() != 200 {
		t.Fatalf("subscribe with a token: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "getCurrentUser", tok))
	if resp.Get("result").Raw != `{"_id":"kuzzle-user-42","_source":{"profileIds":["default"]},"strategies":[]}` {
		t.Fatalf("getCurrentUser %s", resp.Raw)
	}
	ses.close()
}

// A security file without a secret: every token is invalid, the anonymous user has the
// file's rights.
func TestSecurityFileWithoutSecret(t *testing.T) {
	file := writeFile(t, "anon.json", `{"roles":{"anonymous":{"controllers":{"auth":{"actions":{"login":true,"checkToken":true}},"realtime":{"actions":{"subscribe":true}}}}}}`)
	ses, rec := newAuthSession(t, Config{Auth: AuthConfig{SecurityFile: file}})
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", "", "index", `"i"`, "collection", `"c"`, "body", `{}`))
	if resp.Get("status").Int() != 200 {
		t.Fatalf("anonymous subscribe allowed by the file: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("realtime", "publish", "", "index", `"i"`, "collection", `"c"`, "body", `{}`))
	if resp.Get("error.id").Str != "security.rights.unauthorized" {
		t.Fatalf("anonymous publish: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("realtime", "subscribe", token(t, "alice"), "index", `"i"`, "collection", `"c"`, "body", `{}`))
	if resp.Get("error.id").Str != "security.token.invalid" {
		t.Fatalf("a token without secret: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "checkToken", "", "body", `{"token":"`+token(t, "alice")+`"}`))
	if resp.Get("result").Raw != `{"state":"Invalid token.","valid":false}` {
		t.Fatalf("checkToken: %s", resp.Raw)
	}
	ses.close()
}

// A kuid the security file does not define gets the file's "default" profile when it
// has one.
func TestDefaultProfileForUnknownKuid(t *testing.T) {
	file := writeFile(t, "default.json", `{
  "roles": {"listen": {"controllers": {"realtime": {"actions": {"subscribe": true}}}}},
  "profiles": {"default": {"policies": [{"roleId": "listen", "restrictedTo": [{"index": "public"}]}]}}
}`)
	ses, rec := newAuthSession(t, Config{Auth: AuthConfig{SecurityFile: file, Secret: testJWTSecret}})
	tok := token(t, "from-kuzzle")
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", tok, "index", `"public"`, "collection", `"news"`, "body", `{}`))
	if resp.Get("status").Int() != 200 {
		t.Fatalf("subscribe public/news: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("realtime", "subscribe", tok, "index", `"private"`, "collection", `"news"`, "body", `{}`))
	if resp.Get("error.id").Str != "security.rights.forbidden" {
		t.Fatalf("subscribe private/news: %s", resp.Raw)
	}
	ses.close()
}

// The auth controller through the pipeline: checkToken, getCurrentUser, getMyRights,
// login (and its errors and rate limit), refreshToken, logout.
func TestAuthControllerThroughPipeline(t *testing.T) {
	cfg := authConfig(t)
	cfg.LoginsPerSecond = 100
	ses, rec := newAuthSession(t, Config{Auth: cfg})
	alice := token(t, "alice")

	resp, _ := ask(t, ses, rec, req("auth", "checkToken", "", "body", `{"token":`+string(quoteJSON(alice))+`}`))
	if resp.Get("result.valid").Bool() != true || resp.Get("result.kuid").Str != "alice" || resp.Get("result.expiresAt").Int() < time.Now().UnixMilli() {
		t.Fatalf("checkToken: %s", resp.Raw)
	}
	expired := sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "alice", time.Now().Add(-time.Minute))
	resp, _ = ask(t, ses, rec, req("auth", "checkToken", "", "body", `{"token":"`+expired+`"}`))
	if resp.Get("result").Raw != `{"state":"Token expired","valid":false}` {
		t.Fatalf("checkToken expired: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "checkToken", "", "body", `{"token":1}`))
	if resp.Get("error.id").Str != "api.assert.invalid_type" {
		t.Fatalf("checkToken of a number: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "getCurrentUser", alice))
	if resp.Get("result").Raw != `{"_id":"alice","_source":{"name":"Alice","profileIds":["orders"]},"strategies":["local"]}` {
		t.Fatalf("getCurrentUser: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "getMyRights", alice))
	if resp.Get("result.total").Int() == 0 || !strings.Contains(resp.Get("result.hits").Raw,
		`{"controller":"realtime","action":"subscribe","index":"shop","collection":"orders","value":"allowed"}`) {
		t.Fatalf("getMyRights: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "getStrategies", ""))
	if resp.Get("error.id").Str != "security.rights.unauthorized" {
		t.Fatalf("getStrategies is not in the standard anonymous role: %s", resp.Raw)
	}

	// login: errors first.
	for _, tt := range []struct{ msg, errID string }{
		{req("auth", "login", "", "body", `{"username":"alice","password":"x"}`), "api.assert.missing_argument"},
		{req("auth", "login", "", "strategy", `"oauth"`, "body", `{}`), "security.credentials.unknown_strategy"},
		{req("auth", "login", "", "strategy", `"local"`, "body", `{"username":"alice","password":"wrong"}`), "plugin.strategy.missing_user"},
		{req("auth", "login", "", "strategy", `"local"`, "body", `{"username":"nobody","password":"wrong"}`), "plugin.strategy.missing_user"},
		{req("auth", "login", "", "strategy", `"local"`, "body", `{"username":"alice"}`), "plugin.strategy.missing_user"},
		{req("auth", "login", "", "strategy", `"local"`, "expiresIn", `"soon"`, "body", `{"username":"alice","password":"`+alicePassword+`"}`), "api.assert.invalid_argument"},
	} {
		resp, _ := ask(t, ses, rec, tt.msg)
		if resp.Get("error.id").Str != tt.errID {
			t.Fatalf("%s: %s, want %s", tt.msg, resp.Raw, tt.errID)
		}
		if strings.Contains(resp.Raw, alicePassword) {
			t.Fatal("the password is in a response")
		}
	}
	resp, _ = ask(t, ses, rec, req("auth", "login", "", "strategy", `"local"`, "expiresIn", `"2h"`, "body", `{"username":"alice","password":"`+alicePassword+`"}`))
	jwt1 := resp.Get("result.jwt").Str
	if resp.Get("result._id").Str != "alice" || resp.Get("result.ttl").Int() != 2*3600*1000 || !strings.HasPrefix(jwt1, auth.AuthPrefix) {
		t.Fatalf("login: %s", resp.Raw)
	}
	if ses.linked != jwt1 || ses.s.auth.expirer.Len() != 1 {
		t.Fatalf("the login's token is not linked to the connection")
	}
	resp, _ = ask(t, ses, rec, req("realtime", "subscribe", jwt1, "index", `"shop"`, "collection", `"orders"`, "body", `{}`))
	if resp.Get("status").Int() != 200 {
		t.Fatalf("subscribe with the login's token: %s", resp.Raw)
	}

	// refreshToken: a new token; the old one lives for the grace period only.
	resp, _ = ask(t, ses, rec, req("auth", "refreshToken", jwt1))
	jwt2 := resp.Get("result.jwt").Str
	if resp.Get("result._id").Str != "alice" || jwt2 == "" || jwt2 == jwt1 {
		t.Fatalf("refreshToken: %s", resp.Raw)
	}
	if tok, ok := ses.s.auth.expirer.Get(ses.rc.ID()); !ok || tok.Encoded() != jwt2 {
		t.Fatal("the connection is not linked to the refreshed token")
	}
	resp, _ = ask(t, ses, rec, req("auth", "refreshToken", jwt1))
	if resp.Get("error.id").Str != "security.token.invalid" {
		t.Fatalf("refreshing twice: %s", resp.Raw)
	}

	// logout: the token is refused from now on, and another connection linked to it
	// loses its subscriptions (without notification); this one keeps its own.
	other, orec := peer(ses)
	resp, _ = ask(t, other, orec, req("realtime", "subscribe", jwt2, "index", `"shop"`, "collection", `"orders"`, "body", `{"equals":{"x":1}}`))
	if resp.Get("status").Int() != 200 || ses.s.rooms.Rooms() != 2 {
		t.Fatalf("other subscribe: %s (%d rooms)", resp.Raw, ses.s.rooms.Rooms())
	}
	resp, _ = ask(t, ses, rec, req("auth", "logout", jwt2, "global", `true`))
	if resp.Get("error.id").Str != "api.assert.invalid_argument" {
		t.Fatalf("global logout: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("auth", "logout", jwt2))
	if resp.Get("result").Raw != `{"acknowledged":true}` {
		t.Fatalf("logout: %s", resp.Raw)
	}
	if n := ses.s.rooms.Rooms(); n != 1 || len(orec.take()) != 0 {
		t.Fatalf("%d rooms after logout, want 1 (the other connection's subscription dropped silently)", n)
	}
	resp, _ = ask(t, ses, rec, req("server", "now", jwt2))
	if resp.Get("error.id").Str != "security.token.invalid" {
		t.Fatalf("a logged-out token: %s", resp.Raw)
	}
	other.close()
	ses.close()
	if n := ses.s.auth.expirer.Len(); n != 0 {
		t.Fatalf("%d links after the sessions closed", n)
	}
	ses.s.auth.linked.Range(func(k, _ any) bool { t.Fatalf("session %v still registered", k); return false })
}

func TestLoginRateLimit(t *testing.T) {
	cfg := authConfig(t)
	cfg.LoginsPerSecond = 1
	ses, rec := newAuthSession(t, Config{Auth: cfg})
	// Attempts are counted before anything else: an unknown strategy fails at once, so
	// three attempts span at most two one-second windows.
	login := req("auth", "login", "", "strategy", `"oauth"`, "body", `{"username":"alice","password":"wrong"}`)
	var limited int
	for range 3 {
		resp, _ := ask(t, ses, rec, login)
		if resp.Get("error.id").Str == "api.process.too_many_logins_requests" {
			limited++
			if resp.Get("status").Int() != 429 {
				t.Fatalf("status %s", resp.Raw)
			}
		}
	}
	if limited == 0 {
		t.Fatal("3 logins were allowed at 1 per second")
	}
	ses.close()
}

// A two-second token linked to a connection: at expiry it gets Kuzzle's TokenExpired
// notification and loses its subscriptions, and stays usable.
func TestTokenExpiredThroughPipeline(t *testing.T) {
	ses, rec := newAuthSession(t, Config{Auth: authConfig(t)})
	short, err := ses.s.auth.tokens.Issue("alice", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := ask(t, ses, rec, req("realtime", "subscribe", short.Encoded(), "index", `"shop"`, "collection", `"orders"`, "body", `{}`))
	if resp.Get("status").Int() != 200 || ses.s.rooms.Rooms() != 1 {
		t.Fatalf("subscribe: %s", resp.Raw)
	}
	var frames []string
	deadline := time.Now().Add(10 * time.Second)
	for len(frames) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		frames = rec.take()
	}
	if len(frames) != 1 {
		t.Fatalf("frames after expiry: %q", frames)
	}
	n := gjson.Parse(frames[0])
	if n.Get("type").Str != "TokenExpired" || n.Get("room").Str != "kuzzle:notification:server" || n.Get("node").Str != "knode-test" ||
		n.Get("message").Str != "Authentication Token Expired" || n.Get("status").Int() != 200 {
		t.Fatalf("TokenExpired: %s", frames[0])
	}
	eventually(t, "the subscriptions to be removed", func() bool { return ses.s.rooms.Rooms() == 0 })
	resp, _ = ask(t, ses, rec, req("auth", "checkToken", "", "body", `{}`))
	if resp.Get("result.kuid").Str != "-1" {
		t.Fatalf("the connection is not usable after expiry: %s", resp.Raw)
	}
	resp, _ = ask(t, ses, rec, req("server", "now", short.Encoded()))
	if resp.Get("error.id").Str != "security.token.expired" {
		t.Fatalf("the expired token: %s", resp.Raw)
	}
	ses.close()
}

// SIGHUP's reload through Server.ReloadSecurity: a good file replaces the rights at
// once, a bad one is refused and the current rights stay.
func TestReloadSecurity(t *testing.T) {
	cfg := authConfig(t)
	ses, rec := newAuthSession(t, Config{Auth: cfg})
	bob := token(t, "bob")
	publish := req("realtime", "publish", bob, "index", `"shop"`, "collection", `"orders"`, "body", `{}`)
	if resp, _ := ask(t, ses, rec, publish); resp.Get("status").Int() != 200 {
		t.Fatalf("before: %s", resp.Raw)
	}
	revoked := strings.Replace(securityFile(), `"bob": {"content": {"profileIds": ["shop"]}}`, `"bob": {"content": {"profileIds": ["nothing"]}}`, 1)
	if err := os.WriteFile(cfg.SecurityFile, []byte(revoked), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ses.s.ReloadSecurity(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := ask(t, ses, rec, publish); resp.Get("error.id").Str != "security.rights.forbidden" {
		t.Fatalf("after the reload: %s", resp.Raw)
	}
	if err := os.WriteFile(cfg.SecurityFile, []byte(`{"users":{"x":{"content":{"profileIds":["missing"]},"credentials":{"local":{"username":"x","password":"plain-text-password"}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := ses.s.ReloadSecurity()
	var fe *auth.FileError
	if !errors.As(err, &fe) || strings.Contains(err.Error(), "plain-text-password") {
		t.Fatalf("bad file: %v", err)
	}
	if resp, _ := ask(t, ses, rec, publish); resp.Get("error.id").Str != "security.rights.forbidden" {
		t.Fatalf("after a failed reload: %s", resp.Raw)
	}
	open, _ := newSession(t, Config{})
	if err := open.s.ReloadSecurity(); !errors.Is(err, ErrNoSecurityFile) {
		t.Fatalf("open mode: %v", err)
	}
	ses.close()
}

func TestAuthConfigErrors(t *testing.T) {
	key := writeFile(t, "key.pem", "not a key")
	for _, tt := range []struct {
		name string
		cfg  AuthConfig
		want string
	}{
		{"alg none", AuthConfig{Secret: "distinctive-secret-value", Algorithms: []string{"none"}}, `"none" is never accepted`},
		{"unknown alg", AuthConfig{Secret: "distinctive-secret-value", Algorithms: []string{"HS1"}}, "unknown JWT algorithm"},
		{"HS without secret", AuthConfig{PublicKeyFile: key, Algorithms: []string{"HS256"}}, "public key"},
		{"bad key", AuthConfig{PublicKeyFile: key}, "not PEM"},
		{"missing key file", AuthConfig{PublicKeyFile: filepath.Join(t.TempDir(), "none.pem")}, "no such file"},
		{"bad security file", AuthConfig{SecurityFile: writeFile(t, "bad.json", `{"roles":1}`)}, "roles: must be an object"},
		{"negative ttl", AuthConfig{Secret: "distinctive-secret-value", TTL: -time.Second}, "-jwt-ttl"},
		{"negative logins", AuthConfig{Secret: "distinctive-secret-value", LoginsPerAddress: -1}, "-logins-per-address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(Config{Auth: tt.cfg, Logger: discardLogger()})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewServer: %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "distinctive-secret-value") {
				t.Fatal("the secret is in the error")
			}
		})
	}
	var c Config
	c.Auth.Secret = "do-not-print-me"
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "do-not-print-me") {
		t.Fatalf("a printed Config shows the secret: %s", s)
	}
}

// Settings of the command: the secret from the environment is never echoed, the
// hash-password command's hash logs in.
func TestAuthCommandLine(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-jwt-ttl", "-1s"}, []string{"KUZZLEWS_JWT_SECRET=super-secret-value"}, &out, &errOut, nil)
	if code != 2 || !strings.Contains(errOut.String(), "-jwt-ttl -1s: must not be negative") || strings.Contains(errOut.String(), "super-secret-value") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	code = run([]string{"-jwt-algorithms", "none", "-port", "0", "-host", "127.0.0.1"}, []string{"KUZZLEWS_JWT_SECRET=super-secret-value"}, &out, &errOut, nil)
	if code != 1 || !strings.Contains(errOut.String(), `is never accepted`) || strings.Contains(errOut.String(), "super-secret-value") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if !authConfigured(Config{Auth: AuthConfig{Secret: "x"}}) || authConfigured(Config{}) {
		t.Fatal("authConfigured")
	}

	out.Reset()
	errOut.Reset()
	if code := hashPassword(nil, strings.NewReader("correct horse\r\n"), &out, &errOut); code != 0 {
		t.Fatalf("hash-password: %d %s", code, errOut.String())
	}
	hash := strings.TrimSpace(out.String())
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(out.String()+errOut.String(), "correct horse") {
		t.Fatalf("hash-password printed %q / %q", out.String(), errOut.String())
	}
	sec, err := auth.LoadSecurity([]byte(`{"roles":{"r":{"controllers":{"*":{"actions":{"*":true}}}}},"profiles":{"p":{"policies":[{"roleId":"r"}]}},` +
		`"users":{"u":{"content":{"profileIds":["p"]},"credentials":{"local":{"username":"u","password":"` + hash + `"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if u, err := sec.Login("local", "u", "correct horse"); err != nil || u.Kuid() != "u" {
		t.Fatalf("login with the printed hash: %v", err)
	}
	for _, tt := range []struct {
		args  []string
		stdin string
		code  int
	}{
		{nil, "", 2},
		{nil, "\n", 2},
		{nil, strings.Repeat("x", maxPasswordBytes+1), 2},
		{[]string{"extra"}, "pw", 2},
		{[]string{"-h"}, "", 0},
	} {
		if code := hashPassword(tt.args, strings.NewReader(tt.stdin), &out, &errOut); code != tt.code {
			t.Errorf("hash-password %q < %d bytes: exit %d, want %d", tt.args, len(tt.stdin), code, tt.code)
		}
	}
}

// The official SDK against a server with a security file and a secret (testdata/sdk/auth.js).
func TestSDKAuth(t *testing.T) {
	cfg := authConfig(t)
	cfg.LoginsPerSecond, cfg.LoginsPerAddress = DefaultLoginsPerSecond, DefaultLoginsPerAddress
	s := startServer(t, Config{Auth: cfg})
	out := runSDK(t, s, "auth.js",
		"TOKEN_ALICE="+token(t, "alice"),
		"TOKEN_BOB="+token(t, "bob"),
		"TOKEN_OTHER_SECRET="+sign(t, jwt.SigningMethodHS256, []byte("another-secret"), "alice", time.Now().Add(time.Hour)),
		"TOKEN_NONE="+sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "alice", time.Now().Add(time.Hour)),
		"TOKEN_EXPIRED="+sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "alice", time.Now().Add(-time.Minute)),
		"ALICE_PASSWORD="+alicePassword,
	)
	t.Logf("SDK scenario:\n%s", out)
	eventually(t, "rooms to be freed", func() bool { return s.rooms.Rooms() == 0 })
	eventually(t, "links to be freed", func() bool { return s.auth.expirer.Len() == 0 })
}

// HTTP reads Authorization: Bearer; a request without it is the anonymous user's.
func TestHTTPBearer(t *testing.T) {
	s := startServer(t, Config{Auth: authConfig(t)})
	hc := httpClient(t)
	url := baseURL(s) + "/shop/orders/_publish"
	status, _, m, _ := do(t, hc, "POST", url, "application/json", strings.NewReader(`{"n":1}`))
	if status != 401 || field(m, "error", "id") != "security.rights.unauthorized" {
		t.Fatalf("without a token: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", url, "application/json", strings.NewReader(`{"n":1}`), "Authorization", "Bearer "+token(t, "bob"))
	if status != 200 || field(m, "result", "published") != true {
		t.Fatalf("with bob's token: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", url, "application/json", strings.NewReader(`{"n":1}`), "Authorization", "Bearer kauth-nope")
	if status != 401 || field(m, "error", "id") != "security.token.invalid" {
		t.Fatalf("with a bad token: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", url, "application/json", strings.NewReader(`{"n":1}`), "Authorization", "Bearer "+token(t, "alice"))
	if status != 403 || field(m, "error", "id") != "security.rights.forbidden" {
		t.Fatalf("with alice's token: %d %v", status, m)
	}

	// Kuzzle's auth routes.
	status, _, m, _ = do(t, hc, "POST", baseURL(s)+"/_login/local", "application/json",
		strings.NewReader(`{"username":"alice","password":"`+alicePassword+`"}`))
	jwtAlice, _ := field(m, "result", "jwt").(string)
	if status != 200 || field(m, "result", "_id") != "alice" || jwtAlice == "" {
		t.Fatalf("POST /_login/local: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "GET", baseURL(s)+"/_me", "", nil, "Authorization", "Bearer "+jwtAlice)
	if status != 200 || field(m, "result", "_id") != "alice" {
		t.Fatalf("GET /_me: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "GET", baseURL(s)+"/_me/_rights", "", nil, "Authorization", "Bearer "+jwtAlice)
	if status != 200 || field(m, "result", "total") == float64(0) {
		t.Fatalf("GET /_me/_rights: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", baseURL(s)+"/_refreshToken", "", nil, "Authorization", "Bearer "+jwtAlice)
	if status != 200 || field(m, "result", "_id") != "alice" {
		t.Fatalf("POST /_refreshToken: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", baseURL(s)+"/_logout", "", nil, "Authorization", "Bearer "+token(t, "bob"))
	if status != 200 || field(m, "result", "acknowledged") != true {
		t.Fatalf("POST /_logout: %d %v", status, m)
	}
	status, _, m, _ = do(t, hc, "POST", baseURL(s)+"/_checkToken", "application/json", strings.NewReader(`{"token":"`+jwtAlice+`"}`))
	if status != 200 || field(m, "result", "kuid") != "alice" {
		t.Fatalf("POST /_checkToken: %d %v", status, m)
	}
	if s.auth.expirer.Len() != 0 {
		t.Fatal("an HTTP request linked a token")
	}
}

// startBinaryLogs is startBinary with the log lines: the built command runs with args and
// the extra environment, and every stderr line after "listening" goes to the channel.
func startBinaryLogs(t *testing.T, env []string, args ...string) (*exec.Cmd, string, <-chan string, *syncLines) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"-host", "127.0.0.1", "-port", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	all := &syncLines{}
	lines := make(chan string, 64)
	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		all.add(sc.Text())
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				defer close(lines)
				for sc.Scan() {
					all.add(sc.Text())
					select {
					case lines <- sc.Text():
					default: // nobody is waiting for this one
					}
				}
			}()
			return cmd, m[1], lines, all
		}
	}
	t.Fatalf("kuzzlews exited before listening: %v\n%s", sc.Err(), all)
	return nil, "", nil, nil
}

// syncLines collects log lines from a goroutine.
type syncLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLines) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *syncLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitLine returns the first line containing want, failing after 10 s.
func waitLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("kuzzlews stopped before logging %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout:
			t.Fatalf("no log line %q within 10 s", want)
		}
	}
}

// SIGHUP on the built binary reloads the security file: new rights at once, a bad file
// refused (logged, the current rights kept), the process serving throughout; the secret
// (from the environment) never appears in the logs.
func TestBinarySIGHUPReloadsSecurity(t *testing.T) {
	file := writeFile(t, "security.json", securityFile())
	cmd, addr, lines, all := startBinaryLogs(t, []string{"KUZZLEWS_JWT_SECRET=" + testJWTSecret}, "-security", file)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &wsClient{t: t, conn: conn, br: br}
	if br == nil {
		c.br = bufio.NewReader(conn)
	}
	publish := req("realtime", "publish", token(t, "bob"), "index", `"shop"`, "collection", `"orders"`, "body", `{}`, "requestId", `"p"`)
	if m := c.request(publish); m["status"] != float64(200) {
		t.Fatalf("before the reload: %v", m)
	}

	revoked := strings.Replace(securityFile(), `"bob": {"content": {"profileIds": ["shop"]}}`, `"bob": {"content": {"profileIds": ["nothing"]}}`, 1)
	if err := os.WriteFile(file, []byte(revoked), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "security file reloaded")
	if m := c.request(publish); field(m, "error", "id") != "security.rights.forbidden" {
		t.Fatalf("after the reload: %v", m)
	}

	if err := os.WriteFile(file, []byte(`{"users":{"x":{"content":{"profileIds":["nope"]},"credentials":{"local":{"username":"x","password":"plain-text-password"}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := waitLine(t, lines, "security file reload failed")
	if strings.Contains(line, "plain-text-password") || !strings.Contains(line, "profileIds") {
		t.Fatalf("reload failure line: %s", line)
	}
	if m := c.request(publish); field(m, "error", "id") != "security.rights.forbidden" {
		t.Fatalf("after a failed reload: %v", m)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kuzzlews exited with %v, want status 0", err)
	}
	logs := all.String()
	if strings.Contains(logs, testJWTSecret) || !strings.Contains(logs, "mode=security-file") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// The open mode warns at start, and hash-password runs as a command of the binary.
func TestBinaryOpenWarningAndHashPassword(t *testing.T) {
	_, _, lines, _ := startBinaryLogs(t, nil)
	if l := waitLine(t, lines, "every client is the anonymous user with every right"); !strings.Contains(l, "level=WARN") {
		t.Fatalf("open-mode warning: %s", l)
	}
	cmd := exec.Command(buildBinary(t), "hash-password")
	cmd.Stdin = strings.NewReader("a password\n")
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "$argon2id$") || strings.Contains(string(out), "a password") {
		t.Fatalf("hash-password: %v %q", err, out)
	}
}

// BenchmarkDispatchServerNowWithToken is BenchmarkDispatchServerNow with a security file
// and a token on every request: verification from the cache, the session's user, the
// rights check.
func BenchmarkDispatchServerNowWithToken(b *testing.B) {
	file := filepath.Join(b.TempDir(), "security.json")
	if err := os.WriteFile(file, []byte(securityFile()), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(Config{Logger: discardLogger(), Auth: AuthConfig{SecurityFile: file, Secret: testJWTSecret}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(0)
	tok, err := s.auth.tokens.Issue("alice", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	ses := &session{s: s, out: &recorder{}, notifiable: true}
	msg := []byte(`{"action":"now","controller":"server","requestId":"09aed01c-b9b5-4820-ac8a-74f372b25e2a","jwt":"` + tok.Encoded() +
		`","volatile":{"sdkInstanceId":"c8cbce7d-0e46-4104-96dd-67b66d6c4e48","sdkName":"js@7.17.1-beta.1"}}`)
	if f := ses.process(msg); !bytes.Contains(f, []byte(`"status":200`)) {
		b.Fatalf("response %s", f)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if f := ses.process(msg); len(f) == 0 {
			b.Fatal("no response")
		}
	}
	ses.close()
}

// The security settings come from the -config file and the environment too.
func TestAuthSettingsSources(t *testing.T) {
	file := writeFile(t, "kuzzlews.json", `{"jwt-secret": "from-the-file", "jwt-algorithms": ["HS256", "HS512"], "jwt-ttl": "90m", "security": "/etc/kuzzlews/security.json", "logins-per-address": 0}`)
	var errOut bytes.Buffer
	cfg, _, code, ok := settings([]string{"-config", file}, []string{"KUZZLEWS_LOGINS_PER_SECOND=3"}, &errOut)
	if !ok {
		t.Fatalf("settings: %d %s", code, errOut.String())
	}
	a := cfg.Auth
	if a.Secret != "from-the-file" || strings.Join(a.Algorithms, ",") != "HS256,HS512" || a.TTL != 90*time.Minute ||
		a.SecurityFile != "/etc/kuzzlews/security.json" || a.LoginsPerSecond != 3 || a.LoginsPerAddress != 0 {
		t.Fatalf("auth settings %+v", a)
	}
	cfg, _, _, ok = settings(nil, nil, &errOut)
	if !ok || cfg.Auth.configured() || cfg.Auth.TTL != DefaultJWTTTL || cfg.Auth.LoginsPerSecond != DefaultLoginsPerSecond ||
		cfg.Auth.LoginsPerAddress != DefaultLoginsPerAddress {
		t.Fatalf("defaults %+v", cfg.Auth)
	}
	bad := writeFile(t, "bad.json", `{"jwt-secret": {"value": "nested-secret"}}`)
	errOut.Reset()
	if _, _, code, ok := settings([]string{"-config", bad}, nil, &errOut); ok || code != 2 || strings.Contains(errOut.String(), "nested-secret") {
		t.Fatalf("bad secret type: %d %q", code, errOut.String())
	}
}
