package soak

import "github.com/kuzzlews/kuzzlews/bench/load"

// The coordinator (Run) drives each worker process (bench/cmd/soak -worker) with one JSON
// Cmd per line on the worker's stdin, the first one being its plan; the worker answers each
// with one JSON Report per line on stdout. A worker exits on "quit", on stdin EOF, and after
// its plan's MaxLifeMs.

// Plan is what one worker holds and does. Global indexes (StayerFirst, PubFirst) make the
// group of a stayer and the sequence numbers of a publisher the same in every process.
type Plan struct {
	// Name prefixes the worker's request ids; Addr is the server's host:port (loopback).
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Srcs are the source addresses (127.0.0.0/8) connections bind to, used in turn.
	Srcs []string `json:"srcs"`
	// Par is the most handshakes in flight during setup.
	Par int `json:"par"`
	// MaxLifeMs: the worker exits (status 3) this long after it started, whatever happens.
	MaxLifeMs int64 `json:"maxLifeMs"`
	// Seed drives every random choice (hold times, endings, malformed cases).
	Seed uint64 `json:"seed"`
	// Groups is the number of filter groups G: publication k carries group k mod G.
	Groups int `json:"groups"`
	// PingEveryMs: stayers, slow readers and non-readers send {"p":1} this often (with
	// jitter), as the SDK does, so that the server's idle timeout never applies to them.
	PingEveryMs int64 `json:"pingEveryMs"`

	// Stayers are connected at setup and stay to the end: global indexes StayerFirst..
	// StayerFirst+Stayers-1. One in TwoGroupsEvery has a second subscription.
	Stayers        int `json:"stayers"`
	StayerFirst    int `json:"stayerFirst"`
	TwoGroupsEvery int `json:"twoGroupsEvery"`

	// Pubs publishers (global indexes PubFirst..), each PubRate publications per second of
	// documents with Pad filler bytes. BigPubs publishers send BigRate documents per second of
	// BigSize filler bytes to BigCollection, which only slow readers and non-readers join.
	Pubs     int     `json:"pubs"`
	PubFirst int     `json:"pubFirst"`
	PubRate  float64 `json:"pubRate"`
	Pad      int     `json:"pad"`
	BigPubs  int     `json:"bigPubs"`
	BigRate  float64 `json:"bigRate"`
	BigSize  int     `json:"bigSize"`

	// Churn connections loop: connect, subscribe one group, read for a hold time drawn in
	// [ChurnHoldMinMs, ChurnHoldMaxMs], end (unsubscribe+close, close, or drop the TCP
	// connection), again.
	Churn          int   `json:"churn"`
	ChurnHoldMinMs int64 `json:"churnHoldMinMs"`
	ChurnHoldMaxMs int64 `json:"churnHoldMaxMs"`

	// Slow readers (SO_RCVBUF RcvBuf) read one message every SlowReadMs; non-readers never
	// read for NonReadHoldMs, then drain what came and start again. Both join a group and
	// BigCollection; the server may close them with 1011.
	Slow          int   `json:"slow"`
	SlowReadMs    int64 `json:"slowReadMs"`
	NonRead       int   `json:"nonRead"`
	NonReadHoldMs int64 `json:"nonReadHoldMs"`
	RcvBuf        int   `json:"rcvBuf"`

	// Malformed connections loop over the malformed cases, MalformedPauseMs apart.
	Malformed        int   `json:"malformed"`
	MalformedPauseMs int64 `json:"malformedPauseMs"`
}

// Cmd is one instruction to a worker: "plan" (first line), "start", "stats", "stop",
// "verify", "close" or "quit".
type Cmd struct {
	Cmd  string `json:"cmd"`
	Plan *Plan  `json:"plan,omitempty"`
	// DurationMs (start) bounds every loop: they stop on "stop" or this long after "start"
	// plus a minute, whichever comes first.
	DurationMs int64 `json:"durationMs,omitempty"`
	// Pubs (verify) is every publisher's outcome, indexed by global publisher index.
	Pubs []PubState `json:"pubs,omitempty"`
}

// PubState is what one publisher did: it sent publications 0..Sent-1; Failed lists those
// that got no 200 reply (error reply, or none by the end): a subscriber may or may not get
// them, so they are excluded from what a subscriber must receive.
type PubState struct {
	Pub    int     `json:"pub"`
	Sent   int64   `json:"sent"`
	Failed []int64 `json:"failed,omitempty"`
}

