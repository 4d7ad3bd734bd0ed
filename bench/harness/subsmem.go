package harness

import (
	"errors"
	"fmt"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// SubsMemCollection is the collection every subscription of the memory scenario is on.
const SubsMemCollection = "subsmem"

// subsmem measures what subscriptions cost the server in memory: SubsMemConns connections
// each subscribing SubsMemRooms distinct filters on srv (a room each), then, on a fresh
// server (so that memory freed by the first half is not reused by the second),
// SubsMemMembers connections all subscribing one filter. An unanswered subscription, a
// reply without its room, a dropped connection, distinct filters sharing a room or members
// not all in one room fail the run (the result is returned with the error).
func (e *env) subsmem(t *target, srv *server) (*SubsMemResult, error) {
	r := &SubsMemResult{}
	rooms, err := e.subsmemPart(t, srv, e.cfg.SubsMemConns, max(e.cfg.SubsMemRooms, 1), false)
	if rooms != nil {
		r.Rooms = *rooms
	}
	if err != nil {
		return r, fmt.Errorf("subsmem rooms: %w", err)
	}
	logDir := e.logDir
	if logDir == "" {
		logDir = e.tmp
	}
	msrv, err := e.startServer(t, logDir, "subsmem-members")
	if err != nil {
		return r, fmt.Errorf("subsmem members: %w", err)
	}
	defer msrv.stop()
	members, err := e.subsmemPart(t, msrv, e.cfg.SubsMemMembers, 1, true)
	if members != nil {
		r.Members = *members
	}
	if err == nil && !msrv.alive() {
		err = errors.New("server exited during the scenario")
	}
	if err != nil {
		return r, fmt.Errorf("subsmem members: %w", err)
	}
	r.Verified = r.Rooms.Verified && r.Members.Verified
	return r, nil
}

// subsmemPart opens n connections to srv, takes a memory reading, has each subscribe per
// filters (load.MemSubFilter: distinct, or all the same one when same), and takes another.
func (e *env) subsmemPart(t *target, srv *server, n, per int, same bool) (*SubsMemPart, error) {
	c, err := e.spawn(srv, t, load.RoleMSub, n, spawnOpts{})
	if err != nil {
		return nil, err
	}
	defer c.quit()
	p := &SubsMemPart{Conns: n, Connected: c.Connected, PerConn: per}
	if c.Failed > 0 {
		return p, fmt.Errorf("%d of %d connections failed: %s", c.Failed, n, c.FirstErr)
	}
	if p.RSSBefore, p.HeapBefore, err = e.memReading(srv); err != nil {
		return p, err
	}
	wait := max(e.cfg.StallAfter, 30*time.Second) // one reply; a busy node may take seconds
	if err := c.send(load.Command{Cmd: "start", Count: per, Collection: SubsMemCollection, SameFilter: same,
		ReplyWaitMs: int(wait / time.Millisecond)}); err != nil {
		return p, err
	}
	reps, err := c.wait("start", time.Duration(per)*wait+60*time.Second)
	if err != nil {
		return p, err
	}
	ids := map[string]bool{}
	listed := true // every worker listed its roomIds
	for _, rep := range reps {
		p.Answered += rep.Done
		p.Mismatched += rep.Mismatched
		p.Errors += rep.Errors
		p.Stray += rep.Stray
		p.SubscribeNs = max(p.SubscribeNs, rep.WindowNs)
		p.Rooms += rep.Rooms
		if rep.Rooms > len(rep.RoomIDs) {
			listed = false
		}
		for _, id := range rep.RoomIDs {
			ids[id] = true
		}
	}
	if same && listed {
		p.Rooms = len(ids) // the same room on every worker counts once
	}
	if p.RSSAfter, p.HeapAfter, err = e.memReading(srv); err != nil {
		return p, err
	}
	if err := c.send(load.Command{Cmd: "collect"}); err != nil {
		return p, err
	}
	creps, err := c.wait("collect", 60*time.Second)
	if err != nil {
		return p, err
	}
	for _, rep := range creps {
		p.Closed += rep.Closed
	}
	subs := float64(p.Connected) * float64(per)
	if subs > 0 {
		p.RSSPer = float64(p.RSSAfter-p.RSSBefore) / subs
	}
	p.HeapPer = -1
	if p.HeapBefore >= 0 && p.HeapAfter >= 0 && subs > 0 {
		p.HeapPer = float64(p.HeapAfter-p.HeapBefore) / subs
	}
	wantRooms := int(p.Answered)
	if same {
		wantRooms = 1
	}
	p.Verified = p.Connected == n && p.Answered == int64(n)*int64(per) && p.Mismatched == 0 && p.Errors == 0 &&
		p.Stray == 0 && p.Closed == 0 && p.Rooms == wantRooms && (!same || listed)
	kind := "distinct rooms"
	if same {
		kind = "members of one room"
	}
	e.cfg.logf("  %s subsmem %d conns x %d %s: %d answered in %s, %d rooms; RSS %.1f -> %.1f MiB (%.0f B each), heap %.0f B each; verified %v",
		t.name, p.Connected, per, kind, p.Answered, ms(p.SubscribeNs), p.Rooms, float64(p.RSSBefore)/(1<<20), float64(p.RSSAfter)/(1<<20), p.RSSPer, p.HeapPer, p.Verified)
	if !p.Verified {
		return p, fmt.Errorf("%s: %d of %d subscriptions answered (%d without their room, %d errors, %d stray frames), %d connections closed, %d rooms (want %d)",
			kind, p.Answered, int64(n)*int64(per), p.Mismatched, p.Errors, p.Stray, p.Closed, p.Rooms, wantRooms)
	}
	return p, nil
}

// memReading waits IdleWait for the server to settle, forces a GC where it has pprof (the
// live heap is read then, -1 otherwise) and reads its VmRSS.
func (e *env) memReading(srv *server) (rss, heap int64, err error) {
	time.Sleep(e.cfg.IdleWait)
	heap = srv.heapAlloc()
	if heap >= 0 {
		time.Sleep(200 * time.Millisecond) // as idle does: let the GC's work show in VmRSS
	}
	p, err := readProc(srv.pid())
	if err != nil {
		return 0, -1, fmt.Errorf("%s: %w", srv.name, err)
	}
	return p.RSS, heap, nil
}
