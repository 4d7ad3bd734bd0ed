package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret ünïcode")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("HashPassword = %s", h)
	}
	h2, _ := HashPassword("s3cret ünïcode")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	p, err := parsePasswordHash(h)
	if err != nil {
		t.Fatal(err)
	}
	if !p.matches("s3cret ünïcode") || p.matches("s3cret unicode") || p.matches("") {
		t.Fatal("argon2id round trip")
	}
	if _, err := HashPassword(""); err == nil {
		t.Fatal("HashPassword(\"\") succeeded")
	}
}

func TestPasswordHashes(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 72)
	bLong, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("saltsaltsalt")
	small := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=2$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("pw"), salt, 1, 64, 2, 24)))
	padded := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=2$%s$%s", base64.StdEncoding.EncodeToString(salt),
		base64.StdEncoding.EncodeToString(argon2.IDKey([]byte("pw"), salt, 1, 64, 2, 24)))
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{name: "bcrypt $2a$", hash: string(b), password: "pw", want: true},
		{name: "bcrypt $2b$", hash: strings.Replace(string(b), "$2a$", "$2b$", 1), password: "pw", want: true},
		{name: "bcrypt $2y$", hash: strings.Replace(string(b), "$2a$", "$2y$", 1), password: "pw", want: true},
		{name: "bcrypt wrong", hash: string(b), password: "pW", want: false},
		{name: "bcrypt 72 bytes", hash: string(bLong), password: long, want: true},
		{name: "bcrypt over 72 bytes never matches", hash: string(bLong), password: long + "more", want: false},
		{name: "argon2id other parameters", hash: small, password: "pw", want: true},
		{name: "argon2id padded base64", hash: padded, password: "pw", want: true},
		{name: "argon2id wrong", hash: small, password: "px", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePasswordHash(tc.hash)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.matches(tc.password); got != tc.want {
				t.Fatalf("matches = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"", "pw", "$2x$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzabcd", "$2a$04$short",
		"$2a$xx$" + strings.Repeat("a", 53), "$argon2id$", "$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFz", "$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if p, err := parsePasswordHash(bad); err == nil {
			t.Errorf("parsePasswordHash(%q) = %+v, want an error", bad, p)
		} else if len(bad) > 12 && strings.Contains(err.Error(), bad) {
			t.Errorf("error quotes the input: %v", err)
		}
	}
}

func TestLogin(t *testing.T) {
	s := loadTestFile(t)
	tests := []struct {
		name     string
		strategy string
		username string
		password string
		kuid     string
		want     error
		msg      string
	}{
		{name: "argon2id user", strategy: "local", username: "bob", password: "bob-password", kuid: "bob"},
		{name: "bcrypt user", strategy: "local", username: "alice@example.com", password: "alice-password", kuid: "alice"},
		{name: "wrong password", strategy: "local", username: "bob", password: "alice-password", want: ErrLoginFailed, msg: "wrong username or password"},
		{name: "kuid is not the username", strategy: "local", username: "alice", password: "alice-password", want: ErrLoginFailed, msg: "wrong username or password"},
		{name: "unknown username", strategy: "local", username: "nobody", password: "bob-password", want: ErrLoginFailed, msg: "wrong username or password"},
		{name: "missing password", strategy: "local", username: "bob", want: ErrLoginFailed, msg: "Missing credentials"},
		{name: "missing username", strategy: "local", password: "x", want: ErrLoginFailed, msg: "Missing credentials"},
		{name: "unknown strategy", strategy: "oauth", username: "bob", password: "bob-password", want: ErrUnknownStrategy, msg: `Unknown authentication strategy "oauth"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Login(tc.strategy, tc.username, tc.password)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || err.Error() != tc.msg {
					t.Fatalf("Login = %v, %v; want %v %q", u, err, tc.want, tc.msg)
				}
				if strings.Contains(err.Error(), "password\"") || (tc.password != "" && strings.Contains(err.Error(), tc.password)) {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || u.Kuid() != tc.kuid {
				t.Fatalf("Login = %v, %v; want %s", u, err, tc.kuid)
			}
		})
	}
	t.Run("concurrent logins", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				pw := "bob-password"
				if i%2 == 1 {
					pw = "nope"
				}
				u, err := s.Login("local", "bob", pw)
				if (i%2 == 0) != (err == nil) || (err == nil && u.Kuid() != "bob") {
					t.Errorf("login %d: %v, %v", i, u, err)
				}
			})
		}
		wg.Wait()
	})
}
