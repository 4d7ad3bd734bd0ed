package frame

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gobwas/ws"
)

// DefaultMaxHandshakeBytes is the cap on the upgrade request (request line and
// headers, blank line included) used when HandshakeConfig.MaxBytes is zero.
const DefaultMaxHandshakeBytes = 8 << 10

// ErrIncomplete reports that the bytes given to Upgrade do not hold a whole
// upgrade request yet. Nothing was consumed: call again with the same bytes
// followed by the ones that arrive next.
var ErrIncomplete = errors.New("frame: incomplete")

// HandshakeConfig holds the limits of Upgrade. Its zero value is ready to use.
type HandshakeConfig struct {
	// MaxBytes is the largest upgrade request accepted, in bytes, counting
	// the request line, the header lines and the blank line that ends them.
	// Zero or negative means DefaultMaxHandshakeBytes (8 KiB). A longer
	// request is rejected with 431 Request Header Fields Too Large as soon as
	// MaxBytes bytes have arrived without the end of the headers.
	MaxBytes int
}

func (c HandshakeConfig) withDefaults() HandshakeConfig {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxHandshakeBytes
	}
	return c
}

// Handshake is what the server learned from an accepted upgrade request.
type Handshake struct {
	// Path is the request target up to its first '?' (the SDK sends "/").
	// Any path is accepted (spec 3.1).
	Path string
	// Query is the part of the request target after the first '?', without
	// the '?'; empty when there is none.
	Query string
	// Protocol is the sub-protocol echoed in the response: the first one the
	// client offered in Sec-WebSocket-Protocol (the SDK's browser path offers
	// "null"), or "" when the client offered none (RFC 6455 section 4.2.2).
	Protocol string
	// Origin is the value of the Origin header, "" when absent. It is not
	// checked here (Kuzzle checks it per request, spec 3.2).
	Origin string
}

// HandshakeError is a rejected upgrade request. Upgrade returns it together
// with the HTTP response to write before closing the connection.
type HandshakeError struct {
	// Status is the HTTP status code of the response: 400, 405, 426, 431 or
	// 505.
	Status int
	// Reason says what was wrong; it is also the response body.
	Reason string
}

// Error implements error.
func (e *HandshakeError) Error() string {
	return "frame: handshake rejected with " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// Upgrade examines the upgrade request bytes received so far (data), following
// RFC 6455 section 4.2. It never blocks and never keeps data.
//
//   - Complete and valid: n is the length of the request (trailing bytes are
//     the client's first frames and are not consumed), resp is the
//     "101 Switching Protocols" response to write, err is nil.
//   - Incomplete and shorter than cfg.MaxBytes: n is 0, resp is nil, err is
//     ErrIncomplete. Call again with more bytes.
//   - Invalid: n is the request length (0 when the request never ended), resp
//     is a complete HTTP error response to write before closing, err is a
//     *HandshakeError. Statuses: 405 (with Allow: GET) for a method other than
//     GET; 426 (with Sec-WebSocket-Version: 13) for a missing or wrong
//     Sec-WebSocket-Version or a request whose Upgrade field lacks "websocket";
//     431 when the request exceeds cfg.MaxBytes; 505 for an HTTP version
//     below 1.1; 400 for anything else malformed (missing Host, Connection
//     without the upgrade token, a missing, bad or repeated
//     Sec-WebSocket-Key, bad header line). Error responses carry
//     Content-Length and "Connection: close".
//
// Connection and Upgrade are read as lists (RFC 7230 section 7): one field
// may come on several lines, and its elements are separated by commas with
// optional spaces or tabs ("Connection: keep-alive, Upgrade",
// "Upgrade: websocket, h2c").
//
// Any path is accepted. The first offered sub-protocol is echoed. Extensions
// (permessage-deflate) are never negotiated, so offers are ignored.
//
// The returned slices do not alias data; data is not modified.
func Upgrade(data []byte, cfg HandshakeConfig) (n int, resp []byte, hs Handshake, err error) {
	cfg = cfg.withDefaults()
	start, end := requestBounds(data)
	switch {
	case end < 0 && len(data) < cfg.MaxBytes:
		return 0, nil, hs, ErrIncomplete
	case end < 0 || end > cfg.MaxBytes:
		return rejectTooLarge(cfg.MaxBytes)
	}

	resp, hs, err = upgrade(data[start:end])
	if err != nil {
		return reject(end, err)
	}
	return end, resp, hs, nil
}

// upgrade runs ws.Upgrader on a complete request head.
func upgrade(req []byte) (resp []byte, hs Handshake, err error) {
	var out bytes.Buffer
	u := ws.Upgrader{
		// The first offered sub-protocol wins: accept any token.
		Protocol: func([]byte) bool { return true },
		OnRequest: func(uri []byte) error {
			path, query, _ := bytes.Cut(uri, []byte{'?'})
			hs.Path, hs.Query = string(path), string(query)
			return nil
		},
		OnHeader: func(key, value []byte) error {
			if string(key) == "Origin" && hs.Origin == "" {
				hs.Origin = string(value)
			}
			return nil
		},
	}
	got, err := u.Upgrade(&requestConn{r: listHeaders(req), w: &out})
	if err != nil {
		return nil, Handshake{}, err
	}
	if !validKey(req) {
		return nil, Handshake{}, ws.ErrHandshakeBadSecKey
	}
	hs.Protocol = got.Protocol
	return out.Bytes(), hs, nil
}

// requestBounds returns where the request line starts in data and where the
// request head ends (just after the blank line that ends the headers), or
// end == -1 when that blank line has not arrived. Lines end with "\r\n" or a
// bare "\n", as gobwas/ws reads them. Empty lines before the request line are
// skipped (RFC 9112 section 2.2).
func requestBounds(data []byte) (start, end int) {
	for i := 0; i < len(data); {
		nl := bytes.IndexByte(data[i:], '\n')
		if nl < 0 {
			return start, -1
		}
		line := data[i : i+nl]
		i += nl + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			if i-len(line)-1 == start {
				start = i
				continue
			}
			return start, i
		}
	}
	return start, -1
}

