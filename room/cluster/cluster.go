package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuzzlews/kuzzlews/room"
	"github.com/nats-io/nats.go"
)

// Defaults of Config.
const (
	DefaultPrefix            = "kzws"
	DefaultHeartbeatInterval = time.Second
	DefaultMissedHeartbeats  = 3
	DefaultGatherTimeout     = 500 * time.Millisecond
	DefaultFlushTimeout      = time.Second
	DefaultMaxMessageSize    = 1 << 20
	DefaultReceiveBuffer     = 1 << 16
)

// wireOverhead bounds what a publication message adds to the client's message it comes
// from (field lengths, node id, _kuzzle_info).
const wireOverhead = 4096

// Config configures a Node. URLs and Node are required; every other zero field takes the
// default written on it.
type Config struct {
	// URLs is a comma-separated list of NATS server URLs (nats.Connect's argument), e.g.
	// "nats://10.0.0.1:4222,nats://10.0.0.2:4222". Credentials may be in the URL
	// (nats://user:password@host, nats://token@host); they are never logged.
	URLs string
	// Node is this node's id, unique in the cluster: Connect fails with
	// ErrDuplicateNode when a live node already has it.
	Node string
	// Prefix is the first token(s) of every subject; nodes with different prefixes on
	// one NATS form different clusters. "" means DefaultPrefix ("kzws").
	Prefix string
	// Options are passed to nats.Connect after kuzzlews' own (so they override them):
	// credentials (nats.UserCredentials, nats.Nkey, nats.UserInfo, nats.Token), TLS
	// (nats.RootCAs, nats.ClientCert, nats.Secure), reconnection settings.
	Options []nats.Option
	// HeartbeatInterval is how often the node announces itself; 0 means 1 s.
	HeartbeatInterval time.Duration
	// MissedHeartbeats is how many intervals of silence make a node dead (it then stops
	// being waited for by count and list); 0 means 3.
	MissedHeartbeats int
	// GatherTimeout bounds the wait of realtime:count, realtime:list and a join's room
	// look-up for the other nodes' answers; 0 means 500 ms.
	GatherTimeout time.Duration
	// FlushTimeout bounds the wait of a subscription creating a room for the NATS server
	// to confirm the node's new interest; 0 means 1 s. Past it the subscription succeeds
	// anyway (local delivery) and the timeout is logged.
	FlushTimeout time.Duration
	// MaxMessageSize is the server's largest client message (-max-message-size); 0
	// means 1 MiB. A NATS server whose max_payload is below it plus a few KiB is logged
	// at start: larger publications are then delivered on their own node only.
	MaxMessageSize int
	// ReceiveBuffer is the number of messages from other nodes queued before NATS
	// reports this node a slow consumer and drops them; 0 means 65,536.
	ReceiveBuffer int
	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.MissedHeartbeats <= 0 {
		c.MissedHeartbeats = DefaultMissedHeartbeats
	}
	if c.GatherTimeout <= 0 {
		c.GatherTimeout = DefaultGatherTimeout
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.ReceiveBuffer <= 0 {
		c.ReceiveBuffer = DefaultReceiveBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrDuplicateNode is returned by Connect when a live node of the cluster already has the
// node id.
var ErrDuplicateNode = errors.New("cluster: node id already in use")

// Node is one kuzzlews node of a cluster over NATS: it implements room.Backplane for
// the node's engine. Make it with Connect, give it to room.Config.Backplane, then call
// Serve with the engine. It is safe for concurrent use.
type Node struct {
	cfg      Config
	log      *slog.Logger
	subj     subjects
	nc       *nats.Conn
	instance string // random id of this process, told apart from a duplicate
	started  int64  // Unix milliseconds

	eng atomic.Pointer[room.Engine]

	mu    sync.Mutex           // guards colls and rooms
	colls map[string]*interest // subject of an index/collection -> interest
	rooms map[string]*interest // subject of a room -> interest

	peersMu sync.Mutex
	peers   map[string]*peer // live nodes other than this one, by id

	data   chan *nats.Msg   // every data subscription (documents, rooms) delivers here
	shards []chan *nats.Msg // data messages by origin node, one goroutine each
	seed   maphash.Seed
	ctrl   []*nats.Subscription

	handlersMu sync.Mutex
	handlers   map[string]*nats.Subscription // Handle's subscriptions by event name

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	sent, received, notSent, malformed, slow, reconnects, flushErrors atomic.Uint64
	lastWarn                                                          atomic.Int64 // Unix second of the last "too large" warning
	duplicateSeen                                                     atomic.Bool
}

// interest is a NATS subscription held while local rooms need it. n counts
// RoomCreated minus RoomDropped calls; it may briefly be negative (a room dropped before
// its creator's RoomCreated ran), so the subscription exists exactly while n > 0.
type interest struct {
	n   int
	sub *nats.Subscription
}

// peer is another live node, as its heartbeats tell.
type peer struct {
	instance string
	started  int64
	every    time.Duration
	last     time.Time
}

// Connect connects to NATS, checks that no live node has cfg.Node, and starts the
// node's heartbeats. It fails when cfg is incomplete, NATS is unreachable (the node
// cannot check its id: start it once NATS is up) or the id is taken (ErrDuplicateNode).
// The node then survives NATS outages: it reconnects forever and serves its own clients
// meanwhile.
func Connect(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if cfg.URLs == "" {
		return nil, errors.New("cluster: no NATS URL")
	}
	if cfg.Node == "" {
		return nil, errors.New("cluster: empty node id")
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "cluster"),
		subj:     subjects{prefix: cfg.Prefix},
		instance: randomID(),
		started:  time.Now().UnixMilli(),
		colls:    map[string]*interest{},
		rooms:    map[string]*interest{},
		peers:    map[string]*peer{},
		handlers: map[string]*nats.Subscription{},
		data:     make(chan *nats.Msg, cfg.ReceiveBuffer),
		seed:     maphash.MakeSeed(),
		stop:     make(chan struct{}),
	}
	opts := []nats.Option{
		nats.Name("kuzzlews " + cfg.Node),
		nats.NoEcho(),          // never receive our own publications: delivered locally already
		nats.MaxReconnects(-1), // keep trying: the node serves its own clients meanwhile
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectBufSize(-1), // publications while NATS is away are local only, not replayed late
		nats.Timeout(2 * time.Second),
		nats.FlusherTimeout(2 * time.Second),
		nats.PingInterval(5 * time.Second),
		nats.DisconnectErrHandler(n.onDisconnect),
		nats.ReconnectHandler(n.onReconnect),
		nats.ErrorHandler(n.onAsyncError),
	}
	nc, err := nats.Connect(cfg.URLs, append(opts, cfg.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot connect to NATS at %s: %w", redactURLs(cfg.URLs), err)
	}
	n.nc = nc
	if max := nc.MaxPayload(); max < int64(cfg.MaxMessageSize+wireOverhead) {
		n.log.Warn("NATS max_payload is below the largest client message: larger publications stay on their node",
			"max_payload", max, "max_message_size", cfg.MaxMessageSize, "needed", cfg.MaxMessageSize+wireOverhead)
	}
	if err := n.claimID(); err != nil {
		nc.Close()
		return nil, err
	}
	n.log.Info("joined the cluster", "node", cfg.Node, "nats", redactURLs(nc.ConnectedUrl()), "prefix", cfg.Prefix)
	return n, nil
}

// claimID subscribes to the node's own subject, then asks it: an answer comes from
// another live node with the same id. Two nodes starting with one id at the same instant
// may both refuse; neither runs as a duplicate.
func (n *Node) claimID() error {
	sub, err := n.nc.Subscribe(n.subj.node(n.cfg.Node), n.onPing)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	n.ctrl = append(n.ctrl, sub)
	if err := n.nc.FlushTimeout(n.cfg.FlushTimeout); err != nil {
		return fmt.Errorf("cluster: NATS did not confirm the node's subscription: %w", err)
	}
	e := getEncoder(kindPing)
	e.str(n.cfg.Node)
	e.str(n.instance)
	msg, err := n.nc.Request(n.subj.node(n.cfg.Node), e.b, n.cfg.GatherTimeout)
	putEncoder(e)
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrTimeout):
		return nil
	case err != nil:
		return fmt.Errorf("cluster: checking the node id: %w", err)
	}
	kind, d := open(msg.Data)
	if kind != kindPong {
		return fmt.Errorf("%w: %q answered by an unknown peer", ErrDuplicateNode, n.cfg.Node)
	}
	_, _ = d.str(), d.str()
	since := time.UnixMilli(d.int())
	return fmt.Errorf("%w: %q is served by a node running since %s; give this node another id",
		ErrDuplicateNode, n.cfg.Node, since.UTC().Format(time.RFC3339))
}

// onPing answers a node starting with our id.
func (n *Node) onPing(m *nats.Msg) {
	kind, d := open(m.Data)
	if kind != kindPing || m.Reply == "" {
		return
	}
	node, inst := d.str(), d.str()
	if node != n.cfg.Node || inst == n.instance {
		return
	}
	n.log.Error("another node tried to start with this node's id; it was refused", "node", node)
	e := getEncoder(kindPong)
	e.str(n.cfg.Node)
	e.str(n.instance)
	e.int(n.started)
	n.nc.Publish(m.Reply, e.b)
	putEncoder(e)
}

// Serve attaches the node to eng (whose Config.Backplane is n) and starts handling the
// other nodes' messages: publications, user notifications, look-ups, count and list
// requests, heartbeats. Call it once, before the engine gets connections.
func (n *Node) Serve(eng *room.Engine) error {
	if !n.eng.CompareAndSwap(nil, eng) {
		return errors.New("cluster: Serve called twice")
	}
	shards := max(1, runtime.GOMAXPROCS(0))
	n.shards = make([]chan *nats.Msg, shards)
	for i := range n.shards {
		n.shards[i] = make(chan *nats.Msg, 1024)
		n.wg.Add(1)
		go n.work(n.shards[i])
	}
	n.wg.Add(1)
	go n.dispatch()
	for subject, h := range map[string]nats.MsgHandler{
		n.subj.heartbeat(): n.onHeartbeat,
		n.subj.count():     n.onCount,
		n.subj.list():      n.onList,
	} {
		sub, err := n.nc.Subscribe(subject, h)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		n.ctrl = append(n.ctrl, sub)
	}
	n.heartbeat(false)
	n.wg.Add(1)
	go n.beat()
	return nil
}

// Close says goodbye to the other nodes (they stop waiting for this one at once) and
// closes the NATS connection. The engine keeps working, locally. Calling it again is a
// no-op.
func (n *Node) Close() {
	n.closeOnce.Do(func() {
		close(n.stop)
		n.heartbeat(true)
		if n.nc.IsConnected() {
			n.nc.FlushTimeout(n.cfg.FlushTimeout)
		}
		n.nc.Close()
		n.wg.Wait()
		n.log.Info("left the cluster", "node", n.cfg.Node)
	})
}

// Status is what a node knows of the cluster, for health checks and metrics.
type Status struct {
	// Node is this node's id.
	Node string
	// Connected is true while the NATS connection is up: publications cross nodes.
	// While false, the node delivers to its own clients only.
	Connected bool
	// Server is the URL of the NATS server in use, user name, password or token replaced
	// by "redacted"; "" while disconnected.
	Server string
	// Nodes are the live nodes, this one included (while connected), sorted.
	Nodes []string
	// Reconnects counts reconnections to NATS since Connect.
	Reconnects uint64
	// Sent and Received count messages to and from other nodes (publications, user
	// notifications).
	Sent, Received uint64
	// NotSent counts publications and user notifications delivered locally only: NATS
	// unreachable, or over the NATS server's max_payload.
	NotSent uint64
	// Malformed counts messages from other nodes that were not valid (dropped).
	Malformed uint64
	// SlowConsumer counts the times NATS dropped messages for this node because it did
	// not read them fast enough (ReceiveBuffer full).
	SlowConsumer uint64
	// FlushErrors counts new rooms whose interest NATS did not confirm within
	// FlushTimeout (publications made right after on other nodes may have been missed).
	FlushErrors uint64
	// DuplicateNode is true once a heartbeat from another process with this node's id
	// was seen: two nodes share an id, and their counts and user notifications mix.
	DuplicateNode bool
}

// Status returns the node's current status.
func (n *Node) Status() Status {
	st := Status{
		Node:          n.cfg.Node,
		Connected:     n.nc.IsConnected(),
		Reconnects:    n.reconnects.Load(),
		Sent:          n.sent.Load(),
		Received:      n.received.Load(),
		NotSent:       n.notSent.Load(),
		Malformed:     n.malformed.Load(),
		SlowConsumer:  n.slow.Load(),
		FlushErrors:   n.flushErrors.Load(),
		DuplicateNode: n.duplicateSeen.Load(),
	}
	if st.Connected {
		st.Server = redactURLs(n.nc.ConnectedUrl())
		st.Nodes = append(n.livePeers(), n.cfg.Node)
		slices.Sort(st.Nodes)
	}
	return st
}

// NodeID returns the node's id.
func (n *Node) NodeID() string { return n.cfg.Node }

func (n *Node) onDisconnect(_ *nats.Conn, err error) {
	select {
	case <-n.stop:
		return
	default:
	}
	if err != nil {
		n.log.Warn("NATS connection lost: serving this node's clients only until it is back", "err", err)
	} else {
		n.log.Warn("NATS connection lost: serving this node's clients only until it is back")
	}
}

func (n *Node) onReconnect(nc *nats.Conn) {
	n.reconnects.Add(1)
	// nats.go has sent our subscriptions again (resendSubscriptions): interests are back.
	n.log.Info("NATS connection back: cross-node delivery resumes", "nats", redactURLs(nc.ConnectedUrl()))
	n.heartbeat(false)
}

func (n *Node) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrSlowConsumer) {
		n.slow.Add(1)
		subject := ""
		if sub != nil {
			subject = sub.Subject
		}
		n.log.Warn("NATS dropped messages for this node: it reads them too slowly", "subject", subject)
		return
	}
	n.log.Warn("NATS error", "err", err)
}

// randomID returns 16 random hex characters.
func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// redactURLs returns urls with every user-info part replaced, for logs, errors and
// Status (url.URL.Redacted, which nats.go's ConnectedUrlRedacted uses, keeps a token
// given as the user name).
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if at := strings.LastIndex(p, "@"); at >= 0 {
			scheme := ""
			if k := strings.Index(p, "://"); k >= 0 && k < at {
				scheme = p[:k+3]
			}
			p = scheme + "redacted@" + p[at+1:]
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}
