package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/tidwall/gjson"
)

// Proto names a wire protocol.
type Proto string

// The protocols a target may speak.
const (
	// Kuzzle is Kuzzle's JSON envelope (kuzzlews and the bench peers).
	Kuzzle Proto = "kuzzle"
	// Centrifugo is Centrifugo's JSON client protocol (v2), one command per line.
	Centrifugo Proto = "centrifugo"
)

// MaxMessage is the largest message a Conn accepts, in bytes; a larger one fails the read.
const MaxMessage = 1 << 20

// ErrTooLarge is returned by ReadMessage for a frame longer than MaxMessage.
var ErrTooLarge = errors.New("load: message larger than MaxMessage")

// Target is where and how to connect.
type Target struct {
	// Addr is host:port, always a 127.0.0.0/8 address.
	Addr string
	// Path is the HTTP path of the WebSocket endpoint; empty means "/".
	Path string
	// Proto is the wire protocol; empty means Kuzzle.
	Proto Proto
	// RcvBuf, when > 0, sets SO_RCVBUF on the socket before connecting, in bytes.
	RcvBuf int
}

func (t Target) url() string {
	p := t.Path
	if p == "" {
		p = "/"
	}
	return "ws://" + t.Addr + p
}

// Conn is one client connection.
type Conn struct {
	nc    net.Conn
	br    *bufio.Reader
	proto Proto
	buf   []byte // reused payload buffer of ReadMessage
	wmu   sync.Mutex
	wbuf  []byte // frame being written; wmu guards it
	cid   uint32 // next Centrifugo command id
	// closeCode is the status code of the close frame ReadMessage last saw (see CloseCode).
	closeCode int
}

// dialer returns a net.Dialer bound to src with the target's socket options.
func (t Target) dialer(src net.IP) *net.Dialer {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
	if t.RcvBuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, t.RcvBuf)
			})
			return errors.Join(err, serr)
		}
	}
	return d
}

// DialTCP opens a plain TCP connection from src to the target (for slowloris connections).
func DialTCP(ctx context.Context, t Target, src net.IP) (net.Conn, error) {
	return t.dialer(src).DialContext(ctx, "tcp", t.Addr)
}

// Dial connects from source address src, performs the WebSocket handshake and, for
// Centrifugo, the connect command. ctx bounds the whole setup.
func Dial(ctx context.Context, t Target, src net.IP) (*Conn, error) {
	d := t.dialer(src)
	wd := ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	nc, br, _, err := wd.Dial(ctx, t.url())
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, 2048)
	}
	c := &Conn{nc: nc, br: br, proto: t.Proto}
	if c.proto == "" {
		c.proto = Kuzzle
	}
	if c.proto == Centrifugo {
		if dl, ok := ctx.Deadline(); ok {
			_ = nc.SetDeadline(dl)
		}
		id := c.nextID()
		if err := c.WriteText([]byte(`{"id":` + id + `,"connect":{}}`)); err != nil {
			nc.Close()
			return nil, err
		}
		if _, err := c.awaitReply(id); err != nil {
			nc.Close()
			return nil, fmt.Errorf("centrifugo connect: %w", err)
		}
		_ = nc.SetDeadline(time.Time{})
	}
	return c, nil
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

func (c *Conn) nextID() string {
	c.cid++
	return strconv.FormatUint(uint64(c.cid), 10)
}

// WriteText writes p as one masked text frame (RFC 6455 section 5.2).
func (c *Conn) WriteText(p []byte) error { return c.writeFrame(0x1, p) }

func (c *Conn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := c.wbuf[:0]
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	var mask [4]byte
	m := rand.Uint32()
	mask[0], mask[1], mask[2], mask[3] = byte(m), byte(m>>8), byte(m>>16), byte(m>>24)
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], mask, 0)
	c.wbuf = b
	_, err := c.nc.Write(b)
	return err
}

