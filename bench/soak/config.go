package soak

import (
	"fmt"
	"time"
)

// Config is one soak run. Start from Full or Short and adjust; a zero count of a role
// means the share of Conns that Roles gives it.
type Config struct {
	// Conns is the number of client connections held during the soak, every role included
	// (churners and malformed slots count one each: each holds at most one connection at a
	// time). Duration is the soak itself, from the moment all of them are connected to the
	// stop; Interval the sampling period of the server.
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration"`
	Interval time.Duration `json:"interval"`

	// Groups is the number of filter groups: publication k of a publisher matches group
	// k mod Groups only (see GroupFilter). TwoGroupsEvery: one stayer in that many has a
	// second subscription (another group, another filter shape).
	Groups         int `json:"groups"`
	TwoGroupsEvery int `json:"twoGroupsEvery"`
	// Pubs publishers share PubRate publications per second (in all) of documents with Pad
	// filler bytes (about 200 B of notification in all). BigRate documents per second of
	// BigSize bytes go to the collection only slow readers and non-readers join.
	Pubs    int     `json:"pubs"`
	PubRate float64 `json:"pubRate"`
	Pad     int     `json:"pad"`
	BigRate float64 `json:"bigRate"`
	BigSize int     `json:"bigSize"`

	// Churn slots reconnect in a loop, holding each connection ChurnHoldMin to
	// ChurnHoldMax; Slow readers read one message every SlowRead; NonRead connections never
	// read for NonReadHold, then drain and start again; both with SO_RCVBUF RcvBuf. Malformed
	// slots send one malformed input each MalformedPause (about).
	Churn          int           `json:"churn"`
	ChurnHoldMin   time.Duration `json:"churnHoldMin"`
	ChurnHoldMax   time.Duration `json:"churnHoldMax"`
	Slow           int           `json:"slow"`
	SlowRead       time.Duration `json:"slowRead"`
	NonRead        int           `json:"nonRead"`
	NonReadHold    time.Duration `json:"nonReadHold"`
	RcvBuf         int           `json:"rcvBuf"`
	Malformed      int           `json:"malformed"`
	MalformedPause time.Duration `json:"malformedPause"`
	// PingEvery: stayers, slow readers and non-readers send {"p":1} this often, so the
	// server's default idle timeout (60 s) applies to none of them.
	PingEvery time.Duration `json:"pingEvery"`

	// PerWorker is the most stayers one worker process holds (20,000 open files per
	// process); DialInFlight the most handshakes in flight in all (somaxconn is 4096).
	PerWorker    int `json:"perWorker"`
	DialInFlight int `json:"dialInFlight"`

	// Grace bounds the wait for the last deliveries after the stop; Settle the wait for
	// the server to come back to its baseline after every client closed. Back at baseline
	// means: no connection and no room left, fds and goroutines at most the baseline's, and
	// RSS (after a forced GC) at most the baseline's plus RSSSlack bytes.
	Grace    time.Duration `json:"grace"`
	Settle   time.Duration `json:"settle"`
	RSSSlack int64         `json:"rssSlack"`

	// KuzzlewsBin is a built server; empty means go build the repository root. KuzzlewsArgs
	// are added after -host, -port, -metrics and -pprof (the server's defaults otherwise:
	// 60 s idle timeout, 4 MiB -max-queued-bytes, 1 MiB -max-message-size).
	KuzzlewsBin  string   `json:"kuzzlewsBin,omitempty"`
	KuzzlewsArgs []string `json:"kuzzlewsArgs"`
	// Seed drives hold times, endings and the order of the malformed cases (0 means 1).
	Seed uint64 `json:"seed"`

	// OutDir receives soak.json, soak.md and soak.png (empty: nothing written);
	// CommandLine is recorded. Logf receives progress lines (nil: silent).
	OutDir      string                           `json:"-"`
	CommandLine string                           `json:"commandLine"`
	Logf        func(format string, args ...any) `json:"-"`
}