// validKey reports whether the request head has exactly one
// Sec-WebSocket-Key header (RFC 6455 section 11.3.1: it "MUST NOT appear more
// than once in an HTTP request") and whether its value decodes from base64 to
// 16 bytes (section 4.2.1 item 5). gobwas/ws checks only that each value is 24
// characters long, and computes the accept value from the last one.
func validKey(req []byte) bool {
	keys := 0
	for line := range bytes.Lines(req) {
		name, value, ok := headerLine(line)
		if !ok || !bytes.EqualFold(name, []byte("Sec-WebSocket-Key")) {
			continue
		}
		keys++
		var key [18]byte
		n, err := base64.StdEncoding.Decode(key[:], value)
		if err != nil || n != 16 {
			return false
		}
	}
	return keys == 1
}

// Canonical lines of the list-valued fields RFC 6455 section 4.2.1 requires,
// as listHeaders hands them to ws.Upgrader.
const (
	canonicalConnection = "Connection: Upgrade\r\n"
	canonicalUpgrade    = "Upgrade: websocket\r\n"
)

// listHeaders returns the request head to give ws.Upgrader, with the
// Connection and Upgrade fields read as the lists they are. RFC 7230 section
// 3.2.2 lets a client send a list-valued field on several lines, and section 7
// separates elements with commas and optional spaces or tabs, allowing empty
// elements; ws.Upgrader checks each line alone and stops at tabs, so it
// refuses "Connection: keep-alive" next to "Connection: Upgrade", or
// "Upgrade: websocket, h2c". Here each field counts as a whole: when it holds
// the element RFC 6455 section 4.2.1 requires (the token "Upgrade", the
// protocol "websocket", both case-insensitive) and nothing malformed, its first
// line becomes the canonical one and its other lines are dropped; otherwise
// all its lines are dropped, so that ws.Upgrader reports it missing (400 for
// Connection, 426 for Upgrade). Other lines are kept as they are. req is not
// modified.
func listHeaders(req []byte) []byte {
	conn := listField{name: "Connection", want: "upgrade", canonical: canonicalConnection}
	upg := listField{name: "Upgrade", want: "websocket", canonical: canonicalUpgrade, protocols: true}
	field := func(line []byte) (*listField, []byte) {
		name, value, ok := headerLine(line)
		switch {
		case !ok:
		case bytes.EqualFold(name, []byte(conn.name)):
			return &conn, value
		case bytes.EqualFold(name, []byte(upg.name)):
			return &upg, value
		}
		return nil, nil
	}
	// The request line is never a header line, even with a colon in it.
	reqLine, headers, _ := bytes.Cut(req, []byte{'\n'})
	for line := range bytes.Lines(headers) {
		if f, value := field(line); f != nil {
			f.add(value)
		}
	}
	if conn.plain() && upg.plain() {
		return req // the common case, as the SDK sends it: nothing to rewrite
	}
	out := make([]byte, 0, len(req)+len(canonicalConnection)+len(canonicalUpgrade))
	out = append(append(out, reqLine...), '\n')
	for line := range bytes.Lines(headers) {
		f, _ := field(line)
		switch {
		case f == nil:
			out = append(out, line...)
		case !f.written && f.has && !f.malformed:
			out = append(out, f.canonical...)
			f.written = true
		}
	}
	return out
}

