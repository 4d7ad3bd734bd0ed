package netpoll

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind: every poller must stop its
// workers, sweeper and epoll loop on Shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