// Report is a worker's answer: Event is "ready", or the Cmd it answers.
type Report struct {
	Worker string `json:"worker"`
	Event  string `json:"event"`
	// CPUNs is the worker's user+system CPU so far (getrusage), in nanoseconds.
	CPUNs int64 `json:"cpuNs"`

	// ready: connections set up (stayers and publishers), failures and the first error.
	Connected int    `json:"connected,omitempty"`
	Failed    int    `json:"failed,omitempty"`
	FirstErr  string `json:"firstErr,omitempty"`
	SetupMs   int64  `json:"setupMs,omitempty"`

	Stats *Stats `json:"stats,omitempty"`
	// stopped: the publishers' outcomes.
	Pubs []PubState `json:"pubs,omitempty"`
	// verify: the check of the stayers' deliveries.
	Verify *Verify `json:"verify,omitempty"`
	// closed: stayers whose close handshake completed (the server echoed 1000), and the others.
	ClosedClean int `json:"closedClean,omitempty"`
	ClosedOther int `json:"closedOther,omitempty"`
}

// Stats are a worker's counters since it started (cumulative), except Latency: the
// deliveries since the previous stats report.
type Stats struct {
	StayersUp      int64 `json:"stayersUp"`
	StayersDropped int64 `json:"stayersDropped"`
	// DroppedCodes counts the dropped stayers by close code (0: no close frame).
	DroppedCodes map[int]int64 `json:"droppedCodes,omitempty"`
	// Delivered counts the document notifications read by stayers; Dup those of a
	// publication a stayer had already read; WrongRoom those whose root room is none of the
	// stayer's channels or whose group it did not subscribe; Other frames that are neither
	// (answers to its pings: {"p":2}).
	Delivered int64 `json:"delivered"`
	Dup       int64 `json:"dup"`
	WrongRoom int64 `json:"wrongRoom"`
	Other     int64 `json:"other"`

	PubSent   int64 `json:"pubSent"`
	PubAcked  int64 `json:"pubAcked"`
	PubErrors int64 `json:"pubErrors"`
	BigSent   int64 `json:"bigSent"`
	BigAcked  int64 `json:"bigAcked"`

	// Churn: connections opened and completed cycles by ending, notifications read,
	// notifications of a group or channel they did not subscribe, failures (dial,
	// subscribe, unsubscribe), and the first failure's text.
	ChurnOpened    int64  `json:"churnOpened"`
	ChurnUnsub     int64  `json:"churnUnsub"`
	ChurnClose     int64  `json:"churnClose"`
	ChurnDrop      int64  `json:"churnDrop"`
	ChurnDelivered int64  `json:"churnDelivered"`
	ChurnWrong     int64  `json:"churnWrong"`
	ChurnErrors    int64  `json:"churnErrors"`
	ChurnFirstErr  string `json:"churnFirstErr,omitempty"`

	// Slow readers and non-readers: connections opened, read messages, ends by the
	// server with 1011, with another close code (OtherCodes), or without a close frame,
	// and failures to connect or subscribe.
	SlowOpened     int64 `json:"slowOpened"`
	SlowRead       int64 `json:"slowRead"`
	SlowCut1011    int64 `json:"slowCut1011"`
	NonReadOpened  int64 `json:"nonReadOpened"`
	NonReadCut1011 int64 `json:"nonReadCut1011"`
	NonReadStill   int64 `json:"nonReadStillOpen"`
	CutNoCode      int64 `json:"cutNoCode"`
	// CutNoCodeErr is the first such end's error (a reset: the server closed the socket
	// after its -close-timeout while the 1011 still sat behind the kernel's send buffer).
	CutNoCodeErr    string           `json:"cutNoCodeErr,omitempty"`
	OtherCodes      map[int]int64    `json:"otherCodes,omitempty"`
	SlowErrors      int64            `json:"slowErrors"`
	SlowFirstErr    string           `json:"slowFirstErr,omitempty"`
	MalformedOK     int64            `json:"malformedOK"`
	MalformedWrong  int64            `json:"malformedWrong"`
	MalformedByCase map[string]int64 `json:"malformedByCase,omitempty"`
	// MalformedFirstWrong describes the first wrong answer.
	MalformedFirstWrong string `json:"malformedFirstWrong,omitempty"`

	// Latency is the stayers' deliveries since the previous stats report, publisher's
	// wall-clock send time to arrival, in nanoseconds.
	Latency load.Hist `json:"latency"`
}

