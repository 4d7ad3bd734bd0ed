package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The argon2id parameters of HashPassword: the first configuration of the OWASP Password
// Storage Cheat Sheet (m = 19 MiB, t = 2, p = 1), with a 16-byte salt and a 32-byte key
// (RFC 9106 section 4 recommends these two lengths). argon2id rather than bcrypt: no
// 72-byte limit on the password, and memory-hard. 19 MiB keeps the memory of concurrent
// logins small (Security runs at most GOMAXPROCS verifications at once).
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the hashes a security file may hold, so that one login cannot take seconds or
// gigabytes.
const (
	maxBcryptCost   = 16
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 64
)

// passwordHash is a parsed bcrypt or argon2id hash.
type passwordHash struct {
	bcrypt []byte // the whole bcrypt hash; nil for argon2id

	salt, key    []byte
	memory, time uint32
	threads      uint8
}

// parsePasswordHash reads a bcrypt ($2a$, $2b$, $2y$) or argon2id (PHC string format,
// version 19) hash. Its errors never quote the string, which may be a plain password.
func parsePasswordHash(s string) (*passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if len(s) != 60 {
			return nil, errors.New("malformed bcrypt hash (expected 60 characters)")
		}
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return nil, errors.New("malformed bcrypt hash")
		}
		if cost > maxBcryptCost {
			return nil, fmt.Errorf("bcrypt cost %d is over %d", cost, maxBcryptCost)
		}
		return &passwordHash{bcrypt: []byte(s)}, nil
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$argon2i$"), strings.HasPrefix(s, "$argon2d$"):
		return nil, errors.New("only argon2id hashes are accepted, not argon2i or argon2d")
	}
	return nil, errors.New(`not a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$v=19$m=…,t=…,p=…$salt$hash) hash; make one with "kuzzlews hash-password"`)
}

// parseArgon2id reads $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>, salt and
// key in unpadded standard base64 (the PHC string format of the reference implementation).
func parseArgon2id(s string) (*passwordHash, error) {
	bad := errors.New("malformed argon2id hash (expected $argon2id$v=19$m=…,t=…,p=…$salt$hash)")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return nil, bad
	}
	if parts[2] != "v=19" {
		return nil, errors.New("unsupported argon2id version (expected v=19)")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, bad
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		if !ok || v == "" || v[0] == '+' {
			return nil, bad
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, bad
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > maxArgonThreads:
		return nil, fmt.Errorf("argon2id parallelism must be 1 to %d", maxArgonThreads)
	case m < 8*p || m > maxArgonMemory:
		return nil, fmt.Errorf("argon2id memory must be 8*p to %d KiB", maxArgonMemory)
	case t < 1 || t > maxArgonTime:
		return nil, fmt.Errorf("argon2id time must be 1 to %d", maxArgonTime)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[4], "="))
	key, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[5], "="))
	if err1 != nil || err2 != nil {
		return nil, bad
	}
	if len(salt) < 8 || len(key) < 16 || len(key) > 256 {
		return nil, errors.New("argon2id salt must be 8 bytes or more and the hash 16 to 256 bytes")
	}
	return &passwordHash{salt: salt, key: key, memory: uint32(m), time: uint32(t), threads: uint8(p)}, nil
}

// matches reports whether password hashes to h, comparing in constant time. A password
// over 72 bytes never matches a bcrypt hash (bcrypt would ignore the rest).
func (h *passwordHash) matches(password string) bool {
	if h.bcrypt != nil {
		if len(password) > 72 {
			return false
		}
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	k := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(k, h.key) == 1
}

// HashPassword returns an argon2id hash of password for the "password" of a security
// file's local credentials ("kuzzlews hash-password"): PHC string format,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with a random 16-byte salt. It fails for
// an empty password and if the system's random source fails.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("auth: empty password")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}
