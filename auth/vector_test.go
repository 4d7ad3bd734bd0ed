package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Test vectors made by jsonwebtoken 9.0.2 under Kuzzle 2.56's signing rules
// (lib/core/security/tokenRepository.ts generateToken: jwt.sign({_id: kuid}, secret,
// {algorithm, expiresIn: Math.floor(ttlMs / 1000)}) then the "kauth-" prefix), computed
// once with testdata/jwt/kuzzle-jwt.js (which TestKuzzleLive runs again) on this input:
//
//	{"sign":[{"kuid":"bob","secret":"kuzzlews-test-secret","algorithm":"HS256","ttlMs":3600000,"iat":1700000000},
//	         {"kuid":"é\"<\u2028>\\","secret":"kuzzlews-test-secret","algorithm":"HS512","ttlMs":-1,"iat":1700000000}]}
var jsonwebtokenVectors = []struct {
	name  string
	kuid  string
	alg   string
	ttl   time.Duration
	token string
}{
	{
		name:  "HS256 one hour",
		kuid:  "bob",
		alg:   "HS256",
		ttl:   time.Hour,
		token: "kauth-eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJfaWQiOiJib2IiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.66BzcjBXVV2YKfOuUFroK2pEA25BBy6nm1eek7TxvBg",
	},
	{
		name:  "HS512 no expiry, kuid JSON.stringify escapes differently from encoding/json",
		kuid:  "é\"<\u2028>\\",
		alg:   "HS512",
		ttl:   Infinite,
		token: "kauth-eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJfaWQiOiLDqVwiPOKAqD5cXCIsImlhdCI6MTcwMDAwMDAwMH0.eDxO0RUpUyqDuM1jAd_WKgcOFDgjfs9hNBVQu1p1ZUxuVH6xKOpJryhsVEwSCKIHlLj3YzAl14yR8ezNk7QSdA",
	},
}

// TestKuzzleVector checks Issue against the jsonwebtoken vectors with a fixed clock, and
// that Verify accepts them.
func TestKuzzleVector(t *testing.T) {
	for _, v := range jsonwebtokenVectors {
		t.Run(v.name, func(t *testing.T) {
			clock := newFakeClock(time.Unix(vectorIat, 250e6))
			tk := newTestTokens(t, clock, TokenConfig{Algorithms: []string{v.alg}})
			got, err := tk.Issue(v.kuid, v.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if got.Encoded() != v.token {
				t.Fatalf("Issue = %s\nwant     %s", got.Encoded(), v.token)
			}
			clock.Add(10 * time.Minute)
			ver, err := tk.Verify(v.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ver.Kuid != v.kuid {
				t.Fatalf("Kuid = %q, want %q", ver.Kuid, v.kuid)
			}
		})
	}
}

// TestKuzzleVectorByHand rebuilds the HS256 vector from jsonwebtoken's rules with
// crypto/hmac: header {"alg":"HS256","typ":"JWT"} (jsonwebtoken sign.js), payload
// {"_id","iat","exp"} in that order, base64url without padding (jws), HMAC-SHA256 with
// the secret's bytes.
func TestKuzzleVectorByHand(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	header := `{"alg":"HS256","typ":"JWT"}`
	payload := `{"_id":"bob","iat":1700000000,"exp":1700003600}`
	signing := enc([]byte(header)) + "." + enc([]byte(payload))
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(signing))
	byHand := "kauth-" + signing + "." + enc(mac.Sum(nil))
	if byHand != jsonwebtokenVectors[0].token {
		t.Fatalf("by hand = %s\nwant      %s", byHand, jsonwebtokenVectors[0].token)
	}
}

// jwtDir holds the Node.js script that signs and verifies with jsonwebtoken.
const jwtDir = "testdata/jwt"

var jwtNpm struct {
	sync.Once
	err error
	out []byte
}

// runKuzzleJWT runs testdata/jwt/kuzzle-jwt.js (installing jsonwebtoken from the
// committed lockfile with npm ci on first use) and decodes its answer.
func runKuzzleJWT(t *testing.T, in any) (out struct {
	Signed   []string `json:"signed"`
	Verified []struct {
		OK    bool    `json:"ok"`
		ID    string  `json:"_id"`
		Exp   float64 `json:"exp"`
		Error string  `json:"error"`
	} `json:"verified"`
}) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH: this test needs Node.js >= 18 and npm", tool)
		}
	}
	jwtNpm.Do(func() {
		if _, err := os.Stat(filepath.Join(jwtDir, "node_modules", "jsonwebtoken", "package.json")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = jwtDir
		jwtNpm.out, jwtNpm.err = cmd.CombinedOutput()
	})
	if jwtNpm.err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", jwtDir, jwtNpm.err, jwtNpm.out)
	}
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "kuzzle-jwt.js")
	cmd.Dir = jwtDir
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node kuzzle-jwt.js: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("node kuzzle-jwt.js answered %q: %v", stdout.Bytes(), err)
	}
	return out
}

