package main

import (
	"net"
	"sync"
	"time"
)

// clientLogsPerSecond bounds the client-error lines written per second: a client flooding
// bad requests cannot fill a disk (at about 200 bytes a line, 10 lines a second is under
// 200 MB a day).
const clientLogsPerSecond = 10

// logLimiter lets clientLogsPerSecond lines through per wall-clock second and counts the
// others.
type logLimiter struct {
	mu      sync.Mutex
	second  int64
	n       int
	dropped int
}

// allow reports whether a line may be written at unix second now, and how many lines
// were dropped since the last one written (to report them first).
func (l *logLimiter) allow(now int64) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now != l.second {
		l.second, l.n = now, 0
	}
	if l.n >= clientLogsPerSecond {
		l.dropped++
		return false, 0
	}
	l.n++
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

// addresser is a client whose address can be logged: a WebSocket client, an HTTP request.
type addresser interface{ RemoteAddr() net.Addr }

// clientError logs at debug level something a client did wrong: a refused handshake, a
// protocol violation, a failed request. peer gives the client's address when it is an
// addresser (anything else, nil included, logs none); it is asked only when the line is
// written. args are slog key-value pairs: statuses, close codes, Kuzzle error ids and
// fixed reasons, never a token, a password or a message body. Lines past
// clientLogsPerSecond are dropped and counted in the next line written. Callers check
// s.debugLogs first, so that nothing is built for a line no one logs.
func (s *Server) clientError(msg string, peer any, args ...any) {
	if !s.debugLogs {
		return
	}
	ok, dropped := s.clientLogs.allow(time.Now().Unix())
	if !ok {
		return
	}
	if dropped > 0 {
		s.log.Debug("client errors not logged (rate limit)", "count", dropped, "limit_per_second", clientLogsPerSecond)
	}
	addr := ""
	if p, ok := peer.(addresser); ok {
		if a := p.RemoteAddr(); a != nil {
			addr = a.String()
		}
	}
	s.log.Debug(msg, append([]any{"remote", addr}, args...)...)
}
