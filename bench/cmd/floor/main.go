// Command floor is the raw-write floor of the benchmark: the least work a server can do to fan
// one message out. It accepts WebSocket connections (gobwas/ws handshake, one goroutine per
// connection for requests) and speaks the protocol subset of bench/peers/subset, but a publish
// is served by building the notification frame once and writing the same bytes to every
// subscriber's socket with write(2) on its file descriptor, from -threads locked OS threads.
// The publish response's result carries writeNs, the time the write loop took.
//
// Usage: floor -host 127.0.0.1 -port 7600 -threads 1
package main

import (
	"bufio"
	"errors"
	"flag"
	"log"
	"net"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/kuzzlews/kuzzlews/bench/peers/subset"
)

type sub struct {
	c  net.Conn
	fd int
	mu sync.Mutex // serializes writes to c
}

type server struct {
	threads int
	mu      sync.Mutex
	subs    map[string][]*sub // channel -> subscribers; mu guards it
}

func main() {
	host := flag.String("host", "127.0.0.1", "listen host")
	port := flag.Int("port", 7600, "listen port")
	threads := flag.Int("threads", 1, "OS threads writing a publication (1 or 2)")
	flag.Parse()
	if *threads < 1 {
		log.Fatal("floor: -threads must be >= 1")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	s := &server{threads: *threads, subs: make(map[string][]*sub)}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go s.serve(c)
	}
}

func (s *server) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 512)
	if _, err := ws.Upgrade(readWriter{br, c}); err != nil {
		return
	}
	me := &sub{c: c, fd: -1}
	if rc, err := c.(*net.TCPConn).SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { me.fd = int(fd) })
	}
	for {
		msg, err := wsutil.ReadClientText(readWriter{br, c})
		if err != nil {
			s.remove(me)
			return
		}
		resp := s.handle(me, msg)
		me.mu.Lock()
		err = wsutil.WriteServerText(c, resp)
		me.mu.Unlock()
		if err != nil {
			s.remove(me)
			return
		}
	}
}

type readWriter struct {
	*bufio.Reader
	net.Conn
}

func (rw readWriter) Read(p []byte) (int, error) { return rw.Reader.Read(p) }

func (s *server) remove(me *sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch, list := range s.subs {
		for i, x := range list {
			if x == me {
				list[i] = list[len(list)-1]
				s.subs[ch] = list[:len(list)-1]
				break
			}
		}
	}
}

func (s *server) handle(me *sub, payload []byte) []byte {
	r, ok := subset.Parse(payload)
	if !ok {
		return []byte(`{"status":400,"error":{"message":"Input request data must be a non-null object","status":400}}`)
	}
	switch r.Controller + ":" + r.Action {
	case "server:now":
		return subset.Response(r, `{"now":`+strconv.FormatInt(time.Now().UnixMilli(), 10)+`}`)
	case "realtime:subscribe":
		ch := subset.Channel(r.Index, r.Collection)
		s.mu.Lock()
		s.subs[ch] = append(s.subs[ch], me)
		s.mu.Unlock()
		return subset.Response(r, `{"roomId":`+strconv.Quote(subset.RoomID(r.Index, r.Collection))+`,"channel":`+strconv.Quote(ch)+`}`)
	case "realtime:publish":
		ch := subset.Channel(r.Index, r.Collection)
		s.mu.Lock()
		list := append([]*sub(nil), s.subs[ch]...)
		s.mu.Unlock()
		frame, err := ws.CompileFrame(ws.NewTextFrame(subset.Notification(r, ch)))
		if err != nil {
			return subset.ErrorResponse(r, 500, err.Error())
		}
		start := time.Now()
		s.writeAll(list, frame)
		ns := time.Since(start).Nanoseconds()
		return subset.Response(r, `{"published":true,"writeNs":`+strconv.FormatInt(ns, 10)+`}`)
	}
	return subset.ErrorResponse(r, 404, "API controller or action not found.")
}

// writeAll writes frame to every subscriber, the list split in s.threads contiguous parts,
// each written by one locked OS thread with write(2). A socket whose buffer is full (EAGAIN)
// or a partial write falls back to the blocking net.Conn path for the rest of the frame.
func (s *server) writeAll(list []*sub, frame []byte) {
	n := s.threads
	if n > len(list) {
		n = max(len(list), 1)
	}
	var wg sync.WaitGroup
	per := (len(list) + n - 1) / n
	for t := range n {
		lo, hi := t*per, min((t+1)*per, len(list))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(part []*sub) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for _, x := range part {
				writeOne(x, frame)
			}
		}(list[lo:hi])
	}
	wg.Wait()
}

func writeOne(x *sub, frame []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	done := 0
	if x.fd >= 0 {
		for done < len(frame) {
			w, err := syscall.Write(x.fd, frame[done:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || w <= 0 {
				if !errors.Is(err, syscall.EAGAIN) {
					return
				}
				break
			}
			done += w
		}
	}
	if done < len(frame) {
		_, _ = x.c.Write(frame[done:])
	}
}
