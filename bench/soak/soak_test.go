package soak

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuzzlews/kuzzlews/bench/harness"
)

// TestShortSoak runs the short soak end to end against kuzzlews built from the repository
// root (or KUZZLEWS_BIN): 2,000 connections for 30 s over loopback with churn, slow readers,
// non-readers and malformed input. It must lose no delivery to a stayer, answer every
// malformed input as expected, cut slow clients (1011), and come back to its baseline
// (no connection, no room, fds and goroutines as before, RSS within the slack).
func TestShortSoak(t *testing.T) {
	cfg := Short()
	cfg.KuzzlewsBin = os.Getenv("KUZZLEWS_BIN")
	roots, err := harness.FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KuzzlewsBin == "" && !harness.RootHasMain(roots.Repo) {
		t.Fatal("kuzzlews cannot be built: the repository root is not a main package and KUZZLEWS_BIN is not set")
	}
	cfg.OutDir = t.TempDir()
	cfg.CommandLine = "cd bench && go test ./soak -run TestShortSoak"
	cfg.Logf = t.Logf
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failures {
		t.Errorf("failure: %s", f)
	}
	v, st := res.Verify, res.Stats
	if v.Expected == 0 || v.Matched != v.Expected || v.Missing != 0 {
		t.Errorf("deliveries: expected %d, matched %d, missing %d", v.Expected, v.Matched, v.Missing)
	}
	if v.Stayed != res.Roles.Stayers {
		t.Errorf("%d stayers stayed of %d", v.Stayed, res.Roles.Stayers)
	}
	for _, mc := range malCases {
		if st.MalformedByCase[mc.name] == 0 {
			t.Errorf("malformed case %s never ran", mc.name)
		}
	}
	if st.ChurnUnsub == 0 || st.ChurnClose == 0 || st.ChurnDrop == 0 {
		t.Errorf("churn endings: %d unsubscribe, %d close, %d drop; want each at least once", st.ChurnUnsub, st.ChurnClose, st.ChurnDrop)
	}
	// Whether a client still sees the 1011 depends on how long after the cut it drains (the
	// server resets the socket after -close-timeout), so only the server's count is asserted.
	if res.End.SlowClosed == 0 || st.NonReadCut1011+st.CutNoCode == 0 {
		t.Errorf("no slow client was cut: server count %d, seen by non-readers %d with 1011, %d without", res.End.SlowClosed, st.NonReadCut1011, st.CutNoCode)
	}
	if len(res.Checks) != 5 {
		t.Errorf("checks %+v, want connections, rooms, fds, goroutines, rss", res.Checks)
	}
	for _, f := range []string{JSONFile, MDFile, ChartFile} {
		if fi, err := os.Stat(filepath.Join(cfg.OutDir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
