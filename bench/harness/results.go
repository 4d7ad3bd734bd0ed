package harness

// Results is the whole output of Run, written as results.json.
type Results struct {
	Machine Machine     `json:"machine"`
	Config  Config      `json:"config"`
	Runs    []TargetRun `json:"runs"`
}

// TargetRun is every scenario of one target in one mode.
type TargetRun struct {
	Mode   string `json:"mode"`
	Target string `json:"target"`

	Idle      *IdleResult      `json:"idle,omitempty"`
	Fanout    []FanoutResult   `json:"fanout,omitempty"`
	RR        []RRResult       `json:"rr,omitempty"`
	Adversary *AdvResult       `json:"adversary,omitempty"`
	Sustained *SustainedResult `json:"sustained,omitempty"`
	Targeted  *FilterResult    `json:"targeted,omitempty"`
	Mixed     *FilterResult    `json:"mixed,omitempty"`
	Churn     *ChurnResult     `json:"churn,omitempty"`
	SubsMem   *SubsMemResult   `json:"subsmem,omitempty"`
	// Errors lists scenarios that failed, with why; a failed scenario has no result.
	Errors []string `json:"errors,omitempty"`
}

// IdlePoint is one step of the idle ramp. Conns == 0 is the baseline.
type IdlePoint struct {
	Conns     int        `json:"conns"`
	Connected int        `json:"connected"`
	Server    ProcSample `json:"server"`
	// RSSAfterGC is VmRSS after a forced GC through pprof, -1 when the server has no pprof.
	RSSAfterGC int64 `json:"rssAfterGC"`
	// Slab is the system-wide Slab of /proc/meminfo (kernel memory, sockets included).
	Slab int64 `json:"slab"`
	// Lost counts connections the server dropped while idle.
	Lost int64 `json:"lost"`
}

// IdleResult is the idle-memory scenario. Slopes are least-squares fits over the points,
// baseline included, in bytes (or count) per connection; -1 when unknown.
type IdleResult struct {
	Points            []IdlePoint `json:"points"`
	RSSPerConn        float64     `json:"rssPerConn"`
	RSSPerConnAfterGC float64     `json:"rssPerConnAfterGC"`
	FDsPerConn        float64     `json:"fdsPerConn"`
	GoroutinesPerConn float64     `json:"goroutinesPerConn"`
	ThreadsAtMax      int         `json:"threadsAtMax"`
	SlabPerConn       float64     `json:"slabPerConn"`
}