// ReadMessage returns the next data message. Pings are answered, a close frame returns
// io.EOF. The returned slice is only valid until the next ReadMessage.
func (c *Conn) ReadMessage() ([]byte, error) {
	c.buf = c.buf[:0]
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return nil, err
		}
		if h.Length > MaxMessage || int64(len(c.buf))+h.Length > MaxMessage {
			return nil, ErrTooLarge
		}
		n := int(h.Length)
		start := len(c.buf)
		if cap(c.buf)-start < n {
			nb := make([]byte, start, start+n)
			copy(nb, c.buf)
			c.buf = nb
		}
		c.buf = c.buf[:start+n]
		if _, err := io.ReadFull(c.br, c.buf[start:]); err != nil {
			return nil, err
		}
		if h.Masked {
			ws.Cipher(c.buf[start:], h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			pl := append([]byte(nil), c.buf[start:]...)
			c.buf = c.buf[:start]
			if err := c.writeFrame(0xA, pl); err != nil {
				return nil, err
			}
			continue
		case ws.OpPong:
			c.buf = c.buf[:start]
			continue
		case ws.OpClose:
			c.closeCode = closeStatus(c.buf[start:])
			return nil, io.EOF
		}
		if h.Fin {
			return c.buf, nil
		}
	}
}

// Each calls fn for every protocol message in one WebSocket message: Centrifugo may put
// several newline-separated commands in one frame; Kuzzle has one JSON object per frame.
// Centrifugo pings (an empty object) are answered and not passed to fn.
func (c *Conn) Each(msg []byte, fn func(m []byte)) error {
	if c.proto != Centrifugo {
		fn(msg)
		return nil
	}
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if string(bytes.TrimSpace(line)) == "{}" {
			if err := c.WriteText([]byte("{}")); err != nil {
				return err
			}
			continue
		}
		fn(line)
	}
	return nil
}

// ReplyID returns the id a response answers: root `room` for Kuzzle (== requestId), root
// `id` for Centrifugo. It returns "" for notifications of Centrifugo (push) and for
// room-less Kuzzle frames.
func (c *Conn) ReplyID(m []byte) string {
	if c.proto == Centrifugo {
		return gjson.GetBytes(m, "id").Raw
	}
	return gjson.GetBytes(m, "room").Str
}

// awaitReply reads until the reply to id and returns it (a copy); an error reply fails.
func (c *Conn) awaitReply(id string) ([]byte, error) {
	for {
		msg, err := c.ReadMessage()
		if err != nil {
			return nil, err
		}
		var got []byte
		if err := c.Each(msg, func(m []byte) {
			if got == nil && c.ReplyID(m) == id {
				got = append([]byte(nil), m...)
			}
		}); err != nil {
			return nil, err
		}
		if got == nil {
			continue
		}
		if e := gjson.GetBytes(got, "error"); e.Exists() && e.Type != gjson.Null {
			return nil, fmt.Errorf("error reply: %s", e.Raw)
		}
		return got, nil
	}
}

// ChannelName is the Centrifugo channel of an index/collection pair.
func ChannelName(index, collection string) string { return index + "-" + collection }

// Subscribe subscribes to index/collection with the `{}` filter and waits for the answer.
// requestID is used by Kuzzle. It returns the channel whose notifications will follow
// (Kuzzle: result.channel; Centrifugo: the channel name).
func (c *Conn) Subscribe(index, collection, requestID string) (string, error) {
	if c.proto == Centrifugo {
		id := c.nextID()
		req := []byte(`{"id":` + id + `,"subscribe":{"channel":` + strconv.Quote(ChannelName(index, collection)) + `}}`)
		if err := c.WriteText(req); err != nil {
			return "", err
		}
		if _, err := c.awaitReply(id); err != nil {
			return "", err
		}
		return ChannelName(index, collection), nil
	}
	_, ch, err := c.SubscribeFilter(index, collection, []byte("{}"), requestID)
	return ch, err
}

