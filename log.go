package main

import (
	"context"
	"log/slog"
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

// clientError logs at debug level something a client did wrong: a refused handshake, a
// protocol violation, a failed request. peer (may be nil) gives the client's address; it
// is called only when the line is written. args are slog key-value pairs: statuses, close
// codes, Kuzzle error ids and fixed reasons, never a token, a password or a message body.
// Lines past clientLogsPerSecond are dropped and counted in the next line written.
func (s *Server) clientError(msg string, peer func() net.Addr, args ...any) {
	ctx := context.Background()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
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
	if peer != nil {
		if a := peer(); a != nil {
			addr = a.String()
		}
	}
	s.log.Debug(msg, append([]any{"remote", addr}, args...)...)
}
