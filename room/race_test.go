package room

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"
)

// guardSub fails the test if it gets a frame once gone is set (after Disconnect).
type guardSub struct {
	t    *testing.T
	gone atomic.Bool
}

func (g *guardSub) Deliver([]byte) {
	if g.gone.Load() {
		g.t.Error("delivery after Disconnect returned")
	}
}

// TestConcurrentSubscribePublishDisconnect runs subscriptions, publishes, counts and
// disconnections on many goroutines at once (run it with -race). Every publish must
// reach at least the subscribers that stay subscribed for the whole test, and the
// engine must end with only their rooms. No churner gets a frame after its
// Disconnect returned.
func TestConcurrentSubscribePublishDisconnect(t *testing.T) {
	e := newTestEngine(t, Config{
		FanoutChunk: 4,
		Spread: func(task func()) bool {
			go task()
			return true
		},
	})
	const (
		stayers    = 20
		churners   = 8
		rounds     = 150
		publishers = 4
		publishes  = 150
	)
	stay := make([]*countSub, stayers)
	for i := range stay {
		stay[i] = &countSub{}
		subscribe(t, e, e.Connect(fmt.Sprint("stay", i), stay[i]), `{"index":"idx","collection":"col","body":{"equals":{"foo":"bar"}},"users":"all"}`)
	}
	var wg sync.WaitGroup
	for g := range churners {
		wg.Go(func() {
			for i := range rounds {
				gs := &guardSub{t: t}
				c := e.Connect(fmt.Sprint("churn", g, "-", i), gs)
				body := []string{`{}`, `{"equals":{"foo":"bar"}}`, `{"equals":{"n":` + fmt.Sprint(i%5) + `}}`}[i%3]
				r := req(t, c, `{"index":"idx","collection":"col","body":`+body+`,"users":"all"}`)
				res, err := e.Subscribe(r)
				if err != nil || res == nil {
					t.Errorf("subscribe: %s %v", res, err)
					return
				}
				if i%2 == 0 {
					if _, err := e.Unsubscribe(req(t, c, `{"body":{"roomId":"`+gjson.GetBytes(res, "roomId").Str+`"}}`)); err != nil {
						t.Errorf("unsubscribe: %v", err)
					}
				}
				e.Disconnect(c)
				gs.gone.Store(true)
			}
		})
	}
	for range publishers {
		wg.Go(func() {
			c := e.Connect("pub", &fakeSub{})
			for i := range publishes {
				if _, err := e.Publish(req(t, c, `{"index":"idx","collection":"col","body":{"foo":"bar","n":`+fmt.Sprint(i%5)+`}}`)); err != nil {
					t.Errorf("publish: %v", err)
				}
				if _, err := e.Count(req(t, c, `{"body":{"roomId":"x"}}`)); err != nil {
					t.Errorf("count: %v", err)
				}
				if _, err := e.List(&Request{}); err != nil {
					t.Errorf("list: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for i, s := range stay {
		// publish notifications plus user notifications of the churners.
		if n := s.count(); n < publishers*publishes {
			t.Errorf("stayer %d got %d notifications, want at least %d", i, n, publishers*publishes)
		}
	}
	if e.Rooms() != 1 {
		t.Errorf("rooms = %d, want 1 (the stayers')", e.Rooms())
	}
}
