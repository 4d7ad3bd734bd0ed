package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind (servers, metrics listeners,
// SDK helpers): every one must stop on Shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
