//go:build race

package filter

// raceEnabled: the race detector makes sync.Pool drop objects and instruments
// allocations, so allocation counts are only asserted without it.
const raceEnabled = true
