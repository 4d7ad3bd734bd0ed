package cluster

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// maxToken is the longest subject token made from a name; a longer encoding is replaced
// by a hash, so a client's 100 KB index name cannot exceed the NATS server's control line
// (max_control_line, 4 KiB by default: a longer PUB or SUB line closes the connection).
const maxToken = 200

// token encodes s as one NATS subject token. NATS tokens may not be empty nor contain
// '.', '*', '>', whitespace or NUL (NATS docs, nats-concepts/subjects.md), and Kuzzle's
// realtime path accepts any index, collection or roomId: every byte outside
// [A-Za-z0-9_-] becomes %XX (so the mapping is injective and the subject readable for
// plain names), "" becomes "%", and an encoding longer than maxToken becomes "#" and the
// unpadded base64url SHA-256 of s.
func token(s string) string {
	if s == "" {
		return "%"
	}
	plain := true
	for i := range len(s) {
		if !plainByte(s[i]) {
			plain = false
			break
		}
	}
	if plain && len(s) <= maxToken {
		return s
	}
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if plainByte(c) {
			b.WriteByte(c)
		} else {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
		if b.Len() > maxToken {
			sum := sha256.Sum256([]byte(s))
			return "#" + base64.RawURLEncoding.EncodeToString(sum[:])
		}
	}
	return b.String()
}

func plainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// checkPrefix validates a subject prefix: one or more '.'-separated tokens without
// wildcards, whitespace or NUL, not starting with '$' (reserved by NATS).
func checkPrefix(p string) error {
	if p == "" {
		return errors.New("empty subject prefix")
	}
	if p[0] == '$' {
		return errors.New("subject prefix " + quote(p) + ": '$' subjects are reserved by NATS")
	}
	for _, t := range strings.Split(p, ".") {
		if t == "" || strings.ContainsAny(t, "*> \t\r\n\x00") {
			return errors.New("subject prefix " + quote(p) + ": tokens must be non-empty, without '*', '>' or whitespace")
		}
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }

// subjects are the NATS subjects of one cluster (one prefix).
type subjects struct {
	prefix string
}

// doc is the subject of publications on index/collection: <prefix>.d.<index>.<collection>.
func (s subjects) doc(index, collection string) string {
	return s.prefix + ".d." + token(index) + "." + token(collection)
}

// room is the subject of a room's user notifications and definition look-ups:
// <prefix>.r.<roomId>.
func (s subjects) room(roomID string) string { return s.prefix + ".r." + token(roomID) }

// node is a node's own subject (duplicate id check): <prefix>.n.<node>.
func (s subjects) node(id string) string { return s.prefix + ".n." + token(id) }

// heartbeat is where every node announces itself: <prefix>.hb.
func (s subjects) heartbeat() string { return s.prefix + ".hb" }

// count and list are the scatter-gather subjects of realtime:count and realtime:list.
func (s subjects) count() string { return s.prefix + ".c.count" }
func (s subjects) list() string  { return s.prefix + ".c.list" }

// event is the subject of a cluster-wide event: <prefix>.e.<name>.
func (s subjects) event(name string) string { return s.prefix + ".e." + token(name) }
