package cluster

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind: a closed Node stops all of
// its own, and nats.go's.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
