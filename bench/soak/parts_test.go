package soak

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// TestVerify: a stayer that read every publication of its group but one misses one; one of
// another group, or never sent, is unexpected; failed publications are not expected.
func TestVerify(t *testing.T) {
	w := &worker{plan: Plan{Groups: 4}}
	set := func(s *stayer, p int, ks ...int64) {
		for int(p) >= len(s.seen) {
			s.seen = append(s.seen, nil)
		}
		for _, k := range ks {
			for int(k/64) >= len(s.seen[p]) {
				s.seen[p] = append(s.seen[p], 0)
			}
			s.seen[p][k/64] |= 1 << uint(k%64)
		}
	}
	full := &stayer{gi: 1, mask: 1 << 1}
	set(full, 0, 1, 5, 9, 13)
	set(full, 1, 1, 5, 9) // 13 failed: not expected
	short := &stayer{gi: 2, mask: 1 << 2}
	set(short, 0, 2, 10, 14) // misses 6
	set(short, 1, 2, 6, 10, 3, 100)
	dropped := &stayer{gi: 3, mask: 1 << 3, dropped: true}
	w.stayers = []*stayer{full, short, dropped}
	v := w.verify([]PubState{{Pub: 0, Sent: 16}, {Pub: 1, Sent: 16, Failed: []int64{13, 14}}})
	want := Verify{Stayers: 3, Stayed: 2, Expected: 4 + 3 + 4 + 3, Matched: 4 + 3 + 3 + 3, Missing: 1, MissingStayers: 1, Unexpected: 2}
	v.FirstMissing, v.Latency = "", want.Latency
	if v.Stayers != want.Stayers || v.Stayed != want.Stayed || v.Expected != want.Expected || v.Matched != want.Matched ||
		v.Missing != want.Missing || v.MissingStayers != want.MissingStayers || v.Unexpected != want.Unexpected {
		t.Fatalf("verify = %+v, want %+v", *v, want)
	}
}

// TestMaskedFrame: the malformed frames are what they say: a declared length, a mask, and
// the payload masked with it (RFC 6455 section 5.3).
func TestMaskedFrame(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b0       byte
		payload  []byte
		declared int64
	}{
		{name: "short text", b0: 0x81, payload: []byte(`{"a":1}`), declared: -1},
		{name: "16-bit length", b0: 0x82, payload: bytes.Repeat([]byte("x"), 300), declared: -1},
		{name: "declared 2 MiB", b0: 0x81, payload: nil, declared: 2 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := maskedFrame(tc.b0, tc.payload, tc.declared)
			h, err := ws.ReadHeader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			want := int64(len(tc.payload))
			if tc.declared >= 0 {
				want = tc.declared
			}
			if !h.Masked || h.Length != want || byte(h.OpCode) != tc.b0&0x0f || h.Fin != (tc.b0&0x80 != 0) {
				t.Fatalf("header %+v, want masked, length %d, opcode %x", h, want, tc.b0&0x0f)
			}
			p := append([]byte(nil), b[len(b)-len(tc.payload):]...)
			ws.Cipher(p, h.Mask, 0)
			if !bytes.Equal(p, tc.payload) {
				t.Fatalf("payload %q, want %q", p, tc.payload)
			}
		})
	}
}

// TestRoles: the split of the full soak, and a count that leaves no stayer fails.
func TestRoles(t *testing.T) {
	c := Full()
	r, err := c.Roles()
	if err != nil {
		t.Fatal(err)
	}
	if r.Stayers+r.Pubs+r.BigPubs+r.Churn+r.Slow+r.NonRead+r.Malformed != c.Conns || r.Churn != 475 || r.Slow != 47 || r.Malformed != 19 {
		t.Fatalf("roles %+v of %d", r, c.Conns)
	}
	c.Conns = 10
	if _, err := c.Roles(); err == nil {
		t.Fatal("10 connections: no error")
	}
}

// TestGroupFilter: the three shapes of a group are distinct filters on the same documents.
func TestGroupFilter(t *testing.T) {
	seen := map[string]bool{}
	for kind := range filterKinds {
		f := string(GroupFilter(3, kind))
		if seen[f] {
			t.Fatalf("shape %d repeats %s", kind, f)
		}
		seen[f] = true
	}
	doc := string(appendDoc(nil, 2, 11, 8, 42, 3))
	if doc != `{"sp":2,"sk":11,"sg":"g3","sn":3,"st":42,"pad":"xxx"}` {
		t.Fatalf("document %s", doc)
	}
}
