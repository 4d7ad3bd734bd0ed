package auth

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestLoginLimiter(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 100e6))
	l := NewLoginLimiter(1, 3)
	l.now = clock.Now
	steps := []struct {
		key  string
		want bool
	}{
		{key: "conn1", want: true},
		{key: "conn1", want: false}, // limits.loginsPerSecond = 1
		{key: "conn2", want: true},
		{key: "conn1", want: false},
		{key: "10.0.0.1", want: true},
		{key: "conn4", want: false}, // a fourth key in the window: maxKeys 3
	}
	for i, st := range steps {
		if got := l.Allow(st.key); got != st.want {
			t.Fatalf("step %d: Allow(%s) = %v, want %v", i, st.key, got, st.want)
		}
	}
	if err := l.Check("conn1"); !errors.Is(err, ErrTooManyLogins) {
		t.Fatalf("Check = %v", err)
	}
	clock.Add(900 * time.Millisecond) // the next second: counters dropped
	if len(l.counts) != 3 {
		t.Fatalf("counters before the window ends: %d", len(l.counts))
	}
	for _, key := range []string{"conn1", "conn4"} {
		if !l.Allow(key) {
			t.Fatalf("next second: Allow(%s) = false", key)
		}
	}
	if len(l.counts) != 2 {
		t.Fatalf("counters of the new window: %d, want 2", len(l.counts))
	}

	l3 := NewLoginLimiter(3, 0)
	l3.now = clock.Now
	for i := range 5 {
		if got := l3.Allow("k"); got != (i < 3) {
			t.Fatalf("limit 3, attempt %d: %v", i, got)
		}
	}
	unlimited := NewLoginLimiter(0, 1)
	for range 100 {
		if !unlimited.Allow(fmt.Sprint(time.Now().UnixNano())) {
			t.Fatal("perSecond 0 limited")
		}
	}
}

// TestLoginLimiterMemory checks that many keys do not stay in memory once their window
// has passed.
func TestLoginLimiterMemory(t *testing.T) {
	clock := newFakeClock(time.Unix(vectorIat, 0))
	l := NewLoginLimiter(1, 50_000)
	l.now = clock.Now
	for i := range 50_001 {
		l.Allow(fmt.Sprint("k", i))
	}
	if len(l.counts) != 50_000 {
		t.Fatalf("counts = %d, want 50000 (maxKeys)", len(l.counts))
	}
	clock.Add(time.Second)
	l.Allow("x")
	if len(l.counts) != 1 {
		t.Fatalf("counts after the window = %d, want 1", len(l.counts))
	}
}
