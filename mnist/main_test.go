package mnist

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that loading leaves no goroutine behind (the test set
// is read on a goroutine of its own).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
