package auth

import (
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSecret is the secret of the test vectors.
const testSecret = "kuzzlews-test-secret"

// vectorIat is the issuing instant of the test vectors: 2023-11-14T22:13:20Z.
const vectorIat = 1700000000

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration)     { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) UnixMilli() int64        { return c.Now().UnixMilli() }
func (c *fakeClock) Sub(t time.Time) float64 { return c.Now().Sub(t).Seconds() }

// newTestTokens returns Tokens with the test secret and cfg's other settings, on clock.
func newTestTokens(t *testing.T, clock *fakeClock, cfg TokenConfig) *Tokens {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = []byte(testSecret)
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	tk, err := NewTokens(cfg)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}
