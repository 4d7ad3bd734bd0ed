package frame

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// request builds an upgrade request from a request line and header lines,
// with CRLF line ends.
func request(line string, headers ...string) string {
	return line + "\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
}

// paddedRequest returns a valid upgrade request of exactly size bytes.
func paddedRequest(size int) string {
	base := request("GET / HTTP/1.1", with("X-Pad: ")...)
	return request("GET / HTTP/1.1", with("X-Pad: "+strings.Repeat("a", size-len(base)))...)
}

var sdkHeaders = []string{
	"Sec-WebSocket-Version: 13",
	"Sec-WebSocket-Key: " + testKey,
	"Connection: Upgrade",
	"Upgrade: websocket",
	"Host: 127.0.0.1:7513",
}

func with(extra ...string) []string {
	return append(append([]string(nil), sdkHeaders...), extra...)
}

func without(name string) []string {
	var out []string
	for _, h := range sdkHeaders {
		if !strings.HasPrefix(h, name+":") {
			out = append(out, h)
		}
	}
	return out
}

func replaced(name, value string) []string {
	return append(without(name), name+": "+value)
}

// expectedAccept computes Sec-WebSocket-Accept as RFC 6455 section 4.2.2
// defines it, independently of gobwas/ws.
func expectedAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestUpgrade(t *testing.T) {
	tests := []struct {
		name     string
		request  string
		trailing string // bytes after the request: the first frames
		cfg      HandshakeConfig
		status   int               // expected HTTP status
		headers  map[string]string // required response headers ("" = must be absent)
		hs       Handshake         // expected on success
	}{
		{
			name:    "sdk node path",
			request: request("GET / HTTP/1.1", sdkHeaders...),
			status:  http.StatusSwitchingProtocols,
			headers: map[string]string{
				"Upgrade":                  "websocket",
				"Connection":               "Upgrade",
				"Sec-WebSocket-Accept":     expectedAccept(testKey),
				"Sec-WebSocket-Protocol":   "",
				"Sec-WebSocket-Extensions": "",
			},
			hs: Handshake{Path: "/"},
		},
		{
			name: "browser path echoes null and ignores permessage-deflate",
			request: request("GET / HTTP/1.1", with(
				"Sec-WebSocket-Protocol: null",
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
				"Origin: http://localhost:8080",
			)...),
			status: http.StatusSwitchingProtocols,
			headers: map[string]string{
				"Sec-WebSocket-Protocol":   "null",
				"Sec-WebSocket-Extensions": "",
			},
			hs: Handshake{Path: "/", Protocol: "null", Origin: "http://localhost:8080"},
		},
		{
			name:    "first offered protocol is chosen",
			request: request("GET /ws?a=1&b=2 HTTP/1.1", with("Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Protocol: other")...),
			status:  http.StatusSwitchingProtocols,
			headers: map[string]string{"Sec-WebSocket-Protocol": "chat"},
			hs:      Handshake{Path: "/ws", Query: "a=1&b=2", Protocol: "chat"},
		},
		{
			name: "lower-case names, connection token list, bare LF",
			request: "GET /x HTTP/1.1\nhost: h\nupgrade: WebSocket\nconnection: keep-alive, Upgrade\n" +
				"sec-websocket-key: " + testKey + "\nsec-websocket-version: 13\n\n",
			status: http.StatusSwitchingProtocols,
			hs:     Handshake{Path: "/x"},
		},
		{
			name:    "connection on two lines, upgrade first",
			request: request("GET / HTTP/1.1", with("Connection: keep-alive")...),
			status:  http.StatusSwitchingProtocols,
			headers: map[string]string{"Connection": "Upgrade", "Sec-WebSocket-Accept": expectedAccept(testKey)},
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "connection on two lines, keep-alive first",
			request: request("GET / HTTP/1.1", append([]string{"Connection: keep-alive"}, sdkHeaders...)...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "upgrade list (RFC 7230 section 6.7)",
			request: request("GET / HTTP/1.1", replaced("Upgrade", "websocket, h2c")...),
			status:  http.StatusSwitchingProtocols,
			headers: map[string]string{"Upgrade": "websocket"},
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "upgrade on two lines",
			request: request("GET / HTTP/1.1", append([]string{"Upgrade: HTTP/2.0, h2c"}, sdkHeaders...)...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "tab after the comma",
			request: request("GET / HTTP/1.1", replaced("Connection", "keep-alive,\tUpgrade")...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "spaces and tabs around the comma",
			request: request("GET / HTTP/1.1", replaced("Connection", "keep-alive \t,\t Upgrade")...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "empty list elements (RFC 7230 section 7)",
			request: request("GET / HTTP/1.1", replaced("Connection", ", ,upgrade,, keep-alive ,")...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "colon in the request target",
			request: request("GET /a:b HTTP/1.1", sdkHeaders...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/a:b"},
		},
		{
			name:     "trailing frame bytes are not consumed",
			request:  request("GET / HTTP/1.1", sdkHeaders...),
			trailing: "\x81\x85\x01\x02\x03\x04hello",
			status:   http.StatusSwitchingProtocols,
			hs:       Handshake{Path: "/"},
		},
		{
			name:    "request of exactly MaxBytes",
			request: paddedRequest(200),
			cfg:     HandshakeConfig{MaxBytes: 200},
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "POST",
			request: request("POST / HTTP/1.1", sdkHeaders...),
			status:  http.StatusMethodNotAllowed,
			headers: map[string]string{"Allow": "GET"},
		},
		{
			name:    "wrong version",
			request: request("GET / HTTP/1.1", replaced("Sec-WebSocket-Version", "8")...),
			status:  http.StatusUpgradeRequired,
			headers: map[string]string{"Sec-WebSocket-Version": "13", "Upgrade": "websocket"},
		},
		{
			name:    "missing version",
			request: request("GET / HTTP/1.1", without("Sec-WebSocket-Version")...),
			status:  http.StatusUpgradeRequired,
			headers: map[string]string{"Sec-WebSocket-Version": "13"},
		},
		{
			name:    "plain HTTP request",
			request: request("GET / HTTP/1.1", "Host: localhost:7513", "Accept: text/html"),
			status:  http.StatusUpgradeRequired,
			headers: map[string]string{"Sec-WebSocket-Version": "13", "Upgrade": "websocket"},
		},
		{
			name:    "upgrade to another protocol",
			request: request("GET / HTTP/1.1", replaced("Upgrade", "h2c")...),
			status:  http.StatusUpgradeRequired,
			headers: map[string]string{"Sec-WebSocket-Version": "13"},
		},
		{
			name:    "missing host",
			request: request("GET / HTTP/1.1", without("Host")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "missing connection",
			request: request("GET / HTTP/1.1", without("Connection")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "connection without upgrade token",
			request: request("GET / HTTP/1.1", replaced("Connection", "keep-alive")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "missing key",
			request: request("GET / HTTP/1.1", without("Sec-WebSocket-Key")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "repeated key (RFC 6455 section 11.3.1)",
			request: request("GET / HTTP/1.1", with("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "repeated identical key",
			request: request("GET / HTTP/1.1", with("Sec-WebSocket-Key: "+testKey)...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "connection with a malformed element",
			request: request("GET / HTTP/1.1", replaced("Connection", `Upgrade, "keep-alive"`)...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "connection with a protocol element",
			request: request("GET / HTTP/1.1", replaced("Connection", "Upgrade, websocket/13")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "connection line without upgrade next to an empty one",
			request: request("GET / HTTP/1.1", append(replaced("Connection", "keep-alive"), "Connection: , ,")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "upgrade with a malformed element",
			request: request("GET / HTTP/1.1", replaced("Upgrade", "websocket, h2c/1/2")...),
			status:  http.StatusUpgradeRequired,
		},
		{
			name:    "upgrade to a websocket version",
			request: request("GET / HTTP/1.1", replaced("Upgrade", "websocket/13")...),
			status:  http.StatusUpgradeRequired,
		},
		{
			name:    "short key",
			request: request("GET / HTTP/1.1", replaced("Sec-WebSocket-Key", "c2hvcnQ=")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "key of 24 characters that is not base64",
			request: request("GET / HTTP/1.1", replaced("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!!!")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "key decoding to 17 bytes",
			request: request("GET / HTTP/1.1", replaced("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA=")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "empty protocol offer",
			request: request("GET / HTTP/1.1", with("Sec-WebSocket-Protocol: ,")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "header line without colon",
			request: request("GET / HTTP/1.1", with("garbage")...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "HTTP/1.0",
			request: request("GET / HTTP/1.0", sdkHeaders...),
			status:  http.StatusHTTPVersionNotSupported,
		},
		{
			name:    "garbage request line",
			request: request("\x16\x03\x01 hello", sdkHeaders...),
			status:  http.StatusBadRequest,
		},
		{
			name:    "empty lines before the request line are skipped",
			request: "\r\n\n" + request("GET / HTTP/1.1", sdkHeaders...),
			status:  http.StatusSwitchingProtocols,
			hs:      Handshake{Path: "/"},
		},
		{
			name:    "no request line",
			request: "\r\n" + strings.Join(sdkHeaders, "\r\n") + "\r\n\r\n",
			status:  http.StatusBadRequest,
		},
		{
			name:    "over MaxBytes",
			request: paddedRequest(201),
			cfg:     HandshakeConfig{MaxBytes: 200},
			status:  http.StatusRequestHeaderFieldsTooLarge,
		},
		{
			name:    "over default MaxBytes",
			request: request("GET / HTTP/1.1", with("Cookie: "+strings.Repeat("a", DefaultMaxHandshakeBytes))...),
			status:  http.StatusRequestHeaderFieldsTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.request + tt.trailing)
			snapshot := bytes.Clone(data)
			max := tt.cfg.withDefaults().MaxBytes
			end := len(tt.request)
			if tt.status == http.StatusRequestHeaderFieldsTooLarge {
				end = max
			}
			// Upgrade is stateless, so feeding every prefix covers one
			// byte at a time and every random split.
			for i := 0; i < end; i++ {
				n, resp, _, err := Upgrade(data[:i], tt.cfg)
				if !errors.Is(err, ErrIncomplete) || n != 0 || resp != nil {
					t.Fatalf(
						"prefix of %d bytes: n=%d resp=%q err=%v, want ErrIncomplete",
						i, n, resp, err,
					)
				}
			}
			for _, size := range []int{end, len(data)} {
				n, resp, hs, err := Upgrade(data[:size], tt.cfg)
				checkUpgrade(t, tt.status, tt.headers, resp, err)
				if !bytes.Equal(data, snapshot) {
					t.Fatalf("Upgrade modified its input")
				}
				if tt.status != http.StatusSwitchingProtocols {
					continue
				}
				if n != len(tt.request) {
					t.Errorf(
						"n = %d, want %d (the request only)",
						n, len(tt.request),
					)
				}
				if hs != tt.hs {
					t.Errorf(
						"handshake = %+v, want %+v",
						hs, tt.hs,
					)
				}
			}
		})
	}
}

// checkUpgrade parses resp with net/http and checks the status, the required
// headers and, for errors, the HandshakeError and the body framing.
func checkUpgrade(t *testing.T, status int, headers map[string]string, resp []byte, err error) {
	t.Helper()
	r, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(resp)), nil)
	if perr != nil {
		t.Fatalf(
			"response %q does not parse: %v",
			resp, perr,
		)
	}
	defer r.Body.Close()
	if r.StatusCode != status {
		t.Fatalf(
			"status = %d (err %v), want %d; response:\n%s",
			r.StatusCode, err, status, resp,
		)
	}
	for k, want := range headers {
		if got := r.Header.Get(k); got != want {
			t.Errorf(
				"header %s = %q, want %q",
				k, got, want,
			)
		}
	}
	if status == http.StatusSwitchingProtocols {
		if err != nil {
			t.Fatalf(
				"err = %v, want nil",
				err,
			)
		}
		return
	}
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != status {
		t.Fatalf(
			"err = %#v, want *HandshakeError with status %d",
			err, status,
		)
	}
	if !r.Close {
		t.Errorf("error response lacks Connection: close")
	}
	if r.ContentLength < 0 {
		t.Errorf("error response lacks Content-Length")
	}
	body, rerr := io.ReadAll(r.Body)
	if rerr != nil || int64(len(body)) != r.ContentLength {
		t.Errorf(
			"body %q (%v) does not match Content-Length %d",
			body, rerr, r.ContentLength,
		)
	}
	if strings.TrimSpace(string(body)) != he.Reason {
		t.Errorf(
			"body %q, want the reason %q",
			body, he.Reason,
		)
	}
}

// Looking at a request that has not fully arrived allocates nothing, so a
// client trickling bytes costs no garbage.
func TestUpgradeIncompleteAllocs(t *testing.T) {
	full := request("GET / HTTP/1.1", sdkHeaders...)
	half := []byte(full[:len(full)/2])
	allocs := testing.AllocsPerRun(1000, func() {
		_, _, _, err := Upgrade(half, HandshakeConfig{})
		if err != ErrIncomplete {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf(
			"Upgrade of an incomplete request allocates %v times, want 0",
			allocs,
		)
	}
}
