package contract_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (Run
// after its context ends, parse workers, the file watcher).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
