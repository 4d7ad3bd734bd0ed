package load

import "strconv"

// The coordinator (bench/harness) drives each worker process (bench/cmd/loadgen) with one JSON
// Command per line on the worker's stdin; the worker answers each with one JSON Report per line
// on stdout. A worker exits on "quit", on stdin EOF, or after its -max-life.

// Roles a worker's connections play.
const (
	RoleIdle      = "idle"      // connect and stay silent
	RoleSub       = "sub"       // subscribe, then record every notification's latency
	RoleNonRead   = "nonread"   // subscribe (to its collection and to FillCollection) with a small SO_RCVBUF, then never read again
	RoleSlowloris = "slowloris" // half the connections trickle half a handshake, half trickle half a frame
	RoleRR        = "rr"        // closed-loop request/response on "start"
	RolePub       = "pub"       // publish on "start"
	// RoleFSub subscribes connection i (global index) with filter i of the worker's workload
	// (-workload, -subs, -seed), then records every notification's seq, room and latency for
	// "verify".
	RoleFSub = "fsub"
	// RoleCPub publishes the workload's documents on "start", closed loop: each connection
	// (publisher p of -pubs) sends publication Seq(p, pubs, k) and waits for its reply before
	// the next.
	RoleCPub = "cpub"
	// RoleChurn subscribes a fresh filter (ChurnFilter) and unsubscribes it, in a loop on
	// "start", one request in flight per connection.
	RoleChurn = "churn"
	// RoleMSub connects, sends one request (server:now) and waits for its answer, so that
	// the server's first-use costs of a connection are behind it, and subscribes nothing
	// until "start": then each connection
	// subscribes Count filters on Collection, one request in flight (MemSubFilter), and its
	// connections are read (and dropped) from then on. The memory scenario measures the
	// server with the same connections before and after.
	RoleMSub = "msub"
)

// MemberTarget is the equals value every connection subscribes when Command.SameFilter is set.
const MemberTarget = "member"

// MemSubFilter is the k-th filter of connection gi (global index) of an msub worker told to
// subscribe count filters: {"equals":{"target":"t<gi x count + k>"}}, distinct for every
// (gi, k) so that each makes a room of its own; with same, {"equals":{"target":"member"}}
// for all, so that they all join one room.
func MemSubFilter(gi, count, k int, same bool) Filter {
	if same {
		return Filter{Op: OpEquals, Field: "target", Str: MemberTarget}
	}
	return Filter{Op: OpEquals, Field: "target", Str: "t" + strconv.Itoa(gi*count+k)}
}

// MaxRoomIDs is the most distinct roomIds an msub report lists (Report.RoomIDs).
const MaxRoomIDs = 16

// FillCollection is the collection only non-reading subscribers join: large publications to
// it fill their socket buffers without loading anyone else.
const FillCollection = "fill"

