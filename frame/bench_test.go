package frame

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

func BenchmarkUpgrade(b *testing.B) {
	browser := []byte(request("GET / HTTP/1.1", with(
		"Sec-WebSocket-Protocol: null",
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
		"Accept: */*",
		"User-Agent: node",
	)...))
	b.SetBytes(int64(len(browser)))
	b.ReportAllocs()
	for b.Loop() {
		_, _, _, err := Upgrade(browser, HandshakeConfig{})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// The cost of looking at a request that has not fully arrived.
func BenchmarkUpgradeIncomplete(b *testing.B) {
	full := request("GET / HTTP/1.1", sdkHeaders...)
	half := []byte(full[:len(full)-10])
	b.ReportAllocs()
	for b.Loop() {
		_, _, _, err := Upgrade(half, HandshakeConfig{})
		if err != ErrIncomplete {
			b.Fatal(err)
		}
	}
}

// A small masked text frame, as the SDK sends requests.
func BenchmarkReaderNext(b *testing.B) {
	frame := client(b, ws.OpText, true, []byte(`{"controller":"realtime","action":"publish","index":"i","collection":"c","body":{"a":1},"requestId":"0f8e2c1a"}`))
	work := make([]byte, len(frame))
	var r Reader
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, frame) // Next unmasks in place
		n, _, ok, err := r.Next(work)
		if err != nil || !ok || n != len(frame) {
			b.Fatal(n, ok, err)
		}
	}
}

// A 4 KiB text message in four fragments, reassembled in a pooled buffer.
func BenchmarkReaderNextFragmented(b *testing.B) {
	part := make([]byte, 1024)
	for i := range part {
		part[i] = 'a' + byte(i%26)
	}
	frames := concat(
		client(b, ws.OpText, false, part),
		client(b, ws.OpContinuation, false, part),
		client(b, ws.OpContinuation, false, part),
		client(b, ws.OpContinuation, true, part),
	)
	work := make([]byte, len(frames))
	var r Reader
	b.SetBytes(int64(len(frames)))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, frames)
		data := work
		for len(data) > 0 {
			n, _, _, err := r.Next(data)
			if err != nil || n == 0 {
				b.Fatal(n, err)
			}
			data = data[n:]
		}
	}
}

// A 64 KiB text frame (Greek text, 2-byte characters) arriving in 4 KiB
// reads, as from a slow link: Next checks the UTF-8 of each new piece as it
// arrives, then unmasks the whole frame once.
func BenchmarkReaderNextTrickled(b *testing.B) {
	text := bytes.Repeat([]byte("κόσμε "), 64<<10/11)
	frame := client(b, ws.OpText, true, text)
	work := make([]byte, len(frame))
	var r Reader
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, frame)
		for end := 4 << 10; ; end += 4 << 10 {
			n, _, ok, err := r.Next(work[:min(end, len(work))])
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				if n != len(frame) {
					b.Fatal(n)
				}
				break
			}
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	buf := make([]byte, Headroom+300)
	b.SetBytes(300)
	b.ReportAllocs()
	for b.Loop() {
		_ = Seal(buf, ws.OpText)
	}
}

func BenchmarkAppendText(b *testing.B) {
	payload := make([]byte, 300)
	dst := make([]byte, 0, 512)
	b.SetBytes(300)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendText(dst[:0], payload)
	}
}