// Full is the soak of the issue: 19,000 connections for 20 minutes.
func Full() Config {
	return Config{
		Conns: 19000, Duration: 20 * time.Minute, Interval: 5 * time.Second,
		Groups: 8, TwoGroupsEvery: 10,
		Pubs: 4, PubRate: 10, Pad: 40, BigRate: 8, BigSize: 8192,
		ChurnHoldMin: time.Second, ChurnHoldMax: 10 * time.Second,
		SlowRead: 200 * time.Millisecond, NonReadHold: 4 * time.Minute, RcvBuf: 4096,
		MalformedPause: 500 * time.Millisecond, PingEvery: 25 * time.Second,
		PerWorker: 4000, DialInFlight: 2000,
		Grace: 30 * time.Second, Settle: 3 * time.Minute, RSSSlack: 16 << 20,
		KuzzlewsArgs: []string{"-log-level", "warn"},
	}
}

// Short is the quick soak the tests run: 2,000 connections for 30 s, the big documents
// faster so that slow readers and non-readers reach the server's 1011 within it.
func Short() Config {
	c := Full()
	c.Conns, c.Duration, c.Interval = 2000, 30*time.Second, 2*time.Second
	c.BigRate, c.NonReadHold = 80, 20*time.Second
	c.ChurnHoldMin, c.ChurnHoldMax = 300*time.Millisecond, 3*time.Second
	c.Grace, c.Settle = 15*time.Second, time.Minute
	return c
}

// Roles is how Conns splits: stayers are what the other roles leave.
type Roles struct {
	Stayers   int `json:"stayers"`
	Pubs      int `json:"pubs"`
	BigPubs   int `json:"bigPubs"`
	Churn     int `json:"churn"`
	Slow      int `json:"slow"`
	NonRead   int `json:"nonRead"`
	Malformed int `json:"malformed"`
}

// Roles returns the split of c.Conns: Churn Conns/40, Slow and NonRead Conns/400 (at
// least 2), Malformed Conns/1000 (at least 2) unless set, Pubs publishers and one big
// publisher, the rest stayers. It fails when nothing is left for the stayers.
func (c *Config) Roles() (Roles, error) {
	pick := func(set, def int) int {
		if set > 0 {
			return set
		}
		return def
	}
	r := Roles{Pubs: max(c.Pubs, 1), BigPubs: 1,
		Churn: pick(c.Churn, c.Conns/40), Slow: pick(c.Slow, max(c.Conns/400, 2)),
		NonRead: pick(c.NonRead, max(c.Conns/400, 2)), Malformed: pick(c.Malformed, max(c.Conns/1000, 2))}
	if c.BigRate <= 0 {
		r.BigPubs = 0
	}
	r.Stayers = c.Conns - r.Pubs - r.BigPubs - r.Churn - r.Slow - r.NonRead - r.Malformed
	if r.Stayers < 1 {
		return r, fmt.Errorf("soak: %d connections leave no stayer after %+v", c.Conns, r)
	}
	return r, nil
}

func (c *Config) validate() error {
	switch {
	case c.Conns < 20:
		return fmt.Errorf("soak: -conns %d: at least 20", c.Conns)
	case c.Duration <= 0 || c.Duration > 24*time.Hour:
		return fmt.Errorf("soak: -duration %v: must be in (0, 24h]", c.Duration)
	case c.Interval <= 0:
		return fmt.Errorf("soak: -interval %v: must be positive", c.Interval)
	case c.Groups < 1 || c.Groups > 64:
		return fmt.Errorf("soak: -groups %d: must be in 1..64", c.Groups)
	case c.PubRate <= 0:
		return fmt.Errorf("soak: -rate %v: must be positive", c.PubRate)
	case c.PerWorker < 1 || c.PerWorker > 19000:
		return fmt.Errorf("soak: per-worker %d: must be in 1..19000 (20,000 open files per process)", c.PerWorker)
	}
	_, err := c.Roles()
	return err
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}
