package auth

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// expiry records the callbacks of an Expirer.
type expiry struct {
	mu   sync.Mutex
	got  []string
	seen chan string
}

func newExpiry() *expiry { return &expiry{seen: make(chan string, 1024)} }

func (x *expiry) onExpire(key string, tok Token) {
	x.mu.Lock()
	x.got = append(x.got, key+"="+tok.Kuid)
	x.mu.Unlock()
	x.seen <- key
}

func (x *expiry) list() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.got)
}

// wait waits for n callbacks; the timeout only guards against a hang.
func (x *expiry) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for range n {
		select {
		case <-x.seen:
		case <-deadline:
			t.Fatalf("waited 10 s for %d expiries, got %v", n, x.list())
		}
	}
}

// tokenAt is a token that expires at the Unix millisecond at (-1: never).
func tokenAt(kuid string, at int64) Token {
	return Token{Kuid: kuid, ExpiresAt: at, TTL: 1, encoded: AuthPrefix + "jwt-" + kuid, jwt: "jwt-" + kuid}
}

// TestExpirerOrder links tokens already expired, in shuffled order: the one goroutine
// fires them in expiry order; the future and infinite ones do not fire.
func TestExpirerOrder(t *testing.T) {
	x := newExpiry()
	e := NewExpirer(x.onExpire)
	defer e.Stop()
	now := time.Now().UnixMilli()
	e.mu.Lock() // link them all before the goroutine looks
	order := []int{5, 1, 9, 3, 7, 2, 8, 4, 6, 0}
	for _, i := range order {
		tok := tokenAt(fmt.Sprintf("u%d", i), now-10_000+int64(i)*100)
		e.linkLocked(&link{key: fmt.Sprintf("c%d", i), tok: tok, at: tok.ExpiresAt, pos: -1})
	}
	future := tokenAt("future", now+3_600_000)
	e.linkLocked(&link{key: "cf", tok: future, at: future.ExpiresAt, pos: -1})
	never := tokenAt("never", -1)
	e.linkLocked(&link{key: "cn", tok: never, at: -1, pos: -1})
	e.mu.Unlock()
	e.poke()
	x.wait(t, 10)
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("c%d=u%d", i, i))
	}
	if got := x.list(); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if e.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (future, never)", e.Len())
	}
	if _, ok := e.Get("c3"); ok {
		t.Fatal("an expired link is still there")
	}
	if tok, ok := e.Get("cf"); !ok || tok.Kuid != "future" {
		t.Fatalf("Get(cf) = %v, %v", tok, ok)
	}
}

// TestExpirerTimer checks that a link expiring soon fires through the timer, and that
// adding an earlier one re-arms it.
func TestExpirerTimer(t *testing.T) {
	x := newExpiry()
	e := NewExpirer(x.onExpire)
	defer e.Stop()
	now := time.Now().UnixMilli()
	e.Set("late", tokenAt("late", now+60_000))
	e.Set("soon", tokenAt("soon", now+50))
	e.Set("sooner", tokenAt("sooner", now+20))
	x.wait(t, 2)
	if got := x.list(); !slices.Equal(got, []string{"sooner=sooner", "soon=soon"}) {
		t.Fatalf("fired %v", got)
	}
	if e.Len() != 1 {
		t.Fatalf("Len = %d", e.Len())
	}
}

func TestExpirerLinks(t *testing.T) {
	x := newExpiry()
	e := NewExpirer(x.onExpire)
	defer e.Stop()
	far := time.Now().Add(time.Hour).UnixMilli()
	a, b, c := tokenAt("a", far), tokenAt("b", far+1), tokenAt("c", far+2)

	e.Set("conn1", a)
	e.Set("conn2", a)
	e.Set("conn3", b)
	e.Set("conn3", b) // same token: no change
	if e.Len() != 3 || len(e.queue) != 3 {
		t.Fatalf("Len = %d, heap %d", e.Len(), len(e.queue))
	}
	e.Set("conn2", c) // a new token on a connection replaces the link
	if tok, _ := e.Get("conn2"); tok.Kuid != "c" {
		t.Fatalf("Get(conn2) = %v", tok)
	}
	if keys := e.RemoveToken(a); !slices.Equal(keys, []string{"conn1"}) {
		t.Fatalf("RemoveToken(a) = %v", keys)
	}
	e.Replace(b, c) // refresh: conn3 moves to c
	if keys := e.RemoveToken(c); !slices.Equal(keys, []string{"conn2", "conn3"}) {
		t.Fatalf("RemoveToken(c) = %v", keys)
	}
	if e.Len() != 0 || len(e.queue) != 0 || len(e.byToken) != 0 {
		t.Fatalf("left: %d keys, %d in heap, %d tokens", e.Len(), len(e.queue), len(e.byToken))
	}
	e.Set("conn5", a)
	if tok, ok := e.Remove("conn5"); !ok || tok.Kuid != "a" {
		t.Fatalf("Remove = %v, %v", tok, ok)
	}
	if _, ok := e.Remove("conn5"); ok {
		t.Fatal("Remove twice")
	}
	e.Set("conn6", a)
	e.Set("conn6", Token{}) // zero token unlinks
	if e.Len() != 0 {
		t.Fatalf("Len = %d", e.Len())
	}
	if got := x.list(); len(got) != 0 {
		t.Fatalf("fired %v", got)
	}
}

// TestExpirerReentrant has the callback use the Expirer, as the server's will.
func TestExpirerReentrant(t *testing.T) {
	var e *Expirer
	x := newExpiry()
	e = NewExpirer(func(key string, tok Token) {
		if _, ok := e.Get(key); ok {
			panic("fired link still present")
		}
		if strings.HasPrefix(key, "first") {
			e.Set("second", tokenAt("again", time.Now().UnixMilli()-1))
		}
		x.onExpire(key, tok)
	})
	defer e.Stop()
	e.Set("first", tokenAt("once", time.Now().UnixMilli()-1))
	x.wait(t, 2)
	if got := x.list(); !slices.Equal(got, []string{"first=once", "second=again"}) {
		t.Fatalf("fired %v", got)
	}
}

func TestExpirerStop(t *testing.T) {
	x := newExpiry()
	e := NewExpirer(x.onExpire)
	e.Set("k", tokenAt("k", time.Now().Add(time.Hour).UnixMilli()))
	e.Stop()
	e.Stop()
	e.Set("k2", tokenAt("k2", time.Now().UnixMilli()-1))
	if _, ok := e.Get("k2"); ok {
		t.Fatal("Set after Stop linked")
	}
	if got := x.list(); len(got) != 0 {
		t.Fatalf("fired %v", got)
	}
}

// TestExpirerConcurrent adds, replaces and removes links from several goroutines while
// some expire (run with -race).
func TestExpirerConcurrent(t *testing.T) {
	var fired sync.Map
	e := NewExpirer(func(key string, tok Token) { fired.Store(key, tok.Kuid) })
	defer e.Stop()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("w%d-%d", w, i%50)
				at := time.Now().UnixMilli() + int64(i%7) - 3
				switch i % 5 {
				case 0:
					e.Remove(key)
				case 1:
					e.RemoveToken(tokenAt(key, at))
				default:
					e.Set(key, tokenAt(fmt.Sprintf("%s-%d", key, i), at))
				}
			}
		})
	}
	wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.queue) > len(e.byKey) {
		t.Fatalf("heap %d > links %d", len(e.queue), len(e.byKey))
	}
	for i, l := range e.queue {
		if l.pos != i || e.byKey[l.key] != l {
			t.Fatalf("heap entry %d inconsistent", i)
		}
	}
}
