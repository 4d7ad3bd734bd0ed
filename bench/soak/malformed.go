package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/tidwall/gjson"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// malCase is one kind of malformed input and the answer it must get. frame cases run on an
// upgraded connection; handshake cases (request set) on a raw TCP connection.
type malCase struct {
	name string
	// frame: written on an upgraded connection, as is.
	frame []byte
	// roomless: the frame is a text message that must get a room-less error frame whose
	// status is status and, when id is set, whose error.id is id; the connection must then
	// still answer a request.
	roomless bool
	status   int
	id       string
	// closeCode: the frame must make the server close with this code (RFC 6455 section 7.4.1).
	closeCode int
	// request: a raw upgrade request that must get HTTP status httpStatus.
	request    string
	httpStatus int
}

// maskedFrame returns a client frame: first byte b0 (FIN, RSV, opcode), payload masked, and a
// declared length of declared bytes when declared >= 0 (then only payload is sent).
func maskedFrame(b0 byte, payload []byte, declared int64) []byte {
	n := int64(len(payload))
	if declared >= 0 {
		n = declared
	}
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, payload...)
	ws.Cipher(b[start:], mask, 0)
	return b
}

func text(s string) []byte { return maskedFrame(0x81, []byte(s), -1) }

// malCases are the malformed inputs, with the answers Kuzzle's protocol (room-less errors,
// lib/core/network/protocols/websocket.ts) and RFC 6455 (close codes, section 7.4.1;
// handshake, section 4.2.2) call for, as kuzzlews documents them in its README.
var malCases = []malCase{
	{name: "invalid-json", frame: text(`{"controller":"server","action":`), roomless: true, status: 400, id: "network.websocket.unexpected_error"},
	{name: "deep-nesting", frame: text(`{"controller":"server","action":"now","body":{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}`),
		roomless: true, status: 400, id: "network.websocket.unexpected_error"},
	{name: "not-an-object", frame: text(`[1,2,3]`), roomless: true, status: 500},
	{name: "wrong-type", frame: text(`{"controller":42,"action":"now"}`), roomless: true, status: 400},
	{name: "invalid-utf8", frame: maskedFrame(0x81, []byte("{\"a\":\"\xff\xfe\"}"), -1), closeCode: 1007},
	{name: "oversize", frame: maskedFrame(0x81, nil, 2<<20), closeCode: 1009},
	{name: "unmasked", frame: []byte{0x81, 0x02, '{', '}'}, closeCode: 1002},
	{name: "reserved-opcode", frame: maskedFrame(0x83, []byte("x"), -1), closeCode: 1002},
	{name: "rsv1", frame: maskedFrame(0xC1, []byte("{}"), -1), closeCode: 1002},
	{name: "fragmented-ping", frame: maskedFrame(0x09, []byte("p"), -1), closeCode: 1002},
	{name: "orphan-continuation", frame: maskedFrame(0x80, []byte("{}"), -1), closeCode: 1002},
	{name: "long-ping", frame: maskedFrame(0x89, make([]byte, 126), -1), closeCode: 1002},
	{name: "close-1005", frame: maskedFrame(0x88, []byte{0x03, 0xED}, -1), closeCode: 1002},
	{name: "handshake-no-key", request: "GET / HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", httpStatus: 400},
	{name: "handshake-version-8", request: "GET / HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", httpStatus: 426},
}

// malformed runs malformed slot i: every case in turn, MalformedPauseMs apart, until stop.
func (w *worker) malformed(i int) {
	rng := rand.New(rand.NewPCG(w.plan.Seed, uint64(i)<<8|2))
	pause := time.Duration(w.plan.MalformedPauseMs) * time.Millisecond
	for n := i; !w.stopped(); n++ {
		mc := malCases[n%len(malCases)]
		err := w.runMalCase(mc, w.plan.Name+"-m"+strconv.Itoa(i)+"-"+strconv.Itoa(n))
		if w.stopped() {
			return // the stop may have cut the case short
		}
		w.mu.Lock()
		w.malByCase[mc.name]++
		if err != nil && w.malFirstWrong == "" {
			w.malFirstWrong = mc.name + ": " + err.Error()
		}
		w.mu.Unlock()
		if err != nil {
			w.malWrong.Add(1)
		} else {
			w.malOK.Add(1)
		}
		if w.sleep(pause/2 + time.Duration(rng.Int64N(int64(pause)+1))) {
			return
		}
	}
}

func (w *worker) runMalCase(mc malCase, id string) error {
	if mc.request != "" {
		return w.malHandshake(mc)
	}
	c, err := w.dial(0)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	_ = c.NetConn().SetDeadline(time.Now().Add(replyWait))
	if _, err := c.NetConn().Write(mc.frame); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if mc.closeCode != 0 {
		msg, err := c.ReadMessage()
		switch {
		case err == nil:
			return fmt.Errorf("got a message instead of close %d: %.200s", mc.closeCode, msg)
		case !errors.Is(err, io.EOF):
			return fmt.Errorf("no close frame (want %d): %v", mc.closeCode, err)
		case c.CloseCode() != mc.closeCode:
			return fmt.Errorf("close code %d, want %d", c.CloseCode(), mc.closeCode)
		}
		return nil
	}
	msg, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("no error frame: %v (close code %d)", err, c.CloseCode())
	}
	r := gjson.GetManyBytes(msg, "room", "status", "error.id", "error.status")
	if r[0].Exists() {
		return fmt.Errorf("error frame has a room: %.200s", msg)
	}
	if r[1].Int() != int64(mc.status) || r[3].Int() != int64(mc.status) || (mc.id != "" && r[2].Str != mc.id) {
		return fmt.Errorf("error frame %.300s, want status %d id %q", msg, mc.status, mc.id)
	}
	if err := c.WriteText([]byte(`{"controller":"server","action":"now","requestId":"` + id + `"}`)); err != nil {
		return fmt.Errorf("request after the error: %w", err)
	}
	msg, err = c.ReadMessage()
	if err != nil {
		return fmt.Errorf("no reply to a request after the error: %v", err)
	}
	if r := gjson.GetManyBytes(msg, "room", "status"); r[0].Str != id || r[1].Int() != 200 {
		return fmt.Errorf("reply after the error: %.200s", msg)
	}
	if err := c.WriteClose(1000); err != nil {
		return fmt.Errorf("write close: %w", err)
	}
	if _, err := c.ReadMessage(); !errors.Is(err, io.EOF) || c.CloseCode() != 1000 {
		return fmt.Errorf("close handshake: %v, code %d", err, c.CloseCode())
	}
	return nil
}

// malHandshake sends mc.request on a raw TCP connection and checks the HTTP status.
func (w *worker) malHandshake(mc malCase) error {
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	nc, err := load.DialTCP(ctx, w.target, w.ips[w.src.Add(1)%uint64(len(w.ips))])
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(replyWait))
	if _, err := nc.Write([]byte(mc.request)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no status line: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[1] != strconv.Itoa(mc.httpStatus) {
		return fmt.Errorf("status line %q, want %d", strings.TrimSpace(line), mc.httpStatus)
	}
	return nil
}