// Verify is the check of a worker's stayers against the publishers' outcomes. A stayer
// that stayed connected must have read every publication of its groups that got a 200
// reply (Expected), each once: Missing = Expected - Matched. Unexpected counts deliveries
// of a publication never sent or of a group the stayer did not subscribe.
type Verify struct {
	Stayers  int   `json:"stayers"`
	Stayed   int   `json:"stayed"`
	Expected int64 `json:"expected"`
	Matched  int64 `json:"matched"`
	Missing  int64 `json:"missing"`
	// MissingStayers is how many stayers miss at least one; FirstMissing describes one.
	MissingStayers int    `json:"missingStayers"`
	FirstMissing   string `json:"firstMissing,omitempty"`
	Unexpected     int64  `json:"unexpected"`
	Dup            int64  `json:"dup"`
	WrongRoom      int64  `json:"wrongRoom"`
	// Latency is over every delivery to a stayer, in nanoseconds.
	Latency load.Hist `json:"latency"`
}

// Add sums o into v.
func (v *Verify) Add(o *Verify) {
	v.Stayers += o.Stayers
	v.Stayed += o.Stayed
	v.Expected += o.Expected
	v.Matched += o.Matched
	v.Missing += o.Missing
	v.MissingStayers += o.MissingStayers
	if v.FirstMissing == "" {
		v.FirstMissing = o.FirstMissing
	}
	v.Unexpected += o.Unexpected
	v.Dup += o.Dup
	v.WrongRoom += o.WrongRoom
	v.Latency.Merge(&o.Latency)
}

// Add sums o into s (Latency merged; first error texts kept from s when set).
func (s *Stats) Add(o *Stats) {
	s.StayersUp += o.StayersUp
	s.StayersDropped += o.StayersDropped
	s.DroppedCodes = addCodes(s.DroppedCodes, o.DroppedCodes)
	s.Delivered += o.Delivered
	s.Dup += o.Dup
	s.WrongRoom += o.WrongRoom
	s.Other += o.Other
	s.PubSent += o.PubSent
	s.PubAcked += o.PubAcked
	s.PubErrors += o.PubErrors
	s.BigSent += o.BigSent
	s.BigAcked += o.BigAcked
	s.ChurnOpened += o.ChurnOpened
	s.ChurnUnsub += o.ChurnUnsub
	s.ChurnClose += o.ChurnClose
	s.ChurnDrop += o.ChurnDrop
	s.ChurnDelivered += o.ChurnDelivered
	s.ChurnWrong += o.ChurnWrong
	s.ChurnErrors += o.ChurnErrors
	if s.ChurnFirstErr == "" {
		s.ChurnFirstErr = o.ChurnFirstErr
	}
	s.SlowOpened += o.SlowOpened
	s.SlowRead += o.SlowRead
	s.SlowCut1011 += o.SlowCut1011
	s.NonReadOpened += o.NonReadOpened
	s.NonReadCut1011 += o.NonReadCut1011
	s.NonReadStill += o.NonReadStill
	s.CutNoCode += o.CutNoCode
	if s.CutNoCodeErr == "" {
		s.CutNoCodeErr = o.CutNoCodeErr
	}
	s.OtherCodes = addCodes(s.OtherCodes, o.OtherCodes)
	s.SlowErrors += o.SlowErrors
	if s.SlowFirstErr == "" {
		s.SlowFirstErr = o.SlowFirstErr
	}
	s.MalformedOK += o.MalformedOK
	s.MalformedWrong += o.MalformedWrong
	if len(o.MalformedByCase) > 0 && s.MalformedByCase == nil {
		s.MalformedByCase = map[string]int64{}
	}
	for k, v := range o.MalformedByCase {
		s.MalformedByCase[k] += v
	}
	if s.MalformedFirstWrong == "" {
		s.MalformedFirstWrong = o.MalformedFirstWrong
	}
	s.Latency.Merge(&o.Latency)
}

func addCodes(dst, src map[int]int64) map[int]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[int]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}