// SubscribeFilter subscribes to index/collection with the Koncorde filter filter (a raw JSON
// object) and waits for the answer, reading nothing else meanwhile: call it before any other
// reader of c starts. It returns result.roomId and result.channel. Kuzzle's protocol only;
// an error reply or a reply without roomId and channel fails.
func (c *Conn) SubscribeFilter(index, collection string, filter []byte, requestID string) (roomID, channel string, err error) {
	if c.proto != Kuzzle {
		return "", "", errors.New("load: filters need Kuzzle's protocol")
	}
	if err := c.WriteText(AppendSubscribe(nil, index, collection, filter, requestID)); err != nil {
		return "", "", err
	}
	reply, err := c.awaitReply(requestID)
	if err != nil {
		return "", "", err
	}
	roomID = gjson.GetBytes(reply, "result.roomId").Str
	channel = gjson.GetBytes(reply, "result.channel").Str
	if roomID == "" || channel == "" {
		return "", "", fmt.Errorf("subscribe reply without result.roomId and result.channel: %.200s", reply)
	}
	return roomID, channel, nil
}

// AppendSubscribe appends a Kuzzle realtime:subscribe request of filter (raw JSON object) on
// index/collection.
func AppendSubscribe(b []byte, index, collection string, filter []byte, requestID string) []byte {
	b = append(b, `{"controller":"realtime","action":"subscribe","index":`...)
	b = strconv.AppendQuote(b, index)
	b = append(b, `,"collection":`...)
	b = strconv.AppendQuote(b, collection)
	b = append(b, `,"body":`...)
	b = append(b, filter...)
	b = append(b, `,"requestId":`...)
	b = strconv.AppendQuote(b, requestID)
	return append(b, '}')
}

// AppendUnsubscribe appends a Kuzzle realtime:unsubscribe request of roomID.
func AppendUnsubscribe(b []byte, roomID, requestID string) []byte {
	b = append(b, `{"controller":"realtime","action":"unsubscribe","body":{"roomId":`...)
	b = strconv.AppendQuote(b, roomID)
	b = append(b, `},"requestId":`...)
	b = strconv.AppendQuote(b, requestID)
	return append(b, '}')
}

// AppendPublish appends a publish request of body (raw JSON object) to index/collection and
// returns it with the id its reply will carry. requestID is used by Kuzzle.
func (c *Conn) AppendPublish(b []byte, index, collection, requestID string, body []byte) ([]byte, string) {
	if c.proto == Centrifugo {
		id := c.nextID()
		b = append(b, `{"id":`...)
		b = append(b, id...)
		b = append(b, `,"publish":{"channel":`...)
		b = strconv.AppendQuote(b, ChannelName(index, collection))
		b = append(b, `,"data":`...)
		b = append(b, body...)
		return append(b, "}}"...), id
	}
	b = append(b, `{"controller":"realtime","action":"publish","index":`...)
	b = strconv.AppendQuote(b, index)
	b = append(b, `,"collection":`...)
	b = strconv.AppendQuote(b, collection)
	b = append(b, `,"body":`...)
	b = append(b, body...)
	b = append(b, `,"requestId":`...)
	b = strconv.AppendQuote(b, requestID)
	return append(b, '}'), requestID
}

// AppendRequest appends the request/response scenario's request and returns it with its
// reply id: Kuzzle server:now; for Centrifugo, which has no such command, a publish of a
// small object to the channel "bench-rr" that nobody subscribes to.
func (c *Conn) AppendRequest(b []byte, requestID string) ([]byte, string) {
	if c.proto == Centrifugo {
		return c.AppendPublish(b, "bench", "rr", "", []byte(`{"x":1}`))
	}
	b = append(b, `{"controller":"server","action":"now","requestId":`...)
	b = strconv.AppendQuote(b, requestID)
	return append(b, '}'), requestID
}
