package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// TestFilteredDetectsWrongDeliveries drives the targeted workload against a server that
// ignores filters: the gorilla peer treats every subscription as the whole collection, so
// every subscriber gets every publication. The verification must count the extra
// deliveries and fail the run.
func TestFilteredDetectsWrongDeliveries(t *testing.T) {
	roots, err := FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Quick()
	cfg.Targets = []string{"gorilla"}
	cfg.FilterSubs, cfg.FilterPubs, cfg.FilterDuration = 20, 2, 300*time.Millisecond
	cfg.StallAfter = 2 * time.Second
	cfg.Logf = t.Logf
	dir := t.TempDir()
	e := &env{ctx: t.Context(), cfg: cfg, roots: roots, tmp: dir, bins: map[string]string{}, mode: "shared"}
	if e.workerLog, err = os.Create(filepath.Join(dir, "workers.log")); err != nil {
		t.Fatal(err)
	}
	defer e.workerLog.Close()
	if err := e.prepare(); err != nil {
		t.Fatal(err)
	}
	tg := e.target("gorilla")
	tg.filters = true // pretend, to send it filters
	srv, err := e.startServer(tg, dir, "targeted")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	r, err := e.filtered(tg, srv, load.WorkTargeted)
	if err == nil || !strings.Contains(err.Error(), "do not match the filters") {
		t.Fatalf("filtered against a server that ignores filters: err = %v, want a mismatch", err)
	}
	if r == nil || r.Verified || r.Unexpected == 0 || r.Unexpected != r.Delivered-r.Matched {
		t.Fatalf("result %+v: want unverified, with the extra deliveries counted as unexpected", r)
	}
	// Every subscriber got every publication: 20 per publication, 1 of them expected.
	if r.Delivered != 20*r.Sent || r.Matched != r.Sent {
		t.Errorf("delivered %d, matched %d for %d publications to 20 subscribers", r.Delivered, r.Matched, r.Sent)
	}
}