// PubStat is the deliveries of one publication: latency from the publisher's send time to each
// subscriber's arrival time, in nanoseconds; Max is the time to last delivery.
type PubStat struct {
	Seq int   `json:"seq"`
	N   int64 `json:"n"`
	P50 int64 `json:"p50"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
}

// FanoutResult is one fan-out run: one channel, Subs subscribers, one publisher.
type FanoutResult struct {
	Subs      int   `json:"subs"`
	Connected int   `json:"connected"`
	Sent      int64 `json:"sent"`
	// IntervalNs is the spacing of the publications.
	IntervalNs int64 `json:"intervalNs"`
	Delivered  int64 `json:"delivered"`
	Missing    int64 `json:"missing"`
	SubsClosed int64 `json:"subsClosed"`
	// Stalled: the publisher's replies did not all come back within the schedule plus
	// StallAfter (a server blocked on a full socket); the figures cover what was delivered.
	Stalled bool      `json:"stalled"`
	PerPub  []PubStat `json:"perPub"`
	// TTLMedian and TTLP99 are across publications, of the time to last delivery (ns).
	TTLMedian int64 `json:"ttlMedian"`
	TTLP99    int64 `json:"ttlP99"`
	// DelivP50 and DelivP99 are over every delivery of every publication (ns).
	DelivP50 int64 `json:"delivP50"`
	DelivP99 int64 `json:"delivP99"`
	// PubRTTMedian is the publisher's request-to-response time (ns).
	PubRTTMedian int64 `json:"pubRttMedian"`
	// ServerCPUNs is the server's CPU over the publications; CPUPerDelivNs divides it by
	// Delivered. ClientCPUNs is the workers' CPU over the same time.
	ServerCPUNs   int64   `json:"serverCpuNs"`
	CPUPerDelivNs float64 `json:"cpuPerDelivNs"`
	ClientCPUNs   int64   `json:"clientCpuNs"`
	WallNs        int64   `json:"wallNs"`
	RSSBefore     int64   `json:"rssBefore"`
	RSSAfter      int64   `json:"rssAfter"`
}

// RRResult is one request/response run.
type RRResult struct {
	Conns      int     `json:"conns"`
	InFlight   int     `json:"inFlight"`
	Connected  int     `json:"connected"`
	Done       int64   `json:"done"`
	ReqPerSec  float64 `json:"reqPerSec"`
	P50        int64   `json:"p50"`
	P90        int64   `json:"p90"`
	P99        int64   `json:"p99"`
	P999       int64   `json:"p999"`
	Mismatched int64   `json:"mismatched"`
	Errors     int64   `json:"errors"`
	// ServerCPUNs and ClientCPUNs cover the measured window; ReqPerCPUSec is Done per
	// server CPU-second.
	ServerCPUNs  int64   `json:"serverCpuNs"`
	ReqPerCPUSec float64 `json:"reqPerCpuSec"`
	ClientCPUNs  int64   `json:"clientCpuNs"`
	WindowNs     int64   `json:"windowNs"`
}

// AdvRun is one run of the same fan-out alone, beside slowloris connections, and beside
// subscribers that never read. Shift is the relative change of the median time to last
// delivery against the run's own baseline (-1 when the baseline has none).
type AdvRun struct {
	Baseline       FanoutResult `json:"baseline"`
	Slowloris      FanoutResult `json:"slowloris"`
	NonRead        FanoutResult `json:"nonRead"`
	SlowlorisShift float64      `json:"slowlorisShift"`
	NonReadShift   float64      `json:"nonReadShift"`
	// SlowlorisConnected is how many slowloris connections were set up, SlowlorisCut how many
	// the server had closed by the end; NonReadConnected likewise for the non-readers.
	SlowlorisConnected int   `json:"slowlorisConnected"`
	SlowlorisCut       int64 `json:"slowlorisCut"`
	NonReadConnected   int   `json:"nonReadConnected"`
}

// AdvResult is the adversary scenario: Config.AdvRepeat runs (Runs, in order). Its own
// AdvRun fields are the first run, except SlowlorisShift and NonReadShift, which are the
// median over Runs (the lower middle one for an even count). Results written before the
// scenario was repeated have no Runs: their one run is the AdvRun fields (see AllRuns).
type AdvResult struct {
	AdvRun
	Runs []AdvRun `json:"runs,omitempty"`
}

// AllRuns returns the runs of a: Runs, or the one run of a result without them.
func (a *AdvResult) AllRuns() []AdvRun {
	if len(a.Runs) > 0 {
		return a.Runs
	}
	return []AdvRun{a.AdvRun}
}

// Stalled reports whether the slowloris (or, with nonRead, the non-reader) fan-out stalled
// in any run.
func (a *AdvResult) Stalled(nonRead bool) bool {
	for _, r := range a.AllRuns() {
		if (nonRead && r.NonRead.Stalled) || (!nonRead && r.Slowloris.Stalled) {
			return true
		}
	}
	return false
}

// SustainedStep is one publication rate of the sustained broadcast.
type SustainedStep struct {
	Rate      float64 `json:"rate"`
	Sent      int64   `json:"sent"`
	Expected  int64   `json:"expected"`
	Delivered int64   `json:"delivered"`
	P50       int64   `json:"p50"`
	P99       int64   `json:"p99"`
	Max       int64   `json:"max"`
	// DelivPerSec is Delivered over the step's duration; CPUPerDelivNs the server's CPU per delivery.
	DelivPerSec   float64 `json:"delivPerSec"`
	CPUPerDelivNs float64 `json:"cpuPerDelivNs"`
	ClientCPUNs   int64   `json:"clientCpuNs"`
	// ClientCPUShare is ClientCPUNs over the step's wall time, in cores.
	ClientCPUShare float64 `json:"clientCpuShare"`
	Pass           bool    `json:"pass"`
	// Retry: the same rate run again because the previous attempt failed.
	Retry bool `json:"retry,omitempty"`
}

// SustainedResult is the sustained broadcast: Channels x SubsPerChannel subscribers. A rate
// that fails is tried once more; Steps holds every attempt.
type SustainedResult struct {
	Channels       int             `json:"channels"`
	SubsPerChannel int             `json:"subsPerChannel"`
	Steps          []SustainedStep `json:"steps"`
	// BestDelivPerSec is the highest rate held (p99 under the bound, nothing missing), 0 if none.
	BestDelivPerSec   float64 `json:"bestDelivPerSec"`
	BestCPUPerDelivNs float64 `json:"bestCpuPerDelivNs"`
}

// FilterResult is one filtered-workload run: Subs subscribers each with its own filter
// (Workload "targeted" or "mixed"), Publishers closed-loop publishers for the window.
// Deliveries are checked one by one against the filters (load.Verify): Verified is true when
// every expected delivery arrived once, on the subscriber's channel, and nothing else did.
type FilterResult struct {
	Workload   string `json:"workload"`
	Subs       int    `json:"subs"`
	Connected  int    `json:"connected"`
	Publishers int    `json:"publishers"`
	// Sent publications; Unanswered got no reply; PubErrors error replies or connection
	// errors; Stray frames the publishers got that answered nothing.
	Sent       int64 `json:"sent"`
	Unanswered int64 `json:"unanswered"`
	PubErrors  int64 `json:"pubErrors"`
	Stray      int64 `json:"stray"`
	// WindowNs is the publishers' wall time; PubPerSec and DelivPerSec are Sent and
	// Delivered over it.
	WindowNs    int64   `json:"windowNs"`
	PubPerSec   float64 `json:"pubPerSec"`
	DelivPerSec float64 `json:"delivPerSec"`
	// The counts of load.Verify, summed over the subscribers; Missing is Expected - Matched.
	Delivered  int64 `json:"delivered"`
	Expected   int64 `json:"expected"`
	Matched    int64 `json:"matched"`
	Missing    int64 `json:"missing"`
	Unexpected int64 `json:"unexpected"`
	Duplicates int64 `json:"duplicates"`
	WrongRoom  int64 `json:"wrongRoom"`
	Other      int64 `json:"other"`
	Verified   bool  `json:"verified"`
	// ServerCPUNs is the server's CPU from the first publication to the last delivery;
	// CPUPerPubNs and CPUPerDelivNs divide it by Sent and Delivered. ClientCPUNs is the
	// workers' CPU over the same time.
	ServerCPUNs   int64   `json:"serverCpuNs"`
	CPUPerPubNs   float64 `json:"cpuPerPubNs"`
	CPUPerDelivNs float64 `json:"cpuPerDelivNs"`
	ClientCPUNs   int64   `json:"clientCpuNs"`
	// Delivery latency, publisher's send time to arrival, over every delivery (ns); and
	// the publishers' request-to-response time.
	DelivP50  int64 `json:"delivP50"`
	DelivP99  int64 `json:"delivP99"`
	DelivMax  int64 `json:"delivMax"`
	PubRTTP50 int64 `json:"pubRttP50"`
	PubRTTP99 int64 `json:"pubRttP99"`
	RSSAfter  int64 `json:"rssAfter"`
}

// ChurnResult is the churn run: Conns connections each subscribing a fresh filter and
// unsubscribing it in a loop, beside Subs subscribers of the mixed workload. A cycle is one
// subscribe and one unsubscribe, both answered 200 with the right room.
type ChurnResult struct {
	Conns     int `json:"conns"`
	Connected int `json:"connected"`
	Subs      int `json:"subs"`
	// Cycles completed; Errors failed requests; Mismatched replies with the wrong room;
	// Stray frames the churners got that answered nothing (they must get no notification).
	Cycles     int64 `json:"cycles"`
	Errors     int64 `json:"errors"`
	Mismatched int64 `json:"mismatched"`
	Stray      int64 `json:"stray"`
	Verified   bool  `json:"verified"`
	WindowNs   int64 `json:"windowNs"`
	// CyclesPerSec is Cycles over the window; CPUPerCycleNs the server's CPU per cycle.
	CyclesPerSec  float64 `json:"cyclesPerSec"`
	ServerCPUNs   int64   `json:"serverCpuNs"`
	CPUPerCycleNs float64 `json:"cpuPerCycleNs"`
	ClientCPUNs   int64   `json:"clientCpuNs"`
	// P50 and P99 are of one cycle's duration (ns).
	P50      int64 `json:"p50"`
	P99      int64 `json:"p99"`
	RSSAfter int64 `json:"rssAfter"`
}

// SubsMemPart is one half of the subscription memory scenario: Conns connections opened, then
// each subscribing PerConn filters. Memory readings are of the same connections before and
// after they subscribe, each taken after the idle wait and, where the server has pprof, after
// a forced GC. Bytes are per subscription: (after - before) / (Connected x PerConn); negative
// when the server's memory shrank meanwhile (noise larger than what was measured).
type SubsMemPart struct {
	Conns     int `json:"conns"`
	Connected int `json:"connected"`
	PerConn   int `json:"perConn"`
	// Answered subscriptions (200, with a roomId and a channel that starts with it);
	// Mismatched 200 replies without; Errors failed requests; Stray frames that answered
	// nothing; Closed connections that ended before the end of the part.
	Answered   int64 `json:"answered"`
	Mismatched int64 `json:"mismatched"`
	Errors     int64 `json:"errors"`
	Stray      int64 `json:"stray"`
	Closed     int64 `json:"closed"`
	// Rooms is the number of distinct roomIds answered: Answered for distinct filters, 1
	// for members (counted over every worker).
	Rooms int `json:"rooms"`
	// VmRSS before and after, and the bytes per subscription it gives.
	RSSBefore int64   `json:"rssBefore"`
	RSSAfter  int64   `json:"rssAfter"`
	RSSPer    float64 `json:"rssPer"`
	// The live Go heap (runtime.MemStats.HeapAlloc after the forced GC) before and after,
	// and the bytes per subscription it gives; -1 without pprof.
	HeapBefore int64   `json:"heapBefore"`
	HeapAfter  int64   `json:"heapAfter"`
	HeapPer    float64 `json:"heapPer"`
	// SubscribeNs is the wall time of the subscriptions (all connections at once).
	SubscribeNs int64 `json:"subscribeNs"`
	Verified    bool  `json:"verified"`
}

// SubsMemResult is the subscription memory scenario: Rooms, distinct filters (RSSPer is the
// bytes per room, its subscription included); Members, one filter for all (RSSPer is the
// bytes per extra member of one room). Verified when both parts are.
type SubsMemResult struct {
	Rooms    SubsMemPart `json:"rooms"`
	Members  SubsMemPart `json:"members"`
	Verified bool        `json:"verified"`
}
