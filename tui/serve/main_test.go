package serve

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when goroutines are left over: every
// session, connection, subscription and classroom wait must end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
