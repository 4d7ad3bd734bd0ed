//go:build race

package room

// raceEnabled: the race detector makes sync.Pool (used by the filter engine) drop
// objects at random, so allocation counts are only asserted without it.
const raceEnabled = true