type jsSign struct {
	Kuid      string `json:"kuid"`
	Secret    string `json:"secret"`
	Algorithm string `json:"algorithm"`
	TTLMs     int64  `json:"ttlMs"`
	Iat       int64  `json:"iat"`
}

type jsVerify struct {
	Token          string `json:"token"`
	Secret         string `json:"secret"`
	ClockTimestamp int64  `json:"clockTimestamp,omitempty"`
}

// TestKuzzleLive has jsonwebtoken, as Kuzzle runs it, sign tokens that Verify must accept
// and Issue must reproduce, and verify the tokens of Issue: a Kuzzle sharing the secret
// accepts kuzzlews's tokens and the other way round.
func TestKuzzleLive(t *testing.T) {
	type vec struct {
		kuid string
		alg  string
		ttl  time.Duration
	}
	vecs := []vec{
		{kuid: "bob", alg: "HS256", ttl: time.Hour},
		{kuid: "alice", alg: "HS384", ttl: 90 * time.Second},
		{kuid: "ünï\u2028cødé \"<&>\\\t\x01", alg: "HS512", ttl: 1500 * time.Millisecond},
		{kuid: "forever", alg: "HS256", ttl: Infinite},
	}
	var sign []jsSign
	for _, v := range vecs {
		ms := int64(-1)
		if v.ttl > 0 {
			ms = v.ttl.Milliseconds()
		}
		sign = append(sign, jsSign{Kuid: v.kuid, Secret: testSecret, Algorithm: v.alg, TTLMs: ms, Iat: vectorIat})
	}
	signed := runKuzzleJWT(t, map[string]any{"sign": sign}).Signed
	if len(signed) != len(vecs) {
		t.Fatalf("jsonwebtoken signed %d tokens, want %d", len(signed), len(vecs))
	}

	clock := newFakeClock(time.Unix(vectorIat, 0))
	tk := newTestTokens(t, clock, TokenConfig{Algorithms: []string{"HS256", "HS384", "HS512"}})
	var verify []jsVerify
	for i, v := range vecs {
		// Kuzzle's token verifies here.
		got, err := tk.Verify(signed[i])
		if err != nil {
			t.Fatalf("%s: Verify(jsonwebtoken's token): %v", v.alg, err)
		}
		if got.Kuid != v.kuid {
			t.Fatalf("%s: Kuid = %q, want %q", v.alg, got.Kuid, v.kuid)
		}
		// Issue makes the same bytes.
		one := newTestTokens(t, clock, TokenConfig{Algorithms: []string{v.alg}})
		mine, err := one.Issue(v.kuid, v.ttl)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Encoded() != signed[i] {
			t.Fatalf("%s: Issue = %s\njsonwebtoken: %s", v.alg, mine.Encoded(), signed[i])
		}
		verify = append(verify, jsVerify{Token: mine.Encoded(), Secret: testSecret, ClockTimestamp: vectorIat})
	}
	// kuzzlews's tokens verify in Kuzzle, and are refused with another secret or once
	// expired.
	good, err := tk.Issue("carol", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verify = append(verify,
		jsVerify{Token: good.Encoded(), Secret: testSecret, ClockTimestamp: vectorIat + 60},
		jsVerify{Token: good.Encoded(), Secret: "another secret", ClockTimestamp: vectorIat + 60},
		jsVerify{Token: good.Encoded(), Secret: testSecret, ClockTimestamp: vectorIat + 3600},
	)
	res := runKuzzleJWT(t, map[string]any{"verify": verify}).Verified
	if len(res) != len(verify) {
		t.Fatalf("jsonwebtoken verified %d tokens, want %d", len(res), len(verify))
	}
	for i, v := range vecs {
		if !res[i].OK || res[i].ID != v.kuid {
			t.Errorf("%s: jsonwebtoken.verify(Issue's token) = %+v", v.alg, res[i])
		}
	}
	n := len(vecs)
	if !res[n].OK || res[n].ID != "carol" || res[n].Exp != vectorIat+3600 {
		t.Errorf("jsonwebtoken.verify = %+v, want carol, exp %d", res[n], vectorIat+3600)
	}
	if res[n+1].OK || res[n+1].Error != "JsonWebTokenError" {
		t.Errorf("another secret: %+v, want JsonWebTokenError", res[n+1])
	}
	if res[n+2].OK || res[n+2].Error != "TokenExpiredError" {
		t.Errorf("at exp: %+v, want TokenExpiredError", res[n+2])
	}
	// And the same three answers here.
	clock.Set(time.Unix(vectorIat+3600, 0))
	if _, err := tk.Verify(good.Encoded()); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("Verify at exp: %v, want ErrTokenExpired", err)
	}
}