// listField is what listHeaders learns of one list-valued field over all its
// lines.
type listField struct {
	name      string // the field name
	want      string // the element RFC 6455 requires, lower case
	canonical string // the line that replaces the field when it holds want
	protocols bool   // elements are protocols (token ["/" token]), not tokens

	lines     int  // lines of the field
	has       bool // an element equals want, ASCII case-insensitive
	only      bool // the first line's value is want alone
	malformed bool // an element is neither empty nor of the field's syntax
	written   bool // the canonical line is in listHeaders' output
}

// plain reports whether the field is one line whose value is the required
// element alone, which ws.Upgrader accepts as it is.
func (f *listField) plain() bool { return f.lines == 1 && f.only }

// add reads one line's value of the field: a comma-separated list whose
// elements may be empty (RFC 7230 section 7). Elements are tokens (the
// Connection field, section 6.1) or protocols (the Upgrade field, section
// 6.7).
func (f *listField) add(value []byte) {
	f.lines++
	if f.lines == 1 {
		f.only = bytes.EqualFold(value, []byte(f.want))
	}
	for elem := range bytes.SplitSeq(value, []byte{','}) {
		elem = trimOWS(elem)
		if len(elem) == 0 {
			continue
		}
		if bytes.EqualFold(elem, []byte(f.want)) {
			f.has = true
			continue
		}
		name, version, slash := bytes.Cut(elem, []byte{'/'})
		if !isToken(name) || (slash && (!f.protocols || !isToken(version))) {
			f.malformed = true
		}
	}
}

// headerLine splits a header line (with or without its line end) into a
// field name and value without surrounding spaces or tabs, as ws.Upgrader
// does; ok is false for a line without a colon (the request line, the blank
// line, a malformed line).
func headerLine(line []byte) (name, value []byte, ok bool) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	k, v, ok := bytes.Cut(line, []byte{':'})
	if !ok {
		return nil, nil, false
	}
	return trimOWS(k), trimOWS(v), true
}

// isToken reports whether b is a token of RFC 7230 section 3.2.6: one or more
// visible ASCII characters other than delimiters.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// trimOWS removes the optional whitespace (spaces and horizontal tabs, RFC
// 7230 section 3.2.3) around b.
func trimOWS(b []byte) []byte {
	return bytes.Trim(b, " \t")
}

// requestConn feeds the complete request to ws.Upgrader and collects its
// response.
type requestConn struct {
	r []byte
	w *bytes.Buffer
}

func (c *requestConn) Read(p []byte) (int, error) {
	if len(c.r) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.r)
	c.r = c.r[n:]
	return n, nil
}

func (c *requestConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func rejectTooLarge(max int) (int, []byte, Handshake, error) {
	e := &HandshakeError{
		Status: http.StatusRequestHeaderFieldsTooLarge,
		Reason: "upgrade request longer than " + strconv.Itoa(max) + " bytes",
	}
	return 0, errorResponse(e, ""), Handshake{}, e
}

// reject maps an error of ws.Upgrader to our status policy and response.
func reject(end int, err error) (int, []byte, Handshake, error) {
	e := &HandshakeError{Status: http.StatusBadRequest, Reason: err.Error()}
	var rej *ws.ConnectionRejectedError
	if errors.As(err, &rej) && rej.StatusCode() != 0 {
		e.Status = rej.StatusCode()
	}
	if e.Reason == "" || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		e.Reason = "malformed HTTP request"
	}
	var extra string
	switch err {
	case ws.ErrHandshakeBadSecVersion, ws.ErrHandshakeUpgradeRequired, ws.ErrHandshakeBadUpgrade:
		// A missing or wrong version and a plain HTTP request both get
		// 426 with the version we speak (RFC 6455 section 4.4) and the
		// protocol to upgrade to (RFC 9110 section 15.5.22).
		e.Status = http.StatusUpgradeRequired
		extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	case ws.ErrHandshakeBadMethod:
		extra = "Allow: GET\r\n"
	}
	return end, errorResponse(e, extra), Handshake{}, e
}

// errorResponse builds a complete HTTP/1.1 response for e with a plain-text
// body, Content-Length and "Connection: close". extra holds additional header
// lines, each ending in "\r\n".
func errorResponse(e *HandshakeError, extra string) []byte {
	body := e.Reason + "\n"
	b := make([]byte, 0, 160+len(extra)+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(e.Status)...)
	b = append(b, "\r\n"...)
	b = append(b, extra...)
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nConnection: close\r\n\r\n"...)
	b = append(b, body...)
	return b
}