// Command is one instruction to a worker.
type Command struct {
	// Cmd is "start", "collect", "cpu" or "quit".
	Cmd string `json:"cmd"`

	// rr: WarmupMs then DurationMs of measurement; InFlight requests per connection (0 means 1).
	WarmupMs   int `json:"warmupMs,omitempty"`
	DurationMs int `json:"durationMs,omitempty"`
	InFlight   int `json:"inFlight,omitempty"`

	// pub: Count publications spaced IntervalUs apart, or when Rate > 0, Rate publications per
	// second for DurationMs, spread round-robin over Channels collections c0..c{Channels-1}
	// (0 means 1: collection "c0"). Step tags the documents; Pad is filler bytes in each.
	Count      int     `json:"count,omitempty"`
	IntervalUs int     `json:"intervalUs,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Channels   int     `json:"channels,omitempty"`
	Step       int     `json:"step,omitempty"`
	Pad        int     `json:"pad,omitempty"`
	// ReplyWaitMs is how long the publisher waits for its replies after its last send
	// (0 means 10 s); it then reports Sent and Replies as they are.
	ReplyWaitMs int `json:"replyWaitMs,omitempty"`
	// Collection, when set, receives every publication instead of c0..c{Channels-1}.
	Collection string `json:"collection,omitempty"`

	// SameFilter (msub): every subscription uses the same filter (MemSubFilter); msub uses
	// Count (subscriptions per connection, 0 means 1), Collection and ReplyWaitMs (the wait
	// for each reply, 0 means 30 s).
	SameFilter bool `json:"sameFilter,omitempty"`

	// cpub and churn use DurationMs (how long to run) and Count (the most publications or
	// cycles per connection, 0 means no limit); cpub tags its documents with Step.

	// verify (fsub): PubSent[p] is how many publications publisher p sent (p < len(PubSent),
	// the -pubs of the publishers), so publication k of p exists iff k < PubSent[p].
	PubSent []int64 `json:"pubSent,omitempty"`

	// collect: BySeq keeps one histogram per (step, seq) publication; otherwise one per step.
	// Reset drops what was collected.
	BySeq bool `json:"bySeq,omitempty"`
	Reset bool `json:"reset,omitempty"`
}

// Key identifies a group of deliveries: one publication (Seq >= 0) or a whole step (Seq == -1).
type Key struct {
	Step int `json:"step"`
	Seq  int `json:"seq"`
}

// Group is the latency histogram of the deliveries of one Key, in nanoseconds from the
// publisher's wall-clock send time to the subscriber's wall-clock arrival time.
type Group struct {
	Key
	Hist Hist `json:"hist"`
}

// Report is a worker's answer.
type Report struct {
	Worker string `json:"worker"`
	// Event is "ready" (after setup), or the Cmd it answers.
	Event string `json:"event"`
	// CPUNs is the worker's user+system CPU time so far (getrusage), in nanoseconds.
	CPUNs int64 `json:"cpuNs"`

	// ready: connections set up, failures, and the first error text; SetupMs is the wall time.
	Connected int    `json:"connected,omitempty"`
	Failed    int    `json:"failed,omitempty"`
	FirstErr  string `json:"firstErr,omitempty"`
	SetupMs   int64  `json:"setupMs,omitempty"`

	// rr: responses completed in the measured window and their latency; Mismatched counts
	// responses whose id matched no outstanding request; Errors connection errors.
	Done       int64 `json:"done,omitempty"`
	WindowNs   int64 `json:"windowNs,omitempty"`
	Mismatched int64 `json:"mismatched,omitempty"`
	Errors     int64 `json:"errors,omitempty"`
	Latency    *Hist `json:"latency,omitempty"`

	// pub: publications sent and replies received; Latency above is the publish round trip.
	Sent    int64 `json:"sent,omitempty"`
	Replies int64 `json:"replies,omitempty"`

	// collect: deliveries per group, and Other messages that carried no document.
	Groups []Group `json:"groups,omitempty"`
	Other  int64   `json:"other,omitempty"`
	// Closed counts subscriber connections that ended (read error) before the collect.
	Closed int64 `json:"closed,omitempty"`

	// cpub "start": PubSent[j] is the publications sent by publisher PubFirst+j, all
	// answered unless Unanswered > 0 (sent, but no reply within the wait). Errors counts
	// error replies and connection errors; Stray frames that were neither the awaited reply
	// nor anything expected (a publisher subscribes to nothing).
	PubFirst   int     `json:"pubFirst,omitempty"`
	PubSent    []int64 `json:"pubSent,omitempty"`
	Unanswered int64   `json:"unanswered,omitempty"`
	Stray      int64   `json:"stray,omitempty"`

	// churn "start": Done (above) counts complete cycles, Latency their duration, Errors
	// failed requests, Mismatched replies whose result does not fit the request (wrong
	// roomId or channel), Stray frames that answer nothing (a churner must get no
	// notification).

	// msub "start": Done (above) counts subscriptions answered 200 with a roomId and a
	// channel that starts with it (Mismatched those answered 200 without), Errors failed
	// requests, Stray frames that answer nothing; Rooms is the number of distinct roomIds of
	// the worker's answers, and RoomIDs lists them, sorted, when there are at most
	// MaxRoomIDs (to check that members all got one room across workers).
	Rooms   int      `json:"rooms,omitempty"`
	RoomIDs []string `json:"roomIds,omitempty"`

	// verify: the deliveries of this worker's subscribers checked against the workload.
	Verify *Verify `json:"verify,omitempty"`
}

// Verify is the check of every delivery of a worker's filtered subscribers. Expected is the
// sum, over the subscribers, of the published documents their filter matches; Matched the
// deliveries that are expected (each counted once); Unexpected deliveries of a publication
// that was never sent or that the filter does not match; Duplicates second and later
// deliveries of one publication to one subscriber; WrongRoom notifications whose root room
// is not the subscriber's channel; Other frames that carry no workload document. A correct
// server has Matched == Expected and zero in every other count.
type Verify struct {
	Subs       int   `json:"subs"`
	Delivered  int64 `json:"delivered"`
	Expected   int64 `json:"expected"`
	Matched    int64 `json:"matched"`
	Unexpected int64 `json:"unexpected"`
	Duplicates int64 `json:"duplicates"`
	WrongRoom  int64 `json:"wrongRoom"`
	Other      int64 `json:"other"`
	// Latency is over every delivery, publisher's send time to arrival (ns).
	Latency Hist `json:"latency"`
}

// Add sums o into v.
func (v *Verify) Add(o *Verify) {
	v.Subs += o.Subs
	v.Delivered += o.Delivered
	v.Expected += o.Expected
	v.Matched += o.Matched
	v.Unexpected += o.Unexpected
	v.Duplicates += o.Duplicates
	v.WrongRoom += o.WrongRoom
	v.Other += o.Other
	v.Latency.Merge(&o.Latency)
}
